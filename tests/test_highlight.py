"""Highlighting escapes document text before adding marks, whatever the text holds."""

from __future__ import annotations

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
