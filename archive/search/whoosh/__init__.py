"""The embedded backend: a Whoosh index in the data directory, searched in numpy.

Where things happen: ``engine.py`` (a search: masks, ranking, paging, snippets),
``counting.py`` (facet counts), ``scoring.py`` (BM25F over decoded postings), ``suggest.py``
(did you mean), ``similar.py`` (more like this); the index itself (opening, the write lock,
writing, rebuilding, digests) is ``archive/search/whoosh/index.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager

from archive.search.facets import FacetResult
from archive.search.schema import IndexedDocument
from archive.search.types import Hit, QueryTerms, SearchRequest, SearchResponse
from archive.search.whoosh import engine, index, similar


class WhooshBackend:
    name = "whoosh"

    def search(self, request: SearchRequest) -> SearchResponse:
        return engine.search(request)

    def facet_values(
        self,
        request: SearchRequest,
        name: str,
        contains: str,
        limit: int,
        within_selection: bool,
    ) -> FacetResult:
        return engine.facet_values(
            request, name, contains, limit, within_selection=within_selection
        )

    def query_terms(self, text: str) -> dict[str, QueryTerms]:
        return engine.query_terms(text)

    def more_like_this(self, document_id: int, limit: int) -> list[Hit]:
        return similar.more_like_this(document_id, limit=limit)

    def warm_up(self) -> None:
        engine.warm_up()

    def write_lock(self, timeout: float | None = None) -> AbstractContextManager[bool]:
        return index.write_lock(timeout)

    def update_documents(
        self, docs: Iterable[IndexedDocument], delete_ids: Iterable[int] = ()
    ) -> None:
        index.update_documents(docs, delete_ids)

    def rebuild_index(
        self, docs: Iterable[IndexedDocument], progress: Callable[[int], None] | None = None
    ) -> int:
        return index.rebuild_index(docs, progress=progress)

    def index_exists(self) -> bool:
        return index.index_exists()

    def index_absent(self) -> bool:
        """Nothing at the index path (or a dangling symlink), or an empty directory. A directory
        that holds files but no readable table of contents is a damaged index, not a missing
        one: it stays a 503 naming the repair command."""
        path = index.index_dir()
        if not path.exists():
            return True
        return path.is_dir() and next(path.iterdir(), None) is None

    def create_index_if_missing(self) -> bool:
        return index.create_index_if_missing()

    def indexed_count(self) -> int:
        return index.indexed_count()

    def outdated_analysis(self) -> str:
        return index.outdated_analysis()

    def index_digests(self) -> dict[int, list[str]]:
        return index.index_digests()

    def describe(self) -> str:
        return f"embedded Whoosh index at {index.index_dir()}"


BACKEND = WhooshBackend()
