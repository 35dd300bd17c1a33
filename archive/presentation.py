"""Turns a SearchResponse into what the search page shows: facet panels with toggle links,
removable filter chips, the date histogram, help when nothing matches, and pagination. Pure
functions of the response, so views stay thin."""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from django.http import QueryDict
from django.urls import reverse

from archive.ingest.readers import file_size
from archive.params import FILTER_PARAMS, to_params, with_pairs
from archive.search import (
    FACETS,
    FACETS_BY_NAME,
    SEARCHABLE_FACETS,
    UNDATED,
    VALUE_FACETS,
    FacetResult,
    SearchRequest,
    ValueFacet,
    shared_stem_notice,
    with_word_quoted,
)
from archive.search import SearchResponse as Response

if TYPE_CHECKING:
    from archive.models import Document
    from archive.search import Hit
    from archive.stories import StoryFacts

# Values shown before "Show more" in each facet panel.
FACET_VISIBLE = 10


@dataclass(frozen=True)
class FacetLink:
    """A facet value as datasette gives it: value, label, count, selected, toggle_url."""

    value: str
    label: str
    count: int
    selected: bool
    toggle_url: str  # the query string that toggles this value

    @property
    def url(self) -> str:
        return self.toggle_url


@dataclass(frozen=True)
class FacetPanel:
    name: str
    label: str
    links: list[FacetLink]
    more: list[FacetLink]
    truncated: bool
    contains: str = ""  # the text searched within the facet, when the list is a search's

    @property
    def searchable(self) -> bool:
        return self.name in SEARCHABLE_FACETS

    @property
    def count(self) -> int:
        return len(self.links) + len(self.more)

    @property
    def summary(self) -> str:
        """What a screen reader hears after searching within the facet."""
        plural = self.label.lower()
        if not self.contains:
            return f"The most frequent {plural}."
        if not self.count:
            return f"No {plural} match “{self.contains}”."
        if self.count == 1 and not self.truncated:
            facet = FACETS_BY_NAME.get(self.name)
            singular = facet.kind.lower() if isinstance(facet, ValueFacet) else "value"
            return f"1 {singular} matches “{self.contains}”."
        more = " or more" if self.truncated else ""
        return f"{self.count}{more} {plural} match “{self.contains}”."


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
    step: str = ""  # "previous" or "next": the link one page back or on, shown as words


def _toggle_url(req: SearchRequest, name: str, value: str, selected: bool) -> str:
    """The query string that toggles one value of the facet ``name`` (any registered facet)."""
    if name not in FACETS_BY_NAME:
        raise ValueError(f"unknown facet {name!r}")
    return with_pairs(FACETS_BY_NAME[name].toggled(req, value, selected))


def facet_panel(response: Response, facet: FacetResult) -> FacetPanel:
    return facet_panel_for(response.request, facet)


def facet_panel_for(req: SearchRequest, facet: FacetResult, contains: str = "") -> FacetPanel:
    """A facet's values as toggle links for ``req``; ``contains`` when they answer a search
    within the facet (``search.facet_values``)."""
    links = [
        FacetLink(
            v.value,
            v.label,
            v.count,
            v.selected,
            _toggle_url(req, facet.name, v.value, v.selected),
        )
        for v in facet.values
    ]
    if facet.name not in SEARCHABLE_FACETS:
        visible, more = links, []  # dates stay in date order, all shown
    else:
        # Chosen values first, so they can be seen and removed without opening "Show more".
        links = [link for link in links if link.selected] + [
            link for link in links if not link.selected
        ]
        visible = links[:FACET_VISIBLE]
        more = links[FACET_VISIBLE:]
    return FacetPanel(facet.name, facet.label, visible, more, facet.truncated, contains)


def facet_panels(response: Response) -> list[FacetPanel]:
    return [facet_panel(response, facet) for facet in response.facets.values()]


def value_panels(response: Response) -> list[FacetPanel]:
    """The panels of the value facets (people, organisations, places, publications), in the
    registration order; the dates are shown by :func:`histogram`."""
    return [
        facet_panel(response, response.facets[facet.name])
        for facet in VALUE_FACETS
        if facet.name in response.facets
    ]


