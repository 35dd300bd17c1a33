"""Views: the search page (full page or its htmx partial), a facet's values, entity pages
(persons, organisations, places), a document page and the JSON API."""

from __future__ import annotations

from dataclasses import replace

from django.conf import settings
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url, replace_url

from archive import api, pages, presentation, search, stories
from archive.answers import answering_errors, as_json
from archive.models import (
    ENTITY_MODELS,
    Document,
    FormerName,
    give_slugs,
    slugless_with_slug,
)
from archive.params import (
    clean_text,
    request_from,
    search_request,
    unread_parameters_notice,
    with_pairs,
)

SEARCH_TEMPLATE = "archive/search.html"


def _wants_partial(request: HttpRequest) -> bool:
    # htmx asks for the full page when it restores history it had not cached.
    return bool(request.htmx) and not request.htmx.history_restore_request


def _page_or_partial(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    """The search page, or for htmx its results partial with the tab title and, when there are
    results, the clean URL pushed to the address bar and history."""
    context["page_title"] = presentation.page_title(
        context.get("response"),
        settings.ARCHIVE_SITE_NAME,
        context.get("story_title", ""),
        failed=bool(context.get("error")),
    )
    if not _wants_partial(request):
        return render(request, SEARCH_TEMPLATE, context, status=status)
    partial = render(request, SEARCH_TEMPLATE + "#results", context, status=status)
    # htmx takes a <title> at the top level of a partial response as the new tab title.
    partial.content = format_html("<title>{}</title>\n", context["page_title"]).encode() + (
        partial.content
    )
    if "response" in context:
        address = reverse("archive:search") + presentation.canonical_url(context["response"])
    else:
        # A reload shows the same message, and the user can correct what it names.
        address = presentation.typed_search_url(request.GET)
    # A run of typing adds one history entry: its later updates replace it (search.js); and the
    # address shown already is no new entry (Enter after the typing had shown its results).
    continued = request.headers.get("X-Archive-Typing") == "continued"
    same = address == request.htmx.current_url_abs_path
    (replace_url if continued or same else push_url)(partial, address)
    return partial


def _search_page_error(
    request: HttpRequest, message: str, status: int, params: tuple[str, ...] = ()
) -> HttpResponse:
    context = {**_search_form(request), "error": message}
    if params:
        # The same search without the parameters at fault: the query and every other choice kept.
        context["retry"] = presentation.without_params(request.GET, params)
        context["correction"] = presentation.date_correction(request.GET, params)
    return _page_or_partial(request, context, status)


def _search_form(request: HttpRequest) -> dict[str, object]:
    # The facet search boxes' own forms (one per searchable facet) sit outside the results.
    return {"q": request.GET.get("q", ""), "searchable_facets": search.SEARCHABLE_FACETS}


@require_safe
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
@answering_errors(_search_page_error)
def search_page(request: HttpRequest) -> HttpResponse:
    """The search page; htmx requests get only the results partial."""
    response = search.search(request_from(request))
    canonical = reverse("archive:search") + presentation.canonical_url(response)
    if not request.htmx and request.get_full_path() != canonical:
        # A plain form submission carries empty fields (sort=): show the clean, shareable URL.
        return redirect(canonical)
    facts = stories.facts_for_hits(response.hits)
    story = response.request.story
    title, copies = stories.title_and_copies(story) if story else ("", 0)
    context = {
        **_search_form(request),
        **presentation.search_context(response, _count, facts, title, story_copies=copies),
    }
    context["named"] = pages.named_in_query(response.request)
    context["addressed"] = pages.documents_at_address(response.request.q)
    return _page_or_partial(request, context)


def _count(query_string: str) -> int:
    """How many documents a search page query string finds: for the no-results help."""
    params = QueryDict(query_string.removeprefix("?"))
    parsed = replace(
        search_request(params), page=1, page_size=1, with_snippets=False, with_facets=False
    )
    return search.search(parsed).documents  # not stories: the help says "documents"


FACET_VALUES_TEMPLATE = "archive/facet_values.html"
FACET_QUERY_MAX = 100


def _facet_values_page(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    # htmx gets the list alone (it replaces the facet's list); without JavaScript a page.
    template = "archive/_facet_values.html" if request.htmx else FACET_VALUES_TEMPLATE
    return render(request, template, context, status=status)


def _facet_values_error(
    request: HttpRequest, message: str, status: int, params: tuple[str, ...] = ()
) -> HttpResponse:
    context = {
        "contains": _facet_query(request),
        "facet_name": request.resolver_match.kwargs["name"],
    }
    return _facet_values_page(request, {**context, "error": message}, status)


def _facet_query(request: HttpRequest) -> str:
    return " ".join(clean_text(request.GET.get("facet_q", "")).split())[:FACET_QUERY_MAX]


@require_safe
@vary_on_headers("HX-Request")
@answering_errors(_facet_values_error)
def facet_values(request: HttpRequest, name: str) -> HttpResponse:
    """``/facets/<name>?facet_q=…&<search parameters>``: the facet's values that contain the text,
    counted for that search."""
    if name not in search.SEARCHABLE_FACETS:
        raise Http404("No such facet.")
    contains = _facet_query(request)
    parsed = request_from(request)
    result = search.facet_values(parsed, name, contains)
    context = {
        "contains": contains,
        "facet_name": name,
        "panel": presentation.facet_panel_for(parsed, result, contains),
        "facet_params": presentation.facet_search_params(parsed),
        "back_url": with_pairs(parsed),
    }
    return _facet_values_page(request, context)


@require_safe
def entity_by_name(request: HttpRequest, kind: str) -> HttpResponse:
    """``/persons/?name=…`` (``/organisations/``, ``/places/``): the page of a name as the index
    has it, an alias, or a former value whose documents another has now."""
    model = ENTITY_MODELS[kind]
    name = " ".join(clean_text(request.GET.get("name", "")).split())
    canonical = model.objects.canonical_names((name,))[0] if name else ""
    entity = model.objects.filter(name=canonical).first() if canonical else None
    # A value that became another ("Parry" the organisation, now the person): its new page.
    entity = entity or FormerName.objects.successor(kind, name=name)
    if entity is None:
        noun = model._meta.verbose_name
        raise Http404(f"No {noun} named “{name}” in this archive." if name else f"No {noun} named.")
    if not entity.slug:
        entity.save()  # an entity inserted in bulk (no signals) gets its slug now
    return redirect(entity)


@require_safe
def entity_page(request: HttpRequest, kind: str, slug: str) -> HttpResponse:
    """A person, organisation or place (:func:`pages.entity_context`)."""
    model = ENTITY_MODELS[kind]
    entity = model.objects.prefetch_related("aliases").filter(slug=slug).first()
    if entity is None and give_slugs(model, slugless_with_slug(model, slug)):
        # An archive whose imports left entities without an address: this one gets it now.
        entity = model.objects.prefetch_related("aliases").filter(slug=slug).first()
    if entity is None and (moved := FormerName.objects.successor(kind, slug=slug)):
        return redirect(moved)  # the address of a value merged into another, or renamed
    if entity is None:
        raise Http404(f"No {model._meta.verbose_name} at this address.")
    context, status = pages.entity_context(entity, kind)
    return render(request, "archive/entity.html", context, status=status)


@require_safe
def document_detail(request: HttpRequest, pk: int, slug: str | None = None) -> HttpResponse:
    """A document's full text; with ``?q=`` the query's words are marked and numbered
    (:func:`pages.document_context`)."""
    document = (
        Document.objects.select_related("publication")
        .prefetch_related("persons", "organisations", "places")
        .filter(pk=pk)
        .first()
    )
    if document is None:
        raise Http404(f"No document number {pk} in this archive (removed, or never imported).")
    if slug != document.slug:
        url = document.get_absolute_url()
        if request.GET:
            url += "?" + request.GET.urlencode()
        return redirect(url)
    permalink = request.build_absolute_uri(reverse("archive:document-short", args=[document.pk]))
    context = pages.document_context(document, request.GET.get("q", ""), permalink)
    # The search a result link came from (query, filters, sort, page): "Back to results".
    context["back_url"] = presentation.typed_search_url(request.GET) if request.GET else ""
    return render(request, "archive/document.html", context)


@require_safe
def document_original(request: HttpRequest, pk: int) -> FileResponse:
    """The file a scanned document's text was read from, as it was uploaded.

    Media files are not served as a folder (whitenoise serves only static files, and the upload
    folder also holds files still waiting to be imported): only a document's own original, found
    by the document's id, with a content type from a fixed list, ``nosniff``, a sandboxing CSP,
    and as a download unless it is a PNG or JPEG image."""
    document = Document.objects.only("pk", "original_file").filter(pk=pk).first()
    if document is None:
        raise Http404(f"No document number {pk} in this archive.")
    original = presentation.original_scan(document)
    if original is None:
        raise Http404("This document has no original file.")
    try:
        handle = document.original_file.open("rb")
    except OSError:
        raise Http404("The original file is missing.") from None
    response = FileResponse(
        handle,
        content_type=original.content_type,
        as_attachment=not original.inline,
        filename=original.filename,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


@require_safe
@answering_errors(as_json)
def api_search(request: HttpRequest) -> JsonResponse:
    """``GET /api/search``: the search page's parameters in, JSON out; 400 for bad parameters,
    and a notice for those the search does not read."""
    response = search.search(request_from(request))
    data = api.payload(request, response)
    if unread := unread_parameters_notice(request):
        data["notices"] = [*data["notices"], unread]
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})
