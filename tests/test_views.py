"""The search page, its htmx partial, and the document page, through Django's test client."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from archive.models import Document, Person

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_search_page_shows_highlighted_results_and_facets(client, seeds):
    response = client.get("/", {"q": "Murree"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "1 result for “Murree”" in html
    assert "<mark>Murree</mark>" in html
    assert "Madhukar Gupta" in html
    assert "Unknown publication" in html
    assert "<!doctype html>" in html  # a full page


def test_htmx_requests_get_the_results_partial_only(client, seeds):
    response = client.get("/", {"q": "Murree"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<!doctype html>" not in html
    assert '<input id="q"' not in html  # the search box is not replaced while typing
    assert "<mark>Murree</mark>" in html
    assert "HX-Request" in response["Vary"]


def test_htmx_history_restore_gets_the_full_page(client, seeds):
    response = client.get("/", {"q": "Murree"}, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    assert "<!doctype html>" in response.content.decode()


def test_the_partial_is_the_same_markup_as_in_the_full_page(client, seeds):
    full = client.get("/", {"q": "pakistan", "person": "Asif Ali Zardari"}).content.decode()
    partial = client.get("/", {"q": "pakistan", "person": "Asif Ali Zardari"}, **HTMX)
    title, results = partial.content.decode().split("\n", 1)
    # htmx sets the tab title from a top-level <title>; the rest is the page's own partial.
    assert title == "<title>pakistan · Asif Ali Zardari – Search – News Archive</title>"
    assert f"{title.strip()}" in full
    assert results.strip() in full


def test_facet_links_toggle_one_value_and_keep_the_rest(client, seeds):
    html = client.get("/", {"q": "pakistan", "person": "Madhukar Gupta"}).content.decode()
    # Selecting another person keeps the query and the first person.
    assert 'href="/?q=pakistan&amp;person=Madhukar+Gupta&amp;person=Naveen+Verma"' in html
    # The chip removes only that person.
    assert re.search(r'class="chip" href="/\?q=pakistan"', html)
    # Filters travel with the form as hidden inputs, so typing keeps them.
    assert '<input type="hidden" name="person" value="Madhukar Gupta">' in html


def test_clicking_a_person_narrows_the_results(client, seeds):
    html = client.get("/", {"person": "Asif Ali Zardari"}).content.decode()
    assert "1 document matches the filters" in html
    assert "Farhatullah Babar admits" in html
    assert "Inside Story!" not in html


def test_browse_mode_lists_all_documents_newest_first(client, seeds):
    html = client.get("/").content.decode()
    assert "2 documents in the archive" in html
    assert html.index("Farhatullah Babar admits") < html.index("Inside Story!")


@pytest.mark.parametrize(
    "q", ['"unbalanced', "AND", ")(", "x" * 5000, "a\x00b\x07c", "title:", "*:*", "[ TO ]"]
)
def test_malformed_queries_give_a_normal_page(client, seeds, q):
    # Control characters become spaces (params.clean_text): that query redirects to its clean URL.
    response = client.get("/", {"q": q}, follow=True)
    assert response.status_code == 200
    assert 'id="result-count"' in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"page": "abc"},
        {"page_size": "1000"},
        {"sort": "random"},
        {"year": "twenty"},
        {"month": "2025-13"},
        {"date_from": "2025-02-30"},
        {"date_from": "2025-02-01", "date_to": "2025-01-01"},
        {"year": "undated", "month": "2025-04"},  # a QA find: it found a dated document
    ],
)
def test_bad_parameters_give_400_with_a_message(client, seeds, params):
    response = client.get("/", params)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html
    # A heading for the page, where focus goes after an htmx update, and a tab that says so.
    assert '<h1 id="result-count" class="alert__title" tabindex="-1">' in html
    assert "<title>Error: Search" in html


@pytest.mark.parametrize(
    ("params", "kept", "label"),
    [
        (
            {"q": "pakistan", "person": "Ajmal Kasab", "page": "abc"},
            "?q=pakistan&person=Ajmal+Kasab",
            "the page number",
        ),
        (
            {"q": "pakistan", "sort": "oldest", "date_from": "2009-01-01", "date_to": "2008-01-01"},
            "?q=pakistan&sort=oldest",
            "the date range",
        ),
    ],
)
def test_a_bad_parameter_offers_the_same_search_without_it(client, seeds, params, kept, label):
    """Nothing the user chose is lost to one bad value: the message links to the search with
    only the parameters at fault left out, and that search answers."""
    page = client.get("/", params).content.decode()
    link = re.search(r'<a href="([^"]*)">Search again without ([^<]*)</a>', page)
    assert link, page
    assert html.unescape(link.group(1)) == "/" + kept
    assert link.group(2) == label
    assert client.get(html.unescape(link.group(1)), follow=True).status_code == 200


def test_pagination_links(client, make_document):
    for i in range(25):
        make_document(title=f"Item {i}", body=f"common word item{i}")  # 25 stories
    html = client.get("/", {"q": "common"}).content.decode()
    assert "25 results" in html
    assert 'href="/?q=common&amp;page=3"' in html
    # Previous and next: none before the first page, none after the last.
    assert 'rel="prev"' not in html
    assert re.search(r'href="/\?q=common&amp;page=2"[^>]*rel="next"', html)
    page3 = client.get("/", {"q": "common", "page": "3"}).content.decode()
    assert page3.count('class="hit"') == 5
    # A keyboard user can skip the filters, which come first in reading order.
    assert '<a class="skip-link" href="#result-count">Skip to results</a>' in html
    # The heading says which page this is, after the first.
    assert "· page 3 of 3" in page3 and "· page 1 of" not in html
    assert re.search(r'href="/\?q=common&amp;page=2"[^>]*rel="prev"', page3)
    assert 'rel="next"' not in page3
    past = client.get("/", {"q": "common", "page": "9"})
    assert past.status_code == 200
    assert "Go to the first page" in past.content.decode()


def test_missing_index_gives_503_naming_the_repair_command(client, seeds, settings, tmp_path):
    settings.ARCHIVE_INDEX_DIR = tmp_path / "gone"
    response = client.get("/", {"q": "Murree"})
    assert response.status_code == 503
    assert "manage.py rebuild_index" in response.content.decode()


def test_works_without_javascript_as_a_plain_get_form(client, seeds):
    html = client.get("/").content.decode()
    assert re.search(r'<form id="search-form"[^>]*action="/"[^>]*method="get"', html)
    assert '<button type="submit" class="button">Search</button>' in html
    # Every htmx link also has a real href.
    for match in re.finditer(r"<a [^>]*hx-get=\"([^\"]+)\"[^>]*>", html):
        assert f'href="{match.group(1)}"' in match.group(0)


def test_htmx_is_served_by_django_htmx_not_a_cdn(client, seeds):
    html = client.get("/").content.decode()
    assert re.search(r'<script src="/static/django_htmx/htmx-2[^"]*\.js"', html)
    assert "unpkg" not in html and "jsdelivr" not in html


def test_document_page_marks_the_query_and_offers_a_jump(client, seeds):
    document = Document.objects.get(external_id="seed:000_be9e6538dc8b1c7a")
    response = client.get(document.get_absolute_url(), {"q": "Murree"})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<mark id="hit-1">Murree</mark>' in html
    assert '<mark id="hit-2">Murree</mark>' in html
    assert 'href="#hit-1"' in html
    assert "2 matches for “Murree”" in html
    assert "Unknown publication" in html
    assert "10 April 2025" in html and "inferred" in html
    assert 'href="/?person=Madhukar+Gupta"' in html


def test_document_page_without_query_and_short_url_redirect(client, seeds):
    document = Document.objects.get(external_id="seed:002_ec692635d6c359ed")
    short = client.get(reverse("archive:document-short", args=[document.pk]), {"q": "Babur"})
    assert short.status_code == 302
    assert short["Location"] == document.get_absolute_url() + "?q=Babur"
    html = client.get(document.get_absolute_url()).content.decode()
    assert "<mark" not in html
    assert "5 November 2025" in html
    missing = client.get("/documents/999999/")
    assert missing.status_code == 404
    assert "No document number 999999 in this archive" in missing.content.decode()


def test_document_page_escapes_hostile_text(client, make_document):
    document = make_document(
        title="<img src=x onerror=alert(1)>", body="<script>alert(2)</script> embassy"
    )
    html = client.get(document.get_absolute_url(), {"q": "embassy alert"}).content.decode()
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;<mark" in html


def test_only_web_source_urls_become_links(client, make_document):
    """A fixture or a raw SQL edit can bypass form validation; the page must still not link it."""
    hostile = make_document(
        title="Hostile", body="embassy hostile", source_url="javascript:alert(1)"
    )
    fine = make_document(title="Fine", body="embassy fine", source_url="https://example.org/a")
    hostile_html = client.get(hostile.get_absolute_url()).content.decode()
    assert 'href="javascript:' not in hostile_html
    assert "javascript:alert(1)" in hostile_html  # shown as text, so an editor can fix it
    assert 'href="https://example.org/a"' in client.get(fine.get_absolute_url()).content.decode()
    api = client.get("/api/search", {"q": "embassy"}).json()
    assert {r["title"]: r["source_url"] for r in api["results"]} == {
        "Hostile": None,
        "Fine": "https://example.org/a",
    }


def test_the_admin_form_rejects_non_web_source_urls(db):
    from django.core.exceptions import ValidationError

    document = Document(title="T", body="B", source_url="ftp://example.org/file")
    with pytest.raises(ValidationError) as error:
        document.full_clean()
    assert "source_url" in error.value.message_dict


def test_search_results_escape_hostile_titles_and_person_names(client, make_document):
    make_document(
        title='<script>alert("t")</script>',
        body="embassy",
        persons=('<b onmouseover="alert(1)">Evil</b>',),
        publication="<i>Pub</i>",
    )
    html = client.get("/", {"q": "embassy"}).content.decode()
    assert "<script>alert" not in html
    assert "<b onmouseover" not in html
    assert "<i>Pub</i>" not in html
    assert "&lt;i&gt;Pub&lt;/i&gt;" in html


@pytest.mark.parametrize(
    ("query", "canonical"),
    [
        ("q=pakistan&sort=&page=1", "/?q=pakistan"),
        ("person=Madhukar+Gupta&q=pakistan", "/?q=pakistan&person=Madhukar+Gupta"),
        ("q=%E2%80%99quoted%27+%2A&year=&month=", "/?q=%E2%80%99quoted%27+%2A"),
    ],
)
def test_plain_form_submissions_redirect_once_to_the_clean_url(client, seeds, query, canonical):
    response = client.get("/?" + query)
    assert response.status_code == 302
    assert response["Location"] == canonical
    final = client.get(canonical)
    assert final.status_code == 200  # no second redirect


def test_a_person_filter_by_alias_filters_by_the_person(client, seeds):
    response = client.get("/", {"person": "Babur"})
    assert response.status_code == 302
    assert response["Location"] == "/?person=Farhatullah+Babar"
    api = client.get("/api/search", {"person": "Babur"}).json()
    assert [r["persons"].count("Farhatullah Babar") for r in api["results"]] == [1]


def test_a_filter_or_a_page_address_in_another_case_finds_the_value(client, seeds):
    """A hand-typed URL in lowercase ("tony blair") names the value as the search box would,
    by its name or an alias; a name that is no value in any case stays unmatched."""
    response = client.get("/", {"person": "farhatullah BABAR"})
    assert response.status_code == 302
    assert response["Location"] == "/?person=Farhatullah+Babar"
    assert client.get("/", {"person": "babur"})["Location"] == "/?person=Farhatullah+Babar"
    api = client.get("/api/search", {"person": "asif ali zardari"}).json()
    assert api["total"] >= 1
    assert all("Asif Ali Zardari" in r["persons"] for r in api["results"])
    page = client.get("/persons/", {"name": "asif ali zardari"})
    assert page["Location"] == "/persons/asif-ali-zardari/"
    assert client.get("/persons/", {"name": "nobody here"}).status_code == 404
    # Letters beyond ASCII too (SQLite's own comparison folds ASCII letters only).
    Person.objects.create(name="Émile Zola")
    assert client.get("/persons/", {"name": "émile zola"})["Location"] == "/persons/emile-zola/"


def test_a_quoted_query_is_shown_in_one_pair_of_quotes(client, seeds):
    page = client.get("/", {"q": '"Madhukar Gupta"'}).content.decode()
    assert "for “Madhukar Gupta”" in page and "““" not in page
    document = seeds[0]
    html = client.get(f"/documents/{document.pk}/", {"q": '"Madhukar Gupta"'}, follow=True)
    assert "““" not in html.content.decode()
    assert "<script>" not in client.get("/", {"q": '"<script>"'}).content.decode()


def test_more_names_than_a_result_shows_link_to_the_document_page(client, make_document):
    names = [f"Person Number{i}" for i in range(8)]
    document = make_document(title="Crowded", body="Many people met.", persons=tuple(names))
    html = client.get("/", {"q": "crowded"}).content.decode()
    link = re.search(r'<a class="tag tag--more" href="([^"]+)"[^>]*>\+2 more</a>', html)
    assert link is not None
    assert link.group(1).startswith(f"/documents/{document.pk}/")
    assert link.group(1).endswith("?q=crowded#persons-heading")  # the page marks the query
    page = client.get(link.group(1).split("#")[0]).content.decode()
    assert 'id="persons-heading"' in page and "Person Number7" in page


def test_an_htmx_search_that_cannot_be_made_pushes_what_the_user_typed(client, seeds):
    """A reversed date range answers 400 with its message; the address bar then shows the
    parameters as typed, without the form's empty fields, so a reload shows the message again
    (htmx pushes the request's own URL, "sort=" and all, when the answer names none)."""
    params = {"q": "pakistan", "sort": "", "date_from": "2009-01-01", "date_to": "2008-01-01"}
    response = client.get("/", params, **HTMX)
    assert response.status_code == 400
    assert response["X-Archive-Message"] == "1"
    assert response["HX-Push-Url"] == "/?q=pakistan&date_from=2009-01-01&date_to=2008-01-01"
    assert "must not be later" in response.content.decode()
    assert client.get(response["HX-Push-Url"]).status_code == 400


def test_an_update_that_continues_a_run_of_typing_replaces_the_history_entry(client, seeds):
    """search.js marks an update that only lengthens or shortens the query last shown; its
    address replaces the history entry instead of adding one (a browser test types slowly)."""
    first = client.get("/", {"q": "murr"}, **HTMX)
    assert first["HX-Push-Url"] == "/?q=murr" and "HX-Replace-Url" not in first
    more = client.get("/", {"q": "murree"}, HTTP_X_ARCHIVE_TYPING="continued", **HTMX)
    assert more["HX-Replace-Url"] == "/?q=murree" and "HX-Push-Url" not in more


def test_the_address_shown_already_is_no_new_history_entry(client, seeds):
    """A QA find: typing "doping" showed its results at ?q=doping; pressing Enter then ran the
    same search and added a second entry for the same address, so the first Back stayed put."""
    shown = {"HTTP_HX_CURRENT_URL": "http://testserver/?q=murree"}
    again = client.get("/", {"q": "murree"}, **HTMX, **shown)
    assert again["HX-Replace-Url"] == "/?q=murree" and "HX-Push-Url" not in again
    other = client.get("/", {"q": "murree", "sort": "oldest"}, **HTMX, **shown)
    assert other["HX-Push-Url"] == "/?q=murree&sort=oldest" and "HX-Replace-Url" not in other


def test_a_result_link_carries_its_search_back_to_the_same_results(client, seeds):
    """The document page's "Back to results" returns to the results it was opened from: the
    query, the filters, the sort and the page, not the query alone; a result of a search with
    filters and no query links back too."""
    search = "/?q=pakistan&person=Asif+Ali+Zardari&sort=oldest"
    page = client.get(search).content.decode()
    link = html.unescape(re.search(r'class="hit__title"><a href="([^"]+)"', page).group(1))
    assert link.endswith("?q=pakistan&person=Asif+Ali+Zardari&sort=oldest")
    document = client.get(link).content.decode()
    back = re.search(r'class="document__back">\s*<a href="([^"]+)">([^<]+)<', document)
    assert html.unescape(back.group(1)) == search
    assert back.group(2) == "← Back to results for “pakistan”"
    assert '<mark id="hit-1">' in document  # the query's words are still marked

    page = client.get("/?person=Asif+Ali+Zardari").content.decode()
    link = html.unescape(re.search(r'class="hit__title"><a href="([^"]+)"', page).group(1))
    back = re.search(
        r'class="document__back">\s*<a href="([^"]+)">([^<]+)<', client.get(link).content.decode()
    )
    assert html.unescape(back.group(1)) == "/?person=Asif+Ali+Zardari"
    assert back.group(2) == "← Back to results"


def test_counts_are_written_with_thousands_separators():
    from archive.templatetags.archive_tags import thousands

    assert thousands(2450) == "2,450" and thousands(999) == "999" and thousands(None) == ""


def test_the_tab_title_names_the_query_filters_and_page(client, make_document):
    for n in range(25):
        make_document(title=f"Story {n}", body="Blair spoke.", persons=("Tony Blair",))
    page = client.get("/", {"q": "blair", "person": "Tony Blair", "page": "2"}).content.decode()
    assert "<title>blair · Tony Blair · page 2 – Search – News Archive</title>" in page
    page = client.get("/", {"person": "Tony Blair"}).content.decode()
    assert "<title>Tony Blair – Search – News Archive</title>" in page


def test_a_bad_date_range_can_be_corrected_where_the_message_is(client, seeds):
    """The filter panel needs results to show, so the message about a reversed date range
    carries the date inputs as typed, with every other choice kept for the corrected search."""
    params = {"q": "pakistan", "person": "Asif Ali Zardari", "sort": "oldest"}
    page = client.get("/", {**params, "date_from": "2009-01-01", "date_to": "2008-01-01"})
    text = page.content.decode()
    assert page.status_code == 400
    assert "<legend>Correct the dates</legend>" in text
    assert 'name="date_from" value="2009-01-01"' in text
    assert 'name="date_to" value="2008-01-01"' in text
    assert '<input type="hidden" name="person" value="Asif Ali Zardari">' in text
    assert '<input type="hidden" name="sort" value="oldest">' in text
    # Another bad parameter has no date inputs to offer.
    assert "Correct the dates" not in client.get("/", {"q": "x", "page": "abc"}).content.decode()


def test_favicon_ico_leads_to_the_sites_icon(client, transactional_db):
    """A browser showing the API's JSON asks for /favicon.ico: the icon, not a 404."""
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("archive/favicon.svg")


def test_a_newest_sort_chosen_on_purpose_survives_a_cleared_query(client, seeds):
    """Cleared, the box browses (newest is the default there); a newest chosen on purpose
    stays in the form, so the query typed next keeps it instead of falling back to relevance."""
    chosen = client.get("/", {"sort": "newest"}, **HTMX).content.decode()
    assert '<option value="newest" selected>Newest first</option>' in chosen
    default = client.get("/", **HTMX).content.decode()
    assert '<option value="" selected>Newest first</option>' in default
    oldest = client.get("/", {"sort": "oldest"}, **HTMX).content.decode()
    assert '<option value="oldest" selected>Oldest first</option>' in oldest
    assert '<option value="">Newest first</option>' in oldest