def filter_summary(panels: list[FacetPanel]) -> str:
    """What the filter panel's disclosure (on narrow screens) offers: "Filter by person,
    organisation, place, publication or date"."""
    kinds = [FACETS_BY_NAME[panel.name].kind.lower() for panel in panels]
    return f"Filter by {', '.join(kinds)} or date" if kinds else "Filter by date"


@dataclass(frozen=True)
class Mention:
    name: str
    url: str  # the search page's query string: the documents that mention it


@dataclass(frozen=True)
class MentionGroup:
    """The values of one listed value facet a document carries (its organisations, its places)."""

    facet: str
    label: str
    mentions: list[Mention]
    more: int = 0  # how many more were left out


def mention_groups(
    names: Callable[[str], Sequence[str]], limit: int | None = None
) -> list[MentionGroup]:
    """A document's names in each listed value facet but the persons (they are shown with links
    to their own pages): ``names(listed_as)`` gives them ("organisations" -> names). Each links
    to the search for the documents that mention it; at most ``limit`` of each are shown."""
    groups = []
    for facet in VALUE_FACETS:
        if not facet.listed_as or facet.name == "person":
            continue
        values = list(names(facet.listed_as))
        if not values:
            continue
        shown = values if limit is None else values[:limit]
        groups.append(
            MentionGroup(
                facet.name,
                facet.label,
                [
                    Mention(value, with_pairs(SearchRequest().with_filter(facet.name, (value,))))
                    for value in shown
                ],
                len(values) - len(shown),
            )
        )
    return groups


@dataclass(frozen=True)
class OriginalScan:
    """The file a scanned document's text was read from, as its page links to it and as the
    original's view serves it."""

    url: str
    kind: str  # "PNG", "JPEG", "TIFF", "PDF"
    size: str  # "1.2 MB"
    content_type: str
    inline: bool  # shown in the browser (a plain raster image), else downloaded
    filename: str


# Types the original's view serves, by extension: (kind, content type, inline). Anything else is
# an application/octet-stream download; only PNG and JPEG, which browsers only ever draw, are
# shown inline (a PDF can carry script, a TIFF is not drawn by most browsers anyway).
ORIGINAL_TYPES: dict[str, tuple[str, str, bool]] = {
    ".png": ("PNG", "image/png", True),
    ".jpg": ("JPEG", "image/jpeg", True),
    ".jpeg": ("JPEG", "image/jpeg", True),
    ".tif": ("TIFF", "image/tiff", False),
    ".tiff": ("TIFF", "image/tiff", False),
    ".pdf": ("PDF", "application/pdf", False),
}


def original_scan(document: Document) -> OriginalScan | None:
    """The document's original file, or None when it has none or the file is missing."""
    if not document.original_file:
        return None
    name = PurePosixPath(document.original_file.name)
    kind, content_type, inline = ORIGINAL_TYPES.get(
        name.suffix.lower(),
        (name.suffix.lstrip(".").upper() or "file", "application/octet-stream", False),
    )
    try:
        size = document.original_file.size
    except OSError:
        return None
    return OriginalScan(
        url=reverse("archive:document-original", args=[document.pk]),
        kind=kind,
        size=file_size(size),
        content_type=content_type,
        inline=inline,
        filename=name.name,
    )


def ocr_note(document: Document) -> str:
    """What the document page says about a text read by OCR ("" for any other text)."""
    if document.ocr_confidence is not None:
        return (
            f"Read from the scan by OCR, with {document.ocr_confidence:.0f} % mean word "
            "confidence: words may be misread."
        )
    if document.original_file:
        # An editor who corrects an OCRed text clears its confidence (admin.py).
        return "Read from the scan by OCR, then checked by an editor."
    return ""


def facet_search_params(req: SearchRequest) -> list[tuple[str, str]]:
    """The parameters a search within a facet carries, so its counts are the current search's
    and its links keep every other filter (the page number is dropped)."""
    return [(name, value) for name, value in to_params(req) if name != "page"]


# The longest headline a "Copies of" chip shows whole.
CHIP_TITLE_MAX = 60


