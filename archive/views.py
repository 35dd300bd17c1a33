"""Views: the search page (full page or its htmx partial), a facet's values, entity pages
(persons, organisations, places), a document page and the JSON API."""

from __future__ import annotations

import re
from dataclasses import replace

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url

from archive import exports, presentation, search
from archive.models import ENTITY_MODELS, Document, is_web_url
from archive.params import InvalidParameter, clean_text, search_request, to_params, with_pairs
from archive.search import SearchResponse

SEARCH_TEMPLATE = "archive/search.html"
# Fields the form shows itself (the date range has inputs by the histogram), or that a new query
# resets.
NOT_HIDDEN = ("q", "sort", "page", "date_from", "date_to")


def _search_request(request: HttpRequest) -> search.SearchRequest:
    return canonical_filters(search_request(request.GET))


def canonical_filters(parsed: search.SearchRequest) -> search.SearchRequest:
    """A filter may name an alias (an old link, a hand-typed URL): filter by the entity it is an
    alias of, for every value facet whose values are entities (persons, organisations, places:
    ``ENTITY_MODELS``, keyed by the facet names)."""
    filters = {
        name: ENTITY_MODELS[name].objects.canonical_names(values)
        if name in ENTITY_MODELS
        else values
        for name, values in parsed.filters.items()
    }
    return replace(parsed, filters=filters)


def _wants_partial(request: HttpRequest) -> bool:
    # htmx asks for the full page when it restores history it had not cached.
    return bool(request.htmx) and not request.htmx.history_restore_request


@require_GET
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def search_page(request: HttpRequest) -> HttpResponse:
    """The search page; htmx requests get only the results partial."""
    # The facet search boxes' own forms (one per searchable facet) sit outside the results.
    context: dict[str, object] = {
        "q": request.GET.get("q", ""),
        "searchable_facets": search.SEARCHABLE_FACETS,
    }
    status = 200
    try:
        response = search.search(_search_request(request))
    except InvalidParameter as exc:
        context["error"], status = str(exc), 400
    except search.IndexUnavailable as exc:
        context["error"], status = str(exc), 503
    else:
        canonical = reverse("archive:search") + presentation.canonical_url(response)
        if not request.htmx and request.get_full_path() != canonical:
            # A plain form submission carries empty fields (sort=): show the clean, shareable URL.
            return redirect(canonical)
        panels = presentation.value_panels(response)
        context.update(
            response=response,
            # Filters ride along as hidden inputs, so a new query keeps them.
            filter_params=[
                pair for pair in to_params(response.request) if pair[0] not in NOT_HIDDEN
            ],
            value_panels=panels,
            filter_summary=presentation.filter_summary(panels),
            facet_params=presentation.facet_search_params(response.request),
            histogram=presentation.histogram(response),
            no_results=presentation.no_results(response, _count),
            chips=presentation.chips(response),
            clear_url=presentation.clear_filters_url(response),
            pages=presentation.pagination(response),
            sort_options=presentation.sort_options(response),
            first_page_url=presentation.page_url(response, 1),
        )
        if response.suggestion:
            context["suggestion_url"] = with_pairs(
                replace(response.request, q=response.suggestion.q)
            )
    context["page_title"] = presentation.page_title(
        context.get("response"), settings.ARCHIVE_SITE_NAME
    )
    if not _wants_partial(request):
        return render(request, SEARCH_TEMPLATE, context, status=status)
    partial = render(request, SEARCH_TEMPLATE + "#results", context, status=status)
    # htmx takes a <title> at the top level of a partial response as the new tab title.
    partial.content = format_html("<title>{}</title>\n", context["page_title"]).encode() + (
        partial.content
    )
    if "response" in context:
        # Show the clean URL (no empty fields from the form) in the address bar and history.
        url = reverse("archive:search") + presentation.canonical_url(context["response"])
        push_url(partial, url)
    return partial


def _count(query_string: str) -> int:
    """How many documents a search page query string finds: for the no-results help."""
    params = QueryDict(query_string.removeprefix("?"))
    parsed = replace(
        search_request(params), page=1, page_size=1, with_snippets=False, with_facets=False
    )
    return search.search(parsed).total


FACET_VALUES_TEMPLATE = "archive/facet_values.html"
FACET_QUERY_MAX = 100


@require_GET
@vary_on_headers("HX-Request")
def facet_values(request: HttpRequest, name: str) -> HttpResponse:
    """``/facets/<name>?facet_q=…&<search parameters>``: the facet's values that contain the text,
    counted for that search. htmx gets the list alone (it replaces the facet's list); without
    JavaScript it is a page of its own."""
    if name not in search.SEARCHABLE_FACETS:
        raise Http404("No such facet.")
    contains = " ".join(clean_text(request.GET.get("facet_q", "")).split())[:FACET_QUERY_MAX]
    context: dict[str, object] = {"contains": contains, "facet_name": name}
    status = 200
    try:
        parsed = _search_request(request)
        result = search.facet_values(parsed, name, contains)
    except InvalidParameter as exc:
        context["error"], status = str(exc), 400
    except search.IndexUnavailable as exc:
        context["error"], status = str(exc), 503
    else:
        context.update(
            panel=presentation.facet_panel_for(parsed, result, contains),
            facet_params=presentation.facet_search_params(parsed),
            back_url=with_pairs(parsed),
        )
    if request.htmx:
        return render(request, "archive/_facet_values.html", context, status=status)
    return render(request, FACET_VALUES_TEMPLATE, context, status=status)


