"""When a search finds nothing, the page says why (the words, or the filters) and offers to drop
the filters one at a time, with the number of documents each would give."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from archive import presentation, search
from archive.search import SearchRequest

pytestmark = pytest.mark.usefixtures("search_backend")

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def archive(seeds, make_document):
    make_document(
        title="Karachi port",
        body="Karachi harbour news",
        persons=("Asif Ali Zardari",),
        publication="Dawn",
        published=dt.date(2008, 3, 1),
    )
    make_document(
        title="Karachi market",
        body="Karachi prices",
        persons=("Benazir Bhutto",),
        publication="Reuters",
        published=dt.date(2007, 3, 1),
    )


def no_results(**params) -> presentation.NoResults | None:
    response = search.search(SearchRequest(**params))
    calls: list[str] = []

    def count(query_string: str) -> int:
        calls.append(query_string)
        from django.http import QueryDict

        from archive.params import search_request

        return search.search(search_request(QueryDict(query_string.removeprefix("?")))).total

    result = presentation.no_results(response, count)
    if result is not None:
        assert len(calls) <= presentation.RELAX_COUNT_MAX + 1
    return result


def test_nothing_to_explain_when_there_are_results(archive):
    assert no_results(q="karachi") is None


def test_words_that_find_nothing(archive):
    result = no_results(q="zyxwvut")
    assert result.reason == "query" and result.relaxations == []


def test_words_that_find_nothing_even_without_the_filters(archive):
    result = no_results(q="zyxwvut", persons=("Benazir Bhutto",))
    assert result.reason == "query"
    assert result.query_total == 0
    assert [r.total for r in result.relaxations] == [None]  # not worth counting


def test_filters_that_exclude_everything_with_a_count_per_dropped_filter(archive):
    result = no_results(q="karachi", persons=("Asif Ali Zardari",), publications=("Reuters",))
    assert result.reason == "filters"
    assert result.query_total == 2
    assert [(r.chip.kind, r.chip.label, r.chip.url, r.total) for r in result.relaxations] == [
        ("Person", "Asif Ali Zardari", "?q=karachi&publication=Reuters", 1),
        ("Publication", "Reuters", "?q=karachi&person=Asif+Ali+Zardari", 1),
    ]
    assert result.clear_url == "?q=karachi"


def test_browsing_with_filters_that_exclude_everything(archive):
    result = no_results(persons=("Benazir Bhutto",), year=2008)
    assert result.reason == "filters"
    assert result.query_total == 4
    assert [(r.chip.kind, r.total) for r in result.relaxations] == [("Person", 1), ("Year", 1)]


def test_many_filters_are_offered_without_counts(archive):
    persons = ("Asif Ali Zardari", "Benazir Bhutto")
    result = no_results(
        q="karachi",
        persons=persons,
        publications=("BBC", "AP", "AFP"),
        year=2008,
        month=3,
        date_from=dt.date(2008, 1, 1),
    )
    assert result.reason == "filters"
    assert len(result.relaxations) > presentation.RELAX_COUNT_MAX
    assert {r.total for r in result.relaxations} == {None}


def test_an_empty_archive(transactional_db):
    assert no_results().reason == "empty"


# --- On the page -------------------------------------------------------------------------------


def test_the_page_says_the_words_found_nothing(client, archive):
    html = client.get("/", {"q": "zyxwvut"}).content.decode()
    assert "No documents contain “zyxwvut”." in html
    assert "Check the spelling" in html
    assert "Remove one filter" not in html


def test_the_page_says_the_filters_exclude_the_hits_and_offers_links(client, archive):
    html = client.get(
        "/", {"q": "karachi", "person": "Asif Ali Zardari", "publication": "Reuters"}
    ).content.decode()
    assert "“karachi” finds 2 documents, but the filters exclude all of them." in html
    links = re.findall(
        r'<li><a href="([^"]+)" hx-get="\1">([^<]+)</a>\s*<span class="no-results__count">'
        r"([^<]+)</span>",
        html,
    )
    assert links == [
        ("/?q=karachi&amp;publication=Reuters", "Without person “Asif Ali Zardari”", "1 document"),
        ("/?q=karachi&amp;person=Asif+Ali+Zardari", "Without publication “Reuters”", "1 document"),
        ("/?q=karachi", "Without any filter", "2 documents"),
    ]


def test_the_htmx_partial_says_why_too(client, archive):
    html = client.get("/", {"person": "Benazir Bhutto", "year": "2008"}, **HTMX).content.decode()
    assert "No documents match all these filters together." in html
    assert "Without year “2008”" in html


def test_a_page_past_the_end_is_not_a_no_results_page(client, archive):
    html = client.get("/", {"q": "karachi", "page": "5"}).content.decode()
    assert "Go to the first page" in html
    assert "no-results" not in html
