"""Person extraction and resolution, on texts written for the purpose and on the seeds."""

from __future__ import annotations

import subprocess
import sys

import pytest

from archive.ingest import entities, persons
from tests.conftest import REPO, SHARED


def test_mentions_are_cleaned_of_possessives_and_titles():
    assert persons.clean_mention("President Asif Ali Zardari's") == "Asif Ali Zardari"
    assert persons.clean_mention("Mr. Blair’s") == "Blair"
    assert persons.clean_mention("Sir Alex Ferguson") == "Alex Ferguson"
    assert persons.clean_mention("M L Kumawat") == "M L Kumawat"
    # A personal title inside a span begins the name: a headline's or a dateline's word ran
    # into it ("Analysing Mr Brown", "Tanzania Mr Brown").
    assert persons.clean_mention("Analysing Mr Brown") == "Brown"
    assert persons.clean_mention("Tanzania Mrs Thatcher's") == "Thatcher"
    assert persons.clean_mention("Gordon Brown Mr") == "Gordon Brown"


@pytest.mark.parametrize(
    ("name", "is_name"),
    [
        ("Madhukar Gupta", True),
        ("Osama bin Laden", True),
        ("Lashkar-e-Taiba Mumbai", False),
        ("BBC", False),
        ("MPs", False),  # an acronym's plural: a person on a BBC Gordon Brown profile
        ("CEOs", False),
        ("Mrs Thatcher", True),
        ("Room 101", False),
        ("the minister", False),
        ("Downing Street", False),  # Tony Blair's most co-mentioned "person" on the BBC set
        ("Abbey Road", False),
        # A function word between a name's first and last words: a line-up's heading, a song.
        ("Subs Not Used", False),
        ("Roy All Around You", False),
        ("Henk Ten Cate", True),  # a number word is no function word here
        ("Charles A Blixt", True),
        ("Theresa May", True),  # last words are surnames like any other
    ],
)
def test_what_looks_like_a_name(name, is_name):
    assert persons.looks_like_a_name(name, set()) is is_name


def test_a_word_tagged_as_a_place_elsewhere_is_not_a_person():
    assert persons.looks_like_a_name("Taiba Mumbai", {"mumbai"}) is False


def test_surname_and_partial_mentions_join_the_full_name():
    found = ["Madhukar Gupta", "Gupta", "Parvez Kayani", "Ashfaq Parvez Kayani", "Kayani"]
    assert sorted(persons.resolve(found, set())) == ["Ashfaq Parvez Kayani", "Madhukar Gupta"]


def test_an_ambiguous_surname_joins_nobody():
    found = ["John Smith", "Jane Smith", "Smith"]
    assert sorted(persons.resolve(found, set())) == ["Jane Smith", "John Smith"]


def test_known_names_and_aliases_take_the_persons_name():
    known = {"babur": "Farhatullah Babar", "farhatullah babar": "Farhatullah Babar"}.get
    assert persons.resolve(
        ["Babur", "Farhatullah Babar"], set(), known=lambda n: known(n.casefold())
    ) == ["Farhatullah Babar"]


def test_capitalised_headline_words_need_the_article_to_repeat_them():
    text = "Inside Story Of The Great Escape\n\nThe prisoners left at night, said Tom Jones."
    found = ["Inside Story", "Tom Jones"]
    assert persons.resolve(found, set(), text=text) == ["Tom Jones"]


def test_a_headline_word_before_a_surname_is_not_a_first_name():
    """ "Faultless Federer" only in the headline, "Roger Federer" below: one person. A full name
    the text below writes too, or with no one of its surname below, stays."""
    text = (
        "Faultless Federer has no equal\n\nRoger Federer won again. Federer said little. "
        "Lleyton Hewitt lost."
    )
    found = ["Faultless Federer", "Roger Federer", "Federer", "Lleyton Hewitt"]
    names = persons.resolve(found, set(), text=text, title="Faultless Federer has no equal")
    assert sorted(names) == ["Lleyton Hewitt", "Roger Federer"]
    text = "Cherie Blair speaks\n\nCherie Blair and Tony Blair arrived."
    found = ["Cherie Blair", "Cherie Blair", "Tony Blair"]
    names = persons.resolve(found, set(), text=text, title="Cherie Blair speaks")
    assert sorted(names) == ["Cherie Blair", "Tony Blair"]
    # Below a headline that names its subject in full, a title or the first name on its own
    # says she is a person of her own.
    for below in (
        "Mrs Clinton spoke. Bill Clinton listened.",
        "Hillary spoke. Bill Clinton listened.",
    ):
        text = f"Hillary Clinton to run\n\n{below}"
        found = ["Hillary Clinton", "Bill Clinton"]
        names = persons.resolve(found, set(), text=text, title="Hillary Clinton to run")
        assert sorted(names) == ["Bill Clinton", "Hillary Clinton"]
    text = "Classy Henman wins\n\nHe won in straight sets."
    names = persons.resolve(["Classy Henman"], set(), text=text, title="Classy Henman wins")
    assert names == ["Classy Henman"]  # nobody below to say who: for the archive to decide


def test_extraction_with_the_model_end_to_end():
    text = (
        "Ministers meet in Paris\n\n"
        "Prime Minister Tony Blair met President Jacques Chirac in Paris on Monday. "
        "Blair's spokesman said the talks went well, and Mr Chirac agreed. "
        "Officials from Microsoft and the BBC attended."
    )
    [names] = persons.extract([text])
    assert sorted(names) == ["Jacques Chirac", "Tony Blair"]


