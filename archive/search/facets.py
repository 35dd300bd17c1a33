"""The facet kinds: what the site counts, shows and filters by, whichever engine counts it.

Each facet kind is one small class (after datasette's ``facets.py``), registered in
:data:`FACETS`. It owns its URL parameter, how its selection narrows a search (described as a
:class:`ValuesChosen` or :class:`DatesChosen` that every backend knows how to apply), what it
counts (``counts_by``: a value field, years or months), how counted values become
:class:`FacetValue` s (``value``, ``label``, ``count``, ``selected``; the page adds the
``toggle_url``), how a value is toggled, how its filter shows as a chip and how it is described.
A value facet (person, organisation, place, publication) is a few names on :class:`ValueFacet`.

Where facets are counted: each backend's counting (``whoosh/counting.py``: numpy bincounts
over per-segment tables; ``sphinxql``: FACET/GROUP BY queries).
"""

from __future__ import annotations

import calendar
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archive.search.types import SearchRequest

# Values returned per facet; the page shows the first few and the rest behind "More".
FACET_LIMIT = 50
UNKNOWN_PUBLICATION = ""  # the facet value for documents with no publication
UNKNOWN_PUBLICATION_LABEL = "Unknown publication"
UNDATED = "undated"  # the year-facet value for documents with no date


