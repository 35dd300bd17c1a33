"""The search itself: one request in, ranked hits with snippets and facet counts out.

The embedded backend's search (``archive.search.search`` calls :func:`search` when
``ARCHIVE_SEARCH_BACKEND`` is ``whoosh``).

How a search runs:
1. the query text is parsed (``query.py``); an empty query matches every document (browse mode);
2. the matching documents become a boolean mask over document numbers (``scoring.py``); a
   plain-words query that few documents match in full also lists those with some of its words;
3. each facet's selection becomes a mask too; hits = query AND every facet selection;
4. each facet is counted over the query AND the *other* facets' selections (``counting.py``);
5. the requested page is ranked by Whoosh's BM25F (relevance) or sorted by date with numpy;
6. only the hits on that page are highlighted (``highlight.py``);
7. a query that finds little gets a "did you mean" suggestion (``suggest.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.conf import settings

from archive.search import highlight
from archive.search import querytree as qt
from archive.search.facets import FACET_LIMIT, FACETS, FACETS_BY_NAME, FacetResult
from archive.search.forms import shared_stems
from archive.search.query import ParsedQuery, parse_query, term_text, without_exact_fields
from archive.search.schema import DEFAULT_SEARCH_FIELDS, EXACT_FIELDS, day_key, from_stored
from archive.search.types import (
    Hit,
    QueryTerms,
    SearchRequest,
    SearchResponse,
    Suggestion,
    Widened,
)
from archive.search.whoosh import counting
from archive.search.whoosh.counting import FacetTables, tables_for
from archive.search.whoosh.index import IndexUnavailable, borrowed_searcher, index_dir
from archive.search.whoosh.scoring import (
    Evaluation,
    fuzzy_terms,
    segment_lengths,
    wildcard_terms,
)
from archive.search.whoosh.suggest import WhooshExactWords, corrected_words, segment_words
from archive.search.whoosh.tree import to_whoosh

_UNDATED_LAST = 99_999_999
# A plain-words query that finds fewer documents than this with all its words also lists the
# documents with some of them (after those with all).
ANY_WORDS_BELOW = 10
ALL_WORDS_FIRST = 1e6  # added to all-words scores so they rank first
# Below this many results, a corrected query is looked for ("did you mean").
SUGGEST_BELOW = 3


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
    ties = tables.ties(docnums)
    # 0: a date that counts, 1: an inferred date that does not, 2: undated (always last).
    group = np.where(counted > 0, 0, np.where(counted < 0, 1, 2))
    if sort == "newest":
        # Newest first; ties: the highest id (the latest added) first.
        order = np.lexsort((-ties, -keys, group))
    else:
        order = np.lexsort((ties, keys, group))
    return [(int(d), None) for d in docnums[order[start:stop]]]


def _folded_page(
    tables: FacetTables, dated: FacetTables, matched, sort: str, start: int, stop: int
) -> tuple[list, int]:
    """One result per story: the hits less every copy that is not its story's first in the
    page's order, then paged as usual. Only documents whose story has copies (story > 0) are
    ranked against each other, so folding costs little when few hits are copies. Returns the
    page and how many stories there are."""
    shown = matched.hits & (tables.story <= 0)  # alone in their story: always shown
    copies = np.flatnonzero(matched.hits & (tables.story > 0))
    if len(copies):
        story = tables.story[copies]
        ties = tables.ties(copies)
        if sort == "relevance":
            order = np.lexsort((ties, -matched.scores[copies], story))
        else:
            keys = tables.day_key[copies].astype(np.int64)
            counted = dated.day_key[copies]
            group = np.where(counted > 0, 0, np.where(counted < 0, 1, 2))
            if sort == "newest":
                order = np.lexsort((-ties, -keys, group, story))
            else:
                order = np.lexsort((ties, keys, group, story))
        ordered = story[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = ordered[1:] != ordered[:-1]
        shown[copies[order][first]] = True
    total = int(np.count_nonzero(shown))
    if start >= total:
        return [], total
    if sort == "relevance":
        return _page_by_relevance(tables, matched.scores, shown, start, stop), total
    return _page_by_date(tables, dated, shown, sort, start, stop), total


def _page_by_relevance(
    tables: FacetTables, scores: np.ndarray, hits: np.ndarray, start: int, stop: int
):
    """Best scores first; equal scores in document id order (:meth:`FacetTables.ties`)."""
    docnums = np.flatnonzero(hits)
    hit_scores = scores[docnums]
    if len(docnums) > stop:
        # Only the top ``stop`` need sorting; ties at the boundary are all kept, then sorted.
        threshold = np.partition(hit_scores, len(hit_scores) - stop)[len(hit_scores) - stop]
        keep = hit_scores >= threshold
        docnums, hit_scores = docnums[keep], hit_scores[keep]
    order = np.lexsort((tables.ties(docnums), -hit_scores))[start:stop]
    return [(int(docnums[i]), float(hit_scores[i])) for i in order]


def _highlight_terms(searcher, parsed: ParsedQuery) -> dict[str, QueryTerms]:
    """What to mark, per text field (``highlight.terms_to_mark``): prefixes, wildcards and fuzzy
    terms expanded over the index's terms.

    (Whoosh's own ``Query.existing_terms`` skips leaves after the first field it sees.)
    """
    reader = searcher.reader()

    def expand(leaf) -> list[str]:
        if isinstance(leaf, qt.FuzzyTerm):
            return fuzzy_terms(reader, leaf.fieldname, leaf.text, leaf.maxdist, leaf.prefixlength)
        if isinstance(leaf, qt.Wildcard):
            return wildcard_terms(reader, leaf.fieldname, leaf.text)
        return [
            term_text(text)
            for fieldname, text in to_whoosh(leaf).expanded_terms(reader, phrases=True)
            if fieldname == leaf.fieldname
        ]

    return highlight.terms_to_mark(parsed.query, expand)


def _parsed(text: str, searcher) -> ParsedQuery:
    """The query, for this index: one built before the exact fields searches quoted words in
    the stemmed ones (``query.without_exact_fields``)."""
    parsed = parse_query(text, settings.ARCHIVE_QUERY_MAX_CHARS)
    if any(exact not in searcher.schema for exact in EXACT_FIELDS.values()):
        return without_exact_fields(parsed)
    return parsed


def search(request: SearchRequest) -> SearchResponse:
    """Run one search. Raises ``IndexUnavailable`` when there is no readable index."""
    with borrowed_searcher() as searcher:
        return _search(searcher, _parsed(request.q, searcher), request)


@dataclass
class _Matched:
    """A request's documents as masks: ``base`` (the query, widened to any of its words when
    few have all of them), ``date_range`` and each facet's choice; ``hits`` combines them."""

    tables: FacetTables
    dated: FacetTables  # the tables whose dates count (stated ones only with stated_dates)
    base: np.ndarray
    scores: np.ndarray | None
    date_range: np.ndarray | None
    chosen: dict[str, np.ndarray | None]
    hits: np.ndarray
    total: int
    all_words: np.ndarray | None = None  # set when the query was widened
    widened: Widened | None = None

    def counted_for(self, facet_name: str) -> np.ndarray:
        """The documents a facet is counted over: the hits with its own choices ignored."""
        ignores = FACETS_BY_NAME[facet_name].ignores
        others = [mask for name, mask in self.chosen.items() if name not in ignores]
        return _combine(self.base, [self.date_range, *others])