def _shortened(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis when longer."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def chips(response: Response, story_title: str = "") -> list[Chip]:
    """One removable chip per active filter (``story_title``: the headline of the story whose
    copies are shown, which the chip names: its id means nothing to a reader)."""
    req = response.request
    result = [
        Chip(chip.kind, chip.label, with_pairs(chip.without))
        for facet in FACETS
        for chip in facet.chips(req)
    ]
    if req.date_from:
        result.append(
            Chip("From", req.date_from.isoformat(), with_pairs(req, remove={"date_from"}))
        )
    if req.date_to:
        result.append(Chip("To", req.date_to.isoformat(), with_pairs(req, remove={"date_to"})))
    if req.story is not None:
        label = _shortened(story_title, CHIP_TITLE_MAX) if story_title else f"story {req.story}"
        result.append(Chip("Copies of", label, with_pairs(req, remove={"story"})))
    return result


def clear_filters_url(response: Response) -> str:
    """Keeps the query text and sort order, drops every filter."""
    return with_pairs(response.request, remove=set(FILTER_PARAMS))


def pagination(response: Response, window: int = 2) -> list[PageLink]:
    """Links to the previous page, the first, last and nearby pages (with gaps between), and
    the next page."""
    if response.pages <= 1:
        return []
    current, last = response.page, response.pages
    numbers = {1, last, *range(max(1, current - window), min(last, current + window) + 1)}
    links: list[PageLink] = []
    if 1 < current <= last:
        links.append(PageLink(current - 1, page_url(response, current - 1), step="previous"))
    previous = 0
    for number in sorted(numbers):
        if number - previous > 1:
            links.append(PageLink(None))
        links.append(PageLink(number, page_url(response, number), number == current))
        previous = number
    if current < last:
        links.append(PageLink(current + 1, page_url(response, current + 1), step="next"))
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
    """Relevance is the default for a query; browsing has no relevance, so newest is. A newest
    chosen on purpose stays in the form while browsing: cleared and retyped, a query keeps it."""
    chosen = response.request.sort or ""
    if response.query_text:
        options = [("", "Relevance"), ("newest", "Newest first"), ("oldest", "Oldest first")]
        chosen = "" if chosen == "relevance" else chosen
    else:
        newest = "newest" if chosen == "newest" else ""
        options = [(newest, "Newest first"), ("oldest", "Oldest first")]
        chosen = chosen if chosen in ("newest", "oldest") else ""
    return [SortOption(value, label, value == chosen) for value, label in options]


TITLE_DASH = "\N{EN DASH}"


# How a page names the parameters it offers to search again without (``without_params``).
_PARAM_LABELS = {
    "date_from": "the date range",
    "date_to": "the date range",
    "year": "the year",
    "month": "the month",
    "page": "the page number",
    "page_size": "the page size",
    "sort": "the sort order",
    "copies": "the copies setting",
    "counts": "the counting setting",
    "story": "the story",
}


@dataclass(frozen=True)
class Retry:
    """A link to the same search without the parameters a message named."""

    url: str
    label: str


def typed_search_url(params: QueryDict, leave_out: Sequence[str] = ()) -> str:
    """The search address as the user filled it in (``params``), without the form's empty
    fields ("sort=") and without ``leave_out``: what the address bar shows when the search
    could not be made, and the link to try it again without what was at fault."""
    typed = QueryDict(mutable=True)
    for name, values in params.lists():
        if name not in leave_out:
            typed.setlist(name, [value for value in values if value.strip()])
    query = typed.urlencode()
    return reverse("archive:search") + (f"?{query}" if query else "")


def without_params(params: QueryDict, names: Sequence[str]) -> Retry:
    """The search as typed without the parameters ``names``, and what to call what was left
    out ("the date range")."""
    labels = dict.fromkeys(_PARAM_LABELS.get(name, f"the “{name}” choice") for name in names)
    return Retry(typed_search_url(params, names), " and ".join(labels))


TITLE_FILTERS = 2  # filters named in a tab title; more are counted ("+2 filters")


@dataclass(frozen=True)
class DateCorrection:
    """The date inputs again, as typed, in the message about a bad date: the user corrects them
    where the message is (the filter panel, with its inputs, needs results to show)."""

    hidden: list[tuple[str, str]]  # every other choice, so the corrected search keeps it
    date_from: str
    date_to: str


_DATE_PARAMS = ("date_from", "date_to")


def date_correction(params: QueryDict, fault: Sequence[str]) -> DateCorrection | None:
    """The inputs to correct a date range at fault, or None when no date was."""
    if not set(fault) & set(_DATE_PARAMS):
        return None
    hidden = [
        (name, value)
        for name, values in params.lists()
        if name not in ("q", "page", *_DATE_PARAMS)
        for value in values
        if value.strip()
    ]
    return DateCorrection(hidden, params.get("date_from", ""), params.get("date_to", ""))


def page_title(
    response: Response | None, site_name: str, story_title: str = "", failed: bool = False
) -> str:
    """The tab title: the query, its filters and the page first, so tabs and history entries
    can be told apart ("blair · Tony Blair · page 2 - Search - News Archive"); a search that
    could not run ("failed", no response) says so first ("Error: Search - News Archive")."""
    if response is None:
        return f"{'Error: ' if failed else ''}Search {TITLE_DASH} {site_name}"
    parts = []
    if response.query_text:
        query = response.query_text
        parts.append(_shortened(query, 60))
    labels = [chip.label for chip in chips(response, story_title)]
    parts += labels[:TITLE_FILTERS]
    if len(labels) > TITLE_FILTERS:
        more = len(labels) - TITLE_FILTERS
        parts.append(f"+{more} filter{'s' if more > 1 else ''}")
    if response.page > 1:
        parts.append(f"page {response.page}")
    lead = f"{' · '.join(parts)} {TITLE_DASH} " if parts else ""
    return f"{lead}Search {TITLE_DASH} {site_name}"


def canonical_url(response: Response) -> str:
    """The page's own URL without empty or default parameters: what the address bar shows."""
    return with_pairs(response.request, keep_page=True)


# --- The date histogram ------------------------------------------------------------------------

BAR_UNITS = 10  # a bar's slot in the chart's own units (the SVG's viewBox), gap included
CHART_HEIGHT = 100
MIN_BAR = 3  # a non-empty bar never looks empty
MAX_TICKS = 6  # axis labels that fit a 260 px sidebar and a 390 px phone alike
MAX_BARS = 60  # more years than this are shown as decades (or centuries)
DASH = "\N{EN DASH}"
_TICK_STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000)


