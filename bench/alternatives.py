"""The benchmark's comparison engines: the same corpus and queries as the site's own search, done
(a) the straightforward Whoosh way, (b) with SQLite FTS5 and (c) with tantivy.

``bench/run.py`` builds each engine from the corpus JSONL, runs the query set through
:meth:`Engine.search` and reports each engine's timings as a ratio to ours. Every engine answers
the whole question the site answers for one result page, so the ratios compare like with like:
the number of hits, the person/publication/year facet counts over *all* hits, and the ten best
hits with one highlighted body snippet each.

Query semantics, the same for every engine (and what the site does for such text): words are
AND'ed; ``"quoted text"`` is a phrase; a trailing ``*`` makes a prefix; an empty query lists every
document, newest first. The site's analyzer drops stop words and one-letter words, so the FTS5 and
tantivy translations drop them from bare words too (a query of only such words finds nothing, as
on the site); phrases keep every word, since those engines index every word. Operators (``OR``,
``NOT``, ``field:``) are not translated: the benchmark's queries do not use them. Filters:
persons OR'ed, publications OR'ed, the publication year; different filters AND'ed. Facet counts
are over the hits after *all* filters (the site leaves each facet's own filter out, so compare
only facets without an active filter); documents without a publication count under ``""`` and
undated ones under ``"undated"``; the 50 biggest values per facet.

The Whoosh baseline finds exactly what the site finds. FTS5 and tantivy cannot (other stemmers and
tokenisers): each engine's docstring says where they differ, and how often on a real corpus
(Reuters-21578 + BBC, 21,268 documents; two random samples of 300 words, 100 four-letter
prefixes and 100 two-word phrases). ``tests/test_bench_alternatives.py`` pins one example of each
difference, and checks exact agreement on a corpus whose words all stem alike.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import tantivy

from archive.search import FACET_LIMIT, UNDATED, UNKNOWN_PUBLICATION
from archive.search.highlight import lead
from archive.search.schema import IndexedDocument, clean_value
from archive.search.whoosh.baseline import (
    MIN_WORD_CHARS,
    STOP_WORDS,
    baseline_search,
    build_baseline_index,
)
from bench.queries import BenchQuery

HITS = 10
SNIPPET_CHARS = 200
TITLE_BOOST = 3.0  # as the site's DEFAULT_SEARCH_FIELDS: a title match weighs three body matches
TITLE_MAX_CHARS = 500  # what the archive stores (Document.title), so every engine sees the same
FACETS = ("person", "publication", "year")


@dataclass
class EngineResult:
    total: int  # number of hits
    facets: dict[str, dict[str, int]]  # "person", "publication", "year" -> value -> count
    snippets: list[str]  # one highlighted HTML snippet per top hit, best first
    ids: list[int] = field(default_factory=list)  # the top hits: corpus line numbers (from 1)

    @classmethod
    def nothing(cls) -> EngineResult:
        return cls(0, {name: {} for name in FACETS}, [])


class Engine(Protocol):
    name: str

    def build(self, jsonl: Path, workdir: Path) -> dict:
        """Index the corpus under ``workdir``: ``{"docs", "seconds", "bytes_on_disk"}``."""
        ...

    def search(self, query: BenchQuery) -> EngineResult: ...


def engines() -> list[Engine]:
    """The engines bench/run.py compares with ours, in report order."""
    return [WhooshNaive(), SqliteFts5(), Tantivy()]


# --- Shared: the corpus, the query, facets, snippets ---------------------------------------------


def read_corpus(jsonl: Path) -> Iterator[IndexedDocument]:
    """The corpus as the archive would hold it: id = line number, names cleaned and de-duplicated
    (as ``schema.to_fields`` does), titles cut to what the database keeps."""
    with Path(jsonl).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            record = json.loads(line)
            persons = (clean_value(name) for name in record.get("persons") or ())
            yield IndexedDocument(
                id=number,
                title=record["title"][:TITLE_MAX_CHARS],
                body=record["body"],
                published=(
                    dt.date.fromisoformat(record["published"]) if record.get("published") else None
                ),
                publication=clean_value(record.get("publication") or "") or None,
                persons=tuple(dict.fromkeys(name for name in persons if name)),
            )


_QUERY_TOKENS = re.compile(r'"([^"]*)"?|([^\s"]+)')
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class QueryParts:
    """A query's text reduced to what every engine can express."""

    words: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    prefixes: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.words or self.phrases or self.prefixes)


