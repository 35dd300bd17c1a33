"""Template tags for the search page's export and feed links (``archive/_result_tools.html``)."""

from __future__ import annotations

from django import template

from archive import search
from archive.exports import ExportLinks, export_links
from archive.feeds import describe

register = template.Library()


@register.simple_tag
def result_exports(response: search.SearchResponse) -> ExportLinks:
    """CSV, JSON and feed links carrying the search's parameters, with the export limit."""
    return export_links(response)


@register.simple_tag
def feed_title(response: search.SearchResponse) -> str:
    """The feed's title, for the page's ``<link rel="alternate">``."""
    return describe(response.request, response.query_text)