@dataclass(frozen=True)
class Bar:
    label: str  # the axis label it would carry: "2008", "N"
    name: str  # "2008", "November 2008", "the 1980s"
    count: int
    url: str  # the query string its link goes to; "" for an empty bar (no link)
    selected: bool
    start: str  # the first and last day it covers (ISO), for picking a range
    end: str
    x: int  # left edge, in chart units
    height: float  # in chart units, 0 to CHART_HEIGHT
    stories: bool = False  # the count is of stories (copies of one article once), not documents

    @property
    def y(self) -> float:
        return CHART_HEIGHT - self.height

    @property
    def description(self) -> str:
        """What its tooltip and its aria-label say: "2008: 12 documents" ("12 stories" when
        copies of one article count once)."""
        one, many = ("story", "stories") if self.stories else ("document", "documents")
        if not self.count:
            return f"{self.name}: no {many}"
        return f"{self.name}: {self.count:,} {one if self.count == 1 else many}"


@dataclass(frozen=True)
class Tick:
    label: str
    left: float  # percent of the chart's width, the bar's centre
    align: str  # "start", "middle" or "end": labels at the edges stay inside the chart

    @property
    def anchor(self) -> str:
        """The SVG text-anchor that aligns the label so."""
        return self.align


@dataclass(frozen=True)
class Histogram:
    """Documents over time: bars per year (decade, century for long spans) or, once a year is
    chosen, per month of that year. Every bar with documents is a link that drills in; two bars
    picked in turn make a date range (``range_url`` + date_from/date_to, added by search.js)."""

    level: str  # "year", "decade", "century" or "month"
    heading: str  # "1980-2025" (with an en dash), "2008 by month"
    bars: list[Bar]
    ticks: list[Tick]
    up_url: str | None  # the month level's way back to all years
    undated: FacetLink | None
    range_url: str  # the query string a picked range is added to
    date_from: str
    date_to: str
    hint: str  # what a click on a bar does

    @property
    def width(self) -> int:
        return max(1, len(self.bars)) * BAR_UNITS

    @property
    def height(self) -> int:
        return CHART_HEIGHT

    @property
    def dated(self) -> int:
        return sum(bar.count for bar in self.bars)

    @property
    def label(self) -> str:
        """The chart's accessible name."""
        unit = {"month": "month", "year": "year"}.get(self.level, self.level)
        counted = "Stories" if any(bar.stories for bar in self.bars) else "Documents"
        return f"{counted} per {unit}, {self.heading.removesuffix(' by month')}"


