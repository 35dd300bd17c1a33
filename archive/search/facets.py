"""Where facets are counted.

Whoosh's own ``groupedby`` faceting walks every hit in Python and is slow on broad queries. Instead,
each index segment is read once into numpy arrays of (document number, value ordinal) pairs, cached
by segment id (segments never change once written), and combined per index generation. Counting a
facet for a set of matched documents (a boolean mask over document numbers) is then one
``np.bincount``.

Each facet kind is one small class (after datasette's ``facets.py``), registered in
:data:`FACETS`: it turns the request's selection into a mask and the counts into
:class:`FacetValue` lists, and says how a value is toggled, how its filter shows as a chip and
how it is described. A value facet (person, organisation, place, publication) is a few names on
:class:`ValueFacet`.

A search returns the top FACET_LIMIT values of each facet; :func:`facet_values` finds any value of
a value facet by a part of its name, counted for the same search (case- and
accent-folded names are cached per index generation, so one such search is a bincount and a pass
over the names).
"""

from __future__ import annotations

import calendar
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from archive.search.engine import SearchRequest

# Values returned per facet; the page shows the first few and the rest behind "More".
FACET_LIMIT = 50
UNKNOWN_PUBLICATION = ""  # the facet value for documents with no publication
UNKNOWN_PUBLICATION_LABEL = "Unknown publication"
UNDATED = "undated"  # the year-facet value for documents with no date


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


