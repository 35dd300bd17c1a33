"""One journey in a real browser (headless Chromium driven by Playwright): type a query, see
highlighted results arrive without a page load, click a person facet, then go back."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from tests.browser import ARTIFACTS, chromium, require_chromium

require_chromium()

pytestmark = pytest.mark.browser


@pytest.fixture
def page(live_server):
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page
        assert errors == [], f"JavaScript errors: {errors}"
        context.close()


def test_slow_typing_makes_one_history_entry(page, live_server, seeds):
    """Each pause in typing updates the results; only the first update of the run adds a
    history entry, so Back leaves the query rather than stepping through "Murre", "Murr"..."""
    from playwright.sync_api import expect

    page.goto(live_server.url + "/")
    expect(page.locator("#result-count")).to_contain_text("2 documents in the archive")
    before = page.evaluate("history.length")
    page.locator("#q").press_sequentially("Murree", delay=450)  # past the 300 ms pause each time
    expect(page).to_have_url(live_server.url + "/?q=Murree")
    expect(page.locator("#result-count")).to_contain_text("1 result for “Murree”")
    assert page.evaluate("history.length") == before + 1
    page.go_back()
    expect(page).to_have_url(live_server.url + "/")
    expect(page.locator("#result-count")).to_contain_text("2 documents in the archive")


def test_type_search_click_person_and_go_back(page, live_server, seeds):
    from playwright.sync_api import expect

    page.goto(live_server.url + "/")
    expect(page.locator("#result-count")).to_contain_text("2 documents in the archive")
    # Mark the loaded document: a full page load would lose this.
    page.evaluate("window.__loadedOnce = true")

    page.locator("#q").press_sequentially("Murree", delay=40)
    mark = page.locator(".hit__snippet mark").first
    expect(mark).to_have_text("Murree")
    expect(page.locator("#result-count")).to_contain_text("1 result for “Murree”")
    expect(page).to_have_url(live_server.url + "/?q=Murree")
    expect(page).to_have_title("Murree – Search – News Archive")
    expect(page.locator("#live-status")).to_contain_text("1 result")
    # Madhukar Gupta is in the person facet.
    expect(page.locator(".facet__value", has_text="Madhukar Gupta")).to_be_visible()

    # A new query, then a click on a person narrows the results, all without a page load.
    page.locator("#q").fill("")
    page.locator("#q").press_sequentially("pakistan", delay=30)
    expect(page.locator("#result-count")).to_contain_text("2 results for “pakistan”")
    expect(page).to_have_url(live_server.url + "/?q=pakistan")
    page.locator(".facet__value", has_text="Asif Ali Zardari").click()
    expect(page.locator("#result-count")).to_contain_text("1 result for “pakistan”")
    expect(page).to_have_url(live_server.url + "/?q=pakistan&person=Asif+Ali+Zardari")
    expect(page.locator(".hit__title")).to_have_count(1)
    expect(page.locator(".hit__title")).to_contain_text("Farhatullah Babar admits")
    expect(page.locator(".chip", has_text="Asif Ali Zardari")).to_be_visible()
    assert page.evaluate("window.__loadedOnce") is True, "an update caused a full page load"

    # Back restores the previous results, query and sort; forward and back again too.
    page.go_back()
    expect(page).to_have_url(live_server.url + "/?q=pakistan")
    expect(page.locator("#result-count")).to_contain_text("2 results for “pakistan”")
    expect(page.locator(".hit__title")).to_have_count(2)
    expect(page.locator("#q")).to_have_value("pakistan")
    page.locator('select[name="sort"]').select_option("oldest")
    expect(page).to_have_url(live_server.url + "/?q=pakistan&sort=oldest")
    expect(page.locator(".hit__title").first).to_contain_text("Inside Story!")
    page.go_back()
    expect(page).to_have_url(live_server.url + "/?q=pakistan")
    expect(page.locator('select[name="sort"]')).to_have_value("")
    page.go_back()
    expect(page).to_have_url(live_server.url + "/?q=Murree")
    expect(page.locator("#q")).to_have_value("Murree")
    expect(page.locator("#result-count")).to_contain_text("1 result for “Murree”")
    assert page.evaluate("window.__loadedOnce") is True, "going back caused a full page load"

    # Typing keeps the person filter chosen before.
    page.locator(".facet__value", has_text="Madhukar Gupta").click()
    # The count does not change with this filter: wait for the swap itself (the chip and URL).
    expect(page).to_have_url(live_server.url + "/?q=Murree&person=Madhukar+Gupta")
    expect(page.locator(".chip", has_text="Madhukar Gupta")).to_be_visible()
    expect(page.locator("#result-count")).to_contain_text("1 result for “Murree”")
    page.locator("#q").fill("")
    page.locator("#q").press_sequentially("delegation", delay=30)
    expect(page.locator("#result-count")).to_contain_text("1 result for “delegation”")
    expect(page).to_have_url(live_server.url + "/?q=delegation&person=Madhukar+Gupta")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "search-desktop.png"), full_page=True)


@pytest.mark.parametrize("debug", [False, True], ids=["production", "development"])
def test_an_invalid_parameter_shows_its_message_in_place(page, live_server, seeds, settings, debug):
    """htmx does not swap 4xx responses by default; the page configures it to, so a bad parameter
    gives a readable message instead of a page that silently stops updating. In development
    (DEBUG, as ``make run`` serves), django-htmx's debug script would replace the whole page
    with the bare message: the site's own messages are kept from it."""
    from playwright.sync_api import expect

    settings.DEBUG = debug
    page.goto(live_server.url + "/?q=pakistan")
    assert (page.locator('script[src*="django-htmx"]').count() == 1) is debug
    # A date range that ends before it begins, from the date inputs.
    page.locator('input[type="date"][name="date_from"]').fill("2010-01-01")
    page.locator('input[type="date"][name="date_to"]').fill("2005-01-01")
    page.locator(".histogram__dates").get_by_role("button", name="Apply").click()
    expect(page.locator("#search-results .alert--error")).to_contain_text("date")
    # The keyboard's place is the message's heading, not lost to the page; the tab says so.
    expect(page.locator("#result-count")).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error: Search"))
    expect(page.locator("header.site-header")).to_be_visible()
    expect(page.locator("#q")).to_have_value("pakistan")
    # The address bar shows what was typed, without the form's empty fields ("sort=").
    expect(page).to_have_url(re.compile(r"/\?q=pakistan&date_from=2010-01-01&date_to=2005-01-01$"))
    page.goto(live_server.url + "/?q=pakistan")
    page.evaluate("htmx.ajax('GET', '/?q=pakistan&page=zero', '#search-results')")
    expect(page.locator("#search-results .alert--error")).to_contain_text("page")