def _heights(counts: list[int]) -> list[float]:
    top = max(counts, default=0)
    if not top:
        return [0.0 for _ in counts]
    usable = CHART_HEIGHT - 4  # room for the focus outline at the top
    return [0.0 if not c else max(MIN_BAR, round(usable * c / top, 2)) for c in counts]


def _year_ticks(starts: list[int], size: int) -> list[Tick]:
    """Labels on round numbers (every 1, 2, 5, 10… buckets) so that at most MAX_TICKS show."""
    n = len(starts)
    step = next(
        (s for s in _TICK_STEPS if s % size == 0 and math.ceil(n * size / s) <= MAX_TICKS),
        _TICK_STEPS[-1],
    )
    if n <= MAX_TICKS:
        step = size
    ticks = []
    for i, start in enumerate(starts):
        if start % step == 0 or n <= MAX_TICKS:
            ticks.append(_tick(str(start), i, n))
    return ticks


def _tick(label: str, index: int, n: int) -> Tick:
    left = round((index + 0.5) * 100 / n, 3)
    align = "start" if left < 8 and n > 4 else "end" if left > 92 and n > 4 else "middle"
    return Tick(label, left, align)


def _bar(label, name, count, url, selected, start, end, index, height) -> Bar:
    return Bar(
        label,
        name,
        count,
        url,
        selected,
        start.isoformat(),
        end.isoformat(),
        index * BAR_UNITS,
        height,
    )


def _year_bars(req: SearchRequest, counts: dict[int, int]) -> tuple[str, list[Bar], list[Tick]]:
    first, last = min(counts), max(counts)
    size, level = 1, "year"
    for candidate, name in ((10, "decade"), (100, "century")):
        if (last - first + 1) / size > MAX_BARS:
            size, level = candidate, name
    starts = list(range(first - first % size, last + 1, size))
    totals = [sum(c for y, c in counts.items() if s <= y < s + size) for s in starts]
    heights = _heights(totals)
    bars = []
    for i, (start, total) in enumerate(zip(starts, totals, strict=True)):
        end = start + size - 1
        first_day, last_day = dt.date(max(start, 1), 1, 1), dt.date(min(end, 9999), 12, 31)
        if size == 1:
            name = str(start)
            url = _toggle_url(req, "year", name, False) if total else ""
        else:
            # A decade drills into its years by becoming the date range.
            name = f"the {start}s" if size == 10 else f"{start}{DASH}{end}"
            pairs = [("date_from", first_day.isoformat()), ("date_to", last_day.isoformat())]
            url = with_pairs(req, remove={"year", "month", "date_from", "date_to"}, add=pairs)
            url = url if total else ""
        bars.append(_bar(str(start), name, total, url, False, first_day, last_day, i, heights[i]))
    return level, bars, _year_ticks(starts, size)


def _month_bars(req: SearchRequest, facet: FacetResult) -> list[Bar]:
    year = req.year or 1
    counts = {int(v.value[5:7]): v.count for v in facet.values if v.value[:4] == f"{year:04d}"}
    totals = [counts.get(m, 0) for m in range(1, 13)]
    heights = _heights(totals)
    bars = []
    for m in range(1, 13):
        value = f"{year:04d}-{m:02d}"
        selected = req.month == m
        url = _toggle_url(req, "month", value, selected) if totals[m - 1] or selected else ""
        last_day = calendar.monthrange(year, m)[1]
        bars.append(
            _bar(
                calendar.month_name[m][0],
                f"{calendar.month_name[m]} {year}",
                totals[m - 1],
                url,
                selected,
                dt.date(year, m, 1),
                dt.date(year, m, last_day),
                m - 1,
                heights[m - 1],
            )
        )
    return bars


