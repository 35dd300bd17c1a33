"""Organisation and place pages (`/organisations/<slug>/`, `/places/<slug>/`), the same view and
template as person pages; and the dates they rely on: the span, the timeline and the order of
the latest documents count only dates stated by the sources (`SearchRequest(stated_dates=True)`).
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from archive import indexing, search
from archive.models import (
    Document,
    Organisation,
    OrganisationAlias,
    Person,
    Place,
    give_slugs,
)
from archive.search import SearchRequest
from archive.search.whoosh import index as search_index
from archive.search.whoosh import schema

EU, UN = "European Union", "United Nations"


@pytest.fixture
def world(make_entity_document):
    """The EU in five documents: three with stated dates (2008-2009), two with dates inferred
    from the text (1951, earlier than all; 2015, later than all), one undated; and one UN
    document without the EU."""
    docs = {
        "summit": make_entity_document(
            title="Summit in London",
            body="Leaders met in London.",
            persons=("Gordon Brown",),
            organisations=(EU, UN),
            places=("London",),
            publication="Reuters",
            published=dt.date(2008, 1, 5),
        ),
        "talks": make_entity_document(
            title="Trade talks",
            body="Talks went on in Brussels.",
            persons=("Gordon Brown",),
            organisations=(EU,),
            places=("Brussels",),
            publication="BBC",
            published=dt.date(2008, 2, 9),
        ),
        "budget": make_entity_document(
            title="Budget agreed",
            body="The budget was agreed in Brussels.",
            organisations=(EU,),
            places=("Brussels",),
            publication="BBC",
            published=dt.date(2009, 3, 1),
        ),
        "profile": make_entity_document(
            title="A founder's profile",
            body="Born on 20 February 1951.",
            organisations=(EU,),
            published=dt.date(1951, 2, 20),
            date_inferred=True,
        ),
        "later": make_entity_document(
            title="Looking back",
            body="Fast forward to 2015.",
            organisations=(EU,),
            places=("Brussels",),
            published=dt.date(2015, 6, 1),
            date_inferred=True,
        ),
        "undated": make_entity_document(title="Undated note", body="No date.", organisations=(EU,)),
        "report": make_entity_document(
            title="A report on refugees",
            body="Published in New York.",
            organisations=(UN,),
            places=("New York", "London"),
            publication="Reuters",
            published=dt.date(2009, 3, 1),
        ),
    }
    return docs


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def section(html: str, heading: str) -> str:
    return html[html.index(heading) :]


# --- The search layer: stated dates only ---------------------------------------------------------


def test_stated_dates_leave_inferred_dates_out_of_the_date_facets(world):
    eu = {"organisation": (EU,)}
    every = search.search(SearchRequest(filters=eu))
    years = [(v.value, v.count) for v in every.facets["year"].values]
    assert years == [("2015", 1), ("2009", 1), ("2008", 2), ("1951", 1), ("undated", 1)]
    assert every.inferred_dates == 2

    stated = search.search(SearchRequest(filters=eu, stated_dates=True))
    assert stated.total == 6 and stated.inferred_dates == 2
    # An inferred date is neither a year nor undated.
    years = [(v.value, v.count) for v in stated.facets["year"].values]
    assert years == [("2009", 1), ("2008", 2), ("undated", 1)]
    # Date filters see stated dates only.
    assert search.search(SearchRequest(filters=eu, year=1951, stated_dates=True)).total == 0
    assert search.search(SearchRequest(filters=eu, year=1951)).total == 1
    ranged = SearchRequest(filters=eu, date_from=dt.date(2009, 1, 1), stated_dates=True)
    assert [hit.title for hit in search.search(ranged).hits] == ["Budget agreed"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (
            "newest",
            [
                "Budget agreed",
                "Trade talks",
                "Summit in London",
                "Looking back",  # inferred 2015: after the stated dates
                "A founder's profile",  # inferred 1951
                "Undated note",
            ],
        ),
        (
            "oldest",
            [
                "Summit in London",
                "Trade talks",
                "Budget agreed",
                "A founder's profile",
                "Looking back",
                "Undated note",
            ],
        ),
    ],
)
def test_stated_dates_sort_inferred_dates_after_the_stated_ones(world, sort, expected):
    request = SearchRequest(filters={"organisation": (EU,)}, sort=sort, stated_dates=True)
    assert [hit.title for hit in search.search(request).hits] == expected
    # Without the flag an inferred date sorts like any other.
    every = search.search(SearchRequest(filters={"organisation": (EU,)}, sort=sort))
    assert every.hits[0].title == ("Looking back" if sort == "newest" else "A founder's profile")


def test_an_index_that_only_stores_the_flag_is_reported_and_still_answers(
    make_entity_document, monkeypatch
):
    older = schema.build_schema(index_date_inferred=False)
    make_entity_document(
        title="Inferred", organisations=(EU,), published=dt.date(1951, 1, 1), date_inferred=True
    )
    monkeypatch.setattr(search_index, "SCHEMA", older)
    indexing.rebuild()
    monkeypatch.undo()
    assert "does not index 'date_inferred'" in search.outdated_analysis()
    # Every date counts as stated, as before, until the rebuild.
    response = search.search(SearchRequest(stated_dates=True))
    assert response.total == 1 and response.inferred_dates == 0
    indexing.rebuild()
    assert search.outdated_analysis() == ""
    assert search.search(SearchRequest(stated_dates=True)).inferred_dates == 1


# --- Reaching the pages -----------------------------------------------------------------------


def test_entities_have_pages_and_by_name_routes(client, world):
    eu = Organisation.objects.get(name=EU)
    assert eu.get_absolute_url() == "/organisations/european-union/"
    assert Place.objects.get(name="New York").get_absolute_url() == "/places/new-york/"
    response = client.get("/organisations/", {"name": EU})
    assert (response.status_code, response["Location"]) == (302, "/organisations/european-union/")
    assert client.get("/places/", {"name": " London "})["Location"] == "/places/london/"
    # An alias reaches its organisation; unknown names and slugs are 404.
    OrganisationAlias.objects.create(name="EU", organisation=eu)
    assert client.get("/organisations/", {"name": "EU"})["Location"] == eu.get_absolute_url()
    assert client.get("/organisations/", {"name": "Nobody"}).status_code == 404
    assert client.get("/places/").status_code == 404
    assert client.get("/organisations/nobody/").status_code == 404
    assert client.get("/places/atlantis/").status_code == 404
    # A place's name is not an organisation's.
    assert client.get("/organisations/", {"name": "London"}).status_code == 404


def test_an_entity_inserted_in_bulk_gets_its_slug_from_the_by_name_link(client, transactional_db):
    Place.objects.bulk_create([Place(name="Bulk Town")])
    place = Place.objects.get(name="Bulk Town")
    assert place.get_absolute_url() == "/places/?name=Bulk+Town"
    assert client.get(place.get_absolute_url())["Location"] == "/places/bulk-town/"
    assert client.get("/places/bulk-town/").status_code == 200


def test_an_import_gives_every_new_entity_its_page_address(client, transactional_db, tmp_path):
    """Names an import creates in bulk have their slug at once: /persons/<slug>/ answers
    without a visit to the by-name route first. Names that slugify alike get numbered."""
    from archive import ingest
    from archive.ingest.sources import from_paths

    export = tmp_path / "export.jsonl"
    records = [
        {"title": "One", "body": "Text one.", "persons": ["Gordon Brown", "Sean O'Brien"]},
        {"title": "Two", "body": "Text two.", "persons": ["Sean OBrien", "Gordon Brown"]},
    ]
    export.write_text("".join(json.dumps(r) + "\n" for r in records))
    ingest.ingest(from_paths([export]))
    assert not Person.objects.filter(slug__isnull=True).exists()
    assert client.get("/persons/gordon-brown/").status_code == 200
    slugs = {Person.objects.get(name=n).slug for n in ("Sean O'Brien", "Sean OBrien")}
    assert slugs == {"sean-obrien", "sean-obrien-2"}
    # An archive whose entities an older import left without slugs: the address still answers,
    # and only the entity asked for is given one.
    Place.objects.bulk_create([Place(name="Old Bulk Town"), Place(name="G 20"), Place(name="Elm")])
    assert client.get("/places/old-bulk-town/").status_code == 200
    assert client.get("/places/g-20/").status_code == 200
    assert client.get("/places/no-such-town/").status_code == 404
    assert Place.objects.get(name="Elm").slug is None
    # A slug once given never changes, whoever gives it again.
    town = Place.objects.get(name="Old Bulk Town")
    assert give_slugs(Place, [town.pk]) == 0
    assert Place.objects.get(pk=town.pk).slug == "old-bulk-town"


def test_names_that_slugify_alike_get_distinct_numbered_addresses(transactional_db):
    """More names with one address base than the numbered addresses read by index: each still
    gets its own address, in a later import as in the first, and an address given before is
    kept."""
    marks = "'’.!?#$%&*+,:;=@^`|~()[]{}<>"
    names = [f"Sean O{mark}Brien" for mark in marks]
    first = Person.objects.bulk_create([Person(name=n) for n in names[:22]])
    assert give_slugs(Person, [p.pk for p in first]) == 22
    later = Person.objects.bulk_create([Person(name=n) for n in names[22:]])
    assert give_slugs(Person, [p.pk for p in later]) == len(names) - 22
    slugs = list(Person.objects.filter(name__in=names).values_list("slug", flat=True))
    assert len(set(slugs)) == len(names) > 20
    assert set(slugs) == {"sean-obrien"} | {f"sean-obrien-{n}" for n in range(2, len(names) + 1)}
    assert give_slugs(Person, [p.pk for p in first + later]) == 0


def test_pages_answer_head_requests(client, world):
    """Link checkers and uptime monitors send HEAD: every page that answers GET answers it."""
    document = Document.objects.first()
    for path in (
        "/",
        "/?q=union",
        document.get_absolute_url(),
        "/api/search?q=union",
        "/export.csv?q=union",
        "/organisations/european-union/",
        "/facets/person",
    ):
        response = client.head(path)
        assert response.status_code == 200, path
        assert response.content == b"", path


def test_facet_values_and_the_document_page_link_to_the_pages(client, world):
    html = page(client, "/")
    for path, name in [("/organisations/", EU), ("/places/", "New York")]:
        quoted = name.replace(" ", "%20")
        assert re.search(
            rf'class="facet__profile" href="{path}\?name={quoted}"[^>]*>.*?'
            rf'<span class="visually-hidden">About {name}</span>',
            html,
        )
    assert 'href="/persons/?name=Gordon%20Brown"' in html
    # Publications and the undated bar have no pages.
    assert "?name=Reuters" not in html and "?name=Undated" not in html

    html = page(client, world["report"].get_absolute_url())
    mentioned = section(html, "Organisations mentioned")
    # The name still searches; the icon beside it opens the page.
    assert '<a class="tag tag--link" href="/?organisation=United+Nations">United Nations</a>' in (
        mentioned
    )
    assert 'class="facet__profile" href="/organisations/?name=United%20Nations"' in mentioned
    assert 'class="facet__profile" href="/places/?name=New%20York"' in section(
        html, "Places mentioned"
    )


# --- The pages --------------------------------------------------------------------------------


def test_the_organisation_page(client, world):
    html = page(client, "/organisations/european-union/")
    assert '<h1 class="person__name">European Union</h1>' in html
    assert '<p class="person__kind">Organisation</p>' in html
    assert 'href="/?organisation=European+Union"><strong>6</strong> documents</a>' in html
    latest = section(html, "Latest documents")
    assert "All 6 documents →" not in latest  # all six are listed
    # Its timeline's bars open the search for the organisation and the year.
    assert 'href="/?organisation=European+Union&amp;year=2008"' in html
    assert 'aria-label="2008: 2 documents"' in html
    assert 'href="/?organisation=European+Union&amp;year=undated"' in html
    # ... styled as the page's other links, not as a search page's filter.
    assert 'class="facet__values histogram__undated histogram__undated--link"' in html


def test_the_span_and_timeline_ignore_inferred_dates_and_say_so(client, world):
    html = page(client, "/organisations/european-union/")
    header = html[html.index('<p class="person__count">') :]
    count = header[: header.index("</header>")]
    assert "3 dated, 2008–2009, 2 with dates inferred from the text, 1 undated." in count
    assert "1951" not in count and "2015" not in count
    assert (
        "The span and the timeline count only dates stated by the sources: 2 documents with "
        "dates inferred from the text are left out of them and listed after the others."
    ) in count
    assert 'aria-label="Documents per year, 2008–2009"' in html
    assert "1951: " not in html and "2015: " not in html
    # The latest documents: stated dates newest first, then the inferred ones (marked), then
    # the undated.
    latest = section(html, "Latest documents")
    items = re.findall(
        r"<li>\s*<a href=\"/documents/\d+/[^\"]+\">([^<]+)</a>(.*?)</li>", latest, re.S
    )
    assert [title for title, _ in items] == [
        "Budget agreed",
        "Trade talks",
        "Summit in London",
        "Looking back",
        "A founder&#x27;s profile",
        "Undated note",
    ]
    inferred = [title for title, meta in items if ">inferred</span>" in meta]
    assert inferred == ["Looking back", "A founder&#x27;s profile"]


def test_co_mentions_of_every_kind_link_to_a_search_with_both(client, world):
    html = page(client, "/organisations/european-union/")
    together = section(html, "Most often mentioned with")
    groups = re.findall(r'<h3 class="comentions__heading"[^>]*>([^<]+)</h3>', together)
    assert groups == ["People", "Organisations", "Places"]
    links = dict(
        (name, url)
        for url, name in re.findall(
            r'class="comentions__link" href="([^"]+)"[^>]*>([^<]+)</a>', together
        )
    )
    # Another kind: one more filter (filters of different facets combine with AND).
    assert links["Gordon Brown"] == "/?person=Gordon+Brown&amp;organisation=European+Union"
    assert links["Brussels"] == "/?organisation=European+Union&amp;place=Brussels"
    # The same kind: the other one as a query (two values of one facet combine with OR).
    assert links[UN] == "/?q=organisation%3A%22United+Nations%22&amp;organisation=European+Union"
    assert EU not in links  # not mentioned with itself
    assert re.search(
        r">Brussels</a>\s*<span class=\"comentions__count\">3 documents</span>", together
    )
    # Each has a link to its own page.
    assert 'class="facet__profile" href="/persons/?name=Gordon%20Brown"' in together
    assert 'class="facet__profile" href="/places/?name=Brussels"' in together
    assert 'class="facet__profile" href="/organisations/?name=United%20Nations"' in together

    # Each link finds as many documents as it says.
    for name, count in [("Gordon Brown", 2), ("Brussels", 3), (UN, 1)]:
        found = client.get(links[name].replace("&amp;", "&")).content.decode()
        heading = re.search(r'id="result-count"[^>]*>\s*(\d+) (result|document)', found)
        assert int(heading.group(1)) == count, name


def test_the_place_page(client, world):
    html = page(client, "/places/london/")
    assert '<h1 class="person__name">London</h1>' in html
    assert '<p class="person__kind">Place</p>' in html
    assert 'href="/?place=London"><strong>2</strong> documents</a>, 2008–2009.' in html
    assert "inferred from the text are left out" not in html
    together = section(html, "Most often mentioned with")
    assert 'href="/?organisation=United+Nations&amp;place=London"' in together
    assert 'href="/?q=place%3A%22New+York%22&amp;place=London"' in together
    assert "In publications" in html and 'href="/?place=London&amp;publication=Reuters"' in html


def test_an_entity_without_documents_or_company(client, make_entity_document):
    Place.objects.create(name="Quiet Town")
    html = page(client, "/places/quiet-town/")
    assert "No document in the archive mentions Quiet Town yet." in html
    assert "Most often mentioned with" not in html
    make_entity_document(title="Alone", organisations=("Lonely Club",))
    html = page(client, "/organisations/lonely-club/")
    assert "Nobody and nothing else is mentioned in the same documents." in html


def test_a_page_with_only_inferred_dates(client, make_entity_document):
    make_entity_document(
        title="Profile", organisations=("Old Firm",), published=dt.date(1951, 2, 20),
        date_inferred=True,
    )  # fmt: skip
    html = page(client, "/organisations/old-firm/")
    assert "<strong>1</strong> document</a>." in html
    assert "1 document with a date inferred from the text is left out of them" in html
    assert "No dated documents" in html
    assert '20 Feb 1951</time> <span class="badge"' in section(html, "Latest documents")


def test_entity_text_is_escaped(client, make_entity_document):
    script = "<script>alert(1)</script>"
    make_entity_document(title="<b>bold</b>", organisations=(f"Eve {script}",), places=(script,))
    for model in (Organisation, Place):
        entity = model.objects.get(name__contains="script")
        html = client.get(entity.get_absolute_url(), follow=True).content.decode()
        assert script not in html
        assert "&lt;script&gt;" in html and "&lt;b&gt;bold&lt;/b&gt;" in html


def test_missing_index_gives_503(client, world, settings, tmp_path):
    settings.ARCHIVE_INDEX_DIR = tmp_path / "gone"
    assert client.get("/organisations/european-union/").status_code == 503
    assert client.get("/places/london/").status_code == 503
