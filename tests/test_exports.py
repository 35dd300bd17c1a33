"""CSV and JSON exports of a search: content, filters, limit and truncation, spreadsheet safety,
file names and errors, through Django's test client against a real index."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
from django.utils import timezone

from archive.exports import CSV_COLUMNS, TRUNCATED_HEADER, safe_cell

pytestmark = pytest.mark.usefixtures("search_backend")

SEED_TITLES = (
    "Inside Story! How Pakistan Tricked An Unsuspecting India on 26/11",
    "Pakistan President Asif Ali Zardari's former spokesperson Farhatullah Babar admits",
)


def csv_rows(response) -> list[dict[str, str]]:
    text = response.content.decode("utf-8-sig")  # the file starts with a byte-order mark
    assert response.content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_has_every_hit_with_the_documented_columns(client, seeds):
    response = client.get("/export.csv", {"q": "pakistan"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert TRUNCATED_HEADER not in response
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(CSV_COLUMNS)
    rows = csv_rows(response)
    assert len(rows) == 2
    by_id = {int(row["id"]): row for row in rows}
    first, second = by_id[seeds[0].pk], by_id[seeds[1].pk]
    assert first["title"] == seeds[0].title
    assert second["title"].startswith(SEED_TITLES[1])
    assert first["published"] == "2025-04-10"
    assert first["date_inferred"] == "true"
    assert second["date_inferred"] == "false"
    assert first["publication"] == ""
    assert second["persons"].split("; ") == sorted(p.name for p in seeds[1].persons.all())
    assert float(first["score"]) > 0
    # The URL is the absolute permalink, and it opens the document.
    assert first["url"] == f"http://testserver{seeds[0].get_absolute_url()}"
    assert client.get(first["url"].removeprefix("http://testserver")).status_code == 200


def test_json_matches_the_api_result_set_and_order(client, seeds):
    api = client.get("/api/search", {"q": "india", "sort": "oldest"}).json()
    response = client.get("/export.json", {"q": "india", "sort": "oldest"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    data = json.loads(response.content)
    assert data["query"] == "india"
    assert data["sort"] == "oldest"
    assert data["total"] == api["total"] == data["exported"]
    assert data["truncated"] is False and data["notice"] is None
    assert [r["id"] for r in data["results"]] == [r["id"] for r in api["results"]]
    record = data["results"][0]
    story_columns = {f"story_{key}" for key in record["story"]}
    assert (set(record) - {"story"}) | story_columns == set(CSV_COLUMNS)
    assert record["url"] == api["results"][0]["url"]
    assert isinstance(record["persons"], list)


def test_exports_honour_the_search_pages_filters_and_sort(client, seeds, make_document):
    make_document(
        title="Karachi port reopens",
        body="Pakistan reopened the port of Karachi.",
        publication="Dawn",
        published=dt.date(2001, 5, 2),
        persons=("Asif Ali Zardari",),
    )

    def titles(**params):
        return [row["title"] for row in csv_rows(client.get("/export.csv", params))]

    assert len(titles(q="pakistan")) == 3
    assert titles(q="pakistan", publication="Dawn") == ["Karachi port reopens"]
    assert titles(q="pakistan", year="2001") == ["Karachi port reopens"]
    assert len(titles(q="pakistan", person="Asif Ali Zardari")) == 2
    # An alias filters by its person, as on the search page.
    assert titles(person="Babur") == [seeds[1].title]
    assert titles(q="pakistan", sort="oldest")[0] == "Karachi port reopens"
    assert titles(q="pakistan", sort="newest")[-1] == "Karachi port reopens"
    # Empty query: browse mode, every document.
    assert len(titles()) == 3
    # Paging parameters choose a page of the search page; an export is the whole result set.
    assert len(titles(q="pakistan", page="2", page_size="1")) == 3
    data = json.loads(client.get("/export.json", {"publication": "Dawn", "page": "2"}).content)
    assert data["parameters"] == {"publication": ["Dawn"]}
    assert [r["publication"] for r in data["results"]] == ["Dawn"]
    # Ignored, so not even a bad page is an error (a link copied from page "abc" still exports).
    assert len(titles(q="pakistan", page="abc", page_size="1000")) == 3
    assert client.get("/export.json", {"q": "pakistan", "page": "999999"}).status_code == 200
    assert client.get("/feeds/search", {"q": "pakistan", "page": "abc"}).status_code == 200


def test_limit_truncates_and_says_so(client, seeds, make_document, settings):
    make_document(title="Pakistan third", body="Pakistan once more.")
    settings.ARCHIVE_EXPORT_MAX_HITS = 2

    data = json.loads(client.get("/export.json", {"q": "pakistan"}).content)
    assert data["total"] == 3
    assert data["exported"] == len(data["results"]) == 2
    assert data["truncated"] is True
    assert "first 2 of 3" in data["notice"]

    response = client.get("/export.csv", {"q": "pakistan"})
    assert response[TRUNCATED_HEADER] == "first 2 of 3"
    assert len(csv_rows(response)) == 2

    # The search page's export links say so too.
    html = client.get("/", {"q": "pakistan"}).content.decode()
    assert "Export (first 2 of 3):" in html
    # Under the limit, nothing is said.
    settings.ARCHIVE_EXPORT_MAX_HITS = 3
    assert TRUNCATED_HEADER not in client.get("/export.csv", {"q": "pakistan"})
    assert "first 3 of 3" not in client.get("/", {"q": "pakistan"}).content.decode()


@pytest.mark.parametrize(
    "payload", ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]
)
def test_formula_cells_are_prefixed_with_a_quote(payload):
    assert safe_cell(payload) == "'" + payload
    assert safe_cell("Plain = fine") == "Plain = fine"
    assert safe_cell(None) == ""


def test_csv_injection_is_defused_in_every_text_column(client, transactional_db, make_document):
    make_document(
        title='=HYPERLINK("http://evil.example","click")',
        body="Spreadsheet payload text.",
        publication="@Evil Gazette",
        persons=("+Mallory Formula",),
        source_url="https://example.org/-dash",
    )
    rows = csv_rows(client.get("/export.csv", {"q": "spreadsheet"}))
    assert len(rows) == 1
    row = rows[0]
    assert row["title"] == "'" + '=HYPERLINK("http://evil.example","click")'
    assert row["publication"] == "'@Evil Gazette"
    assert row["persons"] == "'+Mallory Formula"
    assert row["source_url"] == "https://example.org/-dash"
    for value in row.values():
        assert not value.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_download_filename_names_the_query_and_the_day(client, seeds):
    today = timezone.localdate().isoformat()
    response = client.get("/export.csv", {"q": 'Mumbai "attacks"!', "person": "Madhukar Gupta"})
    assert response["Content-Disposition"] == (
        f'attachment; filename="archive-search-mumbai-attacks-madhukar-gupta-{today}.csv"'
    )
    # A search by filters alone is named by them; "all" is the whole archive.
    response = client.get("/export.csv", {"person": "Madhukar Gupta", "year": "2008"})
    assert response["Content-Disposition"] == (
        f'attachment; filename="archive-search-madhukar-gupta-2008-{today}.csv"'
    )
    response = client.get("/export.json")
    assert response["Content-Disposition"] == (
        f'attachment; filename="archive-search-all-{today}.json"'
    )
    long = client.get("/export.csv", {"q": "word " * 40})
    name = re.search(r'filename="([^"]+)"', long["Content-Disposition"]).group(1)
    assert len(name) <= 80 and name.endswith(f"-{today}.csv")
    # A query in another script keeps its letters (RFC 6266's filename*), not "all".
    other = client.get("/export.csv", {"q": "日本"})
    assert other["Content-Disposition"] == (
        f"attachment; filename*=utf-8''archive-search-%E6%97%A5%E6%9C%AC-{today}.csv"
    )


@pytest.mark.parametrize("path", ["/export.csv", "/export.json"])
@pytest.mark.parametrize(
    "params, message",
    [
        ({"sort": "best"}, "“sort” must be one of"),
        ({"date_from": "2025-02-30"}, "“date_from” must be a date"),
        ({"year": "twenty"}, "“year” must be a year"),
        ({"month": "2008-13"}, "“month” must be written YYYY-MM"),
    ],
)
def test_bad_parameters_are_400_with_a_plain_message(client, seeds, path, params, message):
    response = client.get(path, params)
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert message in response.content.decode()
    assert "Content-Disposition" not in response


@pytest.mark.whoosh_only
@pytest.mark.parametrize("path", ["/export.csv", "/export.json"])
def test_missing_index_is_503_and_post_is_405(client, seeds, settings, tmp_path, path):
    assert client.post(path, {"q": "pakistan"}).status_code == 405
    settings.ARCHIVE_INDEX_DIR = tmp_path / "gone"
    response = client.get(path, {"q": "pakistan"})
    assert response.status_code == 503
    assert "manage.py rebuild_index" in response.content.decode()


def test_search_page_links_carry_the_current_parameters(client, seeds):
    html = client.get("/", {"q": "pakistan", "person": "Asif Ali Zardari", "page_size": "5"})
    html = html.content.decode()
    tools = re.search(r'<p class="result-tools">.*?</p>', html, re.S).group(0)
    assert 'href="/export.csv?q=pakistan&amp;person=Asif+Ali+Zardari"' in tools
    assert 'href="/export.json?q=pakistan&amp;person=Asif+Ali+Zardari"' in tools
    assert 'href="/feeds/search?q=pakistan&amp;person=Asif+Ali+Zardari"' in tools
    # The htmx partial carries the same links (they are part of the results partial).
    partial = client.get("/", {"q": "murree"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'href="/export.csv?q=murree"' in partial


def test_no_results_offers_only_the_feed(client, seeds):
    html = client.get("/", {"q": "zzzunfindable"}).content.decode()
    tools = re.search(r'<p class="result-tools">.*?</p>', html, re.S).group(0)
    assert "/export.csv" not in tools
    assert 'href="/feeds/search?q=zzzunfindable"' in tools


def test_every_url_is_the_documents_own_permalink(client, transactional_db, make_document):
    titles = ["Ünïcode — 100% ‘quotes’ & <tags>", "   ", "Slash/and?query#hash", "a" * 300]
    documents = [make_document(title=title, body="Permalink body.") for title in titles]
    # One text four times is one story: every copy is asked for.
    rows = csv_rows(client.get("/export.csv", {"q": "permalink", "copies": "all"}))
    urls = {int(row["id"]): row["url"] for row in rows}
    assert urls == {d.pk: f"http://testserver{d.get_absolute_url()}" for d in documents}
    for url in urls.values():
        assert client.get(url.removeprefix("http://testserver")).status_code == 200