def test_follow_a_result_to_the_marked_full_text(page, live_server, seeds):
    from playwright.sync_api import expect

    page.goto(live_server.url + "/?q=Murree")
    page.locator(".hit__title a").first.click()
    expect(page.locator("h1.document__title")).to_contain_text("Inside Story!")
    expect(page.locator(".document__body mark")).to_have_count(2)
    page.locator("a[href='#hit-1']").click()
    expect(page).to_have_url(page.url.split("#")[0] + "#hit-1")
    # The counter follows the jump (the match shown takes the focus): the next "Next" goes on
    # to the second match, and keeps the focus for the next press.
    expect(page.locator(".hitbar__position")).to_have_text("1 of 2")
    expect(page.locator("#hit-1")).to_be_focused()
    next_match = page.get_by_role("button", name="Next match")
    next_match.click()
    expect(page.locator(".hitbar__position")).to_have_text("2 of 2")
    expect(next_match).to_be_focused()
    expect(page).to_have_url(page.url.split("#")[0] + "#hit-2")
    page.keyboard.press("Enter")
    expect(page.locator(".hitbar__position")).to_have_text("1 of 2")
    page.set_viewport_size({"width": 390, "height": 844})
    # The whole citation shows on a phone, not its last line hidden in the box (a new user's
    # find: "(accessed 7 December 2026)." only by scrolling inside it).
    heights = page.locator("#citation").evaluate("box => [box.scrollHeight, box.clientHeight]")
    assert heights[0] <= heights[1], heights
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "document-phone.png"), full_page=True)
    page.goto(live_server.url + "/?q=pakistan")
    page.screenshot(path=str(ARTIFACTS / "search-phone.png"), full_page=True)


def test_a_snippet_opens_its_match_clear_of_the_hit_bar(page, live_server, make_document):
    """A result's snippet links to the match it quotes; arriving there, the bar's counter
    appeared after the browser had scrolled and made the bar wrap over the match."""
    from playwright.sync_api import expect

    filler = " ".join(["Quiet words fill the day with nothing at all to find here."] * 30)
    make_document(
        title="Harbour news",
        body=f"{filler}\n\nThe harbour nominations reopened today. {filler}\n\nThe harbour again.",
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    query = "harbour nominations"  # the bar's line is full only once its counter shows
    page.goto(live_server.url + "/?" + urlencode({"q": query}))
    page.locator(".hit__snippet-link").first.click()
    expect(page.locator(".hitbar__position")).to_have_text(re.compile(r"^1 of \d+$"))
    expect(page.locator("#hit-1")).to_be_focused()
    bar, mark = page.locator(".hitbar").bounding_box(), page.locator("#hit-1").bounding_box()
    assert mark["y"] >= bar["y"] + bar["height"], (bar, mark)


def test_the_page_works_without_javascript(live_server, seeds):
    from playwright.sync_api import expect

    with chromium() as browser:
        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()
        page.goto(live_server.url + "/")
        page.fill("#q", "pakistan")
        page.click("button[type=submit]")
        expect(page).to_have_url(live_server.url + "/?q=pakistan")
        expect(page.locator("#result-count")).to_contain_text("2 results for “pakistan”")
        page.locator(".facet__value", has_text="Asif Ali Zardari").click()
        expect(page.locator("#result-count")).to_contain_text("1 result for “pakistan”")
        # A new query from the form keeps the chosen person (hidden inputs).
        page.fill("#q", "Babur")
        page.click("button[type=submit]")
        expect(page).to_have_url(live_server.url + "/?q=Babur&person=Asif+Ali+Zardari")
        expect(page.locator(".hit__title")).to_have_count(1)
        context.close()
