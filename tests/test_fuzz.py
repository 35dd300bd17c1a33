"""Hostile input: arbitrary query strings and parameter combinations never give a 5xx.

Hypothesis sends text with control characters, quotes, brackets, query-language operators, very
long strings and any Unicode to every endpoint that reads search parameters: the search page
(plain and as an htmx request), the JSON API, the exports, the search feed, the facet search and
the document page's ``?q=``. Bad values must give 400 with a message, or a sensible default.

The default run is short (``max_examples=100`` per test: a request costs 0.05-3 s, the
query parser being slow on long operator-laden text) so ``make test`` stays fast; set
``HYPOTHESIS_PROFILE=thorough`` (5,000 examples) or ``HYPOTHESIS_PROFILE=nightly`` (50,000) for a
longer hunt, ``smoke`` (20) for a quick look.
"""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

settings.register_profile(
    "default",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("smoke", settings.get_profile("default"), max_examples=20)
settings.register_profile("thorough", settings.get_profile("default"), max_examples=5_000)
settings.register_profile("nightly", settings.get_profile("default"), max_examples=50_000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

SEARCH_ENDPOINTS = [
    ("/", {}),
    ("/", {"HX-Request": "true"}),
    ("/api/search", {}),
    ("/export.csv", {}),
    ("/export.json", {}),
    ("/feeds/search", {}),
    ("/facets/person", {}),
    ("/facets/person", {"HX-Request": "true"}),
    ("/facets/publication", {}),
]

OPERATORS = [
    "AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO", '"', "'", "(", ")", "[", "]", "{", "}", "*",
    "?", "~", "~2", "^", "^3", ":", "\\", "-", "+", "/", "<", ">", "&", ";", "%", "%00", "title:",
    "body:", "person:", "publication:", "date:", "year:", "published:[2008 TO]", "*:*", "''",
    "\x00", "\r\n", "\t", "\u200b", "\ufeff", "\u202e", "ǅ", "İ", "ß", "🙂", "中文", "٣", "ﬁ",
]  # fmt: skip

# Any Unicode text that can travel in a URL (lone surrogates cannot be UTF-8 encoded).
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)
control_text = st.text(st.characters(max_codepoint=0x1F), max_size=20)
operator_soup = st.lists(
    st.one_of(st.sampled_from(OPERATORS), any_text, st.sampled_from(["pakistan", "Zardari"])),
    max_size=12,
).map(" ".join)
long_text = st.text(st.sampled_from('ab (")*:~^ -OR AND'), min_size=1_000, max_size=6_000)
# Long text is rarer: the parser takes seconds on 1,000 characters of operators.
hostile = st.one_of(any_text, control_text, operator_soup, any_text, control_text, long_text)

number_like = st.one_of(
    st.integers(min_value=-10, max_value=10**6).map(str),
    st.sampled_from(["", "0", "1", "01", "1e3", "1.5", " 2", "２", "٣", "9" * 30, "-0"]),
    any_text,
)
date_like = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["2008-02-30", "2008-13-01", "0000-01-01", "2008-1-1", "20080101", "undated"]),
    any_text,
)
params = st.fixed_dictionaries(
    {"q": hostile},
    optional={
        "page": number_like,
        "page_size": number_like,
        "sort": st.one_of(
            st.sampled_from(["relevance", "newest", "oldest", "RELEVANCE"]), any_text
        ),
        "year": st.one_of(st.sampled_from(["2008", "2009", "undated", "0"]), number_like),
        "month": st.one_of(st.sampled_from(["2008-11", "2008-00", "2008-13"]), any_text),
        "date_from": date_like,
        "date_to": date_like,
        "person": st.lists(st.one_of(st.just("Asif Ali Zardari"), hostile), max_size=4),
        "publication": st.lists(st.one_of(st.just(""), hostile), max_size=4),
        "facet_q": hostile,
        "utm_source": any_text,  # unknown parameters
        "format": any_text,
        "callback": any_text,
    },
)


def assert_not_5xx(response, where: str) -> None:
    assert response.status_code < 500, f"{response.status_code} for {where}"
    if response.status_code == 400 and response["Content-Type"].startswith("application/json"):
        assert json.loads(response.content)["error"]


