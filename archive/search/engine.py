"""The search itself: one request in, ranked hits with snippets and facet counts out.

The page, the htmx partial and the JSON API all call :func:`search`.

How a search runs:
1. the query text is parsed (``query.py``); an empty query matches every document (browse mode);
2. the matching documents become a boolean mask over document numbers (``scoring.py``); a
   plain-words query that few documents match in full also lists those with some of its words;
3. each facet's selection becomes a mask too; hits = query AND every facet selection;
4. each facet is counted over the query AND the *other* facets' selections (``facets.py``);
5. the requested page is ranked by Whoosh's BM25F (relevance) or sorted by date with numpy;
6. only the hits on that page are highlighted (``highlight.py``);
7. a query that finds little gets a "did you mean" suggestion (``suggest.py``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType

import numpy as np
from django.conf import settings
from django.utils.html import escape

from archive.search import highlight
from archive.search.facets import FACETS, VALUE_FACETS, FacetResult, FacetTables, tables_for
from archive.search.index import IndexUnavailable, borrowed_searcher, index_dir
from archive.search.query import ParsedQuery, parse_query
from archive.search.schema import DEFAULT_SEARCH_FIELDS, day_key, from_stored
from archive.search.scoring import Evaluation, segment_lengths
from archive.search.suggest import corrected_words, segment_words

SORTS = ("relevance", "newest", "oldest")
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 10
_UNDATED_LAST = 99_999_999
# A plain-words query that finds fewer documents than this with all its words also lists the
# documents with some of them (after those with all).
ANY_WORDS_BELOW = 10
ALL_WORDS_FIRST = 1e6  # added to all-words scores so they rank first
# Below this many results, a corrected query is looked for ("did you mean").
SUGGEST_BELOW = 3


@dataclass(frozen=True, init=False)
class SearchRequest:
    """Everything that selects a result page; the same for the page, htmx and the API.

    ``filters`` holds the chosen values of each value facet, by facet name (``"person"``,
    ``"organisation"``, ``"place"``, ``"publication"``: ``facets.VALUE_FACETS``); several values
    of one facet combine with OR, different facets with AND. The keywords ``persons=…`` and
    ``publications=…`` (in the constructor and in ``dataclasses.replace``) are shorthands for
    ``filters["person"]`` and ``filters["publication"]``, which ``request.persons`` and
    ``request.publications`` read.

    ``stated_dates``: only dates stated by the source count (an entity page's span and its latest
    documents). A date inferred from the text is then neither a date nor undated for the date
    filters and the year and month facets, and the date sorts put such documents after those
    with stated dates (in the same order, by their inferred dates) and before the undated ones;
    the response's ``inferred_dates`` says how many there are.
    """

    q: str = ""
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    year: int | None = None
    month: int | None = None  # 1-12, only together with year
    undated: bool = False
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sort: str | None = None  # None: relevance for a query, newest when browsing
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE  # the page and the API cap it at MAX_PAGE_SIZE
    # Exports and feeds take many hits and show neither snippets nor facets.
    with_snippets: bool = True
    with_facets: bool = True
    stated_dates: bool = False

    def __init__(
        self,
        q: str = "",
        filters: Mapping[str, Iterable[str]] | None = None,
        *,
        persons: Iterable[str] | None = None,
        publications: Iterable[str] | None = None,  # "" stands for "unknown publication"
        **options: object,
    ) -> None:
        chosen = dict(filters or {})
        if persons is not None:
            chosen["person"] = persons
        if publications is not None:
            chosen["publication"] = publications
        unknown = sorted(set(chosen) - {facet.name for facet in VALUE_FACETS})
        if unknown:
            raise TypeError(f"SearchRequest has no facet {', '.join(unknown)}")
        # In the registration order, without empty selections, read-only.
        chosen = {f.name: tuple(chosen[f.name]) for f in VALUE_FACETS if chosen.get(f.name)}
        object.__setattr__(self, "q", q)
        object.__setattr__(self, "filters", MappingProxyType(chosen))
        for option in fields(self):
            if option.name not in ("q", "filters"):
                object.__setattr__(self, option.name, options.pop(option.name, option.default))
        if options:
            raise TypeError(f"SearchRequest got unexpected arguments: {', '.join(options)}")

    @property
    def persons(self) -> tuple[str, ...]:
        return self.filters.get("person", ())

    @property
    def publications(self) -> tuple[str, ...]:
        return self.filters.get("publication", ())

    def with_filter(self, facet: str, values: Iterable[str]) -> SearchRequest:
        """The same request with the values of one value facet replaced."""
        return replace(self, filters={**self.filters, facet: tuple(values)})

    def effective_sort(self, parsed: ParsedQuery) -> str:
        if parsed.is_browse and self.sort in (None, "relevance"):
            return "newest"
        return self.sort or "relevance"


@dataclass(frozen=True)
class Hit:
    id: int
    title: str
    title_html: str
    published: dt.date | None
    date_inferred: bool
    publication: str | None
    persons: tuple[str, ...]
    snippets: list[str]
    score: float | None
    source_url: str = ""
    organisations: tuple[str, ...] = ()
    places: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suggestion:
    """Did you mean: a corrected query and how many documents it finds."""

    q: str
    total: int


@dataclass(frozen=True)
class SearchResponse:
    request: SearchRequest
    query_text: str  # what was searched after cleaning (may differ from request.q)
    total: int
    hits: list[Hit]
    facets: dict[str, FacetResult]
    sort: str
    notices: tuple[str, ...] = field(default_factory=tuple)
    suggestion: Suggestion | None = None
    inferred_dates: int = 0  # how many of the hits have a date inferred from the text

    @property
    def page(self) -> int:
        return self.request.page

    @property
    def page_size(self) -> int:
        return self.request.page_size

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.hits else 0

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.hits) - 1 if self.hits else 0


def _match(searcher, parsed: ParsedQuery, tables: FacetTables):
    """(mask of matching live documents, their BM25F scores or None when browsing)."""
    if parsed.is_browse:
        return tables.live.copy(), None
    mask, scores = Evaluation(searcher, tables.size, tables).evaluate(parsed.query)
    return mask & tables.live, scores


def _date_range_mask(tables: FacetTables, request: SearchRequest) -> np.ndarray | None:
    if request.date_from is None and request.date_to is None:
        return None
    low = int(day_key(request.date_from)) if request.date_from else 1
    high = int(day_key(request.date_to)) if request.date_to else _UNDATED_LAST
    return (tables.day_key >= low) & (tables.day_key <= high)


def _combine(base: np.ndarray, masks: list[np.ndarray | None]) -> np.ndarray:
    result = base
    for mask in masks:
        if mask is not None:
            result = result & mask
    return result


def _page_by_date(
    tables: FacetTables, dated: FacetTables, hits: np.ndarray, sort: str, start: int, stop: int
):
    """Hits by date; ``dated`` is ``tables`` or, when only stated dates count, ``tables.stated``
    (an inferred date's key -1 there): such documents follow the ones with stated dates."""
    docnums = np.flatnonzero(hits)
    keys = tables.day_key[docnums].astype(np.int64)
    counted = dated.day_key[docnums]
    # 0: a date that counts, 1: an inferred date that does not, 2: undated (always last).
    group = np.where(counted > 0, 0, np.where(counted < 0, 1, 2))
    if sort == "newest":
        # Newest first; ties: most recently indexed first.
        order = np.lexsort((-docnums, -keys, group))
    else:
        order = np.lexsort((docnums, keys, group))
    return [(int(d), None) for d in docnums[order[start:stop]]]


def _page_by_relevance(scores: np.ndarray, hits: np.ndarray, start: int, stop: int):
    """Best scores first; equal scores in index order (as Whoosh orders them)."""
    docnums = np.flatnonzero(hits)
    hit_scores = scores[docnums]
    if len(docnums) > stop:
        # Only the top ``stop`` need sorting; ties at the boundary are all kept, then sorted.
        threshold = np.partition(hit_scores, len(hit_scores) - stop)[len(hit_scores) - stop]
        keep = hit_scores >= threshold
        docnums, hit_scores = docnums[keep], hit_scores[keep]
    order = np.lexsort((docnums, -hit_scores))[start:stop]
    return [(int(docnums[i]), float(hit_scores[i])) for i in order]


def _highlight_terms(searcher, parsed: ParsedQuery) -> dict[str, frozenset[str]]:
    """The indexed words to mark, per text field, prefixes and wildcards expanded.

    (Whoosh's own ``Query.existing_terms`` skips leaves after the first field it sees.)
    """
    found: dict[str, set[str]] = {name: set() for name in DEFAULT_SEARCH_FIELDS}
    if not parsed.is_browse:
        reader = searcher.reader()
        for leaf in parsed.query.leaves():
            for fieldname, text in leaf.expanded_terms(reader, phrases=True):
                if fieldname in found:
                    found[fieldname].add(text.decode("utf-8") if isinstance(text, bytes) else text)
    return {name: frozenset(words) for name, words in found.items()}


def search(request: SearchRequest) -> SearchResponse:
    """Run one search. Raises ``IndexUnavailable`` when there is no readable index."""
    parsed = parse_query(request.q, settings.ARCHIVE_QUERY_MAX_CHARS)
    with borrowed_searcher() as searcher:
        return _search(searcher, parsed, request)


def _search(searcher, parsed: ParsedQuery, request: SearchRequest) -> SearchResponse:
    tables = tables_for(searcher, str(index_dir()))
    # The dates that count for filters, date facets and date sorts: with stated_dates, not the
    # inferred ones.
    dated = tables.stated if request.stated_dates else tables
    notices = list(parsed.notices)

    base, scores = _match(searcher, parsed, tables)
    date_range = _date_range_mask(dated, request)
    selections = {facet.name: facet.selection(dated, request) for facet in FACETS}
    hits = _combine(base, [date_range, *selections.values()])
    total = int(np.count_nonzero(hits))
    all_words = None
    if parsed.any_words is not None and total < ANY_WORDS_BELOW:
        any_mask, any_scores = Evaluation(searcher, tables.size, tables).evaluate(parsed.any_words)
        widened = _combine(any_mask & tables.live, [date_range, *selections.values()])
        widened_total = int(np.count_nonzero(widened))
        if widened_total > total:
            notices.append(
                f"{_documents(total)} {'has' if total == 1 else 'have'} all the words; "
                f"{_documents(widened_total - total).lower()} with some of them "
                f"{'follows' if widened_total - total == 1 else 'follow'}."
            )
            # All-words matches first, then the rest, each by relevance.
            all_words = base
            base, hits, total = any_mask & tables.live, widened, widened_total
            scores = any_scores + np.where(all_words, np.float32(ALL_WORDS_FIRST), np.float32(0))

    suggestion = None
    if not parsed.is_browse and total < SUGGEST_BELOW:
        suggestion = _suggestion(
            searcher, parsed, tables, [date_range, *selections.values()], total
        )

    facets = {}
    for facet in FACETS if request.with_facets else ():
        if not facet.applies(request):
            continue
        others = [mask for name, mask in selections.items() if name not in facet.ignores]
        facets[facet.name] = facet.counts(dated, _combine(base, [date_range, *others]), request)

    sort = request.effective_sort(parsed)
    start = (request.page - 1) * request.page_size
    stop = start + request.page_size
    if start >= total:
        page = []
    elif sort == "relevance":
        page = _page_by_relevance(scores, hits, start, stop)
    else:
        page = _page_by_date(tables, dated, hits, sort, start, stop)

    terms = _highlight_terms(searcher, parsed) if page else {}
    results = []
    for docnum, score in page:
        if score is not None and all_words is not None and all_words[docnum]:
            score -= ALL_WORDS_FIRST  # the real relevance score, for the API
        doc = from_stored(searcher.stored_fields(docnum))
        results.append(
            Hit(
                id=doc.id,
                title=doc.title,
                title_html=highlight.mark_all(doc.title, terms.get("title", ()))
                if request.with_snippets
                else escape(doc.title),
                published=doc.published,
                date_inferred=doc.date_inferred,
                publication=doc.publication,
                persons=doc.persons,
                organisations=doc.organisations,
                places=doc.places,
                snippets=highlight.snippets(
                    highlight.without_headline(doc.body, doc.title), terms.get("body", ())
                )
                if request.with_snippets
                else [],
                score=score,
                source_url=doc.source_url,
            )
        )
    return SearchResponse(
        request=request,
        query_text=parsed.text,
        total=total,
        hits=results,
        facets=facets,
        sort=sort,
        notices=tuple(notices),
        suggestion=suggestion,
        inferred_dates=int(np.count_nonzero(hits & tables.inferred))
        if tables.inferred is not None
        else 0,
    )


def _documents(count: int) -> str:
    if count == 0:
        return "No documents"
    return "1 document" if count == 1 else f"{count:,} documents"


def _suggestion(
    searcher,
    parsed: ParsedQuery,
    tables: FacetTables,
    filters: list[np.ndarray | None],
    total: int,
) -> Suggestion | None:
    """A corrected query, offered only if it finds more documents with the same filters."""
    corrected = corrected_words(searcher, parsed.text)
    if corrected is None:
        return None
    other = parse_query(corrected, settings.ARCHIVE_QUERY_MAX_CHARS)
    if other.is_browse:
        return None
    mask, _ = _match(searcher, other, tables)
    found = int(np.count_nonzero(_combine(mask, filters)))
    return Suggestion(corrected, found) if found > total else None


def query_terms(text: str) -> dict[str, frozenset[str]]:
    """The indexed words a query matches, per text field: what a document page highlights."""
    parsed = parse_query(text, settings.ARCHIVE_QUERY_MAX_CHARS)
    if parsed.is_browse:
        return {name: frozenset() for name in DEFAULT_SEARCH_FIELDS}
    with borrowed_searcher() as searcher:
        return _highlight_terms(searcher, parsed)


def warm_up() -> None:
    """Open a searcher and build what the first search would otherwise wait for (facet tables,
    field lengths, the word lists did-you-mean compares): called once in a background thread
    when a web process starts."""
    try:
        with borrowed_searcher() as searcher:
            tables_for(searcher, str(index_dir()))
            for segreader, _ in searcher.reader().leaf_readers():
                for fieldname in DEFAULT_SEARCH_FIELDS:
                    segment_lengths(segreader, fieldname)
                    segment_words(segreader, fieldname)
    except IndexUnavailable:
        pass  # nothing to warm; the first request explains the problem
