"""Person pages (`/persons/<slug>/`): the slug field and its migration, the by-name links from
results and facets, and what the page shows (counts, timeline, co-mentions, latest documents)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from archive.models import Person, PersonAlias, merge_persons, person_slug
from tests.conftest import SEED_FIXTURE

# --- The slug ---------------------------------------------------------------------------------


def test_person_slug_is_the_name_slugified_and_deduplicated():
    assert person_slug("Asif Ali Zardari", set()) == "asif-ali-zardari"
    assert person_slug("O'Brien", {"obrien"}) == "obrien-2"
    assert person_slug("OBrien", {"obrien", "obrien-2"}) == "obrien-3"
    assert person_slug("毛泽东", set()) == "person"  # nothing ASCII to keep
    assert len(person_slug("x" * 500, set())) <= 200


def test_a_saved_person_gets_a_unique_slug_kept_when_renamed(transactional_db):
    first = Person.objects.create(name="Sean O'Brien")
    second = Person.objects.create(name="Sean OBrien")
    assert (first.slug, second.slug) == ("sean-obrien", "sean-obrien-2")
    first.name = "Seán O’Brien"
    first.save()
    first.refresh_from_db()
    assert first.slug == "sean-obrien"


def test_fixtures_loaded_raw_get_slugs_and_keep_them_on_reload(seeds):
    slugs = dict(Person.objects.values_list("name", "slug"))
    assert slugs["Asif Ali Zardari"] == "asif-ali-zardari"
    assert all(slugs.values())
    call_command("loaddata", str(SEED_FIXTURE), verbosity=0)
    assert dict(Person.objects.values_list("name", "slug")) == slugs


def test_the_migration_backfills_slugs_for_existing_persons(transactional_db):
    executor = MigrationExecutor(connection)
    executor.migrate([("archive", "0003_content_hash")])
    old_apps = executor.loader.project_state([("archive", "0003_content_hash")]).apps
    OldPerson = old_apps.get_model("archive", "Person")
    for name in ("Asif Ali Zardari", "Sean O'Brien", "Sean OBrien", "毛泽东"):
        OldPerson.objects.create(name=name)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert dict(Person.objects.values_list("name", "slug")) == {
        "Asif Ali Zardari": "asif-ali-zardari",
        "Sean O'Brien": "sean-obrien",
        "Sean OBrien": "sean-obrien-2",
        "毛泽东": "person",
    }


# --- Reaching the page ------------------------------------------------------------------------


def test_by_name_links_redirect_to_the_page_aliases_too(client, seeds):
    response = client.get("/persons/", {"name": "Asif Ali Zardari"})
    assert response.status_code == 302
    assert response["Location"] == "/persons/asif-ali-zardari/"
    # An alias (a name in an older index, a typed URL) reaches its person.
    assert client.get("/persons/", {"name": "Babur"})["Location"] == "/persons/farhatullah-babar/"
    assert client.get("/persons/", {"name": "Nobody Here"}).status_code == 404
    assert client.get("/persons/").status_code == 404


def test_a_page_not_found_says_why_and_offers_a_search(client, seeds):
    """The site's own 404 (DEBUG off): the reason, and a search box, filled in with the name
    that was asked for, instead of a dead end."""
    page = client.get("/persons/", {"name": "John Peel"})
    assert page.status_code == 404
    text = page.content.decode()
    assert "No person named “John Peel” in this archive." in text
    assert 'name="q" type="search" value="John Peel"' in text
    nowhere = client.get("/no/such/address/").content.decode()
    assert "There is nothing at this address." in nowhere and "Resolver404" not in nowhere


def test_a_person_inserted_in_bulk_gets_its_slug_from_the_by_name_link(client, transactional_db):
    Person.objects.bulk_create([Person(name="Bulk One"), Person(name="Bulk Two")])
    assert set(Person.objects.values_list("slug", flat=True)) == {None}
    person = Person.objects.get(name="Bulk One")
    assert person.get_absolute_url() == "/persons/?name=Bulk+One"
    response = client.get(person.get_absolute_url())
    assert response["Location"] == "/persons/bulk-one/"
    assert client.get("/persons/bulk-one/").status_code == 200


def test_a_merged_person_old_page_and_its_name_lead_to_the_kept_one(client, seeds):
    """A citation of the merged person's page still works (it was a 404 until the merge was
    recorded as a former name)."""
    keep = Person.objects.get(name="Azmal Kasab")
    other = Person.objects.create(name="Ajmal Amir Kasab")
    merge_persons(keep, [other])
    assert client.get("/persons/ajmal-amir-kasab/")["Location"] == "/persons/azmal-kasab/"
    assert PersonAlias.objects.filter(name="Ajmal Amir Kasab", person=keep).exists()
    assert client.get("/persons/", {"name": "Ajmal Amir Kasab"})["Location"] == (
        "/persons/azmal-kasab/"
    )


def test_results_and_facets_link_to_person_pages(client, seeds):
    html = client.get("/", {"q": "pakistan"}).content.decode()
    # A person in a result is a link to their page.
    assert re.search(
        r'<a class="tag tag--link" href="/persons/\?name=Asif%20Ali%20Zardari"[^>]*>'
        r"Asif Ali Zardari</a>",
        html,
    )
    # A person facet value has a small profile link beside its filter link.
    assert re.search(
        r'class="facet__profile" href="/persons/\?name=Asif%20Ali%20Zardari"[^>]*>.*?'
        r'<span class="visually-hidden">About Asif Ali Zardari</span>',
        html,
    )
    # Publications have none.
    assert 'facet__profile" href="/persons/?name=Unknown' not in html


# --- The page ---------------------------------------------------------------------------------


@pytest.fixture
def zardari(seeds, make_document):
    """Asif Ali Zardari in 12 more documents over 2005-2008 (none in 2006), mostly with Benazir
    Bhutto, and one undated."""
    for i in range(11):
        year = (2005, 2007, 2008)[i % 3]
        make_document(
            title=f"Zardari story {i}",
            body="Islamabad politics",
            persons=("Asif Ali Zardari", "Benazir Bhutto") if i < 8 else ("Asif Ali Zardari",),
            publication="Dawn" if i % 2 else "Reuters",
            published=dt.date(year, 1 + i, 10),
        )
    make_document(title="Zardari undated", body="Undated", persons=("Asif Ali Zardari",))
    make_document(title="Elsewhere", body="Bhutto alone", persons=("Benazir Bhutto",))
    return Person.objects.get(name="Asif Ali Zardari")


def test_the_page_counts_the_documents_that_mention_the_person(client, zardari):
    response = client.get("/persons/asif-ali-zardari/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<h1 class="person__name">Asif Ali Zardari</h1>' in html
    # 11 + the undated one + the seed article.
    assert "<strong>13</strong> documents</a>" in html
    assert 'href="/?person=Asif+Ali+Zardari"' in html
    # The span is of the dated ones, and says so (it read "…13 documents, 2005-2025.").
    text = " ".join(re.sub(r"<[^>]+>", "", html).split())
    assert "Mentioned in 13 documents: 12 dated, 2005–2025, 1 undated." in text


def test_the_timeline_is_the_search_page_histogram_linking_to_the_search(client, zardari):
    html = client.get("/persons/asif-ali-zardari/").content.decode()
    assert 'aria-label="Documents per year, 2005–2025"' in html
    assert 'aria-label="2005: 4 documents"' in html
    assert 'aria-label="2008: 3 documents"' in html
    assert "<title>2006: no documents</title>" in html
    # A bar opens the search page filtered by the person and the year (no htmx on this page).
    assert 'href="/?person=Asif+Ali+Zardari&amp;year=2007"' in html
    assert 'hx-get="/?person=Asif+Ali+Zardari' not in html
    assert 'data-range-url="/?person=Asif+Ali+Zardari"' in html
    assert 'href="/?person=Asif+Ali+Zardari&amp;year=undated"' in html


def test_co_mentioned_persons_link_to_a_search_with_both(client, zardari):
    html = client.get("/persons/asif-ali-zardari/").content.decode()
    together = html[html.index("Most often mentioned with") :]
    first = re.search(r'class="comentions__link" href="([^"]+)"[^>]*>([^<]+)</a>', together)
    assert first.group(2) == "Benazir Bhutto"
    # The documents that mention both: the other person as a query (two person filters would
    # combine with OR).
    assert first.group(1) == "/?q=person%3A%22Benazir+Bhutto%22&amp;person=Asif+Ali+Zardari"
    assert "8 documents" in together
    # The person themself is not listed with themself.
    assert "person%3A%22Asif" not in together
    # The seed article's other persons follow, once each.
    assert ">Farhatullah Babar</a>" in together


def test_the_co_mention_link_finds_as_many_documents_as_it_says(client, zardari):
    html = client.get("/?q=person%3A%22Benazir+Bhutto%22&person=Asif+Ali+Zardari").content
    assert "8 results for “person:&quot;Benazir Bhutto&quot;”" in html.decode()


def test_a_name_the_query_cannot_quote_falls_back_to_a_second_filter():
    from archive.presentation import both_persons_url
    from archive.search import SearchRequest

    req = SearchRequest(persons=("A B",))
    assert both_persons_url(req, 'The "Boss"') == "?person=A+B&person=The+%22Boss%22"
    assert both_persons_url(req, "C D") == "?q=person%3A%22C+D%22&person=A+B"


def test_the_latest_documents_newest_first(client, zardari):
    html = client.get("/persons/asif-ali-zardari/").content.decode()
    latest = html[html.index("Latest documents") :]
    titles = re.findall(r'<li>\s*<a href="/documents/\d+/[^"]+">([^<]+)</a>', latest)
    assert len(titles) == 10
    assert titles[0].startswith("Pakistan President Asif Ali Zardari")  # 2025
    assert titles[1] == "Zardari story 8"  # 2008-09-10
    assert "All 13 documents →" in latest


def test_a_person_without_documents(client, transactional_db):
    Person.objects.create(name="Quiet Person")
    html = client.get("/persons/quiet-person/").content.decode()
    assert "No document in the archive mentions Quiet Person yet." in html
    assert "Most often mentioned with" not in html


def test_person_text_is_escaped(client, make_document):
    make_document(title="<b>bold</b>", body="x", persons=("Eve <script>alert(1)</script>",))
    person = Person.objects.get(name__startswith="Eve")
    html = client.get(person.get_absolute_url(), follow=True).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "Eve &lt;script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_unknown_slug_is_404(client, transactional_db):
    assert client.get("/persons/nobody/").status_code == 404


def test_missing_index_gives_503(client, seeds, settings, tmp_path):
    settings.ARCHIVE_INDEX_DIR = tmp_path / "gone"
    response = client.get("/persons/asif-ali-zardari/")
    assert response.status_code == 503


def test_the_document_page_links_each_person_to_their_page(client, seeds):
    from archive.models import Document, Person

    document = Document.objects.filter(persons__name="Madhukar Gupta").first()
    html = client.get(document.get_absolute_url()).content.decode()
    person = Person.objects.get(name="Madhukar Gupta")
    assert f'href="{person.get_absolute_url()}"' in html


def test_an_inferred_date_is_marked_in_the_latest_documents(client, make_document):
    """A profile's only full date may be a birth date: the date is shown as inferred."""
    make_document(
        title="Profile",
        body="Born on 20 February 1951.",
        persons=("Gordon Brown",),
        published=dt.date(1951, 2, 20),
        date_inferred=True,
    )
    html = client.get("/persons/gordon-brown/").content.decode()
    latest = html[html.index("Latest documents") :]
    assert '20 Feb 1951</time> <span class="badge"' in latest and ">inferred</span>" in latest
