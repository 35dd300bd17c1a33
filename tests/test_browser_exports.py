"""In a real browser (headless Chromium through Playwright): the search page's CSV export link
downloads a file with the results of the search shown."""

from __future__ import annotations

import csv
import io

import pytest

from tests.browser import chromium, require_chromium

require_chromium()

pytestmark = pytest.mark.browser


@pytest.fixture
def page(live_server):
    with chromium() as browser:
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page
        assert errors == [], f"JavaScript errors: {errors}"
        context.close()


def test_csv_export_link_downloads_the_results(page, live_server, seeds, tmp_path):
    from playwright.sync_api import expect

    page.goto(live_server.url + "/?q=pakistan")
    expect(page.locator("#result-count")).to_contain_text("2 results for “pakistan”")
    link = page.locator(".result-tools a", has_text="CSV")
    expect(link).to_have_attribute("href", "/export.csv?q=pakistan")

    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.startswith("archive-search-pakistan-")
    assert download.suggested_filename.endswith(".csv")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert sorted(row["title"] for row in rows) == sorted(document.title for document in seeds)
    assert all(row["url"].startswith(live_server.url + "/documents/") for row in rows)
    # The page stayed where it was: a download is not a navigation.
    expect(page).to_have_url(live_server.url + "/?q=pakistan")
