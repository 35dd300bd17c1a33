"""Highlighting escapes document text before adding marks, whatever the text holds."""

from __future__ import annotations

import re

import pytest

from archive import search
from archive.search import SearchRequest
from archive.search.highlight import lead, mark_all, snippets

pytestmark = pytest.mark.usefixtures("search_backend")

HOSTILE_BODY = (
    "Officials said <script>alert('xss')</script> was found near the embassy. "
    'A link <a href="javascript:alert(1)">click</a> & an <img src=x onerror=alert(2)> tag. '
    "The embassy statement followed."
)


def test_snippets_escape_text_then_mark_words():
    [snippet] = snippets("Fish & <chips> at the embassy", {"embassi"})
    assert snippet == "Fish &amp; &lt;chips&gt; at the <mark>embassy</mark>"


def test_mark_all_numbers_hits_for_jumping():
    formatter = search.MarkFormatter(numbered=True)
    html = mark_all("Murree, then Murree again.", {"murre"}, formatter)
    assert html == '<mark id="hit-1">Murree</mark>, then <mark id="hit-2">Murree</mark> again.'
    assert formatter.count == 2


def test_text_without_matches_is_escaped_and_unchanged():
    assert mark_all("<b>bold</b>", set()) == "&lt;b&gt;bold&lt;/b&gt;"
    assert lead("a < b") == "a &lt; b"


def test_lead_cuts_at_a_word_boundary():
    text = "word " * 100
    result = lead(text, max_chars=50)
    assert result.endswith("…")
    assert len(result) <= 51
    assert "wor…" not in result


def test_hostile_document_is_escaped_in_search_results(make_document):
    make_document(title="<script>alert('title')</script> embassy", body=HOSTILE_BODY)
    response = search.search(SearchRequest(q="embassy alert"))
    [hit] = response.hits
    html = hit.title_html + "".join(hit.snippets)
    assert "<script" not in html
    assert "<a " not in html and "<img" not in html
    assert "&lt;script&gt;<mark>alert</mark>" in html
    assert "<mark>embassy</mark>" in html
    # Only our own tags remain.
    assert html.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_snippets_pick_the_best_fragments_the_same_way_every_time():
    # Four equally good fragments: the first three in text order, on every run.
    text = " ".join(f"Paragraph {i} mentions Murree once. " + "filler " * 40 for i in range(4))
    picks = {tuple(snippets(text, {"murre"})) for _ in range(20)}
    assert len(picks) == 1
    [chosen] = picks
    assert [s.split("Paragraph ")[1][0] for s in chosen] == ["0", "1", "2"]


# --- Phrases: their words are marked only where they stand as the phrase -----------------------

FILLER = "filler " * 40
PHRASE_BODY = (
    f"Terror gripped the port for weeks. {FILLER}One attack was foiled at dawn. {FILLER}"
    f"Police in Mumbai said the terror attacks were planned abroad. {FILLER}"
    "Terrorism was the word of the year."
)


def _marks(html: str) -> list[str]:
    return re.findall(r"<mark[^>]*>(.*?)</mark>", html)


def test_a_phrase_marks_only_its_consecutive_occurrences(make_document):
    make_document(title="Terror in the port", body=PHRASE_BODY)
    [hit] = search.search(SearchRequest(q='"terror attacks"')).hits
    # The only fragment with the phrase; lone "Terror", "attack" and "Terrorism" are left unmarked.
    [snippet] = hit.snippets
    assert "Police in Mumbai said the <mark>terror attacks</mark> were planned abroad." in snippet
    assert _marks(snippet) == ["terror attacks"]
    assert hit.title_html == "Terror in the port"


def test_a_phrase_is_marked_after_analysis_stop_words_and_case(make_document):
    make_document(
        body="Terrorism, attacks and Terror, attacks. Then an attack: the attacks on Mumbai."
    )
    [hit] = search.search(SearchRequest(q='"terror attacks" OR "attacks in Mumbai"')).hits
    # A quoted phrase is its words as written, in any case, punctuation between them aside;
    # "on" is a stop word, as "in" is. "Terrorism, attacks" (the same stems) is not the phrase.
    assert _marks(hit.snippets[0]) == ["Terror, attacks", "attacks on Mumbai"]


def test_the_document_page_numbers_phrase_occurrences_only(client, make_document):
    document = make_document(title="Terror in the port", body=PHRASE_BODY)
    html = client.get(document.get_absolute_url(), {"q": '"terror attacks"'}).content.decode()
    assert _marks(html) == ["terror attacks"]
    assert '<mark id="hit-1">terror attacks</mark>' in html
    assert 'id="hit-2"' not in html
    assert "1 match for “terror attacks”" in html


@pytest.mark.parametrize("q", ['"terror attacks" Mumbai', '"terror attacks" mumb*'])
def test_a_phrase_and_a_word_mark_the_phrase_and_the_word(client, make_document, q):
    document = make_document(
        title="Mumbai attack", body=PHRASE_BODY + " Mumbai mourned. Another attack in Mumbai."
    )
    [hit] = search.search(SearchRequest(q=q)).hits
    assert hit.title_html == "<mark>Mumbai</mark> attack"
    snippet_marks = _marks("".join(hit.snippets))
    assert set(snippet_marks) == {"terror attacks", "Mumbai"}
    html = client.get(document.get_absolute_url(), {"q": q}).content.decode()
    numbered = re.findall(r'<mark id="hit-\d+">(.*?)</mark>', html)
    assert numbered == ["Mumbai", "terror attacks", "Mumbai", "Mumbai"]
    assert "4 matches for" in html


