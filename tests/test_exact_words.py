"""Quoted words are searched as written, on every engine.

Snowball gives "Federer", "federal" and "federation" one stem ("feder"): unquoted, a search for
the tennis player finds every federal budget too, ranked alike, since the index holds the same
term. Quotes search the unstemmed twins of headline and text (``schema.EXACT_FIELDS``), and
mark only the word as written.
"""

from __future__ import annotations

import re

import pytest

from archive import search
from archive.search import SearchRequest

pytestmark = pytest.mark.usefixtures("search_backend")


@pytest.fixture
def archive_of_feders(make_document):
    return {
        "player": make_document(
            title="Federer reaches the final",
            body="Roger Federer beat Andy Roddick in straight sets on Sunday.",
        ),
        "budget": make_document(
            title="Budget vote",
            body="The federal budget passed after the federation of unions backed it.",
        ),
        "both": make_document(
            title="Sponsors",
            body="A federal agency sponsors the tournament where Federer plays.",
        ),
        "gates": make_document(
            title="Foundation news", body="Bill Gates opened the new building on Monday."
        ),
        "gate": make_document(
            title="Stadium news", body="Fans queued at the main gate before the match."
        ),
    }


def _ids(q: str) -> set[int]:
    return {hit.id for hit in search.search(SearchRequest(q=q)).hits}


def _marks(html: str) -> list[str]:
    return re.findall(r"<mark[^>]*>(.*?)</mark>", html)


def test_an_unquoted_word_finds_every_word_with_its_stem(archive_of_feders):
    docs = archive_of_feders
    assert _ids("federer") == {docs["player"].pk, docs["budget"].pk, docs["both"].pk}


def test_a_quoted_word_finds_that_word_only(archive_of_feders):
    docs = archive_of_feders
    assert _ids('"federer"') == {docs["player"].pk, docs["both"].pk}
    assert _ids('"Federal"') == {docs["budget"].pk, docs["both"].pk}
    assert _ids('"gates"') == {docs["gates"].pk}
    assert _ids("gates") == {docs["gates"].pk, docs["gate"].pk}
    assert _ids('title:"federer"') == {docs["player"].pk}


def test_a_quoted_phrase_matches_its_words_as_written(archive_of_feders):
    docs = archive_of_feders
    assert _ids('"bill gates"') == {docs["gates"].pk}
    assert _ids('"bill gate"') == set()
    assert _ids('"federal agency"') == {docs["both"].pk}
    assert _ids('"federer agency"') == set()
    # Quoted and unquoted words together: each as its own rule.
    assert _ids('"federer" sponsor') == {docs["both"].pk}


def test_counts_agree_with_the_hits(archive_of_feders):
    response = search.search(SearchRequest(q='"federer"'))
    assert response.total == len(response.hits) == 2


def test_only_the_word_as_written_is_marked(archive_of_feders):
    docs = archive_of_feders
    [hit] = [h for h in search.search(SearchRequest(q='"federer"')).hits if h.id == docs["both"].pk]
    assert _marks("".join(hit.snippets)) == ["Federer"]
    [hit] = [h for h in search.search(SearchRequest(q="federer")).hits if h.id == docs["both"].pk]
    assert _marks("".join(hit.snippets)) == ["federal", "Federer"]
    [hit] = search.search(SearchRequest(q='"bill gates"')).hits
    assert _marks("".join(hit.snippets)) == ["Bill Gates"]


def test_the_document_page_marks_the_quoted_word_only(client, archive_of_feders):
    document = archive_of_feders["both"]
    html = client.get(document.get_absolute_url(), {"q": '"federer"'}).content.decode()
    assert _marks(html) == ["Federer"]


# --- The page says when a word finds other words through its stem -----------------------------


def _notices(q: str) -> tuple[str, ...]:
    return search.search(SearchRequest(q=q)).notices


def test_a_word_that_finds_other_words_says_which(archive_of_feders):
    assert (
        "Unquoted, “Federer” also finds “federal” and “federation”, which share its stem: "
        'search "Federer" in quotes for that word alone.'
    ) in _notices("Federer")