def _keep(word: str) -> bool:
    return len(word) >= MIN_WORD_CHARS and word not in STOP_WORDS


def split_query(q: str) -> QueryParts | None:
    """Words, phrases and prefixes, lower-cased; None for an empty query (list everything).

    A query whose words are all dropped (``"the"``) gives empty parts: it finds nothing.
    """
    if not q.strip():
        return None
    words: list[str] = []
    phrases: list[tuple[str, ...]] = []
    prefixes: list[str] = []
    for match in _QUERY_TOKENS.finditer(q):
        quoted, bare = match.groups()
        if quoted is not None:
            found = tuple(w.lower() for w in _WORD.findall(quoted))
            if len(found) > 1:
                phrases.append(found)
            else:
                words.extend(w for w in found if _keep(w))
            continue
        found = [w.lower() for w in _WORD.findall(bare)]
        if bare.endswith("*") and found:
            *found, prefix = found
            prefixes.append(prefix)
        words.extend(w for w in found if _keep(w))
    return QueryParts(tuple(dict.fromkeys(words)), tuple(phrases), tuple(prefixes))


def top_values(counts: dict[str, int]) -> dict[str, int]:
    """The FACET_LIMIT biggest values, biggest first, ties alphabetically (as the site)."""
    ordered = sorted(((k, v) for k, v in counts.items() if v), key=lambda kv: (-kv[1], kv[0]))
    return dict(ordered[:FACET_LIMIT])


def snippet_lead(body: str) -> str:
    """The snippet of a hit with no query words (browse mode): the escaped opening."""
    return lead(body, SNIPPET_CHARS)


def disk_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _fresh(path: Path) -> Path:
    """``path`` emptied: a rebuild must not measure (or reuse) an older build."""
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


# --- (a) The straightforward Whoosh way -----------------------------------------------------------


class WhooshNaive:
    """The site's schema and analyzers, searched the way the Whoosh documentation shows
    (``archive/search/baseline.py``): facets by ``groupedby``, snippets by ``hit.highlights``.

    It finds what the site finds (same analysis, same query parser), so its totals and facet
    counts must equal ours; only the time differs.
    """

    name = "whoosh-naive"

    def __init__(self) -> None:
        self.path: Path | None = None

    def build(self, jsonl: Path, workdir: Path) -> dict:
        path = _fresh(Path(workdir) / "index")
        started = time.perf_counter()
        count = build_baseline_index(read_corpus(jsonl), path)
        seconds = time.perf_counter() - started
        self.path = path
        return {"docs": count, "seconds": round(seconds, 3), "bytes_on_disk": disk_bytes(path)}

    def search(self, query: BenchQuery) -> EngineResult:
        if self.path is None:
            raise RuntimeError("build() first")
        found = baseline_search(
            self.path, query.q, tuple(query.persons), tuple(query.publications), query.year
        )
        return EngineResult(found["total"], found["facets"], found["snippets"], found["ids"])


# --- (b) SQLite FTS5 ------------------------------------------------------------------------------

_FTS5_SCHEMA = """
-- The short columns first: SQLite reads a row from its start, and a long body spills onto
-- overflow pages, which a facet query would otherwise walk to reach the date and publication.
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    published TEXT,     -- YYYY-MM-DD, NULL when undated
    publication TEXT,   -- NULL when unknown
    title TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE persons (doc_id INTEGER NOT NULL, name TEXT NOT NULL);
CREATE VIRTUAL TABLE fts USING fts5(
    title, body, content='documents', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);
"""
# Created after the bulk insert: building an index once is cheaper than keeping it up to date.
_FTS5_INDEXES = """
CREATE INDEX persons_by_name ON persons(name, doc_id);
CREATE INDEX persons_by_doc ON persons(doc_id, name);
CREATE INDEX documents_by_published ON documents(published);
CREATE INDEX documents_by_publication ON documents(publication);
"""
# Private-use characters around matches in snippet(): the text is escaped after snippet() runs,
# then they become <mark> tags, so document text can never produce markup.
_OPEN, _CLOSE = "\ue000", "\ue001"
_SNIPPET_TOKENS = 32  # about SNIPPET_CHARS of English
_BATCH = 5000