def histogram(response: Response, req: SearchRequest | None = None) -> Histogram | None:
    """The date facet as bars. ``req`` is the request the links start from (the person page
    gives one without its own sort order); by default the response's."""
    req = req or response.request
    years = response.facets.get("year")
    if years is None:
        return None
    histogram = _histogram(response, req, years)
    # Stories when the facets count stories and that differs from documents: copies among the
    # results (the result count says "3 stories (5 documents)"), or every copy listed with
    # stories counted (copies=all&counts=stories), when the two cannot be told apart here.
    request = response.request
    if request.counts_stories and (not request.folded or response.documents != response.total):
        histogram = replace(histogram, bars=[replace(b, stories=True) for b in histogram.bars])
    return histogram


def _histogram(response: Response, req: SearchRequest, years: FacetResult) -> Histogram:
    undated = next((v for v in years.values if v.value == UNDATED), None)
    undated_link = (
        FacetLink(
            UNDATED,
            undated.label,
            undated.count,
            undated.selected,
            _toggle_url(req, "year", UNDATED, undated.selected),
        )
        if undated
        else None
    )
    date_from = req.date_from.isoformat() if req.date_from else ""
    date_to = req.date_to.isoformat() if req.date_to else ""
    months = response.facets.get("month")
    if req.year is not None and months is not None:
        return Histogram(
            level="month",
            heading=f"{req.year} by month",
            bars=_month_bars(req, months),
            ticks=[_tick(calendar.month_name[m][0], m - 1, 12) for m in range(1, 13)],
            up_url=with_pairs(req, remove={"year", "month"}),
            undated=undated_link,
            # Months pick a range within the year, which stays chosen.
            range_url=with_pairs(
                req,
                remove={"year", "month", "date_from", "date_to"},
                add=[("year", str(req.year))],
            ),
            date_from=date_from,
            date_to=date_to,
            hint="Click a month to show only its documents.",
        )
    counts = {int(v.value): v.count for v in years.values if v.value != UNDATED and v.count > 0}
    if not counts:
        level, bars, ticks, heading = "year", [], [], "No dated documents"
    else:
        level, bars, ticks = _year_bars(req, counts)
        first, last = min(counts), max(counts)
        heading = str(first) if first == last else f"{first}{DASH}{last}"
    hint = {
        "year": "Click a year to see its months.",
        "decade": "Click a decade to see its years.",
        "century": "Click a century to see its years.",
    }[level]
    return Histogram(
        level=level,
        heading=heading,
        bars=bars,
        ticks=ticks,
        up_url=None,
        undated=undated_link,
        range_url=with_pairs(req, remove={"year", "month", "date_from", "date_to"}),
        date_from=date_from,
        date_to=date_to,
        hint=hint,
    )


# --- When nothing matches ----------------------------------------------------------------------

RELAX_COUNT_MAX = 6  # with more filters than this, the links to drop one come without counts


@dataclass(frozen=True)
class Relaxation:
    """A link that drops one filter, and how many documents that would show (None: not counted)."""

    chip: Chip
    total: int | None


@dataclass(frozen=True)
class NoResults:
    reason: str  # "query": the words find nothing; "filters": the filters exclude the hits;
    # "empty": the archive has no documents
    query_total: int | None  # what the query finds with no filters at all
    relaxations: list[Relaxation]
    clear_url: str


def no_results(
    response: Response, count: Callable[[str], int], story_title: str = ""
) -> NoResults | None:
    """Why a search found nothing, and the ways out: ``count(query_string)`` runs a search (the
    view passes one that skips snippets and facets) and is called at most RELAX_COUNT_MAX + 1
    times, only here, on an empty result."""
    if response.total:
        return None
    active = chips(response, story_title)
    clear_url = clear_filters_url(response)
    if not active:
        return NoResults("query" if response.query_text else "empty", 0, [], clear_url)
    query_total = count(clear_url)
    if not query_total:
        reason = "query" if response.query_text else "empty"
        return NoResults(reason, query_total, [Relaxation(c, None) for c in active], clear_url)
    counted = len(active) <= RELAX_COUNT_MAX
    relaxations = [Relaxation(c, count(c.url) if counted else None) for c in active]
    return NoResults("filters", query_total, relaxations, clear_url)


