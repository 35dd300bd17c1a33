"""Organisations and places as facets, everywhere persons are: filters, counts, chips, the facet
search, the JSON API, the exports, the feed and the query language, on a real index (the
documents' organisations and places reach it through the outbox)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest
from django.core.management import call_command

from archive import search
from archive.models import Organisation, OrganisationAlias
from archive.search import SearchRequest

HTMX = {"HTTP_HX_REQUEST": "true"}
ATOM = "{http://www.w3.org/2005/Atom}"
EU, UN = "European Union", "United Nations"


@pytest.fixture
def world(make_entity_document):
    """Four documents: two mention the EU, two the UN (one both), two London."""
    return {
        "summit": make_entity_document(
            title="Summit in London",
            body="Leaders met in London for the summit on trade.",
            persons=("Gordon Brown",),
            organisations=(EU, UN),
            places=("London",),
            publication="Reuters",
            published=dt.date(2008, 1, 5),
        ),
        "talks": make_entity_document(
            title="Trade talks",
            body="Trade talks went on in Brussels.",
            organisations=(EU,),
            places=("Brussels",),
            publication="BBC",
            published=dt.date(2008, 2, 9),
        ),
        "report": make_entity_document(
            title="A report on refugees",
            body="The report was published in New York and discussed in London.",
            organisations=(UN,),
            places=("New York", "London"),
            publication="Reuters",
            published=dt.date(2009, 3, 1),
        ),
        "local": make_entity_document(
            title="Local news", body="Nothing international today.", publication="Dawn"
        ),
    }


def values(facet) -> list[tuple[str, int, bool]]:
    return [(v.value, v.count, v.selected) for v in facet.values]


def titles(response) -> set[str]:
    return {hit.title for hit in response.hits}


# --- The engine --------------------------------------------------------------------------------


def test_facets_count_organisations_and_places(world):
    response = search.search(SearchRequest())
    assert values(response.facets["organisation"]) == [(EU, 2, False), (UN, 2, False)]
    assert values(response.facets["place"]) == [
        ("London", 2, False),
        ("Brussels", 1, False),
        ("New York", 1, False),
    ]
    summit = next(hit for hit in response.hits if hit.title == "Summit in London")
    assert set(summit.organisations) == {EU, UN}
    assert summit.places == ("London",)
    assert summit.persons == ("Gordon Brown",)


def test_filters_combine_like_the_persons(world):
    def found(**filters):
        return titles(search.search(SearchRequest(filters=filters)))

    assert found(organisation=(EU,)) == {"Summit in London", "Trade talks"}
    # Several values of one facet: OR; different facets: AND.
    assert found(organisation=(EU, UN)) == {
        "Summit in London",
        "Trade talks",
        "A report on refugees",
    }
    assert found(organisation=(EU,), place=("London",)) == {"Summit in London"}
    assert found(place=("New York",), publication=("Reuters",)) == {"A report on refugees"}
    assert found(place=("Atlantis",)) == set()

    # Each facet is counted without its own filter, with the others'.
    response = search.search(SearchRequest(filters={"organisation": (EU,)}))
    assert values(response.facets["organisation"]) == [(EU, 2, True), (UN, 2, False)]
    assert values(response.facets["place"]) == [("Brussels", 1, False), ("London", 1, False)]
    assert [(v.value, v.count) for v in response.facets["person"].values] == [("Gordon Brown", 1)]


def test_the_request_holds_every_value_facet_generically():
    request = SearchRequest(persons=("A",), filters={"place": ("London",)})
    assert request.filters == {"person": ("A",), "place": ("London",)}
    assert request.persons == ("A",) and request.publications == ()
    assert request.with_filter("place", ()).filters == {"person": ("A",)}
    with pytest.raises(TypeError):
        SearchRequest(filters={"places": ("London",)})  # facets are named in the singular


def test_searching_within_the_facets(world):
    found = search.facet_values(SearchRequest(), "organisation", "UNION")
    assert values(found) == [(EU, 2, False)]
    found = search.facet_values(SearchRequest(filters={"organisation": (UN,)}), "place", "lon")
    assert values(found) == [("London", 2, False)]
    assert values(search.facet_values(SearchRequest(), "place", "york")) == [("New York", 1, False)]


# --- The query language ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ('organisation:"European Union"', {"Summit in London", "Trade talks"}),
        ("organisation:union", {"Summit in London", "Trade talks"}),
        ("organisation:NATIONS", {"Summit in London", "A report on refugees"}),
        ("place:london", {"Summit in London", "A report on refugees"}),
        ('place:"new york"', {"A report on refugees"}),
        ('place:london NOT organisation:"european union"', {"A report on refugees"}),
        ("trade organisation:union", {"Summit in London", "Trade talks"}),
        ("place:atlantis", set()),
    ],
)
def test_the_query_language_names_organisations_and_places(world, q, expected):
    assert titles(search.search(SearchRequest(q=q, page_size=100))) == expected


# --- The page ----------------------------------------------------------------------------------


def test_the_page_has_organisation_and_place_panels_under_the_people(client, world):
    html = client.get("/").content.decode()
    positions = [
        html.index(f'<h2 id="facet-{name}" class="facet__title">{label}</h2>')
        for name, label in [
            ("person", "People"),
            ("organisation", "Organisations"),
            ("place", "Places"),
            ("publication", "Publications"),
        ]
    ]
    assert positions == sorted(positions)
    assert "Filter by person, organisation, place, publication or date" in html
    # Each value toggles its filter; the boxes search within the facet.
    assert 'href="/?organisation=European+Union"' in html
    assert 'href="/?place=New+York"' in html
    for name in ("organisation", "place"):
        assert re.search(rf'<form id="facet-form-{name}" action="/facets/{name}"', html)
        assert f'id="facet-q-{name}"' in html
        assert f'id="facet-values-{name}"' in html
    # A hit lists its organisations and places, each a link to the documents that mention it.
    assert '<a class="tag tag--link" href="/?place=Brussels"' in html


def test_chips_and_toggles_of_organisation_and_place_filters(client, world):
    html = client.get("/", {"q": "trade", "organisation": EU, "place": "London"}).content.decode()
    assert "1 result for “trade”" in html
    chips = re.findall(r'<a class="chip" href="([^"]*)"[^>]*\s+aria-label="([^"]*)"', html)
    assert chips == [
        ("/?q=trade&amp;place=London", "Remove filter Organisation: European Union"),
        ("/?q=trade&amp;organisation=European+Union", "Remove filter Place: London"),
    ]
    # Adding a second value keeps the first (OR); the selected one removes itself.
    assert (
        'href="/?q=trade&amp;organisation=European+Union&amp;organisation=United+Nations&amp;place=London"'
        in html
    )
    assert 'href="/?q=trade&amp;organisation=European+Union"' in html
    # The filters ride along as hidden inputs.
    assert '<input type="hidden" name="organisation" value="European Union">' in html
    assert '<input type="hidden" name="place" value="London">' in html
    assert 'href="/?q=trade"' in html  # clear all filters


def test_nothing_found_offers_to_drop_an_organisation_or_a_place(client, world):
    html = client.get("/", {"organisation": EU, "place": "New York"}).content.decode()
    assert "Without organisation “European Union”" in html
    assert "Without place “New York”" in html


def test_the_facet_search_endpoints(client, world):
    response = client.get("/facets/organisation", {"facet_q": "nations", "q": "london"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="facet-values-organisation"' in html
    assert 'data-summary="1 organisation matches “nations”."' in html
    assert 'href="/?q=london&amp;organisation=United+Nations"' in html
    assert EU not in html

    page = client.get("/facets/place", {"facet_q": "o", "organisation": UN}).content.decode()
    assert "<!doctype html>" in page
    assert "Places matching “o”" in page
    assert (
        '<input type="hidden" name="organisation" value="United Nations" form="facet-form-place">'
        in page
    )
    assert re.findall(r'<span class="facet__label">([^<]*)</span>', page) == ["London", "New York"]


def test_an_alias_filters_by_its_organisation(client, world):
    OrganisationAlias.objects.create(name="EU", organisation=Organisation.objects.get(name=EU))
    data = client.get("/api/search", {"organisation": "EU"}).json()
    assert data["total"] == 2
    first = data["facets"]["organisation"][0]
    assert (first["value"], first["selected"]) == (EU, True)


def test_the_document_page_lists_organisations_and_places(client, world):
    html = client.get(world["report"].get_absolute_url()).content.decode()
    assert "Organisations mentioned" in html and "Places mentioned" in html
    assert (
        '<a class="tag tag--link" href="/?organisation=United+Nations">United Nations</a>' in html
    )


# --- The API, the exports, the feed ------------------------------------------------------------


def test_the_api_takes_and_gives_organisations_and_places(client, world):
    data = client.get("/api/search", {"organisation": [EU, UN], "place": "London"}).json()
    assert data["total"] == 2
    for result in data["results"]:
        assert {"persons", "organisations", "places"} <= set(result)
    by_title = {r["title"]: r for r in data["results"]}
    assert sorted(by_title["A report on refugees"]["places"]) == ["London", "New York"]
    assert by_title["A report on refugees"]["organisations"] == [UN]
    assert {"person", "organisation", "place", "publication", "year"} <= set(data["facets"])
    assert data["facets"]["organisation"] == [
        {"value": UN, "label": UN, "count": 2, "selected": True},
        {"value": EU, "label": EU, "count": 1, "selected": True},
    ]
    assert data["facets"]["place"][0] == {
        "value": "London",
        "label": "London",
        "count": 2,
        "selected": True,
    }
    too_many = client.get("/api/search", {"place": [f"P{i}" for i in range(51)]})
    assert too_many.status_code == 400 and "place" in too_many.json()["error"]


def test_exports_have_organisation_and_place_columns(client, world):
    response = client.get("/export.csv", {"place": "London", "sort": "oldest"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    header = response.content.decode("utf-8-sig").splitlines()[0].split(",")
    assert header.index("persons") < header.index("organisations") < header.index("places")
    assert [row["title"] for row in rows] == ["Summit in London", "A report on refugees"]
    assert sorted(rows[0]["organisations"].split("; ")) == [EU, UN]
    assert sorted(rows[1]["places"].split("; ")) == ["London", "New York"]

    data = json.loads(client.get("/export.json", {"organisation": EU}).content)
    assert data["parameters"] == {"organisation": [EU]}
    assert {r["title"] for r in data["results"]} == {"Summit in London", "Trade talks"}
    talks = next(r for r in data["results"] if r["title"] == "Trade talks")
    assert talks["organisations"] == [EU] and talks["places"] == ["Brussels"]


def test_the_feed_describes_and_categorises_them(client, world):
    response = client.get("/feeds/search", {"organisation": EU, "place": "London"})
    root = ET.fromstring(response.content)
    assert (
        root.findtext(f"{ATOM}title")
        == "Search: all documents — organisation: European Union — place: London"
    )
    (entry,) = root.findall(f"{ATOM}entry")
    terms = {c.get("term") for c in entry.findall(f"{ATOM}category")}
    assert terms == {"Gordon Brown", EU, UN, "London"}


# --- Older indexes -----------------------------------------------------------------------------


def test_an_index_without_the_fields_is_reported_and_rebuilt(
    make_entity_document, build_index_without
):
    """An index built before organisations and places were facets still answers (without
    them) and takes saves, is reported as built by an older version, and
    `rebuild_index --if-needed` rebuilds it."""
    build_index_without("organisation", "place")
    assert "'organisation', 'place'" in search.outdated_analysis()

    make_entity_document(title="Saved later", organisations=(EU,), places=("London",))
    response = search.search(SearchRequest(q="organisation:union"))
    assert response.total == 0 and response.facets["organisation"].values == []
    assert search.search(SearchRequest(q="saved")).total == 1

    out = io.StringIO()
    call_command("rebuild_index", if_needed=True, stdout=out, stderr=io.StringIO())
    assert "The index was built by an older version" in out.getvalue()
    assert search.outdated_analysis() == ""
    assert search.search(SearchRequest(q="organisation:union")).total == 1


def test_hostile_names_are_escaped_and_never_formulas(client, make_entity_document):
    script, formula = "<script>alert(1)</script>", '=HYPERLINK("http://evil")'
    document = make_entity_document(
        title="Hostile", body="Hostile names.", organisations=(script,), places=(formula,)
    )
    for html in (
        client.get("/", {"organisation": script}).content.decode(),
        client.get("/facets/organisation", {"facet_q": "script"}).content.decode(),
        client.get(document.get_absolute_url()).content.decode(),
    ):
        assert script not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    response = client.get("/export.csv", {"place": formula})
    (row,) = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
    assert row["places"] == "'" + formula
    assert row["organisations"] == script
