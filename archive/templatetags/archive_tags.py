from urllib.parse import urlencode

from django import template
from django.urls import reverse

from archive import presentation
from archive.models import ENTITY_MODELS, title_slug
from archive.search import SearchResponse

register = template.Library()


@register.simple_tag
def document_url(pk: int, title: str, search: str | SearchResponse = "") -> str:
    """The document page of a hit, carrying the search it was found by (a query, or the whole
    search response: query, filters, sort and page), so that the query's words are marked
    there and "Back to results" returns to the same results."""
    url = reverse("archive:document", kwargs={"pk": pk, "slug": title_slug(title)})
    if isinstance(search, SearchResponse):
        return url + presentation.canonical_url(search)
    return f"{url}?{urlencode({'q': search})}" if search else url


@register.simple_tag
def search_url(**params: str) -> str:
    """A link to the search page with the given parameters (e.g. one person)."""
    pairs = {k: v for k, v in params.items() if v not in (None, "")}
    return reverse("archive:search") + (f"?{urlencode(pairs)}" if pairs else "")


@register.filter
def quoted(query: str) -> str:
    """A query in typographic quotes: `"prime minister"` shows as “prime minister”, not
    ““prime minister””. (Plain text; the template escapes it.)"""
    text = str(query)
    if len(text) > 1 and text.startswith('"') and text.endswith('"') and text.count('"') == 2:
        return f"“{text[1:-1]}”"
    return f"“{text}”"


@register.simple_tag
def hit_mentions(hit, limit: int | None = None) -> list[presentation.MentionGroup]:
    """A search hit's organisations and places (at most ``limit`` of each), as links."""
    return presentation.mention_groups(lambda listed_as: getattr(hit, listed_as), limit)


@register.simple_tag
def entity_by_name_path(kind: str) -> str:
    """The by-name address of a kind's pages ("/organisations/"), to which a list adds
    ``?name=…`` for each value; "" for a facet whose values have no pages (publications, dates).
    """
    return reverse(f"archive:{kind}-by-name") if kind in ENTITY_MODELS else ""


@register.filter
def thousands(value: int | None) -> str:
    """A count with thousands separators ("2,450 stories"), as the README writes figures. Not
    Django's USE_THOUSAND_SEPARATOR: that would write years "2,008" too."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return "" if value is None else str(value)