def test_no_notice_for_a_quoted_word_or_a_word_and_its_inflections(make_document):
    make_document(title="Attack", body="The attack and the attacks: they attacked at night.")
    make_document(title="Gates", body="Bill Gates and the gate.")
    assert not any("share its stem" in notice for notice in _notices("attack"))
    assert not any("share its stem" in notice for notice in _notices("attacks night"))
    assert not any("share its stem" in notice for notice in _notices("gates"))
    assert not any("share its stem" in notice for notice in _notices('"attack"'))


def test_inflections_are_one_word():
    from archive.search.forms import same_word

    assert same_word("attack", "attacked", "attack")
    assert same_word("company", "companies", "compani")
    assert same_word("plan", "planned", "plan")
    assert same_word("hope", "hoping", "hope")
    assert same_word("election", "elections", "elect")
    assert not same_word("election", "elected", "elect")
    assert not same_word("federer", "federal", "feder")
    assert not same_word("international", "internal", "intern")


def test_the_page_links_the_search_with_the_word_quoted(client, archive_of_feders):
    html = client.get("/", {"q": "Federer final"}).content.decode()
    assert "which share its stem" in html
    link = '/?q=%22Federer%22+final">Search &quot;Federer&quot; final</a>'
    assert link in html
    quoted = client.get("/", {"q": '"Federer" final'}).content.decode()
    assert "which share its stem" not in quoted


def test_the_api_says_it_in_its_notices(client, archive_of_feders):
    data = client.get("/api/search", {"q": "federer"}).json()
    assert any("also finds “federal”" in notice for notice in data["notices"])


# --- From a review: older indexes, deleted words, the link's quotes, repeated words ------------


@pytest.mark.whoosh_only
def test_an_index_built_before_the_exact_fields_still_answers(
    client, archive_of_feders, build_index_without
):
    from archive import indexing

    build_index_without("title_exact", "body_exact")
    assert "has no 'body_exact', 'title_exact' fields" in search.outdated_analysis()
    # Quoted words are searched stemmed, as before, and the page says why.
    response = search.search(SearchRequest(q='"federer"'))
    assert response.total == 3
    assert any("built by an older version" in notice for notice in response.notices)
    assert client.get("/", {"q": "federer"}).status_code == 200
    assert client.get("/", {"q": '"federer" final'}).status_code == 200
    indexing.rebuild()
    assert search.outdated_analysis() == ""
    assert _ids('"federer"') == {archive_of_feders["player"].pk, archive_of_feders["both"].pk}


def test_a_word_no_document_holds_any_more_is_not_named(archive_of_feders):
    budget = archive_of_feders["budget"]
    budget.body = "The budget passed after the unions backed it."
    budget.save()
    both = archive_of_feders["both"]
    both.body = "An agency sponsors the tournament where Federer plays."
    both.save()
    assert _ids('"federal"') == set()
    assert not any("share its stem" in notice for notice in _notices("federer"))


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ('"the federer cup" federer', '"the federer cup" "federer"'),
        ("title:federer federer", 'title:federer "federer"'),
        ("federer's federer", '"federer"\'s federer'),
        ("Federer federer", '"Federer" federer'),
    ],
)
def test_the_link_quotes_the_plain_word(q, expected):
    from archive.search import with_word_quoted

    assert with_word_quoted(q, "federer") == expected


def test_a_word_typed_twice_gets_one_notice(archive_of_feders):
    notices = [n for n in _notices("Federer federer") if "share its stem" in n]
    assert len(notices) == 1


def test_a_cluster_built_before_the_exact_fields_searches_quoted_words_stemmed(
    archive_of_feders, search_backend
):
    if search_backend != "sphinxql":
        pytest.skip("about the cluster's analyser version")
    from archive.search import backends

    dictionary = backends.current().dictionary
    from archive.search.analyzer import ANALYZER_VERSION

    with dictionary.transaction() as connection:
        dictionary.put(connection, "analyzer_version", "2")
    try:
        assert "analyser version 2" in search.outdated_analysis()
        response = search.search(SearchRequest(q='"federer"'))
        assert response.total == 3
        assert any("built by an older version" in notice for notice in response.notices)
    finally:
        with dictionary.transaction() as connection:
            dictionary.put(connection, "analyzer_version", str(ANALYZER_VERSION))
