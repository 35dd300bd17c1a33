"""A query that is a person's, organisation's or place's name (or another spelling of it): the
search page offers every document that mentions it, and its page."""

from __future__ import annotations

import re

from archive.models import Document

SEARCH = "/"


def _named(html: str) -> list[str]:
    return re.findall(r'<p class="alert alert--notice named">(.*?)</p>', html, re.S)


def test_an_alias_offers_the_person_under_either_spelling(client, seeds):
    """ "ajmal kasab" finds those words; the archive's person is "Azmal Kasab"."""
    page = client.get(SEARCH, {"q": "ajmal kasab"}).content.decode()
    [card] = _named(page)
    assert "<strong>Azmal Kasab</strong> is a person of this archive" in card
    assert "also written “Ajmal Kasab”" in card
    link = re.search(r'href="(/\?[^"]*person=Azmal[^"]*)"', card).group(1)
    assert "q=" not in link
    assert "hx-get" not in card  # a page load: the search box must lose the query too
    filtered = client.get("/api/search" + link.replace("&amp;", "&")[1:]).json()
    mentioning = Document.objects.filter(persons__name="Azmal Kasab").count()
    assert mentioning > 0 and filtered["total"] == mentioning
    assert 'href="/persons/azmal-kasab/"' in card or "/persons/?name=Azmal" in card


def test_a_name_in_any_case_offers_its_place_and_keeps_the_other_filters(client, seeds):
    page = client.get(SEARCH, {"q": "  pakistan ", "person": "Azmal Kasab"}).content.decode()
    [card] = _named(page)
    assert "<strong>Pakistan</strong> is a place of this archive:" in card
    assert "also written" not in card
    assert "place=Pakistan" in card and "person=Azmal+Kasab" in card


def test_the_link_is_the_entitys_documents_alone(client, seeds):
    """Values of one facet combine with OR: a person already chosen is replaced, not kept."""
    page = client.get(SEARCH, {"q": "Babur", "person": "Azmal Kasab"}).content.decode()
    [card] = _named(page)
    assert "person=Farhatullah+Babar" in card and "Azmal" not in card


def test_no_card_for_a_chosen_value_query_language_or_an_unknown_name(client, seeds):
    assert not _named(client.get(SEARCH, {"q": "Pakistan", "place": "Pakistan"}).content.decode())
    queries = ('"Azmal Kasab"', "person:Babur", "Pakist*", "Pakistan OR India", "Atlantis", "")
    for q in (*queries, "a" * 60_000, "100%_", "ZÜRICH"):
        assert not _named(client.get(SEARCH, {"q": q}).content.decode()), q


def test_the_card_comes_with_htmx_results_too(client, seeds):
    page = client.get(SEARCH, {"q": "Babur"}, headers={"HX-Request": "true"}).content.decode()
    [card] = _named(page)
    assert "<strong>Farhatullah Babar</strong> is a person of this archive" in card
    assert "organisation" not in card


def test_a_name_typed_without_its_accents_or_in_capitals_offers_the_person(client, make_document):
    """SQLite's case-insensitive match folds ASCII letters only, and people rarely type accents:
    "segolene royal" and "SÉGOLÈNE ROYAL" both name "Ségolène Royal"."""
    make_document(title="Royal speaks", body="Ségolène Royal spoke.", persons=("Ségolène Royal",))
    make_document(title="Other", body="Text.", persons=("Segolene Royale",))  # slugifies alike
    for q in ("segolene royal", "SÉGOLÈNE ROYAL", "Ségolène Royal", "Segolène  ROYAL"):
        [card] = _named(client.get(SEARCH, {"q": q}).content.decode())
        assert "<strong>Ségolène Royal</strong> is a person of this archive" in card, q
    [card] = _named(client.get(SEARCH, {"q": "segolene royale"}).content.decode())
    assert "<strong>Segolene Royale</strong>" in card
    assert not _named(client.get(SEARCH, {"q": "segolene roy"}).content.decode())


def test_a_name_too_common_to_search_as_words_points_to_its_documents(client, make_entity_document):
    """ "US" is a stop word, so the text search finds nothing; the help no longer says to check
    the spelling, but links to the documents that mention the place."""
    make_entity_document(title="Trade", body="Talks with the US went on.", places=("US",))
    page = client.get("/", {"q": "US"}).content.decode()
    assert "No documents contain “US” as words of their text." in page
    assert "Check the spelling" not in page
    assert '<a href="/?place=US">Every document that mentions the place US</a>' in page


def test_a_pasted_source_address_offers_the_document_printed_from_it(client, make_document):
    """A journalist pastes a source URL: its words ("news", "bbc", "uk") found hundreds of
    documents, and not the one from that page. Written with or without the scheme, with
    ``www.`` or tracking parameters, the address names its page's documents."""
    document = make_document(
        title="Blair stresses prosperity goals",
        body="Tony Blair says his party's next manifesto will be new.",
        source_url="http://news.bbc.co.uk/1/hi/uk_politics/4123456.stm",
    )
    make_document(
        title="Other", body="Another page.", source_url="http://news.bbc.co.uk/1/hi/x.stm"
    )
    link = f'This address is the source of <a href="{document.get_absolute_url()}">'
    for q in (
        "news.bbc.co.uk/1/hi/uk_politics/4123456.stm",
        "https://www.news.bbc.co.uk/1/hi/uk_politics/4123456.stm?utm_source=x",
    ):
        html = client.get("/", {"q": q}).content.decode()
        assert link in html, q
        assert html.count("This address is the source of") == 1
    for q in ("news.bbc.co.uk", "news.bbc.co.uk/1/hi/nothing.stm", "blair goals"):
        assert "This address is the source of" not in client.get("/", {"q": q}).content.decode()