def test_a_name_ends_at_a_sentence_end_or_a_spaced_dash():
    assert persons.clean_mention("Jay-Z. Soul") == "Jay-Z"
    assert persons.clean_mention("Rob Partridge - Marley's") == "Rob Partridge"
    # An initial's full stop ends a sentence when a function word follows it; it stays an
    # initial before a name.
    assert persons.clean_mention("Malcolm X. Besides") == "Malcolm X"
    assert persons.clean_mention("George W. Bush") == "George W. Bush"
    assert persons.clean_mention("J. K. Rowling") == "J. K. Rowling"


def test_a_span_ending_in_a_title_before_a_name_is_no_name_of_its_own():
    """The model tags "Tory Treasurer Lord" and "Ashcroft" as two persons: the first holds no
    name ("Treasurer" was a person value), the second is the titled name."""
    text = (
        "Fox attacks Tory lies\n\nMr Fox refused to discuss reports that the party had repaid "
        "a loan to former Tory Treasurer Lord Ashcroft after he said the party could not win."
    )
    doc = persons.nlp()(text)
    found, _, _ = persons.mentions(doc)
    assert not [name for name in found if "Treasurer" in name]
    assert "Ashcroft" in {persons.clean_mention(name) for name in found}


def test_titles_that_are_surnames_stay_at_the_end_of_a_name():
    assert persons.clean_mention("Tote King") == "Tote King"
    assert persons.clean_mention("John Major") == "John Major"
    assert persons.clean_mention("King Abdullah") == "Abdullah"


def test_an_acronym_inside_a_name_makes_it_a_product():
    assert persons.looks_like_a_name("MSN Messenger", set()) is False
    assert persons.looks_like_a_name("DJ Shadow", set()) is True


@pytest.mark.parametrize(
    ("text", "not_a_person"),
    [
        # A capitalised word after an article, before a noun, is a thing.
        ("A virus called Bofra spreads. The Bofra virus was found by Tim Warner.", "Bofra"),
        # A team named like another team the text names in full.
        (
            "Barcelona fell to a 2-0 defeat at home to Atletico Madrid. Fernando Torres scored. "
            "Real Madrid's 4-0 win over Espanyol reduces Barca's lead to four points.",
            "Madrid",
        ),
        # A club or company before a role and a person's name.
        ("Former Everton midfielder Thomas Gravesen scored for Real Madrid.", "Everton"),
    ],
)
def test_things_the_model_tags_as_persons_are_dropped(text, not_a_person):
    [names] = persons.extract(["Match report\n\n" + text])
    assert names and not any(not_a_person in name for name in names), names


def test_the_model_is_loaded_once_with_only_what_ner_needs():
    assert persons.nlp() is persons.nlp()
    assert persons.nlp().pipe_names == ["ner", persons.PARAGRAPH_BOUNDED]


def test_the_model_s_ner_does_not_listen_to_the_excluded_tok2vec():
    # EXCLUDED_COMPONENTS leaves out the shared tok2vec: right only while the model's ner has
    # its own embedding layers. A model whose ner listened to it would find nothing.
    import spacy

    full = spacy.load(persons.MODEL)
    assert "ner" not in full.get_pipe("tok2vec").listening_components


def test_no_entity_runs_across_a_paragraph_break():
    # Measured: the model ran names on across blank lines in 157 of 4,225 BBC and Reuters texts.
    text = (
        "Zardari meets Sharif in Lahore\n\nLAHORE, 3 March 2009 - President Asif Ali Zardari met "
        "Nawaz Sharif on Tuesday, officials said.\n\nThe talks followed a speech by Michael "
        "Howard\n\nTony Blair said on Monday that he would visit Pakistan."
    )
    doc = persons.nlp()(text)
    assert doc.ents and not any("\n" in ent.text for ent in doc.ents), doc.ents
    [names] = persons.extract([text])
    assert "Tony Blair" in names and not any("Howard Tony" in name for name in names), names
    places = {m.name for m in entities.document_mentions(doc) if m.label == "GPE"}
    assert "Lahore" in places and not any(" " in place for place in places), places


@pytest.mark.skipif(not (SHARED / "seeds").is_dir(), reason="../shared/seeds is not present")
def test_seed_precision_and_recall_meet_the_targets():
    """bench/persons_eval.py against the fixture's hand-checked persons (P >= 0.95, R >= 0.90)."""
    import json

    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "persons_eval.py"),
            "--seeds-only",
            "--json",
            "/dev/stdout",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    figures = json.loads(result.stdout[result.stdout.index("{") :])
    seeds = figures["seeds"]["person"]["ours"]
    assert seeds["precision"] >= 0.95, seeds
    assert seeds["recall"] >= 0.90, seeds


def test_the_name_book_finds_known_names_and_aliases_in_the_text():
    book = persons.NameBook(
        {"Pervez Musharraf": "Pervez Musharraf", "Musharraf": "Pervez Musharraf", "Bush": "Bush"},
        searchable=["Pervez Musharraf", "Musharraf"],
    )
    text = "Kayani agreed to Musharraf’s ouster. A bush fire. Bush spoke. musharraf lower-case."
    assert book.find(text) == ["Pervez Musharraf"]
    assert book("MUSHARRAF") == "Pervez Musharraf"
    book.add("Babur", alias_of="Farhatullah Babar")
    assert book.find("Babur writes") == ["Farhatullah Babar"]


def test_a_known_alias_is_found_where_the_model_sees_something_else():
    text = (
        "Kayani and the ouster\n\n"
        "Army chief General Ashfaq Parvez Kayani may have agreed to Musharraf’s ouster but did "
        "not want Zardari to replace him."
    )
    [without] = persons.extract([text])
    assert "Pervez Musharraf" not in without
    book = persons.NameBook({"Musharraf": "Pervez Musharraf"}, searchable=["Musharraf"])
    [with_alias] = persons.extract([text], known=book)
    assert "Pervez Musharraf" in with_alias
    assert "Ashfaq Parvez Kayani" in with_alias