def fold(text: str) -> str:
    """Text as a facet search compares it: case, accents and runs of spaces ignored."""
    decomposed = unicodedata.normalize("NFKD", " ".join(text.split()).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool = False


@dataclass(frozen=True)
class FacetResult:
    name: str
    label: str
    values: list[FacetValue]
    truncated: bool = False  # more values exist than FACET_LIMIT


@dataclass(frozen=True)
class FacetChip:
    """An active filter as its facet tells it ("Person", "Madhukar Gupta"), with the request
    that drops it (the page makes the chip's link of it)."""

    kind: str
    label: str
    without: SearchRequest


# --- What a backend applies and counts --------------------------------------------------------


@dataclass(frozen=True)
class ValuesChosen:
    """Documents carrying any of ``values`` in the exact-value ``field`` (or, with ``missing``,
    no value at all)."""

    field: str
    values: tuple[str, ...]
    missing: bool = False


@dataclass(frozen=True)
class DatesChosen:
    """Documents of one year, one month of it (``month``), or undated ones."""

    year: int | None = None
    month: int | None = None
    undated: bool = False


@dataclass(frozen=True)
class ValueCounts:
    """A value facet as a backend counts it over a set of documents: ``pairs`` of (value, count),
    most frequent first and alphabetical among equal counts, only values whose folded form
    contains the facet search's text, the first ``limit + 1`` (to tell the list was cut) and then
    any chosen values further down; ``missing``: documents with no value (when the facet has a
    value for that)."""

    pairs: list[tuple[str, int]]
    missing: int = 0


class Facet:
    """A facet kind: one class owns one filter end to end.

    - ``chosen``: the request's choice as a :class:`ValuesChosen` / :class:`DatesChosen` (the
      backend applies it), ``counts_by`` and ``result``: what the backend counts and how the
      counts become values;
    - ``toggled``: the request with one value chosen or unchosen (a value's toggle link);
    - ``chips``: the active choices, each with the request without it;
    - ``describe``: the choice in words, for feed titles ("person: Madhukar Gupta").

    The rest of the site iterates the registration list :data:`FACETS`: backends count each
    facet, ``params.py`` reads and writes the value facets' URL parameters, ``presentation.py``
    builds panels, toggle links and chips, and the API, exports and feeds list the values.
    """

    name: str = ""  # the key in a response's facets, the API and the page's panel ids
    label: str = ""  # the panel's heading
    # Filters ignored when counting this facet, so its other values stay visible.
    ignores: frozenset[str] = frozenset()
    counts_by: str = ""  # "values" (a field's values), "years" or "months"

    def applies(self, request: SearchRequest) -> bool:
        return True

    def chosen(self, request: SearchRequest) -> ValuesChosen | DatesChosen | None:
        """What the request's selection in this facet allows (None: no selection)."""
        raise NotImplementedError

    def toggled(self, request: SearchRequest, value: str, selected: bool) -> SearchRequest:
        """The request with ``value`` chosen (or, when ``selected``, no longer chosen)."""
        raise NotImplementedError

    def chips(self, request: SearchRequest) -> list[FacetChip]:
        raise NotImplementedError

    def describe(self, request: SearchRequest) -> str:
        """The request's choice in this facet, in words ("" when none)."""
        raise NotImplementedError


class ValueFacet(Facet):
    """A facet over an exact-value field of the index. Its URL parameter is named like the facet
    and repeats for several values, which combine with OR; a query names the field the same way
    (``person:gupta``: the exact name, or any name containing the words). A subclass says only
    what it is called; counting, searching within, links, chips and descriptions are here."""

    counts_by = "values"
    kind = ""  # one value's kind: chips ("Person: …") and feed titles ("person: …")
    # Each hit's list of the values, by the name the API, the exports and the Document relation
    # share ("persons"); None when a document has at most one value (a publication).
    listed_as: str | None = None
    missing_value: str | None = None  # a value standing for "no value at all"
    missing_label = ""

    @property
    def fieldname(self) -> str:
        """The index field (``schema.py``: multi-valued for persons, organisations and places,
        one value for the publication)."""
        return self.name

    @property
    def param(self) -> str:
        """The URL parameter (repeatable); also the key of ``SearchRequest.filters``."""
        return self.name

    @property
    def ignores(self) -> frozenset[str]:
        return frozenset({self.name})

    def selected(self, request: SearchRequest) -> tuple[str, ...]:
        return request.filters.get(self.name, ())

    def read(self, values: Iterable[str]) -> tuple[str, ...]:
        """The choice from the URL parameter's cleaned values: empty ones are dropped, unless the
        empty value means something (documents without a publication)."""
        return tuple(value for value in values if value or value == self.missing_value)

    def value_label(self, value: str) -> str:
        return self.missing_label if value == self.missing_value else value

    def chosen(self, request: SearchRequest) -> ValuesChosen | None:
        values = self.selected(request)
        if not values:
            return None
        missing = self.missing_value is not None and self.missing_value in values
        named = tuple(v for v in values if not (missing and v == self.missing_value))
        return ValuesChosen(self.fieldname, named, missing)

    def toggled(self, request: SearchRequest, value: str, selected: bool) -> SearchRequest:
        chosen = self.selected(request)
        values = tuple(v for v in chosen if v != value) if selected else (*chosen, value)
        return request.with_filter(self.name, values)

    def chips(self, request: SearchRequest) -> list[FacetChip]:
        return [
            FacetChip(self.kind, self.value_label(value), self.toggled(request, value, True))
            for value in self.selected(request)
        ]

    def describe(self, request: SearchRequest) -> str:
        chosen = self.selected(request)
        if not chosen:
            return ""
        return f"{self.kind.lower()}: " + ", ".join(self.value_label(v) for v in chosen)

    def result(
        self,
        counted: ValueCounts,
        request: SearchRequest,
        contains: str = "",
        limit: int = FACET_LIMIT,
    ) -> FacetResult:
        """The values a backend counted (whose folded form contains ``contains``), with the
        "no value" entry and any chosen value the search no longer finds (count 0, so it can
        still be removed)."""
        needle = fold(contains)
        chosen = set(self.selected(request))
        values = [
            FacetValue(value, value, count, value in chosen) for value, count in counted.pairs
        ]
        if (
            self.missing_value is not None
            and counted.missing
            and needle in fold(self.missing_label)
        ):
            values.append(
                FacetValue(
                    self.missing_value,
                    self.missing_label,
                    counted.missing,
                    self.missing_value in chosen,
                )
            )
        listed = {v.value for v in values}
        for value in sorted(chosen - listed):
            label = self.value_label(value)
            if needle in fold(label):
                values.append(FacetValue(value, label, 0, True))
        return _limited(self, values, chosen, limit)


class PersonFacet(ValueFacet):
    name = "person"
    label = "People"
    kind = "Person"
    listed_as = "persons"


class OrganisationFacet(ValueFacet):
    name = "organisation"
    label = "Organisations"
    kind = "Organisation"
    listed_as = "organisations"


class PlaceFacet(ValueFacet):
    name = "place"
    label = "Places"
    kind = "Place"
    listed_as = "places"


class PublicationFacet(ValueFacet):
    name = "publication"
    label = "Publications"
    kind = "Publication"
    missing_value = UNKNOWN_PUBLICATION
    missing_label = UNKNOWN_PUBLICATION_LABEL


class YearFacet(Facet):
    """Years, newest first, plus an "undated" bucket; the month facet drills into one year."""

    name = "year"
    label = "Years"
    ignores = frozenset({"year", "month"})
    counts_by = "years"

    def chosen(self, request: SearchRequest) -> DatesChosen | None:
        if request.undated:
            return DatesChosen(undated=True)
        if request.year is not None:
            return DatesChosen(year=request.year)
        return None

    def result(self, by_year: Mapping[int, int], request: SearchRequest) -> FacetResult:
        """``by_year``: documents per year, 0 standing for undated."""
        values = [
            FacetValue(str(y), str(y), int(c), request.year == y)
            for y, c in sorted(by_year.items(), reverse=True)
            if y > 0 and c
        ]
        if request.year is not None and not any(v.selected for v in values):
            values.append(FacetValue(str(request.year), str(request.year), 0, True))
        undated = int(by_year.get(0, 0))
        if undated or request.undated:
            values.append(FacetValue(UNDATED, "Undated", undated, request.undated))
        return FacetResult(self.name, self.label, values)

    def toggled(self, request: SearchRequest, value: str, selected: bool) -> SearchRequest:
        if selected:
            return replace(request, year=None, month=None, undated=False)
        if value == UNDATED:
            return replace(request, year=None, month=None, undated=True)
        return replace(request, year=int(value), month=None, undated=False)

    def chips(self, request: SearchRequest) -> list[FacetChip]:
        if request.undated:
            return [FacetChip("Date", "Undated", replace(request, undated=False))]
        if request.year is not None:
            return [FacetChip("Year", str(request.year), replace(request, year=None, month=None))]
        return []

    def describe(self, request: SearchRequest) -> str:
        if request.undated:
            return "undated"
        if request.year is not None and request.month is None:
            return f"year: {request.year}"
        return ""


class MonthFacet(Facet):
    """The months of the selected year, in calendar order."""

    name = "month"
    label = "Months"
    ignores = frozenset({"month"})
    counts_by = "months"

    def applies(self, request: SearchRequest) -> bool:
        return request.year is not None

    def chosen(self, request: SearchRequest) -> DatesChosen | None:
        if request.year is None or request.month is None:
            return None
        return DatesChosen(year=request.year, month=request.month)

    def result(self, by_month: Mapping[int, int], request: SearchRequest) -> FacetResult:
        """``by_month``: documents per month as YYYYMM (undated ones left out)."""
        values = []
        for yyyymm, count in sorted(by_month.items()):
            year, month = divmod(yyyymm, 100)
            if year != request.year or not count or yyyymm <= 0:
                continue
            values.append(
                FacetValue(
                    f"{year:04d}-{month:02d}",
                    f"{calendar.month_name[month]} {year}",
                    int(count),
                    request.month == month,
                )
            )
        return FacetResult(self.name, self.label, values)

    def toggled(self, request: SearchRequest, value: str, selected: bool) -> SearchRequest:
        if selected:
            return replace(request, month=None)  # back to the whole year
        year, month = (int(part) for part in value.split("-"))
        return replace(request, year=year, month=month, undated=False)

    def chips(self, request: SearchRequest) -> list[FacetChip]:
        if request.year is None or request.month is None or request.undated:
            return []
        label = f"{calendar.month_name[request.month]} {request.year}"
        return [FacetChip("Month", label, replace(request, month=None))]

    def describe(self, request: SearchRequest) -> str:
        if request.year is None or request.month is None or request.undated:
            return ""
        return f"month: {request.year:04d}-{request.month:02d}"


def _limited(
    facet: Facet, values: list[FacetValue], chosen: set[str], limit: int = FACET_LIMIT
) -> FacetResult:
    """The first ``limit`` values, always keeping the selected ones so they can be removed."""
    if len(values) <= limit:
        return FacetResult(facet.name, facet.label, values)
    head = values[:limit]
    head += [v for v in values[limit:] if v.value in chosen]
    return FacetResult(facet.name, facet.label, head, truncated=True)


# The registration list: every facet the site counts, shows and filters by, in the page's order
# (value facets first, under the date chart). A new facet kind is one class above, added here
# (with its index field in ``schema.py``: a multi-valued kind in ``MULTI_VALUE_FIELDS``).
FACETS: tuple[Facet, ...] = (
    PersonFacet(),
    OrganisationFacet(),
    PlaceFacet(),
    PublicationFacet(),
    YearFacet(),
    MonthFacet(),
)
FACETS_BY_NAME: dict[str, Facet] = {facet.name: facet for facet in FACETS}
VALUE_FACETS: tuple[ValueFacet, ...] = tuple(f for f in FACETS if isinstance(f, ValueFacet))
SEARCHABLE_FACETS = tuple(f.name for f in VALUE_FACETS)
# The index fields of the value facets (each backend indexes them as exact values).
VALUE_FIELDS = tuple(f.fieldname for f in VALUE_FACETS)
