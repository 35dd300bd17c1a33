"""Where the embedded engine counts facets.

Whoosh's own ``groupedby`` faceting walks every hit in Python and is slow on broad queries. Instead,
each index segment is read once into numpy arrays of (document number, value ordinal) pairs, cached
by segment id (segments never change once written), and combined per index generation. Counting a
facet for a set of matched documents (a boolean mask over document numbers) is then one
``np.bincount``.

The facet kinds (``archive/search/facets.py``) say what is chosen and counted; here a choice
becomes a mask (:func:`chosen_mask`) and a facet is counted over a mask (:func:`count`). A
search returns the top FACET_LIMIT values of each facet; a facet search finds any value of a
value facet by a part of its name, counted for the same search (case- and accent-folded names
are cached per index generation, so one such search is a bincount and a pass over the names).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from archive.search.facets import (
    FACET_LIMIT,
    VALUE_FIELDS,
    DatesChosen,
    Facet,
    FacetResult,
    ValueCounts,
    ValuesChosen,
    fold,
)

if TYPE_CHECKING:
    from archive.search.types import SearchRequest


def distinct_pairs(keys: np.ndarray, stories: np.ndarray) -> np.ndarray:
    """``keys`` once per distinct (key, story) pair: counting them counts stories per key."""
    if len(keys) == 0:
        return keys
    low = int(stories.min())
    span = int(stories.max()) - low + 1
    keys = keys.astype(np.int64)
    base = int(keys.min())
    combined = np.unique((keys - base) * span + (stories - low))
    return combined // span + base


@dataclass(frozen=True)
class ValueColumn:
    """One exact-value field as pairs: document ``docs[i]`` carries ``values[ords[i]]``."""

    values: tuple[str, ...]
    docs: np.ndarray
    ords: np.ndarray
    ordinal: dict[str, int] = field(repr=False)

    def count(self, mask: np.ndarray) -> np.ndarray:
        """How many documents in ``mask`` carry each value (indexed by ordinal)."""
        return np.bincount(self.ords[mask[self.docs]], minlength=len(self.values))

    def count_stories(self, mask: np.ndarray, story: np.ndarray) -> np.ndarray:
        """How many distinct stories in ``mask`` carry each value (copies count once)."""
        selected = mask[self.docs]
        ords, stories = self.ords[selected], story[self.docs[selected]]
        shared = stories > 0  # only copies can repeat a (value, story) pair
        counts = np.bincount(ords[~shared], minlength=len(self.values))
        if shared.any():
            repeated = distinct_pairs(ords[shared], stories[shared])
            counts += np.bincount(repeated, minlength=len(self.values))
        return counts

    def has_any(self, wanted: Iterable[str], size: int) -> np.ndarray:
        """Mask of documents that carry at least one of ``wanted``."""
        ords = [self.ordinal[v] for v in wanted if v in self.ordinal]
        mask = np.zeros(size, dtype=bool)
        if ords:
            mask[self.docs[np.isin(self.ords, ords)]] = True
        return mask

    def has_none(self, size: int) -> np.ndarray:
        """Mask of documents that carry no value at all."""
        mask = np.ones(size, dtype=bool)
        mask[self.docs] = False
        return mask

    @cached_property
    def folded(self) -> tuple[str, ...]:
        """The values case- and accent-folded, for searching within a facet (built once per
        index generation, on first use)."""
        return tuple(fold(value) for value in self.values)

    @cached_property
    def alphabetical(self) -> np.ndarray:
        """Each value's rank in alphabetical order: the tie-break between equal counts."""
        ranks = np.empty(len(self.values), dtype=np.int64)
        ranks[np.argsort(np.array(self.values, dtype=object), kind="stable")] = np.arange(
            len(self.values)
        )
        return ranks


@dataclass(frozen=True)
class _SegmentColumns:
    values: dict[str, tuple[list[str], np.ndarray, np.ndarray]]
    day_key: np.ndarray
    inferred: np.ndarray
    story: np.ndarray
    document_id: np.ndarray