# --- Entity pages (persons, organisations, places) ---------------------------------------------


@dataclass(frozen=True)
class Comention:
    """A person, organisation or place mentioned together with the page's entity."""

    name: str
    count: int
    url: str  # the search page's query string for the documents that mention both


@dataclass(frozen=True)
class ComentionGroup:
    """The values of one entity facet most often mentioned with the page's entity."""

    facet: str  # "person", "organisation", "place": also the kind of their own pages
    label: str  # "People"
    comentions: list[Comention]


def both_url(req: SearchRequest, facet: str, other: str) -> str:
    """The documents that mention ``req``'s entity *and* ``other``, a value of ``facet``.

    Filters of different facets combine with AND, so another kind is one more filter. Two values
    of one facet combine with OR (a facet's values widen the search), which would list the
    documents of either; the query ``person:"Other"`` narrows instead, so the search finds
    exactly the documents counted beside the name. A name the query syntax cannot quote (it holds
    a double quote) falls back to the second filter.
    """
    if facet not in req.filters:
        return with_pairs(req.with_filter(facet, (other,)))
    if '"' in other:
        return with_pairs(req, add=[(facet, other)])
    q = f'{facet}:"{other}"' + (f" {req.q}" if req.q else "")
    return with_pairs(replace(req, q=q))


def both_persons_url(req: SearchRequest, other: str) -> str:
    """:func:`both_url` for a person (the person page's co-mentions)."""
    return both_url(req, "person", other)


def comentions(req: SearchRequest, together: FacetResult, limit: int) -> list[Comention]:
    """The values of ``together`` (a facet counted within ``req``'s documents) most often
    mentioned with ``req``'s entity, the entity itself left out."""
    own = set(req.filters.get(together.name, ()))
    return [
        Comention(v.value, v.count, both_url(req, together.name, v.value))
        for v in together.values
        if v.value not in own and v.count
    ][:limit]


def comention_groups(
    req: SearchRequest, response: Response, own: FacetResult, limit: int
) -> list[ComentionGroup]:
    """Who and what is most often mentioned with ``req``'s entity, for each entity facet
    (people, organisations, places), at most ``limit`` of each; kinds with none are left out.

    ``own`` is the entity's own facet counted within its documents (``search.facet_values(…,
    within_selection=True)``); the other facets of ``response``, the search for the entity's
    documents, are counted within them already (a facet ignores only its own filter).
    """
    groups = []
    for facet in VALUE_FACETS:
        if not facet.listed_as:
            continue  # publications: they publish, they are not mentioned (a panel of their own)
        together = own if facet.name == own.name else response.facets.get(facet.name)
        found = comentions(req, together, limit) if together is not None else []
        if found:
            groups.append(ComentionGroup(facet.name, facet.label, found))
    return groups


# Fields the search form shows itself (the date range has inputs by the histogram), or that a new
# query resets.
NOT_HIDDEN = ("q", "sort", "page", "date_from", "date_to")


@dataclass(frozen=True)
class StoryLine:
    """Under a result that stands for several copies: "1 of 6 copies in 5 publications, first
    printed 26 November 2008 in X", linking to every copy."""

    copies: int
    publications: int
    first_published: dt.date | None
    first_publication: str | None
    url: str  # the query string listing every copy, earliest first


def story_line(req: SearchRequest, hit: Hit, facts: StoryFacts | None) -> StoryLine | None:
    """The line for a folded result whose story has other copies (None otherwise)."""
    if not req.folded or facts is None or facts.copies < 2:
        return None
    # The query stays, so that each copy shows where it says what was searched for; the
    # filters go (the copies are in other publications, on other days).
    every_copy = SearchRequest(q=req.q, story=facts.id, copies="all", sort="oldest")
    return StoryLine(
        facts.copies,
        facts.publications,
        facts.first_published,
        facts.first_publication,
        with_pairs(every_copy),
    )


