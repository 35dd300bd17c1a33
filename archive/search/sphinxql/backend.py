"""The cluster backend: searches and writes through SphinxQL (Sphinx 2.2.11 here; Manticore
speaks the same subset).

Layout (``cluster.py``): N shards, each a ``searchd`` with real-time indexes, and a head whose
distributed index of the same name fans a query out to every shard (or a shard's mirror) and
merges the answers. Documents are written to the shard of their story (``story_key % N``,
and its mirror), so that every copy of a story lies on one shard: the head takes no INSERT; an
update is a REPLACE of the whole document, and removes it from the other shards (its story may
have changed).

How a search runs (the same steps as the embedded engine, ``whoosh/engine.py``):
1. the query is parsed by the shared parser (``query.py``) and translated (``matching.py``);
2. one multi-statement batch goes to the head: the page of hits (``WEIGHT()`` or date order;
   folded, the first documents, folded here into stories), ``SHOW META`` (the total, and
   warnings from agents that did not answer), one ``GROUP BY`` per facet counted by document
   (FACET on a distributed index fails next to ``WEIGHT()`` in 2.2.11, and each facet needs its
   own filters anyway), and the count of inferred dates. Beside it, in parallel, every shard
   counts stories (:class:`_StoryCounts`: the story total and per facet value, documents in no
   story with copies by ``COUNT(*)``, copies by ``COUNT(DISTINCT story_key)``, in two shared
   passes per WHERE): the head neither sums nor merges distinct counts, but a story lies on one
   shard, so the shards' counts add up exactly. Folded (stories counted), the facets and the
   inferred dates are counted only there (the story total's group also sums
   ``date_inferred``);
3. the hits' stored text is highlighted here, escaped before ``<mark>``, as the embedded engine
   does (``highlight.py``), from the terms the query matches;
4. a shard that did not answer is reported as :class:`~archive.search.types.Coverage` (the page
   says "results from 1 of 2 shards"); no shard at all raises ``IndexUnavailable`` (503).

Index slots: every shard serves two RT indexes (``articles_a``, ``articles_b``). A rebuild fills
the idle one while the other answers, then the dictionary's ``active_slot`` switches searches
to it in one write: no moment of an empty or half-built index.
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from django.conf import settings

from archive.search import analyzer, highlight, spelling
from archive.search import querytree as qt
from archive.search.analyzer import ANALYZER_VERSION, EXACT_FIELDS_VERSION, exact_terms
from archive.search.facets import (
    FACET_LIMIT,
    FACETS,
    FACETS_BY_NAME,
    DatesChosen,
    Facet,
    FacetResult,
    ValueCounts,
    ValuesChosen,
    fold,
)
from archive.search.forms import WORDS_SCANNED, shared_stems
from archive.search.locking import file_lock
from archive.search.query import ParsedQuery, parse_query, term_text, without_exact_fields
from archive.search.schema import (
    MULTI_VALUE_FIELDS,
    IndexedDocument,
    clean_value,
    document_digest,
    values_named,
)
from archive.search.sphinxql import client
from archive.search.sphinxql import cluster as cluster_module
from archive.search.sphinxql.dictionary import EXACT, SLOTS, Dictionary
from archive.search.sphinxql.matching import (
    EVERY,
    FACTS,
    VALUE_FIELDS,
    Translator,
    Unsupported,
    date_tokens,
    value_id,
    value_token,
)
from archive.search.types import (
    REPAIR_COMMAND,
    Coverage,
    EngineDown,
    Hit,
    IndexUnavailable,
    QueryTerms,
    SearchRequest,
    SearchResponse,
    Suggestion,
    Widened,
)

logger = logging.getLogger(__name__)

INDEX_PREFIX = "articles_"
# The attribute of each facet field (MVAs of value ids; publication one id, 0 for none).
VALUE_ATTRIBUTES = {"person": "persons", "organisation": "organisations", "place": "places"}
PUBLICATION = "publication"
ANY_WORDS_BELOW = 10  # as the embedded engine (whoosh/engine.py)
SUGGEST_BELOW = 3
WRITE_BATCH = 200
# How long a search waits for a shard it asks directly (story counts), per batch: the head's
# agent_query_timeout (cluster.Layout), so that a shard that hangs costs no more than through it
# (a replica that timed out is not asked again in that search).
SHARD_TIMEOUT = 3.0
WRITE_LOCK_TIMEOUT = 60.0
# Rows a GROUP BY may return: every value of a facet, so counts are exact after the head
# merges the shards' groups (each shard returns at most this many groups).
MAX_GROUPS = 1_000_000
MAX_MATCHES_FLOOR = 1000
# In a search's story counts, each shard returns at most this many of a value facet's groups
# (most first), not every group: a facet shows its top FACET_LIMIT + 1 and the chosen values,
# and a broad query's thousands of groups cost more to send and parse than to count (`said` at
# 100,000: 9,000 rows a search). The counts shown stay exact: _Plan._certain proves from the
# shards' lists that no value left out could reach the values shown, or the facet is counted
# again in full. Not for a facet that counts documents without a value (publication).
SHARD_TOP = 250
# BM25F over the headline and the text, weighed 1.5 : 1 as in the embedded engine
# (schema.DEFAULT_SEARCH_FIELDS), with the whole archive's IDF (global_idf; see _write_idf), so
# that no rank depends on how documents fall on shards. b = 0: no length normalisation, because
# bm25f's average field length is each shard's own (weights then differ by layout: see
# docs/sphinxql-notes.md); the embedded engine normalises (b = 0.75), so rankings are close, not
# equal.
# An exact field weighs as its text field (and is normalised by its length: the same words).
FIELD_WEIGHTS = "title=3, body=2, facts=1, title_exact=3, body_exact=2"
K1, B = 1.2, 0.75  # as the embedded engine's BM25F


def ranker(average_title: float, average_body: float) -> str:
    """BM25F with the whole archive's IDF and average field lengths, so that no weight depends
    on how documents fall on shards. Per field: user_weight (title 3, body 2: the embedded
    engine's 1.5 : 1) x the matched words' IDF x tf saturation, where tf is the field's mean
    hits per matched word (the expression ranker has no per-word tf), normalised by the field's
    length (an attribute) over the archive's average. A field is told by its weight."""
    tf = "(hit_count/word_count)"
    length = (
        f"IF(user_weight=3, title_len/{max(average_title, 1.0):.4f}, "
        f"IF(user_weight=2, body_len/{max(average_body, 1.0):.4f}, 1.0))"
    )
    field = f"user_weight*sum_idf*{K1 + 1}*{tf}/({tf}+{K1}*({1 - B}+{B}*{length}))"
    # The facts field (weight 1: values, dates, every document's token) filters and never
    # ranks, as the embedded engine scores a value's match 0: ``blair person:"Tony Blair"``
    # orders its documents as ``blair`` does, whichever shard holds them.
    return f"expr('1000*sum(IF(user_weight=1, 0, {field}))')"


KEY_TERMS = 20  # more like this, as the embedded engine
IDF_TOTAL = 2**31  # the document total a global IDF file states (see _write_idf)
# Kept with the term counts (no term starts with a control character): documents, and terms in
# all titles and all bodies, for the average field lengths BM25 normalises by.
DOCS, TITLE_TERMS, BODY_TERMS = "\x00docs", "\x00title", "\x00body"


@dataclass(frozen=True)
class Topology:
    """Where the cluster is: the head (searches) and each shard's replicas (writes)."""

    head: tuple[str, int]
    shards: tuple[tuple[tuple[str, int], ...], ...]
    state: Path  # the dictionary and the write lock
    cluster: cluster_module.Cluster | None = None  # the local cluster, when it is one


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.strip().rpartition(":")
    return host or "127.0.0.1", int(port)


def _settings_key() -> tuple:
    return tuple(
        str(getattr(settings, name, ""))
        for name in (
            "ARCHIVE_SPHINX_CLUSTER_DIR",
            "ARCHIVE_SPHINX_BASE_PORT",
            "ARCHIVE_SPHINX_HEAD",
            "ARCHIVE_SPHINX_SHARDS",
            "ARCHIVE_SPHINX_STATE_DIR",
        )
    )


def configured_topology() -> Topology:
    """The cluster the settings name (see config/settings.py): another cluster by
    ``ARCHIVE_SPHINX_HEAD`` and ``ARCHIVE_SPHINX_SHARDS``, or the local one ``make cluster``
    runs."""
    local = cluster_module.Cluster(
        directory=Path(settings.ARCHIVE_SPHINX_CLUSTER_DIR),
        base_port=int(settings.ARCHIVE_SPHINX_BASE_PORT),
    )
    state = Path(settings.ARCHIVE_SPHINX_STATE_DIR)
    head, shards = settings.ARCHIVE_SPHINX_HEAD, settings.ARCHIVE_SPHINX_SHARDS
    if head and shards:
        return Topology(
            head=_address(head),
            shards=tuple(
                tuple(_address(r) for r in shard.split("|")) for shard in shards.split(",")
            ),
            state=state,
        )
    return Topology(
        head=local.head.address,
        shards=tuple(
            tuple(p.address for p in local.replicas(shard)) for shard in range(local.layout.shards)
        ),
        state=state,
        cluster=local,
    )


def _index(slot: str) -> str:
    return f"{INDEX_PREFIX}{slot}"


def _analysed(text: str) -> list[str]:
    return analyzer.terms(text)


def _exact_counted(title_exact: list[str], body_exact: list[str]) -> set[str]:
    """A document's exact terms as the dictionary counts them (EXACT before each)."""
    return {EXACT + term for term in (*title_exact, *body_exact)}


def _quote(value: str) -> str:
    """A SphinxQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _day_key(day: dt.date | None) -> int:
    return int(f"{day.year:04d}{day.month:02d}{day.day:02d}") if day else 0


def _names(doc: IndexedDocument, fieldname: str) -> list[str]:
    if fieldname == PUBLICATION:
        value = clean_value(doc.publication or "")
        return [value] if value else []
    names = (clean_value(n) for n in getattr(doc, MULTI_VALUE_FIELDS[fieldname]))
    return list(dict.fromkeys(n for n in names if n))


class _Connections:
    """One connection per thread and address (``client.py``), reopened after an error."""

    def __init__(self) -> None:
        self._local = threading.local()

    def get(self, address: tuple[str, int], timeout: float = 10.0):
        pool = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._local.pool = {}
        connection = pool.get(address)
        if connection is None:
            connection = pool[address] = cluster_module.connect(address, timeout=timeout)
        return connection

    def drop(self, address: tuple[str, int]) -> None:
        pool = getattr(self._local, "pool", {})
        connection = pool.pop(address, None)
        if connection is not None:
            with suppress(Exception):
                connection.close()


class SphinxQLBackend:
    name = "sphinxql"

    def __init__(self) -> None:
        self._configured: tuple[tuple, Topology, Dictionary] | None = None
        self._connections = _Connections()
        self._thread_lock = threading.Lock()
        self._shard_pool: ThreadPoolExecutor | None = None

    # --- plumbing --------------------------------------------------------------------------

    def _configuration(self) -> tuple[Topology, Dictionary]:
        """Read from the settings once, and again only when they change (tests do)."""
        key = _settings_key()
        configured = self._configured
        if configured is None or configured[0] != key:
            topology = configured_topology()
            dictionary = Dictionary(topology.state / "dictionary.sqlite3")
            configured = self._configured = (key, topology, dictionary)
        return configured[1], configured[2]

    @property
    def topology(self) -> Topology:
        return self._configuration()[0]

    @property
    def dictionary(self) -> Dictionary:
        return self._configuration()[1]

    def _run(
        self, address: tuple[str, int], statements: Sequence[str], timeout: float = 10.0
    ) -> list[list[tuple]]:
        """Run statements as one batch; every result set, in order. A lost connection is tried
        again once (the server closed it: a restart), one that timed out is not."""
        attempts = 2
        for attempt in range(1, attempts + 1):
            started = time.monotonic()
            try:
                connection = self._connections.get(address, timeout)
                with connection.cursor() as cursor:
                    cursor.execute(";\n".join(statements))
                    results = [list(cursor.fetchall())]
                    while cursor.nextset():
                        results.append(list(cursor.fetchall()))
                return results
            except client.operational_errors() as exc:
                self._connections.drop(address)
                timed_out = client.timed_out(exc, time.monotonic() - started, timeout)
                if attempt == attempts or not client.is_connection_error(exc) or timed_out:
                    setting = (
                        "ARCHIVE_SPHINX_HEAD"
                        if address == self.topology.head
                        else "ARCHIVE_SPHINX_SHARDS"
                    )
                    reason = "timed out" if timed_out else _reason(exc)
                    raise EngineDown(
                        f"The search cluster did not answer at {address[0]}:{address[1]} "
                        f"({reason}). Start it with `make cluster`, or check {setting}."
                    ) from exc
            except client.programming_errors() as exc:
                if _AGENTS_DOWN.search(str(exc)) and "remote query error" not in str(exc):
                    # Every agent of the head failed to connect: no shard answers. The engine's
                    # own words ("errno=111, Operation now in progress") go to the log.
                    logger.warning("No shard answered the head: %s", exc)
                    raise EngineDown(
                        "No shard of the search cluster answered. Start it with `make cluster`."
                    ) from exc
                raise _QueryError(_engine_words(exc)) from exc
            except client.errors() as exc:
                self._connections.drop(address)
                raise IndexUnavailable(f"The search cluster failed ({exc}).") from exc
        raise AssertionError("unreachable")

    def _start_shards(
        self, batches: Sequence[Sequence[str]]
    ) -> Callable[[], tuple[list[list[list[tuple]]], Coverage]]:
        """Start the batches, one after the other, on a live replica of every shard, the shards
        in parallel (while the caller asks the head); the function returned waits for each
        answering shard's results (every batch's result sets, in order, as one list) and says
        which shards answered. For what the head cannot merge: distinct counts of stories
        (COUNT(DISTINCT) is neither summed nor merged across agents in 2.2.11), exact on each
        shard because a story's copies share one (:meth:`_shard_of`), so the shards' counts add
        up. Several batches rather than one: a batch whose statements are alike shares one
        pass over the matches (:class:`_StoryCounts`), a mixed batch makes one per statement."""
        shards = self.topology.shards
        batches = [batch for batch in batches if batch]
        if not batches:
            return lambda: ([], Coverage(len(shards), len(shards)))

        def answer(replicas: Sequence[tuple[str, int]]) -> list[list[tuple]] | None:
            for replica in replicas:  # a mirror answers for its shard
                try:
                    # As patient as the head is with an agent: a shard that hangs is left out
                    # after SHARD_TIMEOUT.
                    results: list[list[tuple]] = []
                    for batch in batches:
                        results += self._run(replica, batch, timeout=SHARD_TIMEOUT)
                    return results
                except _QueryError:
                    raise
                except IndexUnavailable:
                    continue
            return None

        with self._thread_lock:
            if self._shard_pool is None:
                self._shard_pool = ThreadPoolExecutor(8, thread_name_prefix="sphinx-shard")
            futures = [self._shard_pool.submit(answer, replicas) for replicas in shards]

        def collect() -> tuple[list[list[list[tuple]]], Coverage]:
            answers = [future.result() for future in futures]
            missing = tuple(f"shard{n}" for n, results in enumerate(answers) if results is None)
            if len(missing) == len(shards):
                raise IndexUnavailable(
                    "No shard of the search cluster answered. Start it with `make cluster`."
                )
            coverage = Coverage(len(shards) - len(missing), len(shards), missing)
            return [results for results in answers if results is not None], coverage

        return collect

    def _slot(self) -> str:
        slot = self.dictionary.active_slot()
        if not slot:
            raise IndexUnavailable(
                "The search index is missing (the cluster holds no built index). "
                f"Build it with `{REPAIR_COMMAND}`."
            )
        return slot

    # --- reading ---------------------------------------------------------------------------

    def _parsed(self, text: str) -> ParsedQuery:
        """The query, for this cluster: one built before the exact fields (analyser version 2)
        searches quoted words in the stemmed ones (``query.without_exact_fields``)."""
        parsed = parse_query(text, settings.ARCHIVE_QUERY_MAX_CHARS)
        version = self.dictionary.get("analyzer_version")
        if version.isdigit() and int(version) < EXACT_FIELDS_VERSION:
            return without_exact_fields(parsed)
        return parsed

    def search(self, request: SearchRequest) -> SearchResponse:
        parsed = self._parsed(request.q)
        slot = self._slot()
        plan = _Plan(self, slot, parsed, request)
        return plan.run()

    def facet_values(
        self,
        request: SearchRequest,
        name: str,
        contains: str,
        limit: int,
        within_selection: bool,
    ) -> FacetResult:
        plan = _Plan(self, self._slot(), self._parsed(request.q), request)
        facet = FACETS_BY_NAME[name]
        where = plan.where_all() if within_selection else plan.where_for(facet)
        groups, _ = plan.run_groups(facet, where)
        return plan.value_result(facet, groups, contains, limit)

    def query_terms(self, text: str) -> dict[str, QueryTerms]:
        slot = self.dictionary.active_slot()
        return _highlight_terms(self._parsed(text), self.dictionary, slot)

    def more_like_this(self, document_id: int, limit: int) -> list[Hit]:
        slot = self._slot()
        rows = self._run(
            self.topology.head,
            [f"SELECT id, title_text, body_text FROM {_index(slot)} WHERE id = {int(document_id)}"],
        )[0]
        if not rows:
            return []
        _, title, body = rows[0]
        counts = Counter(_analysed(title) + _analysed(body[:20_000]))
        frequencies = self.dictionary.document_frequency(slot, counts)
        total = max(1, self._count(slot))
        scored = sorted(
            (
                (tf * math.log(total / (frequencies.get(term, 0) + 1)), term)
                for term, tf in counts.items()
                if frequencies.get(term, 0) <= max(50, total * 0.05) and frequencies.get(term)
            ),
            reverse=True,
        )[:KEY_TERMS]
        if not scored:
            return []
        match = " | ".join(f"(@(title,body) {term})" for _, term in scored)
        statement = (
            f"SELECT id, WEIGHT() AS w, {_HIT_COLUMNS} FROM {_index(slot)} "
            f"WHERE MATCH({_quote(match)}) AND id != {int(document_id)} "
            f"ORDER BY w DESC, id ASC LIMIT {int(limit)} "
            f"OPTION ranker={self._ranker(slot)}, idf='plain,tfidf_unnormalized', "
            f"field_weights=({FIELD_WEIGHTS}), global_idf=1"
        )
        rows = self._run(self.topology.head, [statement])[0]
        names = self.dictionary.names(slot)
        return [_hit(row[0], float(row[1]), row[2:], names, {}, False) for row in rows]

    def warm_up(self) -> None:
        slot = self.dictionary.active_slot()
        if slot:
            self.dictionary.names(slot)

    def _ranker(self, slot: str) -> str:
        sizes = self.dictionary.document_frequency(slot, (DOCS, TITLE_TERMS, BODY_TERMS))
        docs = max(1, sizes.get(DOCS, 0))
        return ranker(sizes.get(TITLE_TERMS, 0) / docs, sizes.get(BODY_TERMS, 0) / docs)

    def _count(self, slot: str) -> int:
        results = self._run(
            self.topology.head, [f"SELECT id FROM {_index(slot)} LIMIT 0", "SHOW META"]
        )
        return int(dict(results[1]).get("total_found", 0))

    # --- health ----------------------------------------------------------------------------

    def index_exists(self) -> bool:
        return bool(self.dictionary.active_slot())

    def index_absent(self) -> bool:
        return not self.dictionary.active_slot()

    def create_index_if_missing(self) -> bool:
        """An empty slot becomes the active one (the shards' RT indexes exist from the start)."""
        if self.dictionary.active_slot():
            return False
        slot = SLOTS[0]
        self._empty_slot(slot)
        with self.dictionary.transaction() as connection:
            self.dictionary.clear(connection, slot)
            self.dictionary.put(connection, "analyzer_version", str(ANALYZER_VERSION))
            self.dictionary.put(connection, "active_slot", slot)
        self._write_idf(slot)
        return True

    def indexed_count(self) -> int:
        return self._count(self._slot())

    def outdated_analysis(self) -> str:
        slot = self._slot()
        version = self.dictionary.get("analyzer_version")
        if version != str(ANALYZER_VERSION):
            return (
                f"the cluster's index was built with analyser version {version or '?'}, this "
                f"version of the site uses {ANALYZER_VERSION}"
            )
        missing = sorted({c for shard in self.topology.shards for c in self._missing(slot, shard)})
        if missing:
            names = ", ".join(repr(name) for name in missing)
            return (
                f"the cluster's index has no {names} attribute{'s' if len(missing) > 1 else ''} "
                "(its RT indexes were created by an older version)"
            )
        return ""

    def _columns(self, slot: str, replica: tuple[str, int]) -> set[str]:
        """The columns a replica's RT index really has: an RT index keeps the schema it was
        created with, whatever its configuration says now (docs/sphinxql-notes.md)."""
        return {str(row[0]) for row in self._run(replica, [f"DESCRIBE {_index(slot)}"])[0]}

    def _missing(self, slot: str, shard: Sequence[tuple[str, int]]) -> set[str]:
        """The schema's columns some replica of ``shard`` lacks (replicas that are down are
        not asked)."""
        missing: set[str] = set()
        for replica in shard:
            with suppress(IndexUnavailable):
                found = self._columns(slot, replica)
                missing |= set(cluster_module.ARTICLE_SCHEMA.columns) - found
        return missing

    def _empty_slot(self, slot: str) -> None:
        """Empty ``slot`` on every replica, recreating an RT index made with an older schema.

        2.2.11 keeps an RT index's schema through TRUNCATE and restarts, and ALTER TABLE ... ADD
        COLUMN corrupted the new columns of the saved RAM chunk at the next restart (verified),
        so the only repair is to delete the index's files and start the shard again with the
        current configuration: done here for the local cluster, one replica at a time (the
        other slot keeps answering, from the mirror for shard 0; shard 1 misses for about a
        second). Another cluster's operator recreates the index (docs/scaling.md).
        """
        index = _index(slot)
        local = self.topology.cluster
        for shard in self.topology.shards:
            for replica in shard:
                self._run(replica, [f"TRUNCATE RTINDEX {index}"])
                lacking = set(cluster_module.ARTICLE_SCHEMA.columns) - self._columns(slot, replica)
                if not lacking:
                    continue
                process = next(
                    (p for p in (local.processes if local else ()) if p.address == replica), None
                )
                if process is None:
                    raise IndexUnavailable(
                        f"The RT index {index} on {replica[0]}:{replica[1]} has no "
                        f"{', '.join(sorted(lacking))}: it was created by an older version. "
                        "Stop that searchd, delete the index's files, start it with the current "
                        f"configuration, then run `{REPAIR_COMMAND}` again."
                    )
                local.stop_process(process)
                for path in (process.directory / "data").glob(f"{index}.*"):
                    path.unlink()
                local.start_process(process)
                self._connections.drop(replica)
                if set(cluster_module.ARTICLE_SCHEMA.columns) - self._columns(slot, replica):
                    raise IndexUnavailable(f"{process.name}: {index} could not be recreated.")

    def index_digests(self) -> dict[int, list[str]]:
        slot = self._slot()
        names = self.dictionary.names(slot)
        digests: dict[int, list[str]] = {}
        last = 0
        while True:
            rows, meta = self._run(
                self.topology.head,
                [
                    f"SELECT id, {_HIT_COLUMNS} FROM {_index(slot)} WHERE id > {last} "
                    "ORDER BY id ASC LIMIT 1000 OPTION max_matches=1000",
                    "SHOW META",
                ],
            )
            coverage = _coverage(meta, self)
            if coverage.partial:
                # Half the archive would read as missing from the index: it is not.
                raise EngineDown(
                    f"Only {coverage.answered} of {coverage.parts} shards of the search cluster "
                    f"answered ({', '.join(coverage.missing)} did not): the index cannot be "
                    "compared with the database, repaired or rebuilt until every shard answers. "
                    "Start the cluster again (`make cluster`)."
                )
            for row in rows:
                doc = _document(row[0], row[1:], names)
                digests.setdefault(doc.id, []).append(document_digest(doc))
            if len(rows) < 1000:
                return digests
            last = rows[-1][0]

    def describe(self) -> str:
        head = self.topology.head
        return f"SphinxQL cluster, head {head[0]}:{head[1]}, {len(self.topology.shards)} shards"

    # --- writing ---------------------------------------------------------------------------

    def write_lock(self, timeout: float | None = None) -> AbstractContextManager[bool]:
        """One writer at a time (the outbox, a rebuild): a file lock in the state directory,
        which the writers of a multi-machine cluster must share (docs/scaling.md)."""
        return file_lock(self.topology.state / "write.lock", timeout)

    def update_documents(
        self, docs: Iterable[IndexedDocument], delete_ids: Iterable[int] = ()
    ) -> None:
        self.create_index_if_missing()
        slot = self._slot()
        docs = list(docs)
        delete_ids = [int(i) for i in delete_ids]
        touched = [doc.id for doc in docs] + delete_ids
        old = self._stored_texts(slot, touched)
        delta: Counter = Counter()
        for title, body in old.values():
            title_terms, body_terms = _analysed(title), _analysed(body)
            delta.subtract(set(title_terms) | set(body_terms))
            delta.subtract(_exact_counted(exact_terms(title), exact_terms(body)))
            delta.subtract({DOCS: 1, TITLE_TERMS: len(title_terms), BODY_TERMS: len(body_terms)})
        self._write(slot, docs, delta)
        self._mark_shared(slot, docs)
        # A document whose story changed moves to its new story's shard: it leaves the others.
        # (Written first, then removed: never a moment without it.)
        for shard in range(len(self.topology.shards)):
            elsewhere = [doc.id for doc in docs if self._shard_of(doc) != shard]
            self._delete(slot, elsewhere, [shard])
        self._delete(slot, delete_ids, range(len(self.topology.shards)))
        with self.dictionary.transaction() as connection:
            self.dictionary.add_terms(connection, slot, delta)
        self._write_idf(slot)

    def rebuild_index(
        self, docs: Iterable[IndexedDocument], progress: Callable[[int], None] | None = None
    ) -> int:
        """Fill the idle slot from ``docs``, then switch searches to it."""
        active = self.dictionary.active_slot()
        slot = next(s for s in SLOTS if s != active)
        self._empty_slot(slot)
        with self.dictionary.transaction() as connection:
            self.dictionary.clear(connection, slot)
        count = 0
        batch: list[IndexedDocument] = []
        delta: Counter = Counter()
        # Pipelined: while the replicas take one batch (a thread each, waiting on its searchd),
        # this thread analyses the next; searchd and Python share the cores instead of taking
        # turns. The threads live as long as the rebuild, and so do their connections.
        replicas = {replica for shard in self.topology.shards for replica in shard}
        with ThreadPoolExecutor(len(replicas), thread_name_prefix="sphinx-write") as pool:
            sending: list = []
            for doc in docs:
                batch.append(doc)
                if len(batch) >= WRITE_BATCH * len(self.topology.shards):
                    sending = self._write_pipelined(slot, batch, delta, pool, sending)
                    count += len(batch)
                    batch = []
                    if progress is not None:
                        progress(count)
            if batch:
                sending = self._write_pipelined(slot, batch, delta, pool, sending)
                count += len(batch)
            for future in sending:
                future.result()
        if progress is not None and batch:
            progress(count)
        with self.dictionary.transaction() as connection:
            self.dictionary.add_terms(connection, slot, delta)
        self._write_idf(slot)
        with self.dictionary.transaction() as connection:
            self.dictionary.put(connection, "analyzer_version", str(ANALYZER_VERSION))
            self.dictionary.put(connection, "active_slot", slot)
        return count

    def _mark_shared(self, slot: str, docs: Sequence[IndexedDocument]) -> None:
        """Mark the stored copies of the stories these documents share (``story`` = the story
        id) as they are written. The story counts take a document with ``story = 0`` for a story
        of its own (:class:`_StoryCounts`); the other copy of a story that just gained its second
        is rewritten by its own outbox task (``copies._reindex_flipped``), which may come in a
        later batch: until then the story would count twice. An UPDATE of the shard's rows with
        that story key closes the gap, in the same moment as the new copy's REPLACE (story ids
        are the keys of shared stories, and a story's copies share a shard)."""
        shared = sorted({int(doc.story) for doc in docs if doc.story and doc.story_shared})
        if not shared:
            return
        by_shard: dict[int, list[str]] = {}
        for story in shared:
            by_shard.setdefault(story % len(self.topology.shards), []).append(
                f"UPDATE {_index(slot)} SET story = {story} WHERE story_key = {story} AND story = 0"
            )
        for shard, statements in by_shard.items():
            for replica in self.topology.shards[shard]:
                for statement in statements:  # searchd takes no UPDATE in a batch
                    self._run(replica, [statement])

    def _shard_of(self, doc: IndexedDocument) -> int:
        """The shard that holds ``doc``: by its story key, so that every copy of a story lies on
        one shard. Each shard's distinct count of stories is then exact, and the shards' counts
        add up (:meth:`_start_shards`); routed by id, a story's copies would be split."""
        return story_key(doc) % len(self.topology.shards)

    def _delete(self, slot: str, ids: Sequence[int], shards: Iterable[int]) -> None:
        for shard in shards:
            for replica in self.topology.shards[shard]:
                for start in range(0, len(ids), 1000):
                    chunk = ids[start : start + 1000]
                    self._run(replica, [f"DELETE FROM {_index(slot)} WHERE id IN ({_ids(chunk)})"])

    def _stored_texts(self, slot: str, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        found: dict[int, tuple[str, str]] = {}
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            if not chunk:
                continue
            rows = self._run(
                self.topology.head,
                [
                    f"SELECT id, title_text, body_text FROM {_index(slot)} "
                    f"WHERE id IN ({_ids(chunk)}) LIMIT {len(chunk)}"
                ],
            )[0]
            found.update({row[0]: (row[1], row[2]) for row in rows})
        return found

    def _write(self, slot: str, docs: Sequence[IndexedDocument], delta: Counter) -> int:
        """REPLACE ``docs`` on their shards' replicas; their terms are added to ``delta`` and
        their facet values to the dictionary."""
        if not docs:
            return 0
        statements, values = self._statements(slot, docs, delta)
        self._send(statements)
        with self.dictionary.transaction() as connection:
            self.dictionary.add_values(connection, slot, values)
        return len(docs)

    def _write_pipelined(self, slot, docs, delta, pool: ThreadPoolExecutor, sending: list) -> list:
        """As :meth:`_write`, with each replica's REPLACEs run by a thread of ``pool`` once the
        previous batch's (the futures ``sending``) are done; returns this batch's futures."""
        statements, values = self._statements(slot, docs, delta)
        with self.dictionary.transaction() as connection:
            self.dictionary.add_values(connection, slot, values)
        for future in sending:
            future.result()  # batches in order; an error stops the rebuild here
        return [
            pool.submit(self._send, [(replica, s) for r, s in statements if r == replica])
            for replica in dict.fromkeys(replica for replica, _ in statements)
        ]

    def _send(self, statements: Sequence[tuple[tuple[str, int], str]]) -> None:
        """Run each (replica, statement) pair, in order."""
        for replica, statement in statements:
            self._run(replica, [statement])

    def _statements(
        self, slot: str, docs: Sequence[IndexedDocument], delta: Counter
    ) -> tuple[list[tuple[tuple[str, int], str]], list[tuple[int, str, str]]]:
        """The REPLACE statements of ``docs`` (replica, statement), and their facet values;
        their terms are added to ``delta``."""
        rows_by_shard: dict[int, list[str]] = {}
        values: list[tuple[int, str, str]] = []
        for doc in docs:
            title_terms, body_terms = _analysed(doc.title), _analysed(doc.body)
            title_exact, body_exact = exact_terms(doc.title), exact_terms(doc.body)
            delta.update(set(title_terms) | set(body_terms))
            delta.update(_exact_counted(title_exact, body_exact))
            delta.update({DOCS: 1, TITLE_TERMS: len(title_terms), BODY_TERMS: len(body_terms)})
            facts = [EVERY, *date_tokens(doc.published)]
            columns: dict[str, object] = {}
            for fieldname in VALUE_FIELDS:
                names = _names(doc, fieldname)
                facts += [value_token(fieldname, name) for name in names]
                ids = [value_id(fieldname, name) for name in names]
                values += [(value_id(fieldname, n), fieldname, n) for n in names]
                if fieldname == PUBLICATION:
                    columns["publication"] = ids[0] if ids else 0
                else:
                    columns[VALUE_ATTRIBUTES[fieldname]] = ids
            day = _day_key(doc.published)
            row = [
                str(int(doc.id)),
                _quote(" ".join(title_terms)),
                _quote(" ".join(body_terms)),
                _quote(" ".join(facts)),
                _quote(" ".join(title_exact)),
                _quote(" ".join(body_exact)),
                _quote(doc.title),
                _quote(doc.body),
                _quote(doc.source_url or ""),
                str(columns["publication"]),
                str(day),
                str(day // 10000),
                str(day // 100),
                "1" if doc.date_inferred and day else "0",
                *(f"({_ids(columns[a])})" for a in VALUE_ATTRIBUTES.values()),
                # story: a story with copies, else 0 (the story counts take a document with 0
                # for a story of its own: _StoryCounts, _mark_shared); story_key: any.
                str(int(doc.story)) if doc.story and doc.story_shared else "0",
                str(story_key(doc)),
            ]
            rows_by_shard.setdefault(self._shard_of(doc), []).append("(" + ", ".join(row) + ")")
        columns_sql = ", ".join(("id", *cluster_module.ARTICLE_SCHEMA.columns))
        statements = [
            (
                replica,
                f"REPLACE INTO {_index(slot)} ({columns_sql}) VALUES "
                + ", ".join(rows[start : start + WRITE_BATCH]),
            )
            for shard, rows in rows_by_shard.items()
            for replica in self.topology.shards[shard]
            for start in range(0, len(rows), WRITE_BATCH)
        ]
        return statements, values

    def _write_idf(self, slot: str) -> None:
        """The whole archive's document counts as every shard's global IDF file.

        Sphinx 2.2.11 weighs a word in n of N documents by log((N - n + 1) / n) / (2 log(N + 1))
        when it reads a global IDF file (measured: see docs/sphinxql-notes.md); the embedded
        engine by BM25F's log(N / (n + 1)) + 1 = log(e N / (n + 1)), which never reaches 0. So
        the file states a constant total M and, for each word, the n' that makes Sphinx's
        formula equal the embedded engine's: (M - n' + 1) / n' = e N / (n + 1). The divisor
        2 log(M + 1) is the same for every word, so both engines weigh words alike, whatever
        the number of shards.
        """
        local = self.topology.cluster
        if local is None:
            return  # another cluster: its operator distributes the file (docs/scaling.md)
        hashes, counts = self.dictionary.hashed_counts(slot)
        total = self._count(slot) if counts else 0
        ratio = math.e * max(1, total)
        stated = [max(1, round((IDF_TOTAL + 1) / (1 + ratio / (docs + 1)))) for docs in counts]
        # A shard takes max(its own count, the file's) for a word, so the version is stated as
        # more documents than any shard holds: n = M / version, for versions 2-51, gives the
        # token weights log(version - 1 + 1/M) / (2 log(M + 1)), far enough apart to tell.
        version = int(self.dictionary.get("idf_version", "0") or 0) % 50 + 2
        every = cluster_module.fnv64(EVERY)
        stated = [n for h, n in zip(hashes, stated, strict=True) if h != every]
        hashes = [h for h in hashes if h != every]
        cluster_module.write_global_idf_hashed(
            local.idf_path(_index(slot)),
            IDF_TOTAL,
            [*hashes, every],
            [*stated, IDF_TOTAL // version],
        )
        with self.dictionary.transaction() as connection:
            self.dictionary.put(connection, "idf_version", str(version))
        with suppress(Exception):
            local.reload_idf(wait=0)
        self._await_idf(slot, version)

    def _await_idf(self, slot: str, version: int, timeout: float = 5.0) -> None:
        """Wait until every shard that holds documents ranks with IDF file ``version``."""
        import time

        stated = IDF_TOTAL // version
        expected = math.log((IDF_TOTAL - stated + 1) / stated) / (2 * math.log(IDF_TOTAL + 1))
        probe = (
            f"SELECT id, PACKEDFACTORS() FROM {_index(slot)} WHERE MATCH('@{FACTS} {EVERY}') "
            "LIMIT 1 OPTION ranker=expr('sum(max_idf)'), idf='plain,tfidf_unnormalized', "
            "global_idf=1"
        )
        deadline = time.monotonic() + timeout
        for shard in self.topology.shards:
            for replica in shard:
                while True:
                    try:
                        rows = self._run(replica, [probe])[0]
                    except IndexUnavailable:
                        break  # a shard that is down is not waited for
                    found = _MAX_IDF.search(str(rows[0][1])) if rows else None
                    if not rows or (found and abs(float(found.group(1)) - expected) < 5e-5):
                        break
                    if time.monotonic() >= deadline:
                        return
                    time.sleep(0.01)


_HIT_COLUMNS = (
    "title_text, body_text, source_url, publication, day, date_inferred, story_key, "
    + ", ".join(VALUE_ATTRIBUTES.values())
)
_HIT_WIDTH = 7 + len(VALUE_ATTRIBUTES)  # the columns _document reads
# A document's story key, the attribute results fold by, stories are counted by and the story=
# filter reads: its story's id (with copies or alone), or for a document in no story (not
# clustered yet), STORY_KEY_ALONE + its id. Story ids are
# database keys, far below 2^62, so the two never meet; 2^62 + id stays a positive bigint.
STORY_KEY_ALONE = 2**62


def story_key(doc: IndexedDocument) -> int:
    return int(doc.story) if doc.story and doc.story > 0 else STORY_KEY_ALONE + int(doc.id)


_MAX_IDF = re.compile(r"max_idf=([0-9.]+)")
_AGENTS_DOWN = re.compile(r"agent [^:]+:\d+: connect\(\) (failed|timed out)")


def _ids(values: Iterable[int]) -> str:
    return ", ".join(str(int(v)) for v in values)


class _QueryError(IndexUnavailable):
    """The engine refused a statement (a query form it cannot run)."""


def _mva(value: object) -> list[int]:
    if value in (None, ""):
        return []
    return [int(part) for part in str(value).split(",") if part.strip()]


def _document(doc_id: int, row: Sequence, names: dict[int, tuple[str, str]]) -> IndexedDocument:
    title, body, source_url, publication, day, inferred, key, *mvas = row
    day = int(day or 0)
    # In name order, as the index is given them (an MVA comes back in numeric order).
    value_names = {
        MULTI_VALUE_FIELDS[field]: tuple(sorted(names[i][1] for i in _mva(mva) if i in names))
        for field, mva in zip(VALUE_ATTRIBUTES, mvas, strict=True)
    }
    return IndexedDocument(
        id=int(doc_id),
        title=title,
        body=body,
        published=dt.date(day // 10000, day // 100 % 100, day % 100) if day else None,
        date_inferred=bool(int(inferred or 0)),
        publication=names[int(publication)][1] if int(publication or 0) in names else None,
        source_url=source_url or "",
        story=int(key) if 0 < int(key or 0) < STORY_KEY_ALONE else None,
        **value_names,
    )


def _hit(
    doc_id: int,
    score: float | None,
    row: Sequence,
    names: dict[int, tuple[str, str]],
    terms: dict[str, QueryTerms],
    with_snippets: bool,
) -> Hit:
    return highlight.marked_hit(_document(doc_id, row, names), score, terms, with_snippets)


def _highlight_terms(
    parsed: ParsedQuery, dictionary: Dictionary, slot: str
) -> dict[str, QueryTerms]:
    """What to mark per text field, as the embedded engine does (``highlight.terms_to_mark``):
    prefixes, wildcards and fuzzy terms expanded over the archive's terms (what the engine
    matched)."""

    def expand(leaf: qt.Node) -> Iterable[str]:
        if isinstance(leaf, qt.FuzzyTerm):
            if slot:
                return dictionary.near(slot, str(leaf.text), leaf.maxdist, leaf.prefixlength)
        elif isinstance(leaf, qt.Prefix | qt.Wildcard):
            head = re.split(r"[*?]", str(leaf.text))[0]
            if head and slot:
                return dictionary.with_prefix(slot, head)
        elif isinstance(leaf, qt.Term):
            return [term_text(leaf.text)]
        return ()

    return highlight.terms_to_mark(parsed.query, expand)


class DictionaryLexicon:
    """The cluster's terms, for spelling correction (``spelling.corrected_words``)."""

    def __init__(self, backend: SphinxQLBackend, slot: str) -> None:
        self.backend = backend
        self.slot = slot

    def is_known(self, stem: str) -> bool:
        return self.doc_frequency(stem) > 0

    def doc_frequency(self, stem: str) -> int:
        return self.backend.dictionary.document_frequency(self.slot, [stem]).get(stem, 0)

    def candidates(self, stem: str, distance: int) -> set[str]:
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        words = self.backend.dictionary.alphabetic_terms(self.slot, stem[0])
        found = {
            choice
            for choice, _, _ in process.extract_iter(
                stem, words, scorer=Levenshtein.distance, score_cutoff=distance
            )
        }
        found.discard(stem)
        return found

    def exact_words(self, prefix: str) -> list[str]:
        """The exact fields' words starting with ``prefix`` (for ``forms.shared_stems``): the
        dictionary counts them with EXACT before each, in alphabetical order."""
        terms = self.backend.dictionary.with_prefix(self.slot, EXACT + prefix, WORDS_SCANNED)
        return [term.removeprefix(EXACT) for term in terms]

    def exact_documents(self, words: list[str]) -> dict[str, int]:
        counts = self.backend.dictionary.document_frequency(self.slot, [EXACT + w for w in words])
        return {term.removeprefix(EXACT): docs for term, docs in counts.items()}

    def texts_with(self, stem: str, limit: int) -> list[str]:
        word = re.sub(r"[^\w.]", "", stem)
        if not word:
            return []
        for fieldname in ("body", "title"):
            rows = self.backend._run(
                self.backend.topology.head,
                [
                    f"SELECT id, {fieldname}_text FROM {_index(self.slot)} "
                    f"WHERE MATCH({_quote(f'@{fieldname} {word}')}) "
                    f"ORDER BY id ASC LIMIT {int(limit)}"
                ],
            )[0]
            if rows:
                return [row[1] for row in rows]
        return []


class _Matched(NamedTuple):
    """A query as conditions of a WHERE: the MATCH() text, and value filters beside it (see
    ``matching.Translator.translate``)."""

    text: str
    filters: tuple[str, ...] = ()


class _Plan:
    """One search as SphinxQL: the WHERE of the hits, of each facet's counting, the batch."""

    def __init__(
        self, backend: SphinxQLBackend, slot: str, parsed: ParsedQuery, request: SearchRequest
    ) -> None:
        self.backend = backend
        self.slot = slot
        self.index = _index(slot)
        self.parsed = parsed
        self.request = request
        self.notices: list[str] = list(parsed.notices)
        self.names = backend.dictionary.names(slot)
        self.ranker = backend._ranker(slot)
        self.value_counts = backend.dictionary.value_counts(slot)
        self.documents = backend.dictionary.document_frequency(slot, (DOCS,)).get(DOCS, 0)
        self.match = self._match(parsed.query) if not parsed.is_browse else None
        self.chosen = {facet.name: self._chosen(facet.chosen(request)) for facet in FACETS}

    # -- conditions --

    def _match(self, node: qt.Node | None) -> _Matched:
        translator = Translator(self._resolve_values, self._day_bounds, self._near)
        try:
            translation = translator.translate(node)
        except Unsupported as exc:
            self.notices.append(f"{exc} It was left out.")
            return _Matched(f"@{FACTS} {EVERY}")
        self.notices += translation.unsupported
        filters = tuple(
            f"{VALUE_ATTRIBUTES.get(fieldname, PUBLICATION)} IN ({_ids(ids)})"
            for fieldname, ids in translation.filters
        )
        return _Matched(translation.text, filters)

    def _near(self, word: str, distance: int, prefix_length: int) -> list[str]:
        return self.backend.dictionary.near(self.slot, word, distance, prefix_length)

    def _resolve_values(self, fieldname: str, text: str, pattern: bool = False) -> list[str]:
        """As the embedded engine: the exact value, else every value containing the words (or
        the words a wildcard matches): :func:`~archive.search.schema.values_named`."""
        values = (v for field, v in self.names.values() if field == fieldname)
        return values_named(values, text, pattern)

    def _day_bounds(self) -> tuple[dt.date, dt.date] | None:
        rows = self.backend._run(
            self.backend.topology.head,
            [
                f"SELECT MIN(day) AS low, MAX(day) AS high FROM {self.index} WHERE day > 0 "
                "OPTION max_matches=1"
            ],
        )[0]
        if not rows or not rows[0][0]:
            return None
        low, high = (int(v) for v in rows[0][:2])
        as_date = lambda key: dt.date(key // 10000, key // 100 % 100, key % 100)  # noqa: E731
        return as_date(low), as_date(high)

    def _stated(self) -> str:
        return " AND date_inferred = 0" if self.request.stated_dates else ""

    def _chosen(self, chosen: ValuesChosen | DatesChosen | None) -> str | None:
        if chosen is None:
            return None
        if isinstance(chosen, ValuesChosen):
            ids = [value_id(chosen.field, v) for v in chosen.values] or [0]
            if chosen.field == PUBLICATION:
                ids = [*ids, 0] if chosen.missing else ids
                return f"publication IN ({_ids(ids)})"
            return f"{VALUE_ATTRIBUTES[chosen.field]} IN ({_ids(ids)})"
        if chosen.undated:
            return "day = 0"
        if chosen.month is not None:
            return f"month = {chosen.year * 100 + chosen.month}{self._stated()}"
        return f"year = {int(chosen.year)}{self._stated()}"

    def _date_range(self) -> str | None:
        request = self.request
        if request.date_from is None and request.date_to is None:
            return None
        low = _day_key(request.date_from) if request.date_from else 1
        high = _day_key(request.date_to) if request.date_to else 99_999_999
        return f"day BETWEEN {low} AND {high}{self._stated()}"

    def _where(self, match: _Matched | None, conditions: Iterable[str | None]) -> str:
        parts = [f"MATCH({_quote(match.text)})", *match.filters] if match else []
        parts += [c for c in conditions if c]
        return " WHERE " + " AND ".join(parts) if parts else ""

    def _story(self) -> str | None:
        """The story filter: every copy of one story (a story id is positive)."""
        story = self.request.story
        if story is None:
            return None
        return f"story_key = {int(story)}" if 0 < int(story) < STORY_KEY_ALONE else "id = 0"

    def where_all(self, match: _Matched | None = None) -> str:
        return self._where(
            match or self.match, [self._date_range(), self._story(), *self.chosen.values()]
        )

    def where_for(self, facet: Facet, match: _Matched | None = None) -> str:
        others = [c for name, c in self.chosen.items() if name not in facet.ignores]
        return self._where(match or self.match, [self._date_range(), self._story(), *others])

    # -- statements --

    def _options(self, max_matches: int, ranked: bool = True) -> str:
        """``ranked``: the statement orders by WEIGHT(); otherwise no weight is computed at all
        (counts, groups and date orders: ranking every match was most of their time).

        ``max_matches``: the rows the statement may need, exactly (a page: its end; a GROUP BY:
        every group, see _group_limit). Each shard keeps that many best matches while it scans
        them; the engine's default, 1,000, for a page of 40 made a common word's page a third
        slower on each shard (29.7 against 19.3 ms for `said` at 100,000 documents)."""
        matches = max(1, max_matches)
        if not ranked:
            return f" OPTION max_matches={matches}, ranker=none"
        return (
            f" OPTION max_matches={matches}, ranker={self.ranker}, "
            f"idf='plain,tfidf_unnormalized', field_weights=({FIELD_WEIGHTS}), global_idf=1"
        )

    def _order(self, sort: str) -> tuple[str, str]:
        """(extra select expression, ORDER BY) for a sort."""
        if sort == "relevance":
            return "", "ORDER BY w DESC, id ASC"
        direction = "DESC" if sort == "newest" else "ASC"
        # 0: a date that counts, 1: an inferred date that does not (stated_dates), 2: undated.
        if self.request.stated_dates:
            group = "IF(day = 0, 2, IF(date_inferred = 1, 1, 0)) AS grp"
        else:
            group = "IF(day = 0, 2, 0) AS grp"
        return f", {group}", f"ORDER BY grp ASC, day {direction}, id {direction}"

    def _counted_where(self, facet: Facet, where: str) -> str:
        if facet.counts_by in ("years", "months") and self.request.stated_dates:
            return _and(where, "date_inferred = 0")
        return where

    def group_statement(self, facet: Facet, where: str) -> str:
        """Documents per value of the facet."""
        groups = self._group_limit(facet)
        return (
            f"SELECT GROUPBY() AS value, COUNT(*) AS n FROM {self.index}"
            f"{self._counted_where(facet, where)} "
            f"GROUP BY {_facet_attribute(facet)} ORDER BY n DESC LIMIT 0, {groups}"
            f"{self._options(groups, ranked=False)}"
        )

    def counted(self, groups: Sequence[Sequence[tuple]]) -> dict[int, int]:
        """Count per value, summed over ``groups``: the head's documents per value (one result
        of :meth:`group_statement`)."""
        counts: dict[int, int] = {}
        for rows in groups:
            for value, n in rows:
                counts[int(value)] = counts.get(int(value), 0) + int(n)
        return counts

    def _group_limit(self, facet: Facet) -> int:
        """Every group of the facet: each shard returns at most max_matches groups, so it must
        be at least the number of values for the head's merged counts to be exact. Not more:
        searchd allocates for max_matches (a million cost 1.7 s per query)."""
        if facet.counts_by != "values":
            return MAX_MATCHES_FLOOR
        known = self.value_counts.get(facet.fieldname, 0)
        return min(MAX_GROUPS, max(MAX_MATCHES_FLOOR, known + 1))

    def _nothing_to_count(self, facet: Facet) -> bool:
        """A facet of values that no document of the index has (an archive without places):
        every count is 0, so no pass over the matches is made for it."""
        return (
            facet.counts_by == "values"
            and facet.missing_value is None
            and not self.value_counts.get(facet.fieldname, 0)
        )

    def run_groups(self, facet: Facet, where: str) -> tuple[dict[int, int], Coverage | None]:
        """One facet's counts over ``where``: documents through the head, stories on the
        shards."""
        backend = self.backend
        if self.request.counts_stories:
            counts = _StoryCounts(self)
            counts.add(facet, where)
            counted = counts.start()()
            return counted.facets.get(facet.name, {}), counted.coverage
        statements = [self.group_statement(facet, where), "SHOW META"]
        results = backend._run(backend.topology.head, statements)
        return self.counted([results[0]]), _coverage(results[1], backend)

    def stories(self, where: str) -> tuple[int, Coverage]:
        """How many stories ``where`` matches: the sum of the shards' counts."""
        counts = _StoryCounts(self)
        counts.add_total(where)
        counted = counts.start()()
        return counted.total, counted.coverage

    def _certain(
        self, facet: Facet, groups: dict[int, int], slack: dict[int, int], unseen: int
    ) -> bool:
        """Whether counts from shard lists cut at SHARD_TOP show what full counts would: the
        chosen values and the no-value count are exact, and so is every value whose count
        could reach the floor of what is shown (the FACET_LIMIT + 1st exact count; ties at
        the floor are shown in name order, so no value with a doubtful count may reach it)."""

        def exact(value: int) -> bool:
            return value not in slack if value in groups else unseen == 0

        if facet.missing_value is not None and not exact(0):
            return False
        if not all(exact(value_id(facet.fieldname, name)) for name in facet.selected(self.request)):
            return False
        names = self.names
        ranked = sorted(
            (n for v, n in groups.items() if v and v in names and v not in slack), reverse=True
        )
        if len(ranked) <= FACET_LIMIT:
            return False
        floor = ranked[FACET_LIMIT]
        if unseen >= floor:
            return False
        return all(groups[v] + more < floor for v, more in slack.items() if v and v in names)

    # -- results --

    def value_result(
        self, facet, groups: dict[int, int], contains: str = "", limit: int = FACET_LIMIT
    ) -> FacetResult:
        needle = fold(contains)
        names = self.names
        missing = groups.get(0, 0) if facet.missing_value is not None else 0  # no publication
        chosen = set(facet.selected(self.request))
        named = [(v, n) for v, n in groups.items() if v and v in names]
        if not needle and len(named) > limit + 1:
            # Only what can be shown is named and sorted: the top counts (ties included) and
            # the chosen values. An archive has tens of thousands of values.
            floor = heapq.nlargest(limit + 1, (n for _, n in named))[-1]
            chosen_ids = {value_id(facet.fieldname, name) for name in chosen}
            named = [(v, n) for v, n in named if n >= floor or v in chosen_ids]
        pairs = [(names[v][1], n) for v, n in named]
        if needle:
            pairs = [pair for pair in pairs if needle in fold(pair[0])]
        pairs.sort(key=lambda pair: (-pair[1], pair[0]))
        shown = pairs[: limit + 1] + [p for p in pairs[limit + 1 :] if p[0] in chosen]
        return facet.result(ValueCounts(shown, missing), self.request, contains, limit)

    def run(self) -> SearchResponse:
        request, backend = self.request, self.backend
        sort = request.effective_sort(self.parsed.is_browse)
        start = (request.page - 1) * request.page_size
        where = self.where_all()
        statements = [self.page_statement(where, sort, start, request.page_size), "SHOW META"]
        # Stories are counted on the shards (see _StoryCounts), beside the head's batch.
        on_shards = _StoryCounts(self)
        if request.folded:
            on_shards.add_total(where)
        facets_run = [f for f in FACETS if request.with_facets and f.applies(request)]
        facet_at: list[int | None] = []
        for facet in facets_run:
            if self._nothing_to_count(facet):
                facet_at.append(None)
            elif request.counts_stories:
                facet_at.append(-1)
                # Cut lists cannot tell a facet's documents without a value (a publication's
                # "none") from the values left out: such a facet is counted in full.
                top = facet.counts_by == "values" and facet.missing_value is None
                on_shards.add(facet, self.where_for(facet), top=top)
            else:
                facet_at.append(len(statements))
                statements += [self.group_statement(facet, self.where_for(facet)), "SHOW META"]
        inferred_at = len(statements)
        if not request.folded:  # folded, the shards count them with the stories
            statements += [
                f"SELECT COUNT(*) AS n FROM {self.index}"
                f"{_and(where, 'date_inferred = 1')} OPTION ranker=none",
                "SHOW META",
            ]
        try:
            collect = on_shards.start()
            results = backend._run(backend.topology.head, statements)
            if self._mirror_missed(results):
                # The head still tried a dead replica of a mirrored shard (it learns within a
                # second, see docs/sphinxql-notes.md): ask once more, the other replica answers.
                results = backend._run(backend.topology.head, statements)
            rows, meta = results[0], results[1]
            if request.folded:
                rows = self.fold(rows, where, sort, start, request.page_size)
            documents = total = int(dict(meta).get("total_found", 0))
            # The page's hits are highlighted while the shards still count (a broad query's
            # counts take longest), unless the hits may yet be widened below.
            may_widen = self.parsed.any_words is not None and documents < ANY_WORDS_BELOW
            hits = None if may_widen else self._hits(rows, sort)
            counted = collect()
        except _QueryError as exc:
            if "query timed out" in str(exc):  # the query's work, not a connection's
                self.notices.append(
                    "The search engine took too long over this query; narrow it (fewer "
                    "wildcards or alternatives joined by OR)."
                )
            else:
                self.notices.append(
                    f"This query could not be run by the search engine ({_short(str(exc))}); "
                    "rephrase it."
                )
            return self._empty(sort)
        coverages = [_coverage(meta, backend), counted.coverage]
        if request.folded:
            total = counted.total
        facets: dict[str, FacetResult] = {}
        for facet, at in zip(facets_run, facet_at, strict=True):
            if at is None:
                groups = {}
            elif at < 0:
                groups = counted.facets.get(facet.name, {})
                if facet.name in counted.bounds and not self._certain(
                    facet, groups, *counted.bounds[facet.name]
                ):
                    groups, recount = self.run_groups(facet, self.where_for(facet))
                    coverages.append(recount)
            else:
                groups = self.counted([results[at]])
                coverages.append(_coverage(results[at + 1], backend))
            facets[facet.name] = self._facet_result(facet, groups)
        if request.folded:
            inferred = counted.inferred
        else:
            inferred_rows = results[inferred_at]
            inferred = int(inferred_rows[0][0]) if inferred_rows else 0

        widened = None
        # As the embedded engine: widened when few *documents* have all the words.
        if self.parsed.any_words is not None and documents < ANY_WORDS_BELOW:
            if request.folded:
                widened_rows, widened_total, widened_documents = self._widened_folded(sort)
            else:
                widened_rows, widened_total = self._widened(rows, total, sort)
                widened_documents = widened_total
            if widened_documents > documents:
                widened = Widened(all_words=documents)
                rows, total, documents = widened_rows, widened_total, widened_documents
                # Facets and counts follow the widened hits, as in the embedded engine.
                facets = self._widened_facets(facets_run)
                hits = None

        suggestion = None
        if not self.parsed.is_browse and documents < SUGGEST_BELOW:
            suggestion = self._suggestion(documents)
        shared = ()
        if not self.parsed.is_browse:
            lexicon = DictionaryLexicon(self.backend, self.slot)
            shared = shared_stems(self.parsed.text, lexicon)

        if hits is None:
            hits = self._hits(rows, sort)
        return SearchResponse(
            request=request,
            query_text=self.parsed.text,
            total=total,
            hits=hits,
            facets=facets,
            sort=sort,
            notices=tuple(dict.fromkeys(self.notices)),
            suggestion=suggestion,
            inferred_dates=inferred,
            widened=widened,
            coverage=_worst(coverages),
            total_documents=documents if request.folded else None,
            shared_stems=shared,
        )

    def _hits(self, rows: list, sort: str) -> list[Hit]:
        """The page's rows as hits, headline and snippets marked."""
        terms = _highlight_terms(self.parsed, self.backend.dictionary, self.slot) if rows else {}
        offset = 2 if sort == "relevance" else 1
        return [
            _hit(
                row[0],
                float(row[1]) if sort == "relevance" else None,
                row[offset : offset + _HIT_WIDTH],
                self.names,
                terms,
                self.request.with_snippets,
            )
            for row in rows
        ]

    def page_statement(
        self, where: str, sort: str, start: int, count: int, window: int | None = None
    ) -> str:
        """A page of hits in ``sort`` order. Folded, the first documents in that order, enough
        for :meth:`fold` to keep the page's stories (each story's first document), light: no
        text, which :meth:`fold` reads for the page's documents only."""
        extra, order = self._order(sort)
        weight = "WEIGHT() AS w, " if sort == "relevance" else ""
        columns = _HIT_COLUMNS
        if self.request.folded:
            columns = "story_key"
            start, count = 0, window or _fold_window(start, count)
        options = self._options(start + count, ranked=sort == "relevance")
        return (
            f"SELECT id, {weight}{columns}{extra} FROM {self.index}{where} "
            f"{order} LIMIT {start}, {count}{options}"
        )

    def fold(self, rows: list, where: str, sort: str, start: int, count: int) -> list:
        """One row per story, as the embedded engine folds: each story shown by its first
        document in ``sort`` order, the stories in the order of those documents. ``rows`` are
        :meth:`page_statement`'s; when their stories do not reach the page's end and more
        documents match, a wider window is asked for. Then the page's hit columns."""
        head = self.backend.topology.head
        window = _fold_window(start, count)
        key_at = 2 if sort == "relevance" else 1
        while True:
            firsts: dict[int, tuple] = {}
            for row in rows:
                firsts.setdefault(int(row[key_at]), row)
            if len(firsts) >= start + count or len(rows) < window:
                break
            window *= 4
            statement = self.page_statement(where, sort, start, count, window)
            rows = self.backend._run(head, [statement])[0]
        page = list(firsts.values())[start : start + count]
        if not page:
            return []
        found = self.backend._run(
            head,
            [
                f"SELECT id, {_HIT_COLUMNS} FROM {self.index} "
                f"WHERE id IN ({_ids(row[0] for row in page)}) LIMIT {len(page)}"
            ],
        )[0]
        columns = {int(row[0]): tuple(row[1:]) for row in found}
        weight = key_at - 1
        return [
            (row[0], *row[1 : 1 + weight], *columns[int(row[0])])
            for row in page
            if int(row[0]) in columns
        ]

    def documents_statement(self, where: str) -> str:
        """How many documents match (SHOW META's total_found after it)."""
        return f"SELECT id FROM {self.index}{where} LIMIT 0 OPTION ranker=none"

    def _widened_folded(self, sort: str) -> tuple[list, int, int]:
        """Folded, the widened hits (documents with any of the words): (page rows, stories,
        documents). By relevance the stories with an all-words copy come first, each shown by
        its best all-words copy, as in the embedded engine (which adds a constant to all-words
        scores); by date, the widened hits are simply folded in date order."""
        request, run = self.request, self.backend._run
        head = self.backend.topology.head
        any_match = self._match(self.parsed.any_words)
        self._any_match = any_match
        widened_where = self.where_all(any_match)
        start = (request.page - 1) * request.page_size
        stop = start + request.page_size
        counting = [self.documents_statement(widened_where), "SHOW META"]
        if sort != "relevance":
            results = run(
                head, [self.page_statement(widened_where, sort, start, stop - start), *counting]
            )
            rows = self.fold(results[0], widened_where, sort, start, stop - start)
            stories, _ = self.stories(widened_where)
            return rows, stories, int(dict(results[2]).get("total_found", 0))
        # Fewer than ANY_WORDS_BELOW documents have all the words: all their stories at once.
        first = run(
            head,
            [
                self.page_statement(self.where_all(), sort, 0, ANY_WORDS_BELOW),
                f"SELECT id, story_key FROM {self.index}{self.where_all()} "
                f"LIMIT 0, {ANY_WORDS_BELOW} OPTION ranker=none",
                *counting,
            ],
        )
        leading = self.fold(first[0], self.where_all(), sort, 0, ANY_WORDS_BELOW)
        documents = int(dict(first[3]).get("total_found", 0))
        exclude = ""
        if first[1]:
            exclude = (
                f" AND id NOT IN ({_ids(r[0] for r in first[1])})"
                f" AND story_key NOT IN ({_ids({r[1] for r in first[1]})})"
            )
        rest_start = max(0, start - len(leading))
        rest_count = max(1, stop - max(start, len(leading)))
        rest_where = widened_where + exclude
        rest = run(head, [self.page_statement(rest_where, sort, rest_start, rest_count)])
        rest_rows = self.fold(rest[0], rest_where, sort, rest_start, rest_count)
        rest_stories, _ = self.stories(rest_where)
        stories = len(leading) + rest_stories
        page = leading[start:stop] if start < len(leading) else []
        page += rest_rows[: request.page_size - len(page)] if stop > len(leading) else []
        return page, stories, documents

    def _mirror_missed(self, results: list[list[tuple]]) -> bool:
        coverage = _coverage(results[1], self.backend)
        shards = self.backend.topology.shards
        return any(len(shards[int(name.removeprefix("shard"))]) > 1 for name in coverage.missing)

    def _suggestion(self, total: int) -> Suggestion | None:
        """A corrected query, offered only if it finds more documents with the same filters."""
        corrected = spelling.corrected_words(
            DictionaryLexicon(self.backend, self.slot), self.parsed.text
        )
        if corrected is None:
            return None
        other = self.backend._parsed(corrected)
        if other.is_browse:
            return None
        notices = list(self.notices)
        match = self._match(other.query)
        self.notices = notices  # the corrected query's remarks are not this search's
        results = self.backend._run(
            self.backend.topology.head,
            [
                f"SELECT id FROM {self.index}{self.where_all(match)} LIMIT 0 OPTION ranker=none",
                "SHOW META",
            ],
        )
        found = int(dict(results[1]).get("total_found", 0))
        return Suggestion(corrected, found) if found > total else None

    def _facet_result(self, facet: Facet, groups: dict[int, int]) -> FacetResult:
        if facet.counts_by == "years":
            return facet.result(groups, self.request)
        if facet.counts_by == "months":
            return facet.result(groups, self.request)
        return self.value_result(facet, groups)

    def _widened(self, rows: list, total: int, sort: str) -> tuple[list, int]:
        """All-words hits first, then those with some of the words (both by relevance)."""
        any_match = self._match(self.parsed.any_words)
        found = [row[0] for row in rows] if total <= len(rows) else []
        if total and not found:
            return rows, total
        exclude = f" AND id NOT IN ({_ids(found)})" if found else ""
        request = self.request
        start = (request.page - 1) * request.page_size
        stop = start + request.page_size
        rest_start = max(0, start - total)
        rest_stop = max(0, stop - total)
        weight = "WEIGHT() AS w, " if sort == "relevance" else ""
        extra, order = self._order(sort)
        statement = (
            f"SELECT id, {weight}{_HIT_COLUMNS}{extra} FROM {self.index}"
            f"{self.where_all(any_match)}{exclude} {order} "
            f"LIMIT {rest_start}, {max(1, rest_stop - rest_start)}"
            f"{self._options(rest_stop, ranked=sort == 'relevance')}"
        )
        results = self.backend._run(self.backend.topology.head, [statement, "SHOW META"])
        rest_total = int(dict(results[1]).get("total_found", 0))
        head = rows[start:stop] if start < total else []
        tail = results[0] if rest_stop > rest_start else []
        self._any_match = any_match
        return head + list(tail)[: request.page_size - len(head)], total + rest_total

    def _widened_facets(self, facets_run: list[Facet]) -> dict[str, FacetResult]:
        if self.request.counts_stories:  # every facet in one go: shared passes
            counts = _StoryCounts(self)
            for facet in facets_run:
                counts.add(facet, self.where_for(facet, self._any_match))
            counted = counts.start()()
            return {
                facet.name: self._facet_result(facet, counted.facets.get(facet.name, {}))
                for facet in facets_run
            }
        facets = {}
        for facet in facets_run:
            groups, _ = self.run_groups(facet, self.where_for(facet, self._any_match))
            facets[facet.name] = self._facet_result(facet, groups)
        return facets

    def _empty(self, sort: str) -> SearchResponse:
        return SearchResponse(
            request=self.request,
            query_text=self.parsed.text,
            total=0,
            hits=[],
            facets={},
            sort=sort,
            notices=tuple(dict.fromkeys(self.notices)),
        )


# The total: a GROUP BY over a constant, one group, so that it shares the facets' pass.
_TOTAL_COLUMN = "by_all"
# Select items of the story counts' statements: attributes held as 32-bit integers are grouped
# through 64-bit aliases, whose GROUP BY can share a pass with the 64-bit ones (persons,
# publication); see _StoryCounts.
_GROUP_ALIASES = {
    "year": ("by_year", "BIGINT(year) AS by_year"),
    "month": ("by_month", "BIGINT(month) AS by_month"),
    _TOTAL_COLUMN: (_TOTAL_COLUMN, f"BIGINT(0) AS {_TOTAL_COLUMN}"),
}


@dataclass(frozen=True)
class _Counted:
    """What :class:`_StoryCounts` found, summed over the shards that answered."""

    facets: dict[str, dict[int, int]]
    total: int
    inferred: int
    coverage: Coverage
    # Facets some shard listed only in part (SHARD_TOP): for each, how much more than its
    # count each listed value may have (the lists it is missing from could hold it up to their
    # last count; absent: exact), and how much a value no list holds may have.
    bounds: dict[str, tuple[dict[int, int], int]] = field(default_factory=dict)


class _StoryCounts:
    """Stories per facet value, the story total and the inferred dates among its documents,
    counted on every shard (a story's copies share one, so the shards' counts add up) in as
    few passes over the matches as Sphinx 2.2.11 allows.

    A document in no story with copies (``story = 0``: its story key is its own) is a story
    of its own, so those are counted as documents (``COUNT(*)``, cheap); only the copies
    (``story > 0``, about an eighth of the derived 100k archive) need ``COUNT(DISTINCT
    story_key)``, which costs per match. No story is on both sides (the copies of a story that
    gains its second are marked as it is written: :meth:`SphinxQLBackend._mark_shared`), so
    the two counts add up. Each side of each WHERE is one batch of GROUP BYs that differ only
    in the attribute grouped and ``max_matches``, which searchd runs as one pass over the
    matches (its ``RunSubset``: same query, filters and select items, sorters of one width):
    the total is a GROUP BY over a constant, and the 32-bit year and month are grouped through
    64-bit aliases. Each statement keeps its own ``max_matches`` (a shared one, the largest,
    cost 55 against 34 ms at 50,000). At 100,000 documents, `said` on one shard (persons,
    publications, years and the total): about 52 ms against 67 for one COUNT(DISTINCT)
    statement each (docs/sphinxql-notes.md). The batches go one after another, each with the
    shard timeout: a replica that stops answering costs one timeout, then its mirror is
    asked."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        # WHERE -> [(key, attribute grouped, groups returned, groups counted)], in the order
        # added. Every group is counted (max_matches: searchd's counts are approximate when
        # groups are dropped during the pass), the rows returned may be fewer.
        self.wheres: dict[str, list[tuple[str | None, str, int, int]]] = {}

    def add(self, facet: Facet, where: str, top: bool = False) -> None:
        """Count the stories of each of the facet's values among ``where``'s matches; with
        ``top``, only each shard's SHARD_TOP largest counts (see :attr:`_Counted.bounds`)."""
        attribute = _facet_attribute(facet)
        column = _GROUP_ALIASES[attribute][0] if attribute in _GROUP_ALIASES else attribute
        counted_where = self.plan._counted_where(facet, where)
        limit = self.plan._group_limit(facet)
        returned = min(limit, SHARD_TOP) if top else limit
        self.wheres.setdefault(counted_where, []).append((facet.name, column, returned, limit))

    def add_total(self, where: str) -> None:
        """Count the stories ``where`` matches, and its documents with an inferred date."""
        self.wheres.setdefault(where, []).append((None, _TOTAL_COLUMN, 1, 1))

    def batches(self) -> list[list[str]]:
        """Two batches for every WHERE: the documents in no story, then the copies (one when
        it counts one thing, :func:`_sides`)."""
        batches = []
        for where, groups in self.wheres.items():
            columns = {column for _, column, _, _ in groups}
            aliases = "".join(
                f", {expression}"
                for alias, expression in _GROUP_ALIASES.values()
                if alias in columns
            )
            for condition, count, may_cut in _sides(groups):
                batches.append(
                    [
                        f"SELECT GROUPBY() AS value, {count} AS n, SUM(date_inferred) AS inferred"
                        f"{aliases} FROM {self.plan.index}"
                        f"{_and(where, condition) if condition else where} "
                        f"GROUP BY {column} ORDER BY n DESC "
                        f"LIMIT 0, {returned if may_cut else counted}"
                        f"{self.plan._options(counted, ranked=False)}"
                        for _, column, returned, counted in groups
                    ]
                )
        return batches

    def start(self) -> Callable[[], _Counted]:
        """Send the batches to every shard, in parallel; the function returned waits for the
        answers and sums them."""
        collect = self.plan.backend._start_shards(self.batches())

        def counted() -> _Counted:
            shard_results, coverage = collect()
            facets: dict[str, dict[int, int]] = {}
            # key -> [(values listed, the last count)] of each list cut at its limit
            cut: dict[str, list[tuple[set[int], int]]] = {}
            total = inferred = 0
            for results in shard_results:
                at = 0
                for groups in self.wheres.values():
                    for _condition, _count, may_cut in _sides(groups):
                        for key, _, returned, counted_groups in groups:
                            returned = returned if may_cut else counted_groups
                            rows = results[at]
                            at += 1
                            if key is None:
                                total += sum(int(row[1]) for row in rows)
                                inferred += sum(int(row[2] or 0) for row in rows)
                                continue
                            values = facets.setdefault(key, {})
                            for row in rows:
                                values[int(row[0])] = values.get(int(row[0]), 0) + int(row[1])
                            if rows and len(rows) >= returned:
                                listed = {int(row[0]) for row in rows}
                                cut.setdefault(key, []).append((listed, int(rows[-1][1])))
            bounds = {}
            for key, lists in cut.items():
                slack: dict[int, int] = {}
                for value in facets[key]:
                    more = sum(last for listed, last in lists if value not in listed)
                    if more:
                        slack[value] = more
                bounds[key] = (slack, sum(last for _, last in lists))
            return _Counted(facets, total, inferred, coverage, bounds)

        return counted


def _sides(groups: Sequence) -> list[tuple[str | None, str, bool]]:
    """(condition, count, may be cut) of each batch of a WHERE's story counts
    (:class:`_StoryCounts`): the documents in no story, then the copies. One group alone has no
    pass to share, and one ``COUNT(DISTINCT story_key)`` over every match costs a little less
    than two passes. Only the first side's lists may be cut to SHARD_TOP: the copies' side
    (about an eighth of the documents) has small counts, which cut lists would leave uncertain
    for the values shown, so it returns every group."""
    if len(groups) == 1:
        return [(None, "COUNT(DISTINCT story_key)", False)]
    return [("story = 0", "COUNT(*)", True), ("story > 0", "COUNT(DISTINCT story_key)", False)]


def _facet_attribute(facet: Facet) -> str:
    """The attribute a facet counts."""
    if facet.counts_by == "years":
        return "year"
    if facet.counts_by == "months":
        return "month"
    fieldname = facet.fieldname
    return PUBLICATION if fieldname == PUBLICATION else VALUE_ATTRIBUTES[fieldname]


def _fold_window(start: int, count: int) -> int:
    """How many documents to read for a folded page: twice its end (copies take places), and
    more when that is not enough (:meth:`_Plan.fold`)."""
    return 2 * (start + count) + 20


def _and(where: str, condition: str) -> str:
    """``where`` (a WHERE clause or "") with one more condition."""
    return f"{where} AND {condition}" if where else f" WHERE {condition}"


def _reason(exc: BaseException) -> str:
    """A client error in a few plain words ("connection refused"), not the driver's tuple."""
    text = str(exc)
    for words in ("Connection refused", "timed out", "Lost connection", "Name or service"):
        if words in text:
            return "unknown host" if words == "Name or service" else words.lower()
    return _short(text)


def _engine_words(exc: BaseException) -> str:
    """The engine's message without the driver's ``(1064, '...')`` wrapping or the NUL that an
    agent's message can end with."""
    text = str(exc.args[-1]) if exc.args else str(exc)
    return text.replace("\x00", "").strip()


def _short(message: str) -> str:
    return message.split(":")[-1].strip()[:120]


# "agent 127.0.0.1:9409: connect() failed: Connection refused": an agent (a shard or a mirror)
# did not answer.
_AGENT = re.compile(r"agent ([\w.\-]+):(\d+)")


def _coverage(meta_rows: list[tuple], backend: SphinxQLBackend) -> Coverage:
    """Which shards answered, from SHOW META's warning."""
    meta = dict(meta_rows)
    warning = str(meta.get("warning", ""))
    shards = backend.topology.shards
    if not warning:
        return Coverage(len(shards), len(shards))
    failed_ports = {int(port) for _, port in _AGENT.findall(warning)}
    local = backend.topology.cluster
    missing = []
    for number, replicas in enumerate(shards):
        api_ports = (
            [p.api_port for p in local.replicas(number)] if local else [r[1] + 1 for r in replicas]
        )
        # The head asks one replica of a shard per query: a failed one named in the warning
        # means that shard's documents are missing from this answer, mirror or not.
        if any(port in failed_ports for port in api_ports):
            missing.append(f"shard{number}")
    return Coverage(len(shards) - len(missing), len(shards), tuple(missing))


def _worst(coverages: list[Coverage]) -> Coverage:
    return min(coverages, key=lambda c: c.answered) if coverages else Coverage(1, 1)


BACKEND = SphinxQLBackend()