@dataclass(frozen=True)
class FacetTables:
    """Everything facet counting and date sorting need, for one index generation."""

    size: int  # number of document slots (deleted ones included)
    live: np.ndarray  # True for documents that are not deleted
    columns: dict[str, ValueColumn]
    day_key: np.ndarray  # YYYYMMDD as an int per document, 0 when undated
    segment_ids: frozenset[str] = frozenset()
    # True where the date was inferred from the text rather than stated by the source (None:
    # no document's is; an index built before the flag was indexed cannot tell).
    inferred: np.ndarray | None = None
    # What results fold by (archive/ingest/copies.py): the story of each document whose story
    # has copies; a document alone in its story (or in none) is a story of its own, numbered
    # -1 - its document number.
    story: np.ndarray | None = None
    # The story each document belongs to, copies or not (0: not clustered): the story= filter.
    story_id: np.ndarray | None = None
    # Each slot's document id: what ties are ordered by (as the cluster orders them), not the
    # slot's number, which a document saved again or a parallel rebuild changes.
    document_id: np.ndarray | None = None

    def ties(self, docnums: np.ndarray) -> np.ndarray:
        """What equal dates and equal scores are ordered by: the documents' ids, as the cluster
        orders them, so a page is the same on both engines and after a rebuild (a slot's
        number changes when a document is saved again, and a parallel rebuild shuffles them)."""
        return docnums if self.document_id is None else self.document_id[docnums]

    def years(self) -> np.ndarray:
        return self.day_key // 10000

    def months(self) -> np.ndarray:
        return self.day_key // 100  # YYYYMM

    @cached_property
    def stated(self) -> FacetTables:
        """The same tables as the date filters, the year and month facets and the date sorts
        see them when only stated dates count (``SearchRequest(stated_dates=True)``): an
        inferred date's day key is -1, neither a date nor undated (built once per generation)."""
        if self.inferred is None or not self.inferred.any():
            return self
        return replace(self, day_key=np.where(self.inferred, np.int32(-1), self.day_key))


_segment_cache: dict[str, _SegmentColumns] = {}
_tables_cache: dict[tuple, FacetTables] = {}
_cache_lock = threading.Lock()


def _docs_by_term(segreader, fieldname: str) -> Iterator[tuple[bytes, np.ndarray]]:
    """Each term of the field with the document numbers that hold it. A term of one document
    (a document's id, most stories, most names) is read from its term info, without opening
    its postings: ten times faster on the id field of a large segment."""
    for term, info in segreader.iter_field(fieldname):
        if info.doc_frequency() == 1:
            yield term, np.array([info.min_id()], dtype=np.int32)
        else:
            yield term, np.fromiter(segreader.postings(fieldname, term).all_ids(), dtype=np.int32)


def _read_segment(segreader) -> _SegmentColumns:
    size = segreader.doc_count_all()
    values: dict[str, tuple[list[str], np.ndarray, np.ndarray]] = {}
    for fieldname in VALUE_FIELDS:
        names: list[str] = []
        docs: list[np.ndarray] = []
        ords: list[np.ndarray] = []
        # An index built before the field existed has none (it is reported as needing a rebuild).
        terms = _docs_by_term(segreader, fieldname) if fieldname in segreader.schema else ()
        for ordinal, (term, ids) in enumerate(terms):
            names.append(term.decode("utf-8"))
            docs.append(ids)
            ords.append(np.full(len(ids), ordinal, dtype=np.int32))
        values[fieldname] = (
            names,
            np.concatenate(docs) if docs else np.zeros(0, dtype=np.int32),
            np.concatenate(ords) if ords else np.zeros(0, dtype=np.int32),
        )
    day_key = np.zeros(size, dtype=np.int32)
    for term, ids in _docs_by_term(segreader, "day"):
        day_key[ids] = int(term)
    inferred = np.zeros(size, dtype=bool)
    # An index that only stores the flag (reported as needing a rebuild) counts every date as
    # stated, as the site did before.
    flag_indexed = "date_inferred" in segreader.schema and segreader.schema["date_inferred"].indexed
    if flag_indexed and ("date_inferred", b"t") in segreader:
        ids = np.fromiter(segreader.postings("date_inferred", b"t").all_ids(), dtype=np.int32)
        inferred[ids] = True
    story = np.zeros(size, dtype=np.int64)
    for term, ids in _docs_by_term(segreader, "story") if "story" in segreader.schema else ():
        story[ids] = int(term)
    document_id = np.zeros(size, dtype=np.int64)
    for term, ids in _docs_by_term(segreader, "id"):
        document_id[ids] = int(term)
    return _SegmentColumns(
        values=values, day_key=day_key, inferred=inferred, story=story, document_id=document_id
    )


