"""Searching within a facet: `search.facet_values` (each backend's counting) and the
`/facets/<name>` endpoint the facet boxes call (htmx partial, or a page of its own without JS)."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest

from archive import search
from archive.search import FACET_LIMIT, SearchRequest
from archive.search.facets import PersonFacet, fold
from archive.search.whoosh.counting import FacetTables, ValueColumn, count

pytestmark = pytest.mark.usefixtures("search_backend")

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def crowd(make_document):
    """More persons than a facet lists: 60 "Minor" persons once each, and a few frequent ones."""
    minors = tuple(f"Minor Person {i:02d}" for i in range(60))
    make_document(title="Crowd", body="Karachi crowd", persons=minors, publication="Dawn")
    for i in range(3):
        make_document(
            title=f"Zardari {i}",
            body="Karachi speech",
            persons=("Asif Ali Zardari", "Benazir Bhutto"),
            publication="Reuters",
            published=dt.date(2008, 1 + i, 1),
        )
    make_document(
        title="José", body="Lahore visit", persons=("José Martí", "Benazir Bhutto"), publication=""
    )
    return minors


def values(result) -> list[tuple[str, int]]:
    return [(v.value, v.count) for v in result.values]


def test_the_page_lists_only_the_top_values_but_a_search_finds_the_others(crowd):
    page = search.search(SearchRequest())
    assert page.facets["person"].truncated
    assert len(page.facets["person"].values) == FACET_LIMIT
    listed = {v.value for v in page.facets["person"].values}
    hidden = [name for name in crowd if name not in listed]
    assert hidden, "some persons must be beyond the facet limit for this test to mean anything"

    found = search.facet_values(SearchRequest(), "person", hidden[-1].upper())
    assert values(found) == [(hidden[-1], 1)]
    assert not found.truncated


def test_matching_is_a_substring_ignoring_case_and_accents(crowd):
    assert values(search.facet_values(SearchRequest(), "person", "jose")) == [("José Martí", 1)]
    assert values(search.facet_values(SearchRequest(), "person", "MARTI")) == [("José Martí", 1)]
    # Substring, not only a prefix; most frequent first.
    assert values(search.facet_values(SearchRequest(), "person", "ar")) == [
        ("Asif Ali Zardari", 3),
        ("José Martí", 1),
    ]
    assert search.facet_values(SearchRequest(), "person", "nobody-like-this").values == []


def test_an_empty_text_lists_all_values_up_to_the_limit(crowd):
    result = search.facet_values(SearchRequest(), "person", "", limit=100)
    assert len(result.values) == 63
    assert not result.truncated
    assert result.values[0].value == "Benazir Bhutto"  # 4 documents
    limited = search.facet_values(SearchRequest(), "person", "minor", limit=5)
    assert len(limited.values) == 5 and limited.truncated


def test_counts_are_those_of_the_current_search(crowd):
    # Only the documents the query and the other filters allow are counted.
    assert values(search.facet_values(SearchRequest(q="karachi"), "person", "bhutto")) == [
        ("Benazir Bhutto", 3)
    ]
    assert (
        values(search.facet_values(SearchRequest(publications=("Reuters",)), "person", "minor"))
        == []
    )
    assert values(search.facet_values(SearchRequest(year=2008, month=2), "person", "zardari")) == [
        ("Asif Ali Zardari", 1)
    ]


def test_the_facet_own_filter_is_ignored_unless_within_selection(crowd):
    chosen = SearchRequest(persons=("José Martí",))
    # As on the page: other persons stay visible with their counts, the chosen one is marked.
    page_like = search.facet_values(chosen, "person", "")
    assert ("Asif Ali Zardari", 3) in values(page_like)
    assert [v.value for v in page_like.values if v.selected] == ["José Martí"]
    # Within the selection: the persons mentioned together with José Martí.
    together = search.facet_values(chosen, "person", "", within_selection=True)
    assert values(together) == [("Benazir Bhutto", 1), ("José Martí", 1)]


def test_a_chosen_value_beyond_the_limit_is_listed_with_its_count(crowd):
    """The engine names and sorts only what a facet shows: the top counts, ties at the cut
    included (60 persons with one document each, listed by name), and the chosen values."""
    last = crowd[-1]
    response = search.search(SearchRequest(persons=(last,)))
    listed = values(response.facets["person"])
    assert (last, 1) in listed
    everyone = search.search(SearchRequest())
    top = values(everyone.facets["person"])
    assert top[:2] == [("Benazir Bhutto", 4), ("Asif Ali Zardari", 3)]
    assert top[2:] == [(name, 1) for name in sorted([*crowd, "José Martí"])][: len(top) - 2]


def test_selected_values_that_match_are_kept(crowd):
    chosen = SearchRequest(q="lahore", persons=("Asif Ali Zardari",))
    result = search.facet_values(chosen, "person", "zard")
    assert [(v.value, v.count, v.selected) for v in result.values] == [
        ("Asif Ali Zardari", 0, True)
    ]


def test_publications_and_the_unknown_publication(crowd):
    assert values(search.facet_values(SearchRequest(), "publication", "REU")) == [("Reuters", 3)]
    unknown = search.facet_values(SearchRequest(), "publication", "unknown")
    assert [(v.value, v.label, v.count) for v in unknown.values] == [("", "Unknown publication", 1)]


def test_only_value_facets_can_be_searched(crowd):
    assert search.SEARCHABLE_FACETS == ("person", "organisation", "place", "publication")
    with pytest.raises(KeyError):
        search.facet_values(SearchRequest(), "year", "2008")


def test_fold_ignores_case_accents_and_spacing():
    assert fold("  José   MARTÍ ") == "jose marti"
    assert fold("Straße") == "strasse"


def test_matching_within_a_large_facet():
    """100,000 documents with 3 persons each among 30,000 names: one search within the facet is
    a bincount plus a pass over the folded names (cached per index generation). The embedded
    backend's counting; how fast it is is measured in bench/, not asserted here."""
    rng = np.random.default_rng(7)
    size, names = 100_000, 30_000
    values_ = tuple(f"Name{i} Surname{i % 977}" for i in range(names))
    docs = np.repeat(np.arange(size, dtype=np.int32), 3)
    ords = rng.integers(0, names, size=size * 3).astype(np.int32)
    column = ValueColumn(values_, docs, ords, {v: i for i, v in enumerate(values_)})
    tables = FacetTables(
        size=size,
        live=np.ones(size, dtype=bool),
        columns={"person": column, "publication": column},
        day_key=np.zeros(size, dtype=np.int32),
    )
    facet, mask, request = PersonFacet(), np.ones(size, dtype=bool), SearchRequest()
    narrow = count(facet, tables, mask, request, "surname97", FACET_LIMIT)
    broad = count(facet, tables, mask, request, "a", FACET_LIMIT)  # all 30,000 match
    assert narrow.values and all("Surname97" in v.value for v in narrow.values)
    assert len(broad.values) == FACET_LIMIT and broad.truncated
    counts = [v.count for v in broad.values]
    assert counts == sorted(counts, reverse=True)


