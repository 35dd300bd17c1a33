"""The archive's search engine: the only package that imports Whoosh.

Public API (views, admin, commands and ``archive.indexing`` use only these):

- :class:`IndexedDocument`: what the index knows about a document;
- :func:`update_documents`, :func:`rebuild_index`: write to the index;
- :func:`search` with :class:`SearchRequest` -> :class:`SearchResponse`;
- :func:`query_terms`, :func:`mark_all`, :class:`MarkFormatter`: highlight a document page;
- :data:`FACETS` (the registered facet kinds), :data:`VALUE_FACETS` (those over names: person,
  organisation, place, publication), :data:`FACETS_BY_NAME`;
- :func:`facet_values`: a value facet's values that contain a text, counted for a search (beyond
  the top values a search returns);
- :class:`IndexUnavailable`: raised when there is no readable index;
- :func:`outdated_analysis`: why an index built by an older version needs a rebuild;
- :func:`more_like_this`: the documents closest in content to one (``similar.py``);
- :func:`snippets`, :func:`without_headline`: snippets of a text, for feeds.

Where things happen: ``schema.py`` (fields; an article becomes index fields), ``query.py`` (query
parsing), ``facets.py`` (facet counting), ``highlight.py`` (snippets), ``engine.py`` (a search),
``index.py`` (opening, writing, rebuilding).
"""

from archive.search.engine import (
    SORTS,
    Hit,
    SearchRequest,
    SearchResponse,
    Suggestion,
    query_terms,
    search,
    warm_up,
)
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
    facet_values,
)
from archive.search.highlight import MarkFormatter, mark_all, snippets, without_headline
from archive.search.index import (
    REPAIR_COMMAND,
    IndexUnavailable,
    create_index_if_missing,
    index_exists,
    indexed_count,
    outdated_analysis,
    rebuild_index,
    update_documents,
)
from archive.search.schema import IndexedDocument
from archive.search.similar import more_like_this

__all__ = [
    "FACETS",
    "FACETS_BY_NAME",
    "FACET_LIMIT",
    "REPAIR_COMMAND",
    "SEARCHABLE_FACETS",
    "SORTS",
    "UNDATED",
    "UNKNOWN_PUBLICATION",
    "UNKNOWN_PUBLICATION_LABEL",
    "VALUE_FACETS",
    "Facet",
    "FacetChip",
    "FacetResult",
    "FacetValue",
    "Hit",
    "IndexUnavailable",
    "IndexedDocument",
    "MarkFormatter",
    "SearchRequest",
    "SearchResponse",
    "Suggestion",
    "ValueFacet",
    "create_index_if_missing",
    "facet_values",
    "index_exists",
    "indexed_count",
    "mark_all",
    "more_like_this",
    "outdated_analysis",
    "query_terms",
    "rebuild_index",
    "search",
    "snippets",
    "update_documents",
    "warm_up",
    "without_headline",
]