def _segment_columns(segreader) -> _SegmentColumns:
    key = segreader.segment().segment_id()
    cached = _segment_cache.get(key)
    if cached is None:
        cached = _read_segment(segreader)
        with _cache_lock:
            _segment_cache[key] = cached
    return cached


def _fold_keys(story: np.ndarray, live: np.ndarray) -> np.ndarray:
    """What results fold by: the story of a document whose story has another live document
    in the index, else a key of its own (-1 - its number), so only copies fold and count once."""
    clustered = live & (story > 0)
    ids, counts = np.unique(story[clustered], return_counts=True)
    shared = clustered & np.isin(story, ids[counts > 1])
    return np.where(shared, story, -1 - np.arange(len(story), dtype=np.int64))


def tables_for(searcher, cache_key: str) -> FacetTables:
    """The facet tables of the searcher's index generation, built at most once per generation."""
    reader = searcher.reader()
    # Segment ids are random names, so they also tell apart an index deleted and rebuilt up to the
    # same generation number; deletion counts change when a commit only deletes documents.
    key = (
        cache_key,
        reader.generation(),
        tuple(
            (segment.segment_id(), segment.deleted_count())
            for segment in (leaf.segment() for leaf, _ in reader.leaf_readers())
            if segment is not None
        ),
    )
    tables = _tables_cache.get(key)
    if tables is not None:
        return tables

    size = reader.doc_count_all()
    live = np.zeros(size, dtype=bool)
    day_key = np.zeros(size, dtype=np.int32)
    inferred = np.zeros(size, dtype=bool)
    story = np.zeros(size, dtype=np.int64)
    document_id = np.zeros(size, dtype=np.int64)
    vocab: dict[str, dict[str, int]] = {f: {} for f in VALUE_FIELDS}
    pair_docs: dict[str, list[np.ndarray]] = {f: [] for f in VALUE_FIELDS}
    pair_ords: dict[str, list[np.ndarray]] = {f: [] for f in VALUE_FIELDS}
    segment_ids = set()
    for segreader, offset in reader.leaf_readers():
        if segreader.doc_count_all() == 0:
            continue
        segment_ids.add(segreader.segment().segment_id())
        seg = _segment_columns(segreader)
        n = segreader.doc_count_all()
        live[offset : offset + n] = True
        if segreader.has_deletions():
            deleted = np.fromiter(segreader.segment().deleted_docs(), dtype=np.int64)
            live[deleted + offset] = False
        day_key[offset : offset + n] = seg.day_key
        inferred[offset : offset + n] = seg.inferred
        story[offset : offset + n] = seg.story
        document_id[offset : offset + n] = seg.document_id
        for fieldname in VALUE_FIELDS:
            names, docs, ords = seg.values[fieldname]
            field_vocab = vocab[fieldname]
            remap = np.array(
                [field_vocab.setdefault(name, len(field_vocab)) for name in names], dtype=np.int32
            )
            pair_docs[fieldname].append(docs + offset)
            pair_ords[fieldname].append(remap[ords] if len(ords) else ords)

    columns = {}
    for fieldname in VALUE_FIELDS:
        docs = pair_docs[fieldname]
        ords = pair_ords[fieldname]
        columns[fieldname] = ValueColumn(
            values=tuple(vocab[fieldname]),
            docs=np.concatenate(docs) if docs else np.zeros(0, dtype=np.int32),
            ords=np.concatenate(ords) if ords else np.zeros(0, dtype=np.int32),
            ordinal=dict(vocab[fieldname]),
        )
    tables = FacetTables(
        size=size,
        live=live,
        columns=columns,
        day_key=day_key,
        segment_ids=frozenset(segment_ids),
        inferred=inferred,
        story=_fold_keys(story, live),
        story_id=story,
        document_id=document_id,
    )

    with _cache_lock:
        # Keep only the newest generation per index, and only segments still in use.
        for old in [k for k in _tables_cache if k[0] == cache_key]:
            del _tables_cache[old]
        _tables_cache[key] = tables
        in_use = set().union(*(t.segment_ids for t in _tables_cache.values()))
        for stale in [s for s in _segment_cache if s not in in_use]:
            del _segment_cache[stale]
    return tables


