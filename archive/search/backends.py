"""Which engine answers: the backend protocol, and the setting that picks one.

``ARCHIVE_SEARCH_BACKEND`` names the backend: ``whoosh`` (the default: an embedded index under
the data directory, no server) or ``sphinxql`` (a cluster of ``searchd`` shards behind a head,
spoken to over SphinxQL). The public API in ``archive/search/__init__.py`` calls
:func:`current`; nothing outside this package imports a backend's modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from functools import cache
from importlib import import_module
from typing import Protocol

from django.conf import settings

from archive.search.facets import FacetResult
from archive.search.schema import IndexedDocument
from archive.search.types import Hit, QueryTerms, SearchRequest, SearchResponse

# Setting value -> the module whose ``BACKEND`` is the backend object.
BACKENDS = {
    "whoosh": "archive.search.whoosh",
    "sphinxql": "archive.search.sphinxql.backend",
}


class SearchBackend(Protocol):
    """What an engine must do for the site. Every method raises
    :class:`~archive.search.types.IndexUnavailable` when the engine cannot answer (no index,
    a damaged one, no reachable server): views answer 503."""

    name: str

    # Reading
    def search(self, request: SearchRequest) -> SearchResponse: ...
    def facet_values(
        self,
        request: SearchRequest,
        name: str,
        contains: str,
        limit: int,
        within_selection: bool,
    ) -> FacetResult: ...
    def query_terms(self, text: str) -> dict[str, QueryTerms]: ...
    def more_like_this(self, document_id: int, limit: int) -> list[Hit]: ...
    def warm_up(self) -> None: ...

    # Writing
    def write_lock(self, timeout: float | None = None) -> AbstractContextManager[bool]: ...
    def update_documents(
        self, docs: Iterable[IndexedDocument], delete_ids: Iterable[int] = ()
    ) -> None: ...
    def rebuild_index(
        self, docs: Iterable[IndexedDocument], progress: Callable[[int], None] | None = None
    ) -> int: ...

    # Health and drift
    def index_exists(self) -> bool: ...
    def index_absent(self) -> bool: ...
    def create_index_if_missing(self) -> bool: ...
    def indexed_count(self) -> int: ...
    def outdated_analysis(self) -> str: ...
    def index_digests(self) -> dict[int, list[str]]: ...
    def describe(self) -> str: ...


@cache
def _load(name: str) -> SearchBackend:
    try:
        module = BACKENDS[name]
    except KeyError:
        raise ValueError(
            f"ARCHIVE_SEARCH_BACKEND must be one of {', '.join(BACKENDS)} (got {name!r})."
        ) from None
    return import_module(module).BACKEND


def current() -> SearchBackend:
    """The backend the settings name (loaded once per process and name)."""
    return _load(getattr(settings, "ARCHIVE_SEARCH_BACKEND", "whoosh"))


def all_names() -> Iterator[str]:
    return iter(BACKENDS)
