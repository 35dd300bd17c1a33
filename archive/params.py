"""Search parameters in URLs: reading them into a SearchRequest, and building links that change one.

The page, its htmx partial and the JSON API share these parameters, so every state of the search
page is a URL that can be bookmarked, shared and restored with the back button:

``q``; one repeatable parameter per value facet, named like it (``person``, ``organisation``,
``place``, ``publication``; empty = unknown publication), read and written by iterating
``search.VALUE_FACETS``; ``year`` (YYYY or ``undated``), ``month`` (YYYY-MM), ``date_from`` /
``date_to`` (YYYY-MM-DD), ``sort`` (relevance|newest|oldest), ``page``, ``page_size`` (1-100);
``copies`` (``all``: every document instead of one per story), ``story`` (a story's id: its
copies only), ``counts`` (stories|documents: what facets count).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from urllib.parse import urlencode

from django.http import HttpRequest, QueryDict

from archive.models import ENTITY_MODELS
from archive.search import (
    COPIES,
    COUNTS,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    SORTS,
    UNDATED,
    VALUE_FACETS,
    SearchRequest,
)

MAX_PAGE = 10_000
MAX_FILTER_VALUES = 50
DATE_PARAMS = ("year", "month", "date_from", "date_to")
# Every parameter that filters the result set (what "Clear all filters" drops).
FILTER_PARAMS = (*(facet.param for facet in VALUE_FACETS), *DATE_PARAMS, "story")
PARAM_ORDER = ("q", *FILTER_PARAMS, "copies", "counts", "sort", "page_size", "page")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# C0/C1 control characters (NUL, ESC, …): meaningless in a search, refused by XML (the Atom feed)
# and by PostgreSQL text (NUL). They separate words, so each becomes a space.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class InvalidParameter(ValueError):
    """A parameter has a value the search cannot use; the message says which and why, and
    ``params`` names the parameters at fault, so that a page can offer the same search without
    them (nothing else the user chose is lost)."""

    def __init__(self, message: str, *params: str) -> None:
        super().__init__(message)
        self.params = params


def clean_text(value: str) -> str:
    """Text from a URL with control characters replaced by spaces (see ``_CONTROL``)."""
    return _CONTROL.sub(" ", value)


def _int(params: QueryDict, name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InvalidParameter(f"“{name}” must be a whole number from {low} to {high}.", name)
    return int(raw)


def _date(params: QueryDict, name: str) -> dt.date | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            pass
    raise InvalidParameter(f"“{name}” must be a date written YYYY-MM-DD, such as 2008-11-26.", name)


def _values(params: QueryDict, name: str) -> tuple[str, ...]:
    values = tuple(dict.fromkeys(" ".join(clean_text(v).split()) for v in params.getlist(name)))
    if len(values) > MAX_FILTER_VALUES:
        raise InvalidParameter(f"At most {MAX_FILTER_VALUES} “{name}” values can be chosen.", name)
    return values


def search_request(params: QueryDict) -> SearchRequest:
    """Read a SearchRequest from query parameters; raises InvalidParameter for bad values."""
    year_raw = params.get("year", "").strip()
    undated = year_raw == UNDATED
    year = None
    if year_raw and not undated:
        if not (year_raw.isdigit() and 1 <= int(year_raw) <= 9999):
            raise InvalidParameter("“year” must be a year such as 2008, or “undated”.", "year")
        year = int(year_raw)

    month = None
    month_raw = params.get("month", "").strip()
    if month_raw:
        match = _MONTH.match(month_raw)
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
            raise InvalidParameter("“month” must be written YYYY-MM, such as 2008-11.", "month")
        if year is not None and int(match.group(1)) != year:
            raise InvalidParameter("“month” must fall in the chosen “year”.", "month")
        if undated:
            # An undated document has no month: the two together found dated documents.
            raise InvalidParameter("“month” cannot go with “year=undated”.", "month")
        year, month = int(match.group(1)), int(match.group(2))
        undated = False

    date_from, date_to = _date(params, "date_from"), _date(params, "date_to")
    if date_from and date_to and date_from > date_to:
        raise InvalidParameter(
            "The start of the date range (“From”, date_from) must not be later than its end "
            "(“To”, date_to).",
            "date_from",
            "date_to",
        )

    sort = params.get("sort", "").strip() or None
    if sort is not None and sort not in SORTS:
        raise InvalidParameter(f"“sort” must be one of: {', '.join(SORTS)}.", "sort")

    copies = params.get("copies", "").strip() or "fold"
    if copies not in COPIES:
        raise InvalidParameter(f"“copies” must be one of: {', '.join(COPIES)}.", "copies")
    counts = params.get("counts", "").strip() or None
    if counts is not None and counts not in COUNTS:
        raise InvalidParameter(f"“counts” must be one of: {', '.join(COUNTS)}.", "counts")
    story = _int(params, "story", 0, 1, 2**63 - 1) or None

    return SearchRequest(
        q=clean_text(params.get("q", "")),
        filters={facet.name: facet.read(_values(params, facet.param)) for facet in VALUE_FACETS},
        year=year,
        month=month,
        undated=undated,
        date_from=date_from,
        date_to=date_to,
        sort=sort,
        page=_int(params, "page", 1, 1, MAX_PAGE),
        page_size=_int(params, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE),
        copies=copies,
        story=story,
        counts=counts,
    )


def request_from(request: HttpRequest, ignoring: tuple[str, ...] = ()) -> SearchRequest:
    """The one way a view turns an HTTP request into a search: the page, its htmx partial, the
    facet lists, the API, the exports and the feed all call this. Raises InvalidParameter.
    ``ignoring``: parameters that do not apply to this view (an export's page), left unread."""
    params = request.GET
    if ignoring:
        params = params.copy()
        for name in ignoring:
            params.pop(name, None)
    return canonical_filters(search_request(params))


def unread_parameters_notice(request: HttpRequest) -> str | None:
    """What an API client should know of the parameters the search does not read: a misspelt
    filter (``organization=``, ``persons=``) was ignored in silence, answering with the whole
    archive. They are still ignored (a link's tracking parameters must not break a search), and
    the answer says so."""
    unread = [name for name in request.GET if name not in PARAM_ORDER]
    if not unread:
        return None
    names = ", ".join(f"“{name}”" for name in unread)
    return (
        f"Not a parameter of the search, so ignored: {names}. "
        f"The parameters are {', '.join(PARAM_ORDER)}."
    )


def canonical_filters(parsed: SearchRequest) -> SearchRequest:
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


def to_params(request: SearchRequest) -> list[tuple[str, str]]:
    """The canonical query parameters of a request (defaults left out)."""
    pairs: list[tuple[str, str]] = []
    if request.q:
        pairs.append(("q", request.q))
    for facet in VALUE_FACETS:
        pairs += [(facet.param, value) for value in facet.selected(request)]
    if request.undated:
        pairs.append(("year", UNDATED))
    elif request.month is not None and request.year is not None:
        pairs.append(("month", f"{request.year:04d}-{request.month:02d}"))
    elif request.year is not None:
        pairs.append(("year", str(request.year)))
    if request.date_from:
        pairs.append(("date_from", request.date_from.isoformat()))
    if request.date_to:
        pairs.append(("date_to", request.date_to.isoformat()))
    if request.story is not None:
        pairs.append(("story", str(request.story)))
    if not request.folded:
        pairs.append(("copies", request.copies))
    if request.counts is not None:
        pairs.append(("counts", request.counts))
    if request.sort:
        pairs.append(("sort", request.sort))
    if request.page_size != DEFAULT_PAGE_SIZE:
        pairs.append(("page_size", str(request.page_size)))
    if request.page != 1:
        pairs.append(("page", str(request.page)))
    return pairs


def querystring(pairs: list[tuple[str, str]]) -> str:
    return "?" + urlencode(pairs) if pairs else ""


def with_pairs(
    request: SearchRequest,
    remove: set[str] | None = None,
    drop: tuple[str, str] | None = None,
    add: list[tuple[str, str]] | None = None,
    keep_page: bool = False,
) -> str:
    """A query string for ``request`` changed as given: any change returns to page 1."""
    pairs = [
        (name, value)
        for name, value in to_params(request)
        if name not in (remove or set()) and (name, value) != drop
    ]
    if not keep_page:
        pairs = [(name, value) for name, value in pairs if name != "page"]
    pairs += add or []
    order = {name: i for i, name in enumerate(PARAM_ORDER)}
    pairs.sort(key=lambda pair: order.get(pair[0], len(order)))
    return querystring(pairs)