# --- Choosing and counting ----------------------------------------------------------------------


def chosen_mask(
    chosen: ValuesChosen | DatesChosen | None, tables: FacetTables
) -> np.ndarray | None:
    """Mask of documents a facet's choice allows (None: no choice)."""
    if chosen is None:
        return None
    if isinstance(chosen, ValuesChosen):
        column = tables.columns[chosen.field]
        mask = column.has_any(chosen.values, tables.size)
        if chosen.missing:
            mask |= column.has_none(tables.size)
        return mask
    if chosen.undated:
        return tables.day_key == 0
    if chosen.month is not None:
        return tables.months() == chosen.year * 100 + chosen.month
    return tables.years() == chosen.year


def _per_key(keys: np.ndarray, stories: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(distinct keys, how many documents, or distinct stories when ``stories`` is given, have
    each)."""
    if stories is None:
        return np.unique(keys, return_counts=True)
    shared = stories > 0  # only copies can repeat a (key, story) pair
    return np.unique(
        np.concatenate([keys[~shared], distinct_pairs(keys[shared], stories[shared])]),
        return_counts=True,
    )


def count(
    facet: Facet,
    tables: FacetTables,
    mask: np.ndarray,
    request: SearchRequest,
    contains: str = "",
    limit: int = FACET_LIMIT,
) -> FacetResult:
    """One facet counted over the documents in ``mask``: how many documents, or how many
    stories when the request counts stories (copies of one story count once)."""
    by_story = tables.story if request.counts_stories and tables.story is not None else None
    if facet.counts_by == "years":
        years = tables.years()[mask]
        # -1: an inferred date when only stated ones count (neither a year nor undated).
        found, counts = _per_key(years, by_story[mask] if by_story is not None else None)
        return facet.result(dict(zip(found.tolist(), counts.tolist(), strict=True)), request)
    if facet.counts_by == "months":
        months = tables.months()[mask]
        dated = months > 0
        stories = by_story[mask][dated] if by_story is not None else None
        found, counts = _per_key(months[dated], stories)
        return facet.result(dict(zip(found.tolist(), counts.tolist(), strict=True)), request)
    return facet.result(
        value_counts(facet, tables, mask, request, contains, limit), request, contains, limit
    )


def value_counts(
    facet, tables: FacetTables, mask: np.ndarray, request: SearchRequest, contains: str, limit: int
) -> ValueCounts:
    """A value facet's values in ``mask`` whose folded form contains ``contains``, most frequent
    first (see :class:`~archive.search.facets.ValueCounts`)."""
    column = tables.columns[facet.fieldname]
    by_story = request.counts_stories and tables.story is not None
    counts = column.count_stories(mask, tables.story) if by_story else column.count(mask)
    needle = fold(contains)
    found = np.flatnonzero(counts)
    if needle:
        folded = column.folded
        found = np.array([i for i in found.tolist() if needle in folded[i]], dtype=np.int64)
    # Most frequent first, then alphabetical; sorted in numpy, as a facet can have tens of
    # thousands of values. Only the first ``limit`` (+1, to tell it was cut) become pairs, and
    # the chosen ones further down.
    order = found[np.lexsort((column.alphabetical[found], -counts[found]))].tolist()
    chosen = facet.selected(request)
    chosen_ords = {column.ordinal[v] for v in chosen if v in column.ordinal}
    shown = order[: limit + 1] + [i for i in order[limit + 1 :] if i in chosen_ords]
    missing = 0
    if facet.missing_value is not None:
        without = mask & column.has_none(tables.size)
        missing = int(np.count_nonzero(without))
        if by_story:  # copies of one story count once
            stories = tables.story[without]
            missing = int(np.count_nonzero(stories <= 0)) + len(np.unique(stories[stories > 0]))
    return ValueCounts([(column.values[i], int(counts[i])) for i in shown], missing)
