"""Common words are not names: how the archive writes a word (in lowercase, or capitalised
within a sentence) decides whether a capitalised word of a person name is a name at all
("Pop Idol", "Making Michael Howard"), counted as documents are saved and recounted on demand."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from archive import ingest
from archive.ingest import wordcase
from archive.ingest.entities import NameMention
from archive.ingest.resolution import Decisions, Evidence, name_words, resolve_document
from archive.ingest.wordcase import WordCaseBook, words_of
from archive.models import Document, WordCase


def person(name, count=1, titled=False):
    return NameMention(name, "PERSON", count, titled)


def persons(mentions, evidence):
    return sorted(
        v.name for v in resolve_document(mentions, evidence, Decisions()) if v.kind == "person"
    )


def test_words_of_a_text_lowercase_and_capitalised_within_a_sentence():
    lowercase, capitalised = words_of(
        "Pop Idol Winner Signs Record Deal\n"
        "Making the deal, the pop star said making the show was fun. "
        "She met Will Young and the BBC, said the treasurer, Treasurer Peter Costello.\n"
        '"Pop music," she said. The winner: Making a record.'
    )
    assert {"pop", "making", "the", "deal", "star", "show", "winner", "treasurer"} <= lowercase
    # Within a sentence only: not a sentence's first word, not a title-case headline, not an
    # acronym, not a word after a colon or an opening quote; and not a word followed by another
    # capitalised word ("Will", "Treasurer", "Peter"): that capital is a name's or a title's.
    assert capitalised == {"young", "costello"}


def test_a_text_with_no_capital_within_a_sentence_counts_nothing():
    # Wire copy sent in lowercase writes its names in lowercase too.
    assert words_of(
        "Venezuela's energy and mines minister arturo hernandez grisanti told reuters here.\n"
        "He said the deal was done."
    ) == (set(), set())
    lowercase, _ = words_of("The energy minister, Arturo Hernandez, told Reuters here.")
    assert {"energy", "minister", "told", "here"} == lowercase


def archive_writing(**counts: tuple[int, int]) -> Evidence:
    evidence = Evidence()
    for word, (lower, capital) in counts.items():
        evidence.words.load([word])
        evidence.words._counts[word] = [lower, capital]
    return evidence


def test_a_common_word_is_no_persons_first_word():
    evidence = archive_writing(
        making=(300, 3), pop=(35, 13), idol=(2, 10), wonder=(20, 9), woman=(48, 7), brown=(3, 116)
    )
    assert persons([person("Making Michael Howard")], evidence) == ["Michael Howard"]
    assert persons([person("Pop Idol", 3)], evidence) == []
    assert persons([person("Wonder Woman", 2)], evidence) == []
    assert persons([person("Gordon Brown")], evidence) == ["Gordon Brown"]
    # A lone common word is no person, unless a title says so ("Mr Young").
    evidence = archive_writing(nasty=(5, 3), young=(125, 20))
    assert persons([person("Nasty", 3)], evidence) == []
    assert persons([person("Young", 2, titled=True)], evidence) == ["Young"]


def test_a_common_word_that_begins_many_persons_names_is_a_first_name():
    evidence = archive_writing(will=(2000, 20), young=(125, 20))
    for name in ("Will Young", "Will Smith", "Will Greenwood"):
        evidence.add([person(name)])
    assert persons([person("Will Young")], evidence) == ["Will Young"]


def test_a_position_run_into_several_names_is_no_first_name():
    # A line-up writes "wing Cedric Heymans", "Wing Christophe Dominici": three full names
    # begin with "Wing", but a longer name's first word may be run into it, so only two-word
    # names (or a middle initial) make a word a first name.
    evidence = archive_writing(wing=(31, 1), treasurer=(4, 0))
    for name in ("Wing Cedric Heymans", "Wing Christophe Dominici", "Wing Jimmy Marlu"):
        evidence.add([person(name)])
    assert evidence.first_names["wing"] == 0
    assert persons([person("Wing Cedric Heymans")], evidence) == ["Cedric Heymans"]
    assert persons([person("Treasurer Peter Costello")], evidence) == ["Peter Costello"]
    evidence.add([person("George W Bush")])
    assert evidence.first_names["george"] == 1


def test_an_acronym_before_a_full_name_is_a_role_not_a_first_name():
    # "DJ John Peel": the acronym is no first name when the word after it begins full names of
    # the archive's people; initials before a surname alone are one ("JP McManus").
    evidence = Evidence()
    for name in ("John Smith", "John Major", "John Prescott"):
        evidence.add([person(name)])
    assert persons([person("DJ John Peel")], evidence) == ["John Peel"]
    assert persons([person("JP McManus")], evidence) == ["JP McManus"]
    # A rare first word after the acronym says nothing: the span stays as the text wrote it.
    assert persons([person("DJ Margherita Taylor")], evidence) == ["DJ Margherita Taylor"]


def test_an_acronym_that_ends_many_names_is_a_post_nominal():
    evidence = Evidence()
    for name in ("Guy Mansfield QC", "Andrew Nicol QC", "Ian MacDonald QC"):
        evidence.add([person(name)])
    mentions = [person("Philippe Sands QC"), NameMention("QC", "GPE", 1, False)]
    values = resolve_document(mentions, evidence, Decisions())
    assert [(v.kind, v.name) for v in values] == [("person", "Philippe Sands")]
    # One name ending in capitals is no evidence: "Kim Jong IL" keeps its last word.
    evidence.add([person("Kim Jong IL")])
    assert persons([person("Kim Jong IL")], evidence) == ["Kim Jong IL"]


def test_common_words_after_an_abbreviation_are_not_of_an_organisation_or_place():
    # Reuters 1987 capitalises every word after "U.S." ("the U.S. Raids on the rigs"), and the
    # model runs the name on into them; the archive writes those words in lowercase.
    evidence = archive_writing(raids=(40, 1), warships=(1, 0), louis=(0, 9))
    for _ in range(3):
        evidence.add([NameMention("U.S.", "GPE", 1, False)])
    values = resolve_document(
        [
            NameMention("U.S. Raids", "ORG", 1, False),
            NameMention("U.S. Warships", "ORG", 1, False),  # too little evidence of "warships"
            NameMention("St. Louis", "GPE", 1, False),
            NameMention("Dart Group Corp.", "ORG", 1, False),
        ],
        evidence,
        Decisions(),
    )
    assert sorted((v.kind, v.name) for v in values) == [
        ("organisation", "Dart Group Corp."),
        ("organisation", "U.S. Warships"),
        ("place", "St. Louis"),
        ("place", "U.S."),
    ]
    # A name the archive knows well keeps its words ("U.S. Steel"), and so does one whose
    # shortened form the archive has too little evidence of ("Dr. Pepper").
    evidence = archive_writing(steel=(30, 2), pepper=(12, 1))
    for _ in range(5):
        evidence.add([NameMention("U.S. Steel", "ORG", 1, False)])
        evidence.add([NameMention("U.S.", "GPE", 1, False)])
    mentions = [NameMention("U.S. Steel", "ORG", 1, False), NameMention("Dr. Pepper", "ORG")]
    assert sorted(v.name for v in resolve_document(mentions, evidence, Decisions())) == [
        "Dr. Pepper",
        "U.S. Steel",
    ]
    # The words an import reads the counts of, before it resolves such names.
    assert name_words([NameMention("U.S. Raids", "ORG", 1, False)]) == {"Raids"}
    # and the last word of a name of two or three words (places no gazetteer knows, initials).
    assert name_words([NameMention("Bank of England", "ORG", 1, False)]) == {"England"}
    assert name_words([NameMention("Bank of England Nominees Ltd", "ORG")]) == set()


def test_a_common_word_before_dates_is_no_first_name():
    # Dividend notices: "Pay April 15", "Record March 31", read as persons in hundreds of
    # documents. "Record" begins many two-word names, but their last words are dates alone.
    evidence = archive_writing(record=(1144, 5), will=(2000, 20))
    for month in ("March", "April", "June", "July"):
        evidence.add([person(f"Record {month}")])
        evidence.add([NameMention(month, "DATE", 1, False)])
        evidence.add([NameMention(month, "DATE", 1, False)])
    evidence.add([person("Record Aug")])  # no evidence of "Aug" alone: not enough on its own
    assert evidence.first_names["record"] == 5
    assert persons([person("Record March")], evidence) == []
    for name in ("Will Young", "Will Smith", "Will Greenwood"):
        evidence.add([person(name)])
    assert persons([person("Will Young")], evidence) == ["Will Young"]


def test_a_name_with_a_common_first_word_is_no_fuller_name_to_join():
    evidence = archive_writing(given=(288, 2))
    evidence.add([person("Given James Bond")])
    evidence.add([person("James Bond")])
    assert persons([person("James Bond")], evidence) == ["James Bond"]
    assert persons([person("Given James Bond")], evidence) == ["James Bond"]


@pytest.mark.django_db
def test_the_book_adds_counts_to_the_table_and_reads_them_back():
    book = WordCaseBook(database=True)
    book.add(["The pop star sang. Then Pop ended.", "pop goes the weasel, said Pop Larkin."])
    assert WordCase.objects.get(word="pop").lowercase == 2
    assert WordCase.objects.get(word="larkin").capitalised == 1
    fresh = WordCaseBook(database=True)
    # Within a sentence on its own in one ("Then Pop"); "said Pop Larkin" begins a name.
    assert fresh.counts("Pop") == (2, 1)
    assert fresh.counts("unseen") == (0, 0)
    book.add(["More pop from Leeds."])
    assert book.counts("pop") == (3, 1) and WordCase.objects.get(word="pop").lowercase == 3


def _jsonl(stories):
    lines = [
        json.dumps({"title": t.split("\n")[0], "body": t, "external_id": k}) for k, t in stories
    ]
    return ingest.SourceFile("stories.jsonl", ("\n".join(lines) + "\n").encode())


STORIES = [
    (f"p{i}", f"Charts {i}\n\nThe pop charts changed this week, and pop fans in Leeds were glad.")
    for i in range(4)
]


@pytest.mark.django_db(transaction=True)
def test_an_import_counts_the_words_of_saved_documents_and_a_recount_agrees():
    ingest.ingest([_jsonl(STORIES)])
    assert WordCase.objects.get(word="pop").lowercase == 4
    assert WordCase.objects.get(word="leeds").capitalised == 4
    # The same texts again are duplicates: nothing new is counted.
    report = ingest.ingest([_jsonl(STORIES)])
    assert report.counts[ingest.Outcome.DUPLICATE] == 4
    counted = dict(WordCase.objects.values_list("word", "lowercase"))
    assert counted["pop"] == 4
    # Deleting a document leaves its counts; a recount counts again from what is stored.
    Document.objects.filter(external_id="p0").delete()
    out = io.StringIO()
    call_command("resolve_entities", "--recount-words", stdout=out, stderr=io.StringIO())
    assert "Words counted in 3 documents" in out.getvalue()
    assert WordCase.objects.get(word="pop").lowercase == 3
    assert wordcase.recount() == 3


def test_the_book_knows_which_words_its_additions_made_common():
    book = WordCaseBook()
    book.load(["pop", "leeds"])
    assert not book.common("pop") and book.flipped() == set()
    book.add(["the pop charts of Leeds", "pop fans in York", "a pop song in Leeds"])
    assert book.common("pop") and book.flipped() == {"pop"}


@pytest.mark.django_db
def test_names_beginning_with_a_word_and_the_lone_names_they_could_take(make_document):
    from archive.ingest.resolution import names_beginning_with
    from archive.models import Mention

    document = make_document()
    for name in ("Speaker Sylvia", "Sylvia", "Speakers Corner", "Jo Speaker"):
        Mention.objects.create(document=document, name=name, label="PERSON")
    assert names_beginning_with({"speaker"}) == {"Speaker Sylvia", "Sylvia"}
    # Many words (a fresh import flips hundreds) in the same one pass; first words in any case.
    many = {"speaker"} | {f"word{i}" for i in range(30)}
    assert names_beginning_with(many) == {"Speaker Sylvia", "Sylvia"}
    Mention.objects.create(document=document, name="WORD3 Smith", label="PERSON")
    Mention.objects.create(document=document, name="Word3", label="ORG")
    assert names_beginning_with(many) == {"Speaker Sylvia", "Sylvia", "WORD3 Smith", "Smith"}
    assert names_beginning_with(set()) == set()


def test_a_word_before_a_better_known_full_name_is_not_of_the_name():
    evidence = archive_writing()
    for _ in range(5):
        evidence.add([person("Alan Milburn")])
    evidence.add([person("Blairite Alan Milburn")])
    evidence.add([person("Asif Ali Zardari")])
    assert persons([person("Blairite Alan Milburn")], evidence) == ["Alan Milburn"]
    assert persons([person("Milburn")], evidence) == ["Alan Milburn"]  # no fuller "Blairite ..."
    # "Ali Zardari" is no better known than "Asif Ali Zardari": the name stays whole.
    assert persons([person("Asif Ali Zardari")], evidence) == ["Asif Ali Zardari"]


def test_a_nationality_before_a_full_name_is_not_of_the_name():
    """A word (or two) that the archive's documents tag, on its own, as a group of people (NORP)
    more often than as a person: "Kenyan Alice Timbilil" is Alice Timbilil. Not a first name of
    the archive's people, and never leaving less than a full name."""
    evidence = archive_writing()
    for _ in range(2):
        evidence.add([NameMention("Kenyan", "NORP", 1, False)])
        evidence.add([NameMention("New Zealander", "NORP", 1, False)])
    assert persons([person("Kenyan Alice Timbilil")], evidence) == ["Alice Timbilil"]
    assert persons([person("New Zealander Peter Jackson")], evidence) == ["Peter Jackson"]
    assert persons([person("Kenyan Timbilil")], evidence) == ["Kenyan Timbilil"]  # no full name
    # Seen once as a group: too little evidence.
    evidence.add([NameMention("Welsh", "NORP", 1, False)])
    assert persons([person("Welsh Tom Jones")], evidence) == ["Welsh Tom Jones"]
    # A first name of the archive's people stays, whatever the model calls it alone.
    for surname in ("Slater", "Bale", "Dior"):
        evidence.add([person(f"Christian {surname}")])
        evidence.add([NameMention("Christian", "NORP", 1, False)])
    assert persons([person("Christian Ronaldo Lima")], evidence) == ["Christian Ronaldo Lima"]
