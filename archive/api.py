"""The JSON API's shape: a search response as the ``GET /api/search`` payload."""

from __future__ import annotations

from django.http import HttpRequest

from archive import search, stories
from archive.models import Document, is_web_url
from archive.search import SearchResponse


def payload(request: HttpRequest, response: SearchResponse) -> dict[str, object]:
    """The response as JSON-ready data: results with their facet lists and story, facets,
    notices. ``total`` counts the results as listed (stories when copies are folded),
    ``total_documents`` the documents."""
    facts = stories.facts_for_hits(response.hits)

    def result(hit: search.Hit) -> dict[str, object]:
        url = Document(pk=hit.id, title=hit.title).get_absolute_url()
        return {
            "id": hit.id,
            "title": hit.title,
            "url": request.build_absolute_uri(url),
            "published": hit.published.isoformat() if hit.published else None,
            "date_inferred": hit.date_inferred,
            "publication": hit.publication,
            # "persons", "organisations", "places": each listed value facet's names.
            **{
                facet.listed_as: list(getattr(hit, facet.listed_as))
                for facet in search.VALUE_FACETS
                if facet.listed_as
            },
            "snippets": hit.snippets,
            "score": hit.score,
            "source_url": hit.source_url if is_web_url(hit.source_url) else None,
            "story": stories.story_json(hit, facts),
        }

    return {
        "query": response.query_text,
        "total": response.total,
        "total_documents": response.documents,
        "copies": response.request.copies,
        "page": response.page,
        "page_size": response.page_size,
        "pages": response.pages,
        "sort": response.sort,
        "notices": list(response.notices),
        "suggestion": (
            {"q": response.suggestion.q, "total": response.suggestion.total}
            if response.suggestion
            else None
        ),
        "results": [result(hit) for hit in response.hits],
        "facets": {
            name: [
                {"value": v.value, "label": v.label, "count": v.count, "selected": v.selected}
                for v in facet.values
            ]
            for name, facet in response.facets.items()
        },
    }