ENTITY_LATEST = 10
ENTITY_COMENTIONS = 15  # of each kind


@require_GET
def entity_by_name(request: HttpRequest, kind: str) -> HttpResponse:
    """``/persons/?name=…`` (``/organisations/``, ``/places/``): the page of a name as the index
    has it (or an alias)."""
    model = ENTITY_MODELS[kind]
    name = " ".join(clean_text(request.GET.get("name", "")).split())
    canonical = model.objects.canonical_names((name,))[0] if name else ""
    entity = get_object_or_404(model, name=canonical)
    if not entity.slug:
        entity.save()  # an entity inserted in bulk (no signals) gets its slug now
    return redirect(entity)


@require_GET
def entity_page(request: HttpRequest, kind: str, slug: str) -> HttpResponse:
    """A person, organisation or place: how many documents mention it, when (stated dates only),
    what with, and the latest of them (those with inferred dates after the stated ones)."""
    entity = get_object_or_404(ENTITY_MODELS[kind].objects.prefetch_related("aliases"), slug=slug)
    # Links from this page open the search page filtered by the entity (default order).
    links_from = search.SearchRequest(filters={kind: (entity.name,)})
    context: dict[str, object] = {"entity": entity, "aliases": list(entity.aliases.all())}
    status = 200
    try:
        response = search.search(
            replace(
                links_from,
                sort="newest",
                page_size=ENTITY_LATEST,
                with_snippets=False,
                stated_dates=True,
            )
        )
        own = search.facet_values(
            links_from, kind, limit=ENTITY_COMENTIONS + 1, within_selection=True
        )
    except search.IndexUnavailable as exc:
        context["error"], status = str(exc), 503
    else:
        context.update(
            response=response,
            search_url=with_pairs(links_from),
            histogram=presentation.histogram(response, links_from),
            comention_groups=presentation.comention_groups(
                links_from, response, own, ENTITY_COMENTIONS
            ),
            publications=presentation.facet_panel_for(links_from, response.facets["publication"]),
        )
    return render(request, "archive/entity.html", context, status=status)


@require_GET
def document_detail(request: HttpRequest, pk: int, slug: str | None = None) -> HttpResponse:
    """A document's full text; with ``?q=`` the query's words are marked and numbered."""
    document = get_object_or_404(
        Document.objects.select_related("publication").prefetch_related(
            "persons", "organisations", "places"
        ),
        pk=pk,
    )
    if slug != document.slug:
        url = document.get_absolute_url()
        if request.GET:
            url += "?" + request.GET.urlencode()
        return redirect(url)

    q = request.GET.get("q", "")
    terms: dict[str, frozenset[str]] = {}
    if q.strip():
        try:
            terms = search.query_terms(q)
        except search.IndexUnavailable:
            terms = {}  # the text is still worth showing, just without marks
    hits = search.MarkFormatter(numbered=True)
    permalink = request.build_absolute_uri(reverse("archive:document-short", args=[document.pk]))
    paragraphs = split_paragraphs(document.body)
    if paragraphs and paragraphs[0] == " ".join(document.title.split()):
        paragraphs = paragraphs[1:]  # the headline is shown once, as the title
    title_html = search.mark_all(document.title, terms.get("title", ()))
    context = {
        "document": document,
        "q": q,
        "title_html": title_html,
        "title_has_hits": "<mark>" in title_html,
        "paragraphs": [search.mark_all(p, terms.get("body", ()), hits) for p in paragraphs],
        "hit_count": hits.count,
        "persons": list(document.persons.all()),
        "mention_groups": presentation.mention_groups(
            lambda listed_as: [entity.name for entity in getattr(document, listed_as).all()]
        ),
        # The short permalink (/documents/<pk>/) survives title edits; the citation uses it.
        "permalink": permalink,
        "citation": exports.citation(document, permalink, timezone.localdate()),
        "similar": search.more_like_this(document.pk, limit=5),
    }
    return render(request, "archive/document.html", context)


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs are separated by blank lines; text without any has one per line."""
    blocks = re.split(r"\n\s*\n", text) if re.search(r"\n\s*\n", text) else text.splitlines()
    return [p for p in (" ".join(block.split()) for block in blocks) if p]


def _api_payload(request: HttpRequest, response: SearchResponse) -> dict[str, object]:
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
        }

    return {
        "query": response.query_text,
        "total": response.total,
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


@require_GET
def api_search(request: HttpRequest) -> JsonResponse:
    """``GET /api/search``: the search page's parameters in, JSON out; 400 for bad parameters."""
    try:
        response = search.search(_search_request(request))
    except InvalidParameter as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    except search.IndexUnavailable as exc:
        return JsonResponse({"error": str(exc)}, status=503)
    return JsonResponse(_api_payload(request, response), json_dumps_params={"ensure_ascii": False})