def _fts5_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def fts5_match(parts: QueryParts) -> str:
    """The FTS5 MATCH expression: every word and phrase a quoted string (so no word is read as an
    operator or a column name), a prefix as ``"pre" *``; juxtaposed, which FTS5 reads as AND."""
    terms = [_fts5_string(word) for word in parts.words]
    terms += [_fts5_string(" ".join(phrase)) for phrase in parts.phrases]
    terms += [_fts5_string(prefix) + " *" for prefix in parts.prefixes]
    return " ".join(terms)


class SqliteFts5:
    """SQLite FTS5 (the standard library's sqlite3): ``documents`` and ``persons`` tables, and an
    external-content FTS5 table over title and body (porter stemmer, accents folded).

    A search runs the MATCH once into a temporary table of (id, bm25 score) with the filters
    applied; the total, one GROUP BY per facet and the top ten (by bm25, title weighted 3) are read
    from that table; snippet() then runs on the ten hits only. An empty query has nothing to
    materialise: the facets group the filtered documents directly.

    Differences from the site, on the corpus the module docstring names (measured when the site
    still used Whoosh's Porter stemmer; Snowball since): a different number of
    documents for 20-28 of 300 words (sometimes by a factor: ``collaborating`` finds 8 on the site,
    42 here), 0-1 of 100 prefixes and 50-61 of 100 phrases (by about 1%). FTS5's porter tokenizer
    runs the Porter algorithm, the site Snowball English (Porter2), so some words group
    differently ("news" is "new" here, not on the site). Whoosh drops stop words and one-letter
    words and closes the gap they leave, so its phrase ``"company said"`` also finds "company.
    It said" (about 1% more hits); FTS5 keeps every word. FTS5 splits "U.S." and "1.5" where
    Whoosh keeps one token. It stems a prefix before matching it (``pres*`` is ``pre*``, which
    also finds "prevent"; the site's stemmer leaves ``pres``).
    """

    name = "sqlite-fts5"

    def __init__(self) -> None:
        self.db: sqlite3.Connection | None = None

    def build(self, jsonl: Path, workdir: Path) -> dict:
        path = _fresh(Path(workdir) / "fts5.sqlite3")
        started = time.perf_counter()
        db = sqlite3.connect(path, isolation_level=None)
        db.executescript(_FTS5_SCHEMA)
        count = 0
        db.execute("BEGIN")
        try:
            batch: list[IndexedDocument] = []
            for doc in read_corpus(jsonl):
                batch.append(doc)
                if len(batch) >= _BATCH:
                    count += self._insert(db, batch)
                    batch = []
            count += self._insert(db, batch)
            db.execute("INSERT INTO fts(fts) VALUES ('rebuild')")
            db.execute("INSERT INTO fts(fts) VALUES ('optimize')")  # one b-tree: faster queries
            for statement in _FTS5_INDEXES.strip().split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute("ANALYZE")
        except BaseException:
            db.execute("ROLLBACK")
            db.close()
            raise
        db.execute("COMMIT")
        seconds = time.perf_counter() - started
        self._open(db)
        return {"docs": count, "seconds": round(seconds, 3), "bytes_on_disk": disk_bytes(path)}

    @staticmethod
    def _insert(db: sqlite3.Connection, batch: list[IndexedDocument]) -> int:
        db.executemany(
            "INSERT INTO documents (id, published, publication, title, body) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                (
                    doc.id,
                    doc.published.isoformat() if doc.published else None,
                    doc.publication,
                    doc.title,
                    doc.body,
                )
                for doc in batch
            ],
        )
        db.executemany(
            "INSERT INTO persons (doc_id, name) VALUES (?, ?)",
            [(doc.id, name) for doc in batch for name in doc.persons],
        )
        return len(batch)

    def _open(self, db: sqlite3.Connection) -> None:
        db.execute("PRAGMA temp_store = MEMORY")
        db.execute("CREATE TEMP TABLE hits (id INTEGER PRIMARY KEY, score REAL)")
        self.db = db

    @staticmethod
    def _filters(query: BenchQuery, id_column: str) -> tuple[list[str], list, bool]:
        """SQL conditions, their parameters, and whether they need ``documents d`` joined."""
        conditions: list[str] = []
        params: list = []
        if query.persons:
            marks = ", ".join("?" * len(query.persons))
            # The unary + stops SQLite from driving the search from the person's documents (one
            # FTS5 rowid seek each: ten times slower for a common word than checking each match).
            conditions.append(
                f"+{id_column} IN (SELECT doc_id FROM persons WHERE name IN ({marks}))"
            )
            params += list(query.persons)
        if query.publications:
            conditions.append(f"d.publication IN ({', '.join('?' * len(query.publications))})")
            params += list(query.publications)
        if query.year is not None:
            conditions.append("d.published >= ? AND d.published < ?")
            params += [f"{query.year:04d}-01-01", f"{query.year + 1:04d}-01-01"]
        return conditions, params, bool(query.publications or query.year is not None)

    def search(self, query: BenchQuery) -> EngineResult:
        db = self.db
        if db is None:
            raise RuntimeError("build() first")
        parts = split_query(query.q)
        if parts is None:
            return self._browse(db, query)
        if parts.empty:
            return EngineResult.nothing()

        match = fts5_match(parts)
        conditions, params, join = self._filters(query, "fts.rowid")
        db.execute("DELETE FROM temp.hits")
        db.execute(
            "INSERT INTO temp.hits (id, score) "
            f"SELECT fts.rowid, bm25(fts, {TITLE_BOOST}, 1.0) FROM fts"
            + (" JOIN documents d ON d.id = fts.rowid" if join else "")
            + " WHERE fts MATCH ?"
            + "".join(f" AND {c}" for c in conditions),
            [match, *params],
        )
        total, facets = self._counts(db, "temp.hits h", "h.id")
        ids = [
            row[0]
            for row in db.execute("SELECT id FROM temp.hits ORDER BY score, id LIMIT ?", [HITS])
        ]
        snippets: dict[int, str] = {}
        if ids:
            rows = db.execute(
                f"SELECT rowid, snippet(fts, 1, ?, ?, '…', {_SNIPPET_TOKENS}) FROM fts "
                f"WHERE fts MATCH ? AND rowid IN ({', '.join('?' * len(ids))})",
                [_OPEN, _CLOSE, match, *ids],
            )
            for doc_id, text in rows:
                snippets[doc_id] = (
                    html.escape(text).replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")
                )
        return EngineResult(total, facets, [snippets.get(i, "") for i in ids], ids)

    def _browse(self, db: sqlite3.Connection, query: BenchQuery) -> EngineResult:
        """An empty query: the filtered documents, newest first. Nothing to materialise."""
        conditions, params, _ = self._filters(query, "d.id")
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        total, facets = self._counts(db, "documents d", "d.id", where, tuple(params))
        # NULL (undated) sorts last in descending order; the same day: the later corpus line
        # first. Bodies are read for the ten only, not carried through the sort.
        ids = [
            row[0]
            for row in db.execute(
                f"SELECT d.id FROM documents d{where} ORDER BY d.published DESC, d.id DESC LIMIT ?",
                [*params, HITS],
            )
        ]
        bodies = dict(
            db.execute(
                f"SELECT id, body FROM documents WHERE id IN ({', '.join('?' * len(ids))})", ids
            )
        )
        return EngineResult(total, facets, [snippet_lead(bodies[i]) for i in ids], ids)

    def _counts(
        self, db: sqlite3.Connection, hits: str, hit_id: str, where: str = "", params: tuple = ()
    ) -> tuple[int, dict[str, dict[str, int]]]:
        """The total and one GROUP BY per facet over the hits: the rows of ``hits`` (whose id is
        ``hit_id``) that pass ``where``. Joined to ``documents d`` unless ``hits`` is that table."""
        docs = hits if hits == "documents d" else f"{hits} JOIN documents d ON d.id = {hit_id}"
        total = db.execute(f"SELECT count(*) FROM {hits}{where}", params).fetchone()[0]
        facets = {
            "person": self._facet(
                f"SELECT p.name, count(*) FROM {hits} JOIN persons p ON p.doc_id = {hit_id}"
                f"{where} GROUP BY p.name",
                params,
            ),
            "publication": self._facet(
                f"SELECT coalesce(d.publication, ?), count(*) FROM {docs}{where} GROUP BY 1",
                (UNKNOWN_PUBLICATION, *params),
            ),
            "year": self._facet(
                f"SELECT coalesce(substr(d.published, 1, 4), ?), count(*) FROM {docs}{where} "
                "GROUP BY 1",
                (UNDATED, *params),
            ),
        }
        return total, facets

    def _facet(self, sql: str, params: tuple) -> dict[str, int]:
        assert self.db is not None
        rows = self.db.execute(f"{sql} ORDER BY 2 DESC, 1 LIMIT {FACET_LIMIT}", params).fetchall()
        return top_values({str(value): count for value, count in rows})