# --- The endpoint ---------------------------------------------------------------------------


def test_the_endpoint_answers_htmx_with_the_list_alone(client, crowd):
    response = client.get(
        "/facets/person", {"facet_q": "bhutto", "q": "karachi", "sort": "oldest"}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<!doctype html>" not in html
    assert 'id="facet-values-person"' in html
    assert 'data-summary="1 person matches “bhutto”."' in html
    # A value's link toggles it in the current search, keeping the query and the sort order.
    assert 'href="/?q=karachi&amp;person=Benazir+Bhutto&amp;sort=oldest"' in html
    assert re.search(r'<span class="facet__count">3</span>', html)
    assert "Asif Ali Zardari" not in html
    assert "Vary" in response and "HX-Request" in response["Vary"]


def test_the_endpoint_is_a_page_of_its_own_without_javascript(client, crowd):
    response = client.get("/facets/person", {"facet_q": "minor person 5", "q": "karachi"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<!doctype html>" in html
    assert "People matching “minor person 5”" in html
    # The box is a plain GET form that carries the search along.
    assert re.search(r'<form[^>]*id="facet-form-person"[^>]*action="/facets/person"', html)
    assert '<input type="hidden" name="q" value="karachi" form="facet-form-person">' in html
    assert html.count('class="facet__value"') == 10
    assert 'href="/?q=karachi"' in html  # back to the search
    assert "hx-disable" in html  # the links there are plain links, even with JavaScript


def test_the_endpoint_lists_nothing_helpfully(client, crowd):
    html = client.get("/facets/publication", {"facet_q": "guardian"}, **HTMX).content.decode()
    assert "No publications match “guardian” in these results." in html


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/facets/year", {"facet_q": "2008"}, 404),
        ("/facets/nope", {}, 404),
        ("/facets/person", {"facet_q": "x", "page": "0"}, 400),
        ("/facets/person", {"facet_q": "x", "date_from": "2008-02-30"}, 400),
        ("/facets/person", {"facet_q": "x" * 5000}, 200),
        ("/facets/person", {"facet_q": "\x00<script>"}, 200),
    ],
)
def test_the_endpoint_refuses_bad_input_without_a_500(client, crowd, path, params, status):
    response = client.get(path, params, **HTMX)
    assert response.status_code == status
    assert "<script>" not in response.content.decode()


def test_the_search_page_has_a_box_per_value_facet(client, crowd):
    html = client.get("/", {"q": "karachi", "person": "Benazir Bhutto"}).content.decode()
    for name in ("person", "publication"):
        assert f'<label class="visually-hidden" for="facet-q-{name}">' in html
        assert f'hx-get="/facets/{name}"' in html
        # The box's fields belong to the facet's own form, outside the search form.
        assert re.search(rf'<form id="facet-form-{name}"[^>]*action="/facets/{name}"', html)
        assert html.index(f'<form id="facet-form-{name}"') > html.index("</form>")
    assert (
        '<input type="hidden" name="person" value="Benazir Bhutto" form="facet-form-person">'
        in html
    )
    # The top ten, then "Show more" up to the facet limit.
    assert "Show more people" in html