def copies_switch(response: Response) -> tuple[str, str] | None:
    """(label, query string) of the link between one result per story and every document;
    None when no result has copies."""
    req = response.request
    if req.folded:
        if response.documents == response.total:
            return None
        return "Show every copy", with_pairs(replace(req, copies="all"))
    return "One result per story", with_pairs(replace(req, copies="fold", story=None))


def counts_switch(response: Response) -> tuple[str, str, str] | None:
    """(what the facets count now, label and query string of the other way) when the matching
    documents include copies; None otherwise."""
    if response.documents == response.total and response.request.folded:
        return None
    req = response.request
    if req.counts_stories:
        other = "documents" if req.folded else None  # with copies=all, the default is documents
        return "stories", "count documents", with_pairs(replace(req, counts=other))
    other = None if req.folded else "stories"
    return "documents", "count stories", with_pairs(replace(req, counts=other))


@dataclass(frozen=True)
class PageNotice:
    """A notice as the page shows it: its text, and a link that acts on it (None: no link)."""

    text: str
    link_label: str | None = None
    link_url: str | None = None


def page_notices(response: Response, story_copies: int = 0) -> list[PageNotice]:
    """The response's notices; one about a word that shares its stem with other words links to
    the same search with that word in quotes; then :func:`_story_notice`."""
    req = response.request
    links = {}
    for shared in response.shared_stems:
        quoted = with_word_quoted(req.q, shared.word)
        url = with_pairs(replace(req, q=quoted, page=1))
        links[shared_stem_notice(shared)] = (f"Search {quoted}", url)
    notices = [PageNotice(text, *links.get(text, (None, None))) for text in response.notices]
    story = _story_notice(response, story_copies)
    return [*notices, story] if story else notices


def _story_notice(response: Response, story_copies: int) -> PageNotice | None:
    """On a search narrowed to one story of ``story_copies`` copies, when the query or a filter
    finds fewer (an edited copy may lack the words searched for): how many, linking to them all.
    Not without a query or a filter: then the counts differ only while the index lags."""
    req = response.request
    narrowed = req.q.strip() or any(
        key in FILTER_PARAMS and key != "story" for key, _ in to_params(req)
    )
    if req.story is None or not narrowed or story_copies < 2 or response.documents >= story_copies:
        return None
    verb = "matches" if response.documents == 1 else "match"
    return PageNotice(
        f"{response.documents:,} of this story\u2019s {story_copies:,} copies {verb} the search.",
        f"Show all {story_copies:,} copies",
        with_pairs(SearchRequest(story=req.story, copies="all", sort="oldest")),
    )


def search_context(
    response: Response,
    count: Callable[[str], int],
    stories: Mapping[int, StoryFacts] | None = None,
    story_title: str = "",
    story_copies: int = 0,
) -> dict[str, object]:
    """Everything the search page's template shows for a response (``count``: how many
    documents another query string finds, for the no-results help; ``stories``: the facts of
    the hits' stories by hit id, ``archive.stories.facts_for_hits``)."""
    panels = value_panels(response)
    stories = stories or {}
    context: dict[str, object] = {
        "response": response,
        "results": [
            (hit, story_line(response.request, hit, stories.get(hit.id))) for hit in response.hits
        ],
        "copies_switch": copies_switch(response),
        "counts_switch": counts_switch(response),
        # Filters ride along as hidden inputs, so a new query keeps them.
        "filter_params": [
            pair for pair in to_params(response.request) if pair[0] not in NOT_HIDDEN
        ],
        "value_panels": panels,
        "filter_summary": filter_summary(panels),
        "facet_params": facet_search_params(response.request),
        "histogram": histogram(response),
        "no_results": no_results(response, count, story_title),
        "chips": chips(response, story_title),
        "page_notices": page_notices(response, story_copies),
        "story_title": story_title,
        "clear_url": clear_filters_url(response),
        "pages": pagination(response),
        "sort_options": sort_options(response),
        "first_page_url": page_url(response, 1),
    }
    if response.suggestion:
        context["suggestion_url"] = with_pairs(replace(response.request, q=response.suggestion.q))
    return context