def _matched(searcher, parsed: ParsedQuery, request: SearchRequest) -> _Matched:
    tables = tables_for(searcher, str(index_dir()))
    # The dates that count for filters, date facets and date sorts: with stated_dates, not the
    # inferred ones.
    dated = tables.stated if request.stated_dates else tables
    base, scores = _match(searcher, parsed, tables)
    date_range = _date_range_mask(dated, request)
    if request.story is not None:  # every copy of one story
        story_mask = tables.story_id == request.story
        date_range = story_mask if date_range is None else date_range & story_mask
    chosen = {facet.name: counting.chosen_mask(facet.chosen(request), dated) for facet in FACETS}
    filters = [date_range, *chosen.values()]
    hits = _combine(base, filters)
    total = int(np.count_nonzero(hits))
    matched = _Matched(tables, dated, base, scores, date_range, chosen, hits, total)
    if parsed.any_words is not None and total < ANY_WORDS_BELOW:
        any_mask, any_scores = Evaluation(searcher, tables.size, tables).evaluate(parsed.any_words)
        widened = _combine(any_mask & tables.live, filters)
        widened_total = int(np.count_nonzero(widened))
        if widened_total > total:
            # All-words matches first, then the rest, each by relevance.
            matched.all_words = base
            matched.widened = Widened(all_words=total)
            matched.base, matched.hits, matched.total = (
                any_mask & tables.live,
                widened,
                widened_total,
            )
            matched.scores = any_scores + np.where(base, np.float32(ALL_WORDS_FIRST), np.float32(0))
    return matched