# --- (c) tantivy ----------------------------------------------------------------------------------

# tantivy's en_stem (simple tokenizer, long tokens dropped, lower case, Snowball English stemmer)
# with accents folded first, as the site and FTS5 fold them: without it "cafe" misses "café".
_ANALYZER_NAME = "en_stem_folded"
_WRITER_HEAP = 200_000_000
_PREFIX_SNIPPET_TERMS = 50  # a prefix's commonest expansions are marked in snippets


def _analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def _tantivy_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", stored=True)
    builder.add_text_field("title", tokenizer_name=_ANALYZER_NAME)
    builder.add_text_field("body", stored=True, tokenizer_name=_ANALYZER_NAME)
    # Exact values, several per document for person; fast fields for the terms aggregations.
    builder.add_text_field("person", fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("publication", fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("year", indexed=True, fast=True)  # 0 when undated
    builder.add_integer_field("published", fast=True)  # YYYYMMDD, 0 when undated: sort key
    return builder.build()


def _aggregations() -> dict:
    # segment_size: each segment's candidate list; generous, so counts stay exact with several
    # segments (tantivy merges per-segment top lists).
    terms = {"size": FACET_LIMIT, "segment_size": 1000}
    return {
        "person": {"terms": {"field": "person", **terms}},
        "publication": {"terms": {"field": "publication", "missing": "", **terms}},
        "year": {"terms": {"field": "year", **terms}},
    }


class Tantivy:
    """tantivy through its Python binding (``tantivy==0.27.0``), one index built with one writer
    (200 MB heap, one commit).

    A search is two passes inside Rust: ``searcher.search`` for the count and the top ten (BM25,
    title boosted 3, via ``index.parse_query``; newest first by the ``published`` fast field when
    browsing), and ``searcher.aggregate`` with one terms aggregation per facet, which reads the fast
    fields of every hit (no stored documents are read for facets). The second pass costs a query
    evaluation more than tantivy alone would need, but stays in Rust: on the module docstring's
    corpus, a word in 89% of the documents takes about 1 ms for the whole response. Stored bodies
    are read for the ten hits only, for ``SnippetGenerator`` (200 characters; its ``<b>`` becomes
    ``<mark>``, its text is already escaped).

    Differences from the site, on the corpus the module docstring names (measured when the site
    still used Whoosh's Porter stemmer; Snowball since): a different number of
    documents for 27-44 of 300 words (sometimes by a factor, as for FTS5), 2 of 100 prefixes and
    51-61 of 100 phrases (by about 1%). The stemmer is Snowball English (Porter2), as the
    site's, but tokens differ (see below). A prefix is stemmed before it is matched (``pres*`` stays
    ``pres*``), with a regex over the term dictionary. Stop words and one-letter words are indexed,
    so a phrase must match them literally (Whoosh's ``"company said"`` also finds "company. It
    said").
    """

    name = "tantivy"

    def __init__(self) -> None:
        self.index: tantivy.Index | None = None
        self.schema: tantivy.Schema | None = None
        self.analyzer = _analyzer()

    def build(self, jsonl: Path, workdir: Path) -> dict:
        path = _fresh(Path(workdir) / "index")
        path.mkdir()
        started = time.perf_counter()
        schema = _tantivy_schema()
        index = tantivy.Index(schema, path=str(path), reuse=False)
        index.register_tokenizer(_ANALYZER_NAME, self.analyzer)
        writer = index.writer(heap_size=_WRITER_HEAP)
        count = 0
        for doc in read_corpus(jsonl):
            document = tantivy.Document()
            document.add_integer("id", doc.id)
            document.add_text("title", doc.title)
            document.add_text("body", doc.body)
            for name in doc.persons:
                document.add_text("person", name)
            if doc.publication:
                document.add_text("publication", doc.publication)
            day = doc.published
            document.add_integer("year", day.year if day else 0)
            document.add_integer(
                "published", day.year * 10000 + day.month * 100 + day.day if day else 0
            )
            writer.add_document(document)
            count += 1
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        seconds = time.perf_counter() - started
        self.index, self.schema = index, schema
        return {"docs": count, "seconds": round(seconds, 3), "bytes_on_disk": disk_bytes(path)}

    def _prefix_stem(self, prefix: str) -> str:
        tokens = self.analyzer.analyze(prefix)
        return tokens[-1] if tokens else prefix

    def search(self, query: BenchQuery) -> EngineResult:
        index, schema = self.index, self.schema
        if index is None or schema is None:
            raise RuntimeError("build() first")
        parts = split_query(query.q)
        if parts is not None and parts.empty:
            return EngineResult.nothing()
        searcher = index.searcher()
        must: list[tantivy.Query] = []
        snippet_terms: list[tantivy.Query] = []

        if parts is not None:
            quoted = [f'"{w}"' for w in parts.words]
            quoted += ['"' + " ".join(phrase) + '"' for phrase in parts.phrases]
            if quoted:
                text_query = index.parse_query(
                    " ".join(quoted),
                    ["title", "body"],
                    field_boosts={"title": TITLE_BOOST},
                    conjunction_by_default=True,
                )
                must.append(text_query)
                snippet_terms.append(text_query)
            for prefix in parts.prefixes:
                stem = self._prefix_stem(prefix)
                pattern = re.escape(stem) + ".*"
                must.append(
                    tantivy.Query.boolean_query(
                        [
                            (
                                tantivy.Occur.Should,
                                tantivy.Query.boost_query(
                                    tantivy.Query.regex_query(schema, "title", pattern),
                                    TITLE_BOOST,
                                ),
                            ),
                            (
                                tantivy.Occur.Should,
                                tantivy.Query.regex_query(schema, "body", pattern),
                            ),
                        ]
                    )
                )
                # A regex query names no terms for SnippetGenerator to mark: name the commonest.
                expansions = searcher.terms_with_prefix("body", stem, limit=_PREFIX_SNIPPET_TERMS)
                snippet_terms += [
                    tantivy.Query.term_query(schema, "body", term) for term, _ in expansions
                ]

        filters: list[tantivy.Query] = []
        if query.persons:
            filters.append(tantivy.Query.term_set_query(schema, "person", list(query.persons)))
        if query.publications:
            filters.append(
                tantivy.Query.term_set_query(schema, "publication", list(query.publications))
            )
        if query.year is not None:
            filters.append(tantivy.Query.term_query(schema, "year", query.year))
        # Filters must match but add nothing to the score.
        must += [tantivy.Query.const_score_query(f, 0.0) for f in filters]

        if not must:
            combined = tantivy.Query.all_query()
        elif len(must) == 1:
            combined = must[0]
        else:
            combined = tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in must])

        if parts is None:
            found = searcher.search(
                combined, HITS, order_by_field="published", order=tantivy.Order.Desc
            )
        else:
            found = searcher.search(combined, HITS)

        aggregated = searcher.aggregate(combined, _aggregations())
        facets = {
            "person": top_values(
                {b["key"]: b["doc_count"] for b in aggregated["person"]["buckets"]}
            ),
            "publication": top_values(
                {b["key"]: b["doc_count"] for b in aggregated["publication"]["buckets"]}
            ),
            "year": top_values(
                {
                    (str(int(b["key"])) if int(b["key"]) else UNDATED): b["doc_count"]
                    for b in aggregated["year"]["buckets"]
                }
            ),
        }

        generator = None
        if snippet_terms:
            snippet_query = (
                snippet_terms[0]
                if len(snippet_terms) == 1
                else tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in snippet_terms])
            )
            generator = tantivy.SnippetGenerator.create(searcher, snippet_query, schema, "body")
            generator.set_max_num_chars(SNIPPET_CHARS)
        snippets: list[str] = []
        ids: list[int] = []
        for _, address in found.hits:
            document = searcher.doc(address)
            ids.append(int(document.get_first("id")))
            snippet = ""
            if generator is not None:
                snippet = (
                    generator.snippet_from_doc(document)
                    .to_html()
                    .replace("<b>", "<mark>")
                    .replace("</b>", "</mark>")
                )
            snippets.append(snippet or snippet_lead(document.get_first("body") or ""))
        return EngineResult(found.count, facets, snippets, ids)