@pytest.fixture
def fuzz_client(client, seeds):
    """A client over the seed articles, so hostile searches also find and render documents."""
    return client


@given(endpoint=st.sampled_from(SEARCH_ENDPOINTS), data=params)
def test_search_endpoints_never_fail_on_hostile_parameters(fuzz_client, endpoint, data):
    path, headers = endpoint
    response = fuzz_client.get(path, data, headers=headers)
    assert_not_5xx(response, f"GET {path} {data!r}")


@given(endpoint=st.sampled_from(SEARCH_ENDPOINTS), q=hostile)
def test_hostile_queries_alone(fuzz_client, endpoint, q):
    path, headers = endpoint
    response = fuzz_client.get(path, {"q": q}, headers=headers)
    assert_not_5xx(response, f"GET {path} q={q!r}")
    if path == "/api/search":
        assert response.status_code in (200, 400)


@given(
    path=st.sampled_from(["/", "/api/search", "/export.csv", "/feeds/search", "/facets/person"]),
    raw=st.text(st.characters(exclude_categories=["Cs"]), max_size=200),
)
def test_raw_query_strings(fuzz_client, path, raw):
    """Not even valid form encoding: repeated keys, stray %, & and = in odd places."""
    response = fuzz_client.get(path + "?" + raw.replace("#", "%23"))
    assert_not_5xx(response, f"GET {path}?{raw!r}")


@given(q=hostile, extra=st.dictionaries(any_text, any_text, max_size=3))
def test_document_and_person_pages(fuzz_client, seeds, q, extra):
    document = seeds[0]
    response = fuzz_client.get(document.get_absolute_url(), {"q": q, **extra})
    assert_not_5xx(response, f"document ?q={q!r}")
    assert response.status_code == 200
    response = fuzz_client.get("/persons/", {"name": q})
    assert_not_5xx(response, f"/persons/?name={q!r}")


# --- The sensible defaults, stated exactly ----------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=-1",
        "page=abc",
        "page=10001",
        "page_size=0",
        "page_size=101",
        "sort=random",
        "sort=RELEVANCE",
        "date_from=2008-02-30",
        "date_from=yesterday",
        "date_to=2008-13-01",
        "date_from=2009-01-01&date_to=2008-01-01",
        "year=20080",
        "year=abc",
        "month=2008-13",
        "month=2009-01&year=2008",
    ],
)
def test_bad_values_give_400_with_a_message(client, seeds, query):
    # Exports and feeds are the whole result set: they ignore paging, even malformed.
    paging = query.startswith(("page=", "page_size="))
    for path in ("/", "/api/search", "/export.csv", "/export.json", "/feeds/search"):
        response = client.get(f"{path}?q=pakistan&{query}")
        expected = 200 if paging and path not in ("/", "/api/search") else 400
        assert response.status_code == expected, f"{path}?{query}: {response.status_code}"
    page = client.get(f"/?q=pakistan&{query}")
    assert "must" in page.content.decode()
    api = client.get(f"/api/search?q=pakistan&{query}").json()
    assert "must" in api["error"]


def test_a_page_past_the_last_is_empty_not_an_error(client, seeds):
    response = client.get("/api/search?q=pakistan&page=500")
    assert response.status_code == 200
    data = response.json()
    assert data["total"] == 2 and data["results"] == []
    page = client.get("/?q=pakistan&page=500")
    assert page.status_code == 200
    text = page.content.decode()
    assert "There is only one page of results." in text and "page 500 of" not in text


def test_unknown_parameters_are_ignored(client, seeds):
    plain = client.get("/api/search?q=pakistan").json()
    odd = client.get("/api/search?q=pakistan&utm_source=x&__proto__=1&q[]=1").json()
    assert odd["total"] == plain["total"] == 2


def test_control_characters_in_a_query_are_harmless(client, seeds):
    """NUL and other C0 controls cannot go into XML (the feed) nor PostgreSQL text."""
    for path in ("/", "/api/search", "/feeds/search", "/export.csv", "/facets/person"):
        response = client.get(path, {"q": "paki\x00stan\x01\x1b", "person": "Asif\x00"})
        assert response.status_code < 500, path
    data = client.get("/api/search", {"q": "pakistan\x00"}).json()
    assert data["total"] == 2