def _search(searcher, parsed: ParsedQuery, request: SearchRequest) -> SearchResponse:
    matched = _matched(searcher, parsed, request)
    tables, dated, total = matched.tables, matched.dated, matched.total

    suggestion = None
    if not parsed.is_browse and total < SUGGEST_BELOW:
        suggestion = _suggestion(
            searcher, parsed, tables, [matched.date_range, *matched.chosen.values()], total
        )

    shared = () if parsed.is_browse else shared_stems(parsed.text, WhooshExactWords(searcher))

    facets = {}
    for facet in FACETS if request.with_facets else ():
        if facet.applies(request):
            facets[facet.name] = counting.count(
                facet, dated, matched.counted_for(facet.name), request
            )

    sort = request.effective_sort(parsed.is_browse)
    start = (request.page - 1) * request.page_size
    stop = start + request.page_size
    total_documents = None
    if request.folded:
        page, stories = _folded_page(tables, dated, matched, sort, start, stop)
        total_documents, total = total, stories
    elif start >= total:
        page = []
    elif sort == "relevance":
        page = _page_by_relevance(tables, matched.scores, matched.hits, start, stop)
    else:
        page = _page_by_date(tables, dated, matched.hits, sort, start, stop)

    terms = _highlight_terms(searcher, parsed) if page else {}
    results = []
    for docnum, score in page:
        if score is not None and matched.all_words is not None and matched.all_words[docnum]:
            score -= ALL_WORDS_FIRST  # the real relevance score, for the API
        results.append(_hit(searcher.stored_fields(docnum), score, terms, request.with_snippets))
    return SearchResponse(
        request=request,
        query_text=parsed.text,
        total=total,
        hits=results,
        facets=facets,
        sort=sort,
        notices=tuple(parsed.notices),
        suggestion=suggestion,
        inferred_dates=int(np.count_nonzero(matched.hits & tables.inferred))
        if tables.inferred is not None
        else 0,
        widened=matched.widened,
        total_documents=total_documents,
        shared_stems=shared,
    )


def _hit(stored: dict, score: float | None, terms, with_snippets: bool) -> Hit:
    return highlight.marked_hit(from_stored(stored), score, terms, with_snippets)


def facet_values(
    request: SearchRequest,
    name: str,
    contains: str = "",
    limit: int = FACET_LIMIT,
    *,
    within_selection: bool = False,
) -> FacetResult:
    """One value facet counted for ``request``'s search (see ``archive.search.facet_values``)."""
    with borrowed_searcher() as searcher:
        matched = _matched(searcher, _parsed(request.q, searcher), request)
    mask = matched.hits if within_selection else matched.counted_for(name)
    facet = FACETS_BY_NAME[name]
    return counting.count(facet, matched.dated, mask, request, contains, max(1, limit))


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
    other = _parsed(corrected, searcher)
    if other.is_browse:
        return None
    mask, _ = _match(searcher, other, tables)
    found = int(np.count_nonzero(_combine(mask, filters)))
    return Suggestion(corrected, found) if found > total else None


def query_terms(text: str) -> dict[str, QueryTerms]:
    """What a query marks, per text field: what a document page highlights."""
    if parse_query(text, settings.ARCHIVE_QUERY_MAX_CHARS).is_browse:
        return highlight.terms_to_mark(None, lambda leaf: ())
    with borrowed_searcher() as searcher:
        return _highlight_terms(searcher, _parsed(text, searcher))


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