def test_a_proximity_phrase_marks_its_words_only_where_they_are_near(make_document):
    make_document(body="Terror came first. " + "filler " * 10 + "Terror struck Mumbai again.")
    [hit] = search.search(SearchRequest(q='"terror Mumbai"~3')).hits
    assert _marks("".join(hit.snippets)) == ["Terror", "Mumbai"]
    assert (
        "struck <mark>Mumbai" in hit.snippets[0]
        and "<mark>Terror</mark> came" not in (hit.snippets[0])
    )


def test_words_after_not_are_not_marked(client, make_document):
    document = make_document(title="Mumbai attack", body="Mumbai after the attack. Mumbai again.")
    for q in ("Mumbai -attack", "Mumbai NOT attack", "Mumbai ANDNOT attack"):
        html = client.get(document.get_absolute_url(), {"q": q}).content.decode()
        assert _marks(html) == ["Mumbai", "Mumbai", "Mumbai"], q
        assert search.query_terms(q)["body"] == search.query_terms("Mumbai")["body"], q


def test_a_phrase_mark_is_escaped_inside_and_around(client, make_document):
    body = "Witnesses saw <script>terror <b>attacks</b></script> & fled."
    document = make_document(title="Report", body=body)
    [hit] = search.search(SearchRequest(q='"terror attacks"')).hits
    expected = "&lt;script&gt;<mark>terror &lt;b&gt;attacks</mark>&lt;/b&gt;&lt;/script&gt;"
    assert expected in hit.snippets[0]
    html = client.get(document.get_absolute_url(), {"q": '"terror attacks"'}).content.decode()
    assert '&lt;script&gt;<mark id="hit-1">terror &lt;b&gt;attacks</mark>&lt;/b&gt;' in html
    assert "<script>terror" not in html and "<b>attacks" not in html


def test_snippets_prefer_a_fragment_with_the_phrase():
    text = "Mumbai, Mumbai, Mumbai and Mumbai again. " + FILLER + "Then the terror attacks began."
    terms = search.query_terms('"terror attacks" Mumbai')["body"]
    [best] = snippets(text, terms, top=1)
    assert _marks(best) == ["terror attacks"]
    assert [_marks(s) for s in snippets(text, terms)] == [["Mumbai"] * 4, ["terror attacks"]]


def test_a_phrase_cut_by_a_snippets_end_is_not_half_marked():
    from archive.search.types import Phrase, QueryTerms

    # 52 words fill the fragment, so it ends between "terror" and "attacks".
    text = "word " * 52 + "terror attacks."
    terms = QueryTerms(words=frozenset({"word"}), phrases=frozenset({Phrase(("terror", "attack"))}))
    found = snippets(text, terms)
    assert any("terror" in snippet for snippet in found)  # the cut falls inside the phrase
    # The half the fragment holds is left unmarked: never "terror" alone.
    assert not any("<mark>terror</mark>" in snippet for snippet in found)
    # Nor "attacks" alone, in the next fragment or joined to this one (a review's find).
    for words in (52, 54):
        text = "word " * words + "terror attacks. Then calm."
        found = snippets(text, terms)
        assert not any("<mark>attacks</mark>" in snippet for snippet in found), (words, found)


def test_a_match_just_after_a_snippet_joins_it_instead_of_standing_alone():
    """A new user's find, on a BBC article ending "... said Aidan O'Carroll, E&Y's UK head of
    tax.": its third snippet was "…<mark>tax</mark>…", the word right after the second
    snippet's end with no context (the words between were stop words)."""
    text = (
        "In the Budgets given before the last six elections, taxes were cut by the incumbent "
        "chancellor and, in many cases, taxes were increased soon after the election result, "
        "said Aidan O'Carroll, the firm's UK head of tax."
    )
    found = snippets(text, ["tax"])
    assert all(len(re.sub(r"<[^>]+>|…", "", s).split()) > 3 for s in found), found
    assert _marks(" ".join(found)) == ["taxes", "taxes", "tax"]
    # The text ends there (but for its full stop): no "…" after it.
    assert found[-1].endswith("head of <mark>tax</mark>")


def test_each_snippet_links_to_the_place_it_quotes_on_the_document_page(client, make_document):
    """A result's snippets lead to the full text at the very match each quotes (the document
    page's numbered marks), across paragraphs and after the headline the page shows once."""
    filler = " ".join(["Quiet words fill the day with nothing to find."] * 6)
    words = ["alpha", "bravo", "charlie", "delta", "echo"]
    paragraphs = [f"The harbour {word} was busy. {filler}" for word in words]
    document = make_document(
        title="Harbour news", body="Harbour news\n\n" + "\n\n".join(paragraphs)
    )
    [hit] = search.search(SearchRequest(q="harbour")).hits
    assert len(hit.snippets) == 3 and all(hit.snippet_hits)
    page = client.get(document.get_absolute_url(), {"q": "harbour"}).content.decode()
    for snippet, number in hit.linked_snippets:
        quoted = re.search(r"<mark>harbour</mark> (\w+)", snippet.lower()).group(1)
        placed = re.search(rf'<mark id="hit-{number}">harbour</mark> (\w+)', page.lower())
        assert placed and placed.group(1) == quoted, (snippet, number)
    results = client.get("/", {"q": "harbour"}).content.decode()
    for number in hit.snippet_hits:
        assert re.search(rf'class="hit__snippet-link" href="[^"]*#hit-{number}"', results)
