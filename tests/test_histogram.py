"""The date facet as a histogram: `presentation.histogram` (bars, empty years, months, decades,
axis labels, links) and how the search page renders it (SVG links, date inputs, htmx)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from archive import presentation, search
from archive.presentation import MAX_TICKS, histogram
from archive.search import SearchRequest

pytestmark = pytest.mark.usefixtures("search_backend")

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def years(seeds, make_document):
    """Documents in 2003, 2005 (x3) and 2008 (x2, March and November), one undated; the seeds
    are in 2025."""
    dates = [
        dt.date(2003, 6, 1),
        dt.date(2005, 1, 2),
        dt.date(2005, 2, 3),
        dt.date(2005, 2, 4),
        dt.date(2008, 3, 5),
        dt.date(2008, 11, 26),
    ]
    for i, published in enumerate(dates):
        # Bodies of their own: one text twice within days would be one story printed twice.
        make_document(title=f"Story {i}", body=f"Karachi news {i}", published=published)
    make_document(title="Undated story", body="Karachi news undated")


def run(**params) -> search.SearchResponse:
    return search.search(SearchRequest(**params))


def test_one_bar_per_year_with_empty_years_between(years):
    h = histogram(run())
    assert h.level == "year"
    assert h.heading == "2003–2025"
    assert [bar.label for bar in h.bars] == [str(y) for y in range(2003, 2026)]
    counts = {bar.label: bar.count for bar in h.bars}
    assert (counts["2003"], counts["2004"], counts["2005"], counts["2008"], counts["2025"]) == (
        1,
        0,
        3,
        2,
        2,
    )
    by_label = {bar.label: bar for bar in h.bars}
    # A bar with documents drills into its year; an empty one is not a link.
    assert by_label["2005"].url == "?year=2005"
    assert by_label["2004"].url == ""
    assert by_label["2005"].description == "2005: 3 documents"
    assert by_label["2003"].description == "2003: 1 document"
    assert by_label["2004"].description == "2004: no documents"
    # Heights: the tallest bar fills the chart (less room for the focus ring), none invisible.
    assert by_label["2005"].height == 96
    assert 3 <= by_label["2003"].height < by_label["2008"].height < 96
    assert by_label["2004"].height == 0
    assert (by_label["2003"].start, by_label["2003"].end) == ("2003-01-01", "2003-12-31")
    assert h.width == 23 * presentation.BAR_UNITS
    # Undated documents are a separate link, as before.
    assert (h.undated.label, h.undated.count, h.undated.url) == ("Undated", 1, "?year=undated")


def test_a_chosen_year_shows_its_twelve_months(years):
    h = histogram(run(q="karachi", year=2008))
    assert h.level == "month"
    assert h.heading == "2008 by month"
    assert [bar.label for bar in h.bars] == list("JFMAMJJASOND")
    assert [bar.count for bar in h.bars] == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0]
    march, november = h.bars[2], h.bars[10]
    assert march.url == "?q=karachi&month=2008-03"
    assert november.description == "November 2008: 1 document"
    assert (november.start, november.end) == ("2008-11-01", "2008-11-30")
    assert h.bars[1].end == "2008-02-29"
    assert h.up_url == "?q=karachi"
    # A range picked on months stays within the year.
    assert h.range_url == "?q=karachi&year=2008"


def test_a_chosen_month_is_selected_and_its_bar_removes_it(years):
    h = histogram(run(year=2008, month=11))
    selected = [bar for bar in h.bars if bar.selected]
    assert [bar.label for bar in selected] == ["N"]
    assert selected[0].url == "?year=2008"
    # The other months stay visible with their counts (the month facet ignores its own filter).
    assert h.bars[2].count == 1 and h.bars[2].url == "?month=2008-03"


def test_the_range_url_drops_dates_and_keeps_everything_else(years):
    response = run(
        q="karachi",
        persons=("Madhukar Gupta",),
        date_from=dt.date(2004, 1, 1),
        date_to=dt.date(2009, 1, 1),
        sort="oldest",
        page=2,
    )
    h = histogram(response)
    assert h.range_url == "?q=karachi&person=Madhukar+Gupta&sort=oldest"
    assert (h.date_from, h.date_to) == ("2004-01-01", "2009-01-01")


def test_a_date_range_zooms_the_bars_to_the_years_it_holds(years):
    h = histogram(run(date_from=dt.date(2004, 1, 1), date_to=dt.date(2008, 12, 31)))
    assert [bar.label for bar in h.bars] == ["2005", "2006", "2007", "2008"]
    assert h.bars[0].url == "?year=2005&date_from=2004-01-01&date_to=2008-12-31"


def test_a_long_span_has_round_axis_labels_that_fit(make_document):
    for year in (1980, 1981, 1990, 2024, 2025):
        make_document(title=f"Y{year}", published=dt.date(year, 5, 5))
    h = histogram(run())
    assert len(h.bars) == 46
    assert [t.label for t in h.ticks] == ["1980", "1990", "2000", "2010", "2020"]
    assert len(h.ticks) <= MAX_TICKS
    assert h.ticks[0].align == "start" and h.ticks[0].left == pytest.approx(100 / 92, abs=1e-3)
    assert all(t.align == "middle" for t in h.ticks[1:])


@pytest.mark.parametrize(
    ("span", "labels"),
    [
        ((2008, 2008), ["2008"]),
        ((2005, 2010), ["2005", "2006", "2007", "2008", "2009", "2010"]),
        ((2005, 2011), ["2006", "2008", "2010"]),
        ((2008, 2025), ["2010", "2015", "2020", "2025"]),
    ],
)
def test_axis_labels(make_document, span, labels):
    for year in span:
        make_document(title=f"Y{year}", published=dt.date(year, 1, 1))
    assert [t.label for t in histogram(run()).ticks] == labels


def test_a_very_long_span_becomes_decades_that_pick_a_range(make_document):
    for year in (1850, 1851, 2020):
        make_document(title=f"Y{year}", published=dt.date(year, 1, 1))
    h = histogram(run())
    assert h.level == "decade"
    assert len(h.bars) == 18  # the 1850s to the 2020s
    first = h.bars[0]
    assert (first.name, first.count) == ("the 1850s", 2)
    assert first.url == "?date_from=1850-01-01&date_to=1859-12-31"
    assert h.bars[1].url == ""
    assert h.hint == "Click a decade to see its years."


def test_no_dated_documents(make_document):
    make_document(title="Undated")
    h = histogram(run())
    assert h.bars == [] and h.undated.count == 1


def test_without_facets_there_is_no_histogram(years):
    assert histogram(run(with_facets=False)) is None


# --- On the page -------------------------------------------------------------------------------


def test_the_page_draws_accessible_svg_bars_that_are_links(client, years):
    html = client.get("/", {"q": "karachi"}).content.decode()
    svg = html[html.index('<svg class="histogram__chart"') : html.index("</svg>")]
    assert 'role="group" aria-label="Documents per year, 2003–2008"' in svg
    bar = re.search(r'<a class="histogram__bar"[^>]*aria-label="2005: 3 documents"[^>]*>', svg)
    assert bar, svg[:500]
    assert 'href="/?q=karachi&amp;year=2005"' in bar.group(0)
    assert 'hx-get="/?q=karachi&amp;year=2005"' in bar.group(0)
    assert 'data-start="2005-01-01"' in bar.group(0) and 'data-end="2005-12-31"' in bar.group(0)
    assert "<title>2005: 3 documents</title>" in svg
    # Empty years are drawn (a stub), hidden from screen readers, and not links.
    assert re.search(r'<g class="histogram__bar is-empty" aria-hidden="true">\s*<title>2004', svg)
    # Numbers are not localised ("1,000") inside SVG coordinates.
    assert not re.search(r'(x|y|width|height)="[\d.]*,\d', svg)
    # Axis labels are SVG text placed in percent: no style attribute (the CSP forbids them).
    axis = html[html.index('<svg class="histogram__axis"') :]
    axis = axis[: axis.index("</svg>")]
    assert re.findall(r'<text x="([\d.]+)%"[^>]*>(\d+)</text>', axis)[0] == ("8.333", "2003")
    histogram_html = html[html.index('<div class="histogram') : html.index("histogram__dates")]
    assert "style=" not in histogram_html
    assert 'data-range-url="/?q=karachi"' in html
    assert "Click a year to see its months." in html
    assert 'class="histogram__range" aria-pressed="false"' in html


def test_the_date_inputs_carry_the_range_and_are_not_repeated_hidden(client, years):
    html = client.get(
        "/", {"q": "karachi", "date_from": "2004-01-01", "date_to": "2008-12-31"}
    ).content.decode()
    assert '<input type="date" name="date_from" value="2004-01-01"' in html
    assert '<input type="date" name="date_to" value="2008-12-31"' in html
    # The search form's hidden filters leave them out (the facet boxes' forms carry them).
    assert '<input type="hidden" name="date_from" value="2004-01-01">' not in html
    assert '<input type="hidden" name="date_from" value="2004-01-01" form="facet-form-person">' in (
        html
    )
    assert "5 results" in html
    assert html.count('class="chip"') == 2  # From and To, each removable


def test_a_form_submission_with_the_date_inputs_redirects_to_the_clean_url(client, years):
    response = client.get("/", {"q": "karachi", "date_from": "2005-01-01", "date_to": ""})
    assert response.status_code == 302
    assert response["Location"] == "/?q=karachi&date_from=2005-01-01"


def test_the_htmx_partial_has_the_histogram(client, years):
    html = client.get("/", {"year": "2008"}, **HTMX).content.decode()
    assert "2008 by month" in html
    assert 'aria-label="March 2008: 1 document"' in html
    assert 'href="/" hx-get="/"' in html.replace(' data-focus-key="bar:up"', "")  # all years


def test_year_month_and_undated_parameters_keep_working(client, years):
    assert "2 documents match the filters" in client.get("/", {"year": "2008"}).content.decode()
    html = client.get("/", {"month": "2008-11"}).content.decode()
    assert "1 document matches the filters" in html
    html = client.get("/", {"year": "undated"}).content.decode()
    assert "1 document matches the filters" in html
    assert re.search(
        r'class="facet__value is-selected"[^>]*>\s*<span[^>]*></span>\s*'
        r'<span class="facet__label">Undated</span>',
        html,
    )


def test_no_date_inputs_where_no_document_is_dated_unless_a_range_is_chosen(client, make_document):
    """An archive of undated files (the BBC corpus) showed From/To inputs and Apply under "No
    dated documents", which could only lead to no results; a chosen range keeps its inputs,
    to change it."""
    make_document(title="Undated one", body="Harbour pilots met.")
    html = client.get("/", {"q": "harbour"}).content.decode()
    assert "No dated documents" in html and 'name="date_from"' not in html
    html = client.get("/", {"q": "harbour", "date_from": "2004-01-01"}).content.decode()
    assert '<input type="date" name="date_from" value="2004-01-01"' in html
