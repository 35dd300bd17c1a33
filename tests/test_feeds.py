"""The Atom feed of a search: valid XML, newest-added first, new documents on top, escaping."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from archive import feeds

pytestmark = pytest.mark.usefixtures("search_backend")

ATOM = "{http://www.w3.org/2005/Atom}"


def parse(response) -> ET.Element:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    return root


def entries(root: ET.Element) -> list[ET.Element]:
    return root.findall(f"{ATOM}entry")


def entry_titles(root: ET.Element) -> list[str]:
    return [entry.findtext(f"{ATOM}title") for entry in entries(root)]


def ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def test_feed_is_valid_atom_describing_the_search(client, seeds):
    root = parse(client.get("/feeds/search", {"q": "pakistan", "person": "Asif Ali Zardari"}))
    assert root.findtext(f"{ATOM}title") == "Search: pakistan — person: Asif Ali Zardari"
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links["alternate"] == "http://testserver/?q=pakistan&person=Asif+Ali+Zardari"
    assert links["self"] == "http://testserver/feeds/search?q=pakistan&person=Asif+Ali+Zardari"
    assert root.findtext(f"{ATOM}id")
    assert root.findtext(f"{ATOM}updated")
    (entry,) = entries(root)
    document = seeds[1]
    assert entry.findtext(f"{ATOM}title") == document.title
    href = entry.find(f"{ATOM}link").get("href")
    assert href == "http://testserver" + document.get_absolute_url()
    # The id is the document's permanent address (its link's slug follows the title).
    assert entry.findtext(f"{ATOM}id") == f"http://testserver/documents/{document.pk}/"
    assert entry.findtext(f"{ATOM}published").startswith(document.created.date().isoformat())
    assert entry.findtext(f"{ATOM}updated")
    categories = [c.get("term") for c in entry.findall(f"{ATOM}category")]
    # Every listed value: persons, then organisations, then places (the seed names all three).
    assert categories == [
        *sorted(p.name for p in document.persons.all()),
        *sorted(o.name for o in document.organisations.all()),
        *sorted(p.name for p in document.places.all()),
    ]
    assert "Lashkar-e-Taiba" in categories and "Mumbai" in categories
    summary = entry.find(f"{ATOM}summary")
    assert summary.get("type") == "html"
    # The first snippet, with the query's word marked; the article's own date leads.
    assert "<mark>Pakistan</mark>" in summary.text
    assert summary.text.startswith("<p>5 November 2025</p>")


def test_feed_titles_name_every_filter(client, seeds):
    root = parse(
        client.get(
            "/feeds/search",
            {"publication": ["", "Dawn"], "month": "2025-11", "date_from": "2025-01-01"},
        )
    )
    assert root.findtext(f"{ATOM}title") == (
        "Search: all documents — publication: Unknown publication, Dawn — month: 2025-11"
        " — dates: 2025-01-01 to …"
    )


def test_entries_are_newest_added_first_not_newest_published(client, make_document):
    make_document(
        title="Harbour old news", body="harbour", published=dt.date(2024, 1, 1), created=ago(1)
    )
    make_document(
        title="Harbour older article added last",
        body="harbour",
        published=dt.date(1990, 1, 1),
        created=ago(0),
    )
    make_document(
        title="Harbour newest article added first",
        body="harbour",
        published=dt.date(2025, 1, 1),
        created=ago(10),
    )
    make_document(title="Unrelated", body="nothing to see", created=ago(0))
    root = parse(client.get("/feeds/search", {"q": "harbour", "sort": "relevance"}))
    assert entry_titles(root) == [
        "Harbour older article added last",
        "Harbour old news",
        "Harbour newest article added first",
    ]


def test_a_newly_added_document_appears_at_the_top(client, seeds, make_document):
    before = entry_titles(parse(client.get("/feeds/search", {"q": "mumbai"})))
    assert before
    make_document(
        title="Mumbai tribunal hears new evidence",
        body="Mumbai court, new evidence.",
        published=dt.date(2009, 3, 1),
        publication="Mid-Day",
    )
    after = parse(client.get("/feeds/search", {"q": "mumbai"}))
    assert entry_titles(after) == ["Mumbai tribunal hears new evidence", *before]
    assert entries(after)[0].findtext(f"{ATOM}author/{ATOM}name") == "Mid-Day"
    # A document that does not match the search stays out.
    make_document(title="Chess results", body="Nothing about that city.")
    assert "Chess results" not in entry_titles(parse(client.get("/feeds/search", {"q": "mumbai"})))


def test_whole_archive_feed_comes_from_the_database_and_holds_50(
    client, make_document, monkeypatch
):
    monkeypatch.setattr(feeds, "FEED_ENTRIES", 3)
    for n in range(5):
        make_document(title=f"Item {n}", body="text", created=ago(10 - n))
    root = parse(client.get("/feeds/search"))
    assert root.findtext(f"{ATOM}title") == "Search: all documents"
    assert entry_titles(root) == ["Item 4", "Item 3", "Item 2"]


def test_feeds_hold_50_entries():
    assert feeds.FEED_ENTRIES == 50


def test_html_in_titles_and_bodies_is_escaped(client, make_document):
    make_document(
        title='<script>alert("t")</script> & Sons',
        body='Payload <img src=x onerror="alert(1)"> and <b>bold</b> text.',
        publication="<i>Gazette</i>",
        persons=("<b>Eve</b>",),
    )
    for params in ({"q": "payload"}, {}):
        response = client.get("/feeds/search", params)
        raw = response.content.decode()
        assert "<script>" not in raw and "<img" not in raw and "<b>" not in raw
        (entry,) = entries(parse(response))
        # Plain-text fields come back exactly as written.
        assert entry.findtext(f"{ATOM}title") == '<script>alert("t")</script> & Sons'
        assert entry.findtext(f"{ATOM}author/{ATOM}name") == "<i>Gazette</i>"
        assert entry.find(f"{ATOM}category").get("term") == "<b>Eve</b>"
        # The HTML summary holds the text escaped: a reader shows it, never runs it.
        summary = entry.findtext(f"{ATOM}summary")
        assert "&lt;img src=x onerror=" in summary
        assert "<img" not in summary and "<b>" not in summary


def test_summary_falls_back_to_the_start_of_the_text(client, make_document):
    body = "First words of a long article. " + "More text follows here. " * 40
    make_document(title="Long piece", body=body)
    (entry,) = entries(parse(client.get("/feeds/search")))
    summary = entry.findtext(f"{ATOM}summary")
    assert summary.startswith("<p>Undated</p><p>First words of a long article.")
    assert summary.endswith("…</p>")
    assert len(summary) < 400


@pytest.mark.parametrize(
    "params, message",
    [({"sort": "best"}, "“sort” must be one of"), ({"month": "2025-13"}, "“month” must be")],
)
def test_bad_parameters_are_400(client, seeds, params, message):
    response = client.get("/feeds/search", params)
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.whoosh_only
def test_missing_index_is_503_and_post_is_405(client, seeds, settings, tmp_path):
    assert client.post("/feeds/search", {"q": "x"}).status_code == 405
    settings.ARCHIVE_INDEX_DIR = tmp_path / "gone"
    response = client.get("/feeds/search", {"q": "pakistan"})
    assert response.status_code == 503
    assert "manage.py rebuild_index" in response.content.decode()


def test_search_page_advertises_the_feed(client, seeds):
    html = client.get("/", {"q": "pakistan", "year": "2025"}).content.decode()
    head = html.split("</head>")[0]
    link = re.search(r'<link rel="alternate" type="application/atom\+xml"[^>]*>', head).group(0)
    assert 'href="/feeds/search?q=pakistan&amp;year=2025"' in link
    assert 'title="Search: pakistan — year: 2025"' in link
    assert ">Atom feed</a>" in html


def test_an_entry_keeps_its_id_when_its_document_is_retitled(client, make_document):
    """A QA find: an entry's id was its link, whose slug follows the title, so a retitled
    document came back to a follower as a new entry."""
    document = make_document(title="Harbour closes", body="The harbour closed in the storm.")
    [before] = entries(parse(client.get("/feeds/search", {"q": "harbour"})))
    document.title = "Harbour closes for a week"
    document.save()
    [after] = entries(parse(client.get("/feeds/search", {"q": "harbour"})))
    assert before.findtext(f"{ATOM}id") == after.findtext(f"{ATOM}id")
    assert after.findtext(f"{ATOM}id") == f"http://testserver/documents/{document.pk}/"
