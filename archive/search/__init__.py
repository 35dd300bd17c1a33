"""The archive's search layer: one small public API, answered by the configured backend.

Views, admin, exports, feeds, ``archive.indexing`` and commands use only these names:

- types (``types.py``): :class:`SearchRequest` in, :class:`SearchResponse` of :class:`Hit` s out;
- :func:`search`; :func:`facet_values` (a value facet's values containing a text, counted for a
  search, beyond the top values a search returns); :func:`query_terms` (what a document page
  marks, per field: :class:`QueryTerms`, its words and phrases); :func:`more_like_this`;
  did-you-mean comes with a response (``suggestion``);
- :func:`set_name_resolver`: how the query language's ``person:`` (``organisation:``, ``place:``)
  resolves an alias to its entity's name (the app registers it at startup);
- writing: :func:`write_lock`, :func:`update_documents`, :func:`rebuild_index`;
- health and drift: :func:`index_exists`, :func:`create_index_if_missing`,
  :func:`indexed_count`, :func:`outdated_analysis`, :func:`index_digests` with
  :func:`document_digest`, :func:`describe_backend`; :class:`IndexUnavailable` when the engine
  cannot answer;
- the facet kinds (``facets.py``): :data:`FACETS`, :data:`VALUE_FACETS`, :data:`FACETS_BY_NAME`;
- highlighting a text (``highlight.py``): :func:`mark_all`, :class:`MarkFormatter`,
  :func:`snippets`, :func:`without_headline`.

Which engine answers: ``backends.py`` (``ARCHIVE_SEARCH_BACKEND``: ``whoosh``, the embedded
default, in ``whoosh/``; ``sphinxql``, a cluster, in ``sphinxql/``). Where things happen:
``query.py`` (a query is parsed), ``facets.py`` (facet kinds; each backend counts them),
``schema.py`` (an article becomes index fields), ``highlight.py`` (snippets), ``notices.py``
(what a response tells the user).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, suppress
from dataclasses import replace

from archive.search import backends
from archive.search.facets import (
    FACET_LIMIT,
    FACETS,
    FACETS_BY_NAME,
    SEARCHABLE_FACETS,
    UNDATED,
    UNKNOWN_PUBLICATION,
    UNKNOWN_PUBLICATION_LABEL,
    VALUE_FACETS,
    Facet,
    FacetChip,
    FacetResult,
    FacetValue,
    ValueFacet,
)
from archive.search.forms import with_word_quoted
from archive.search.highlight import MarkFormatter, mark_all, snippets, without_headline
from archive.search.notices import notices_for, shared_stem_notice
from archive.search.query import set_name_resolver
from archive.search.schema import IndexedDocument, document_digest
from archive.search.types import (
    COPIES,
    COUNTS,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    REPAIR_COMMAND,
    SORTS,
    Coverage,
    EngineDown,
    Hit,
    IndexUnavailable,
    QueryTerms,
    SearchRequest,
    SearchResponse,
    SharedStem,
    Suggestion,
)


def search(request: SearchRequest) -> SearchResponse:
    """Run one search. Raises ``IndexUnavailable`` when the engine cannot answer."""
    response = backends.current().search(request)
    return replace(response, notices=notices_for(response))


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
    facet of ``persons=(name,)`` the persons mentioned together with ``name``. Raises
    ``KeyError`` for a facet that cannot be searched.
    """
    if name not in SEARCHABLE_FACETS:
        raise KeyError(name)
    return backends.current().facet_values(request, name, contains, max(1, limit), within_selection)


def query_terms(text: str) -> dict[str, QueryTerms]:
    """What a query marks, per text field (``title``, ``body``): its words, and its phrases,
    whose words are marked only where they stand together; none under NOT. Pass a field's
    value to :func:`mark_all` or :func:`snippets`."""
    return backends.current().query_terms(text)


def more_like_this(document_id: int, limit: int = 5) -> list[Hit]:
    """The documents closest in content to one ([] when it is not indexed or the engine cannot
    answer: the document page still shows)."""
    if limit < 1:
        return []
    try:
        return backends.current().more_like_this(document_id, limit)
    except IndexUnavailable:
        return []


def warm_up() -> None:
    """Prepare what the first search would otherwise wait for (a web process's start)."""
    with suppress(IndexUnavailable):  # nothing to warm; the first request explains the problem
        backends.current().warm_up()


def write_lock(timeout: float | None = None) -> AbstractContextManager[bool]:
    """The engine's writers' lock: held while the outbox is applied or the index rebuilt."""
    return backends.current().write_lock(timeout)


def update_documents(docs: Iterable[IndexedDocument], delete_ids: Iterable[int] = ()) -> None:
    """Add or replace ``docs`` and remove ``delete_ids`` in one commit."""
    backends.current().update_documents(docs, delete_ids)


def rebuild_index(
    docs: Iterable[IndexedDocument], progress: Callable[[int], None] | None = None
) -> int:
    """Build a complete new index from ``docs`` and switch searches to it; returns how many
    documents were written. The caller holds :func:`write_lock`."""
    return backends.current().rebuild_index(docs, progress)


def index_exists() -> bool:
    return backends.current().index_exists()


def index_absent() -> bool:
    """No index at all (nothing was ever built), as opposed to one that cannot be read: only
    an absent index is built afresh by the first write (``archive.indexing``)."""
    return backends.current().index_absent()


def create_index_if_missing() -> bool:
    """Create an empty index unless one exists. Returns True when it created one."""
    return backends.current().create_index_if_missing()


def indexed_count() -> int:
    """Live documents in the index; ``IndexUnavailable`` when it cannot be read."""
    return backends.current().indexed_count()


def outdated_analysis() -> str:
    """Why the index analyses text differently from this version of the site ("" when not)."""
    return backends.current().outdated_analysis()


def index_digests() -> dict[int, list[str]]:
    """Every live document in the index: id -> digests (see :func:`document_digest`)."""
    return backends.current().index_digests()


def describe_backend() -> str:
    """Which engine answers, and where: for commands' messages."""
    return backends.current().describe()


__all__ = [
    "COPIES",
    "COUNTS",
    "DEFAULT_PAGE_SIZE",
    "FACETS",
    "FACETS_BY_NAME",
    "FACET_LIMIT",
    "MAX_PAGE_SIZE",
    "REPAIR_COMMAND",
    "SEARCHABLE_FACETS",
    "SORTS",
    "UNDATED",
    "UNKNOWN_PUBLICATION",
    "UNKNOWN_PUBLICATION_LABEL",
    "VALUE_FACETS",
    "Coverage",
    "EngineDown",
    "Facet",
    "FacetChip",
    "FacetResult",
    "FacetValue",
    "Hit",
    "IndexUnavailable",
    "IndexedDocument",
    "MarkFormatter",
    "QueryTerms",
    "SearchRequest",
    "SearchResponse",
    "SharedStem",
    "Suggestion",
    "ValueFacet",
    "create_index_if_missing",
    "describe_backend",
    "document_digest",
    "facet_values",
    "index_absent",
    "index_digests",
    "index_exists",
    "indexed_count",
    "mark_all",
    "more_like_this",
    "outdated_analysis",
    "query_terms",
    "rebuild_index",
    "search",
    "set_name_resolver",
    "shared_stem_notice",
    "snippets",
    "update_documents",
    "warm_up",
    "with_word_quoted",
    "without_headline",
    "write_lock",
]
