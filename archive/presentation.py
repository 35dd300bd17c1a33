"""Turns a SearchResponse into what the search page shows: facet panels with toggle links,
removable filter chips and pagination. Pure functions of the response, so views stay thin."""

from __future__ import annotations

import calendar
from dataclasses import dataclass

from archive.params import with_pairs
from archive.search import UNKNOWN_PUBLICATION, UNKNOWN_PUBLICATION_LABEL, FacetResult
from archive.search import SearchResponse as Response

# Values shown before "More" in each facet panel.
FACET_VISIBLE = 10


@dataclass(frozen=True)
class FacetLink:
    value: str
    label: str
    count: int
    selected: bool
    url: str  # the query string that toggles this value


@dataclass(frozen=True)
class FacetPanel:
    name: str
    label: str
    links: list[FacetLink]
    more: list[FacetLink]
    truncated: bool


@dataclass(frozen=True)
class Chip:
    kind: str
    label: str
    url: str  # the query string without this filter


@dataclass(frozen=True)
class PageLink:
    number: int | None  # None for a gap ("…")
    url: str = ""
    current: bool = False


def _toggle_url(response: Response, name: str, value: str, selected: bool) -> str:
    req = response.request
    if name in ("person", "publication"):
        if selected:
            return with_pairs(req, drop=(name, value))
        return with_pairs(req, add=[(name, value)])
    if name == "year":
        if selected:
            return with_pairs(req, remove={"year", "month"})
        return with_pairs(req, remove={"year", "month"}, add=[("year", value)])
    if name == "month":
        if selected:
            return with_pairs(req, remove={"month"}, add=[("year", str(req.year))])
        return with_pairs(req, remove={"year", "month"}, add=[("month", value)])
    raise ValueError(f"unknown facet {name!r}")


def facet_panel(response: Response, facet: FacetResult) -> FacetPanel:
    links = [
        FacetLink(
            v.value,
            v.label,
            v.count,
            v.selected,
            _toggle_url(response, facet.name, v.value, v.selected),
        )
        for v in facet.values
    ]
    if facet.name in ("year", "month"):
        visible, more = links, []  # dates stay in date order, all shown
    else:
        visible = links[:FACET_VISIBLE]
        more = links[FACET_VISIBLE:]
    return FacetPanel(facet.name, facet.label, visible, more, facet.truncated)


def facet_panels(response: Response) -> list[FacetPanel]:
    return [facet_panel(response, facet) for facet in response.facets.values()]


def chips(response: Response) -> list[Chip]:
    """One removable chip per active filter."""
    req = response.request
    result = [Chip("Person", p, with_pairs(req, drop=("person", p))) for p in req.persons]
    result += [
        Chip(
            "Publication",
            UNKNOWN_PUBLICATION_LABEL if p == UNKNOWN_PUBLICATION else p,
            with_pairs(req, drop=("publication", p)),
        )
        for p in req.publications
    ]
    if req.undated:
        result.append(Chip("Date", "Undated", with_pairs(req, remove={"year"})))
    elif req.year is not None:
        result.append(Chip("Year", str(req.year), with_pairs(req, remove={"year", "month"})))
        if req.month is not None:
            result.append(
                Chip(
                    "Month",
                    f"{calendar.month_name[req.month]} {req.year}",
                    with_pairs(req, remove={"month"}, add=[("year", str(req.year))]),
                )
            )
    if req.date_from:
        result.append(
            Chip("From", req.date_from.isoformat(), with_pairs(req, remove={"date_from"}))
        )
    if req.date_to:
        result.append(Chip("To", req.date_to.isoformat(), with_pairs(req, remove={"date_to"})))
    return result


def clear_filters_url(response: Response) -> str:
    """Keeps the query text and sort order, drops every filter."""
    return with_pairs(
        response.request,
        remove={"person", "publication", "year", "month", "date_from", "date_to"},
    )


def pagination(response: Response, window: int = 2) -> list[PageLink]:
    """Links to the first, last and nearby pages, with gaps between."""
    if response.pages <= 1:
        return []
    current, last = response.page, response.pages
    numbers = {1, last, *range(max(1, current - window), min(last, current + window) + 1)}
    links: list[PageLink] = []
    previous = 0
    for number in sorted(numbers):
        if number - previous > 1:
            links.append(PageLink(None))
        links.append(PageLink(number, page_url(response, number), number == current))
        previous = number
    return links


def page_url(response: Response, number: int) -> str:
    pairs = [("page", str(number))] if number != 1 else []
    return with_pairs(response.request, remove={"page"}, add=pairs)


@dataclass(frozen=True)
class SortOption:
    value: str  # "" is the default order, so it is left out of URLs
    label: str
    selected: bool


def sort_options(response: Response) -> list[SortOption]:
    """Relevance is the default for a query; browsing has no relevance, so newest is."""
    chosen = response.request.sort or ""
    if response.query_text:
        options = [("", "Relevance"), ("newest", "Newest first"), ("oldest", "Oldest first")]
        chosen = "" if chosen == "relevance" else chosen
    else:
        options = [("", "Newest first"), ("oldest", "Oldest first")]
        chosen = "oldest" if chosen == "oldest" else ""
    return [SortOption(value, label, value == chosen) for value, label in options]


TITLE_DASH = "\N{EN DASH}"


def page_title(response: Response | None, site_name: str) -> str:
    """The tab title: the query first, so tabs and history entries can be told apart."""
    if response is not None and response.query_text:
        query = response.query_text
        query = query if len(query) <= 60 else query[:59] + "…"
        return f"{query} {TITLE_DASH} Search {TITLE_DASH} {site_name}"
    return f"Search {TITLE_DASH} {site_name}"


def canonical_url(response: Response) -> str:
    """The page's own URL without empty or default parameters: what the address bar shows."""
    return with_pairs(response.request, keep_page=True)