def fold(text: str) -> str:
    """Text as a facet search compares it: case, accents and runs of spaces ignored."""
    decomposed = unicodedata.normalize("NFKD", " ".join(text.split()).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class _SegmentColumns:
    values: dict[str, tuple[list[str], np.ndarray, np.ndarray]]
    day_key: np.ndarray
    inferred: np.ndarray


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


# VALUE_FIELDS, the exact-value fields read into the tables, follow from the registered value
# facets (at the end of the facet kinds below).

_segment_cache: dict[str, _SegmentColumns] = {}
_tables_cache: dict[tuple, FacetTables] = {}
_cache_lock = threading.Lock()


def _read_segment(segreader) -> _SegmentColumns:
    size = segreader.doc_count_all()
    values: dict[str, tuple[list[str], np.ndarray, np.ndarray]] = {}
    for fieldname in VALUE_FIELDS:
        names: list[str] = []
        docs: list[np.ndarray] = []
        ords: list[np.ndarray] = []
        # An index built before the field existed has none (it is reported as needing a rebuild).
        terms = segreader.lexicon(fieldname) if fieldname in segreader.schema else ()
        for ordinal, term in enumerate(terms):
            ids = np.fromiter(segreader.postings(fieldname, term).all_ids(), dtype=np.int32)
            names.append(term.decode("utf-8"))
            docs.append(ids)
            ords.append(np.full(len(ids), ordinal, dtype=np.int32))
        values[fieldname] = (
            names,
            np.concatenate(docs) if docs else np.zeros(0, dtype=np.int32),
            np.concatenate(ords) if ords else np.zeros(0, dtype=np.int32),
        )
    day_key = np.zeros(size, dtype=np.int32)
    for term in segreader.lexicon("day"):
        ids = np.fromiter(segreader.postings("day", term).all_ids(), dtype=np.int32)
        day_key[ids] = int(term)
    inferred = np.zeros(size, dtype=bool)
    # An index that only stores the flag (reported as needing a rebuild) counts every date as
    # stated, as the site did before.
    flag_indexed = "date_inferred" in segreader.schema and segreader.schema["date_inferred"].indexed
    if flag_indexed and ("date_inferred", b"t") in segreader:
        ids = np.fromiter(segreader.postings("date_inferred", b"t").all_ids(), dtype=np.int32)
        inferred[ids] = True
    return _SegmentColumns(values=values, day_key=day_key, inferred=inferred)


def _segment_columns(segreader) -> _SegmentColumns:
    key = segreader.segment().segment_id()
    cached = _segment_cache.get(key)
    if cached is None:
        cached = _read_segment(segreader)
        with _cache_lock:
            _segment_cache[key] = cached
    return cached


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


# --- Facet kinds -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool = False


@dataclass(frozen=True)
class FacetResult:
    name: str
    label: str
    values: list[FacetValue]
    truncated: bool = False  # more values exist than FACET_LIMIT


@dataclass(frozen=True)
class FacetChip:
    """An active filter as its facet tells it ("Person", "Madhukar Gupta"), with the request
    that drops it (the page makes the chip's link of it)."""

    kind: str
    label: str
    without: SearchRequest


class Facet:
    """A facet kind, after datasette's ``facets.py``: one class owns one filter end to end.

    - ``selection`` and ``counts``: the request's choice as a mask, the values counted for a
      search (the engine calls them);
    - ``toggled``: the request with one value chosen or unchosen (a value's toggle link);
    - ``chips``: the active choices, each with the request without it;
    - ``describe``: the choice in words, for feed titles ("person: Madhukar Gupta").

    The rest of the site iterates the registration list :data:`FACETS`: the engine counts each
    facet, ``params.py`` reads and writes the value facets' URL parameters, ``presentation.py``
    builds panels, toggle links and chips, and the API, exports and feeds list the values.
    """

    name: str = ""  # the key in a response's facets, the API and the page's panel ids
    label: str = ""  # the panel's heading
    # Filters ignored when counting this facet, so its other values stay visible.
    ignores: frozenset[str] = frozenset()

    def applies(self, request: SearchRequest) -> bool:
        return True

    def selection(self, tables: FacetTables, request: SearchRequest) -> np.ndarray | None:
        """Mask of documents the request's selection in this facet allows (None: no selection)."""
        raise NotImplementedError

    def counts(self, tables: FacetTables, mask: np.ndarray, request: SearchRequest) -> FacetResult:
        raise NotImplementedError

    def toggled(self, request: SearchRequest, value: str, selected: bool) -> SearchRequest:
        """The request with ``value`` chosen (or, when ``selected``, no longer chosen)."""
        raise NotImplementedError

    def chips(self, request: SearchRequest) -> list[FacetChip]:
        raise NotImplementedError

    def describe(self, request: SearchRequest) -> str:
        """The request's choice in this facet, in words ("" when none)."""
        raise NotImplementedError


class ValueFacet(Facet):
    """A facet over an exact-value field of the index. Its URL parameter is named like the facet
    and repeats for several values, which combine with OR; a query names the field the same way
    (``person:gupta``: the exact name, or any name containing the words). A subclass says only
    what it is called; counting, searching within, links, chips and descriptions are here."""

    kind = ""  # one value's kind: chips ("Person: …") and feed titles ("person: …")
    # Each hit's list of the values, by the name the API, the exports and the Document relation
    # share ("persons"); None when a document has at most one value (a publication).
    listed_as: str | None = None
    missing_value: str | None = None  # a value standing for "no value at all"
    missing_label = ""

    @property
    def fieldname(self) -> str:
        """The index field (a multi-valued one in ``schema.py``)."""
        return self.name

    @property
    def param(self) -> str:
        """The URL parameter (repeatable); also the key of ``SearchRequest.filters``."""
        return self.name

    @property
    def ignores(self) -> frozenset[str]:
        return frozenset({self.name})

    def selected(self, request: SearchRequest) -> tuple[str, ...]:
        return request.filters.get(self.name, ())

    def read(self, values: Iterable[str]) -> tuple[str, ...]:
        """The choice from the URL parameter's cleaned values: empty ones are dropped, unless the
        empty value means something (documents without a publication)."""
        return tuple(value for value in values if value or value == self.missing_value)

    def value_label(self, value: str) -> str:
        return self.missing_label if value == self.missing_value else value

    def toggled(self, request: SearchRequest, value: str, selected: bool) -> SearchRequest:
        chosen = self.selected(request)
        values = tuple(v for v in chosen if v != value) if selected else (*chosen, value)
        return request.with_filter(self.name, values)

    def chips(self, request: SearchRequest) -> list[FacetChip]:
        return [
            FacetChip(self.kind, self.value_label(value), self.toggled(request, value, True))
            for value in self.selected(request)
        ]

    def describe(self, request: SearchRequest) -> str:
        chosen = self.selected(request)
        if not chosen:
            return ""
        return f"{self.kind.lower()}: " + ", ".join(self.value_label(v) for v in chosen)

    def selection(self, tables: FacetTables, request: SearchRequest) -> np.ndarray | None:
        chosen = self.selected(request)
        if not chosen:
            return None
        column = tables.columns[self.fieldname]
        mask = column.has_any(chosen, tables.size)
        if self.missing_value is not None and self.missing_value in chosen:
            mask |= column.has_none(tables.size)
        return mask

    def counts(self, tables: FacetTables, mask: np.ndarray, request: SearchRequest) -> FacetResult:
        listing = _listing.get()
        if listing is None or listing.name != self.name:
            return self._values(tables, mask, request, "", FACET_LIMIT)
        if listing.within_selection:
            own = self.selection(tables, request)
            mask = mask if own is None else mask & own
        return self._values(tables, mask, request, fold(listing.contains), listing.limit)

    def _values(
        self,
        tables: FacetTables,
        mask: np.ndarray,
        request: SearchRequest,
        needle: str,
        limit: int,
    ) -> FacetResult:
        """The values whose folded form contains ``needle`` ("" for all), most frequent first."""
        column = tables.columns[self.fieldname]
        counts = column.count(mask)
        chosen = set(self.selected(request))
        found = np.flatnonzero(counts)
        if needle:
            folded = column.folded
            found = np.array([i for i in found.tolist() if needle in folded[i]], dtype=np.int64)
        # Most frequent first, then alphabetical; sorted in numpy, as a facet can have tens of
        # thousands of values. Only the first ``limit`` (+1, to tell it was cut) become objects,
        # and the chosen ones further down.
        order = found[np.lexsort((column.alphabetical[found], -counts[found]))].tolist()
        chosen_ords = {column.ordinal[v] for v in chosen if v in column.ordinal}
        shown = order[: limit + 1] + [i for i in order[limit + 1 :] if i in chosen_ords]
        values = [
            FacetValue(
                column.values[i], column.values[i], int(counts[i]), column.values[i] in chosen
            )
            for i in shown
        ]
        if self.missing_value is not None and needle in fold(self.missing_label):
            missing = int(np.count_nonzero(mask & column.has_none(tables.size)))
            if missing:
                values.append(
                    FacetValue(
                        self.missing_value,
                        self.missing_label,
                        missing,
                        self.missing_value in chosen,
                    )
                )
        listed = {v.value for v in values}
        for value in sorted(chosen - listed):
            label = self.value_label(value)
            if needle in fold(label):
                values.append(FacetValue(value, label, 0, True))
        return _limited(self, values, chosen, limit)


class PersonFacet(ValueFacet):
    name = "person"
    label = "People"
    kind = "Person"
    listed_as = "persons"


class OrganisationFacet(ValueFacet):
    name = "organisation"
    label = "Organisations"
    kind = "Organisation"
    listed_as = "organisations"


class PlaceFacet(ValueFacet):
    name = "place"
    label = "Places"
    kind = "Place"
    listed_as = "places"


class PublicationFacet(ValueFacet):
    name = "publication"
    label = "Publications"
    kind = "Publication"
    missing_value = UNKNOWN_PUBLICATION
    missing_label = UNKNOWN_PUBLICATION_LABEL


class YearFacet(Facet):
    """Years, newest first, plus an "undated" bucket; the month facet drills into one year."""

    name = "year"
    label = "Years"
    ignores = frozenset({"year", "month"})

    def selection(self, tables: FacetTables, request: SearchRequest) -> np.ndarray | None:
        if request.undated:
            return tables.day_key == 0
        if request.year is not None:
            return tables.years() == request.year
        return None

    def counts(self, tables: FacetTables, mask: np.ndarray, request: SearchRequest) -> FacetResult:
        years = tables.years()[mask]
        dated = years[years > 0]
        found, counts = np.unique(dated, return_counts=True)
        values = [
            FacetValue(str(y), str(y), int(c), request.year == int(y))
            for y, c in sorted(zip(found.tolist(), counts.tolist(), strict=True), reverse=True)
        ]
        if request.year is not None and not any(v.selected for v in values):
            values.append(FacetValue(str(request.year), str(request.year), 0, True))
        undated = int(np.count_nonzero(years == 0))
        if undated or request.undated:
            values.append(FacetValue(UNDATED, "Undated", undated, request.undated))
        return FacetResult(self.name, self.label, values)

    def toggled(self, request: SearchRequest, value: str, selected: bool) -> SearchRequest:
        if selected:
            return replace(request, year=None, month=None, undated=False)
        if value == UNDATED:
            return replace(request, year=None, month=None, undated=True)
        return replace(request, year=int(value), month=None, undated=False)

    def chips(self, request: SearchRequest) -> list[FacetChip]:
        if request.undated:
            return [FacetChip("Date", "Undated", replace(request, undated=False))]
        if request.year is not None:
            return [FacetChip("Year", str(request.year), replace(request, year=None, month=None))]
        return []

    def describe(self, request: SearchRequest) -> str:
        if request.undated:
            return "undated"
        if request.year is not None and request.month is None:
            return f"year: {request.year}"
        return ""


class MonthFacet(Facet):
    """The months of the selected year, in calendar order."""

    name = "month"
    label = "Months"
    ignores = frozenset({"month"})

    def applies(self, request: SearchRequest) -> bool:
        return request.year is not None

    def selection(self, tables: FacetTables, request: SearchRequest) -> np.ndarray | None:
        if request.year is None or request.month is None:
            return None
        return tables.months() == request.year * 100 + request.month

    def counts(self, tables: FacetTables, mask: np.ndarray, request: SearchRequest) -> FacetResult:
        months = tables.months()[mask]
        found, counts = np.unique(months[months > 0], return_counts=True)
        values = []
        for yyyymm, count in zip(found.tolist(), counts.tolist(), strict=True):
            year, month = divmod(yyyymm, 100)
            if year != request.year:
                continue
            values.append(
                FacetValue(
                    f"{year:04d}-{month:02d}",
                    f"{calendar.month_name[month]} {year}",
                    int(count),
                    request.month == month,
                )
            )
        return FacetResult(self.name, self.label, values)

    def toggled(self, request: SearchRequest, value: str, selected: bool) -> SearchRequest:
        if selected:
            return replace(request, month=None)  # back to the whole year
        year, month = (int(part) for part in value.split("-"))
        return replace(request, year=year, month=month, undated=False)

    def chips(self, request: SearchRequest) -> list[FacetChip]:
        if request.year is None or request.month is None or request.undated:
            return []
        label = f"{calendar.month_name[request.month]} {request.year}"
        return [FacetChip("Month", label, replace(request, month=None))]

    def describe(self, request: SearchRequest) -> str:
        if request.year is None or request.month is None or request.undated:
            return ""
        return f"month: {request.year:04d}-{request.month:02d}"


def _limited(
    facet: Facet, values: list[FacetValue], chosen: set[str], limit: int = FACET_LIMIT
) -> FacetResult:
    """The first ``limit`` values, always keeping the selected ones so they can be removed."""
    if len(values) <= limit:
        return FacetResult(facet.name, facet.label, values)
    head = values[:limit]
    head += [v for v in values[limit:] if v.value in chosen]
    return FacetResult(facet.name, facet.label, head, truncated=True)


# The registration list: every facet the site counts, shows and filters by, in the page's order
# (value facets first, under the date chart). A new facet kind is one class above, added here
# (with its index field in ``schema.MULTI_VALUE_FIELDS``).
FACETS: tuple[Facet, ...] = (
    PersonFacet(),
    OrganisationFacet(),
    PlaceFacet(),
    PublicationFacet(),
    YearFacet(),
    MonthFacet(),
)
FACETS_BY_NAME: dict[str, Facet] = {facet.name: facet for facet in FACETS}
VALUE_FACETS: tuple[ValueFacet, ...] = tuple(f for f in FACETS if isinstance(f, ValueFacet))
SEARCHABLE_FACETS = tuple(f.name for f in VALUE_FACETS)
# The index fields read into facet tables.
VALUE_FIELDS = tuple(f.fieldname for f in VALUE_FACETS)


# --- Searching within one facet ----------------------------------------------------------------


@dataclass(frozen=True)
class _Listing:
    name: str
    contains: str
    limit: int
    within_selection: bool


# Set only while :func:`facet_values` runs a search: tells that facet how to list its values.
_listing: ContextVar[_Listing | None] = ContextVar("facet_listing", default=None)


@contextmanager
def _listing_as(listing: _Listing) -> Iterator[None]:
    token = _listing.set(listing)
    try:
        yield
    finally:
        _listing.reset(token)


def facet_values(
    request: SearchRequest,
    name: str,
    contains: str = "",
    limit: int = FACET_LIMIT,
    *,
    within_selection: bool = False,
) -> FacetResult:
    """The values of one value facet (person, organisation, place, publication) for
    ``request``'s search, beyond the top FACET_LIMIT: those whose name contains ``contains`` (case
    and accents ignored), most frequent first, at most ``limit`` (selected values always kept).

    Counts are the facet's own, as on the search page (the facet's own filter ignored), unless
    ``within_selection``: then they are counted over the hits themselves, which makes the person
    facet of ``persons=(name,)`` the persons mentioned together with ``name``.

    It runs the search itself (one page of one hit, no snippets), so the counts always match what
    the search page's facets count. Raises ``KeyError`` for a facet that cannot be searched.
    """
    if name not in SEARCHABLE_FACETS:
        raise KeyError(name)
    from archive.search.engine import search  # the engine imports this module

    listing = _Listing(name, contains, max(1, limit), within_selection)
    with _listing_as(listing):
        response = search(
            replace(request, page=1, page_size=1, with_snippets=False, with_facets=True)
        )
    return response.facets[name]
