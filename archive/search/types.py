"""What goes in and out of a search, whichever engine answers it.

The views, the API, exports, feeds and every backend speak these types: a :class:`SearchRequest`
in, a :class:`SearchResponse` of :class:`Hit` s (with :class:`~archive.search.facets.FacetResult`
counts) out. They hold no engine state, so a backend can be swapped behind them
(``ARCHIVE_SEARCH_BACKEND``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import NamedTuple

from archive.search.facets import VALUE_FACETS, FacetResult

SORTS = ("relevance", "newest", "oldest")
# "fold": one result per story (its best-ranked copy); "all": every document.
COPIES = ("fold", "all")
COUNTS = ("stories", "documents")
REPAIR_COMMAND = "python manage.py rebuild_index"
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 10


class IndexUnavailable(Exception):
    """The engine cannot answer (no index, a damaged one, no reachable server); the message says
    how to repair it. Views answer 503 with it."""


class EngineDown(IndexUnavailable):
    """The engine's servers did not all answer (a cluster's shard is down): the index itself may
    be whole, so comparing it with the database, repairing or rebuilding it waits until they
    answer; the message names what is down."""


class Phrase(NamedTuple):
    """A quoted phrase as index terms (stop words removed, stems) and its slop: 1 for an exact
    phrase, N for ``"..."~N`` (each word 1 to N positions after the one before)."""

    words: tuple[str, ...]
    slop: int = 1


@dataclass(frozen=True)
class QueryTerms:
    """What a query marks in one text field: ``words`` wherever they stand (prefixes, wildcards
    and fuzzy terms expanded), the words of ``phrases`` only where they stand as the phrase.
    Words under NOT are in neither."""

    words: frozenset[str] = frozenset()
    phrases: frozenset[Phrase] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.words or self.phrases)


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
    # Copies of one story (archive/ingest/copies.py): folded into one result unless "all";
    # ``story`` keeps only that story's documents; facets count ``counts`` ("stories" or
    # "documents"; None: stories when folded, documents otherwise).
    copies: str = "fold"
    story: int | None = None
    counts: str | None = None

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

    def effective_sort(self, browsing: bool) -> str:
        """The order results come in: ``browsing`` is an empty query (every document matches)."""
        if browsing and self.sort in (None, "relevance"):
            return "newest"
        return self.sort or "relevance"

    @property
    def folded(self) -> bool:
        """One result per story."""
        return self.copies != "all"

    @property
    def counts_stories(self) -> bool:
        """Facets and the date histogram count stories rather than documents."""
        return self.counts == "stories" or (self.counts is None and self.folded)


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
    story: int | None = None  # the story it is a copy of (None: not clustered yet)
    # For each snippet, the number of the mark it starts at on the document's page (its
    # ``#hit-<number>``), None for a snippet without marks (the text's opening).
    snippet_hits: list[int | None] = field(default_factory=list)

    @property
    def linked_snippets(self) -> list[tuple[str, int | None]]:
        """The snippets with the mark each starts at, for links to that place in the text."""
        marks = self.snippet_hits or [None] * len(self.snippets)
        return list(zip(self.snippets, marks, strict=True))


@dataclass(frozen=True)
class Suggestion:
    """Did you mean: a corrected query and how many documents it finds."""

    q: str
    total: int


@dataclass(frozen=True)
class SharedStem:
    """A query's word (as typed) and the other words of the archive that it finds through their
    common stem, most held first (``forms.shared_stems``)."""

    word: str
    others: tuple[str, ...]


@dataclass(frozen=True)
class Widened:
    """A plain-words query that few documents matched with all its words also lists those with
    some of them (after the others): how many had all of them."""

    all_words: int


@dataclass(frozen=True)
class Coverage:
    """How much of the archive answered: a cluster with a shard down answers from the others."""

    answered: int
    parts: int
    missing: tuple[str, ...] = ()  # which parts did not answer, for the operator's log

    @property
    def partial(self) -> bool:
        return self.answered < self.parts


@dataclass(frozen=True)
class SearchResponse:
    """A result page. ``notices`` are the sentences shown above the results and in the API; they
    are written in one place (``notices.py``) from what the query parser and the engine report
    (``query_notices``, ``widened``, ``coverage``)."""

    request: SearchRequest
    query_text: str  # what was searched after cleaning (may differ from request.q)
    total: int  # results as listed: stories when folded, else documents
    hits: list[Hit]
    facets: dict[str, FacetResult]
    sort: str
    notices: tuple[str, ...] = field(default_factory=tuple)
    suggestion: Suggestion | None = None
    inferred_dates: int = 0  # how many of the hits have a date inferred from the text
    widened: Widened | None = None
    coverage: Coverage | None = None
    total_documents: int | None = None  # the documents behind ``total`` (None: same as total)
    shared_stems: tuple[SharedStem, ...] = ()  # words that also find other words (forms.py)

    @property
    def documents(self) -> int:
        """How many documents match (``total`` counts stories when results are folded)."""
        return self.total if self.total_documents is None else self.total_documents

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
