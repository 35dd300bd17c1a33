"""The precision rules of issue 12: common words, units, line-ups, persons named again with a
title, names used in the plural, parties the model calls nationalities, and place names that
begin like first names. Each through the model and the real extraction, and through the
archive's evidence and an import where the rule needs the archive."""

from __future__ import annotations

import json

import pytest

from archive import ingest
from archive.ingest import entities, persons
from archive.ingest.entities import COMMON, NameMention
from archive.ingest.resolution import Decisions, Evidence, resolve_document
from archive.models import Document


def mentions_of(text: str) -> set[tuple[str, str]]:
    title = text.split("\n")[0]
    return {(m.name, m.label) for m in entities.document_mentions(persons.nlp()(text), title)}


def person(name, count=1, titled=False):
    return NameMention(name, "PERSON", count, titled)


def values(mentions, evidence):
    return sorted((v.kind, v.name) for v in resolve_document(mentions, evidence, Decisions()))


def archive_of(*documents):
    evidence = Evidence()
    for mentions in documents:
        evidence.add(mentions)
    return evidence


def _jsonl(stories):
    lines = [
        json.dumps({"title": t.split("\n")[0], "body": t, "external_id": key}) for key, t in stories
    ]
    return ingest.SourceFile("stories.jsonl", ("\n".join(lines) + "\n").encode())


# --- Common words ------------------------------------------------------------------------------


def test_a_word_the_archive_writes_as_a_common_word_is_no_value_where_it_is_capitalised():
    # Three documents where the model tags "State" but the text also writes "state": stored as
    # evidence (COMMON), never as values.
    common = [NameMention("State", COMMON)]
    evidence = archive_of(common, common, common, [NameMention("State", "ORG")])
    assert values(common, evidence) == []
    # Where the text has only "Secretary of State", the archive's evidence decides: no value.
    assert values([NameMention("State", "ORG")], evidence) == []
    # A name the archive mostly tags as an organisation keeps its kind.
    labour = [NameMention("Labour", "ORG")]
    evidence = archive_of(labour, labour, labour, [NameMention("Labour", COMMON)])
    assert values(labour, evidence) == [("organisation", "Labour")]


@pytest.mark.django_db(transaction=True)
def test_common_words_are_learnt_from_the_archive_through_an_import():
    stories = [
        (
            f"s{i}",
            f"Budget talks {i}\n\nThe Secretary of State said the state would pay for "
            f"roads. The Finance Ministry in London agreed on the finance plan {i}.",
        )
        for i in range(3)
    ]
    stories.append(
        (
            "t",
            "Visit to the Gulf\n\nThe US Secretary of State was visiting the West Bank on "
            "Monday to discuss the peace plan with leaders in Jerusalem.",
        )
    )
    ingest.ingest([_jsonl(stories)])
    document = Document.objects.get(external_id="t")
    assert "State" not in {o.name for o in document.organisations.all()}
    assert document.mentions.exists()


def test_a_unit_after_a_number_is_not_an_organisation():
    found = mentions_of(
        "Interview tonight\n\nListen to the full interview on the radio from 1900 GMT with "
        "the chairman of Liverpool, Rick Parry."
    )
    assert ("GMT", "ORG") not in found


def test_a_word_after_of_the_that_ends_a_longer_title_is_no_organisation():
    """The model tags only the end of a title it does not know: "Rings" of "Lord of the
    Rings", "Dead" of "Shaun of the Dead". A firm after a role stays ("chairman of Reuters"), and
    after a sentence's first word ("Shares of Microsoft")."""
    found = mentions_of(
        "Games chart\n\nThe top sellers were Splinter Cell Pandora Tomorrow, Lord of the Rings "
        "and Pocket Kingdom, said the chairman of Reuters. The zombie comedy Shaun of the Dead "
        "won, and the Phantom of the Opera did not. Shares of Microsoft rose."
    )
    names = {name for name, _ in found}
    assert not names & {"Rings", "Dead", "Opera"}, found
    assert ("Reuters", "ORG") in found
    # The first word of a sentence is capitalised whatever it is.
    assert ("Microsoft", "ORG") in found


# --- Persons -----------------------------------------------------------------------------------


def test_the_row_labels_of_a_results_table_are_no_names():
    """The wire's results tables: the model reads "Avg" (and "Revs", "Shr") as people and
    firms. A one-word name that begins a line going on with figures is a row's label; the same
    word in a sentence, and a person at the start of a line, stay."""
    text = (
        "Cyclops Corp reports results\n\nCHICAGO, Feb 26 - Oper shr loss two cts vs profit seven"
        " cts\n\nRevs 291.8 mln vs 151.1 mln\n\nAvg shrs 51.7 mln vs 43.4 mln\n\nMadonna sang at"
        " the meeting, where chairman Avg Hartley said revenue rose."
    )
    doc = persons.nlp()(text)
    rows = [e.text for e in doc.ents if persons.labels_a_table_row(doc, e)]
    assert rows == ["Avg"]  # the model's one name among the rows, found
    found = mentions_of(text)
    assert ("Avg", "PERSON") not in found
    assert ("Madonna", "PERSON") in found and ("Avg Hartley", "PERSON") in found
    # The rule's shape, on the first word of a line whatever the model tags: rows of figures
    # are rows; sentences and score lines that begin with a name and a figure are not.
    for line, row in (
        ("Revs 291.8 mln vs 151.1 mln", True),
        ("Avg shrs 51.7 mln vs 43.4 mln", True),
        ("Madonna, 46, sang at the Brits.", False),
        ("Blair's 10-point plan was published.", False),
        ("Italy 17-28 Ireland", False),
        ("Chelsea 2 Arsenal 1", False),
    ):
        doc = persons.nlp()(f"Results\n\n{line}\n\nMore text follows here.")
        assert persons.labels_a_table_row(doc, doc[2:3]) is row, line


def test_a_full_name_the_model_tags_as_an_organisation_is_a_person_the_text_titles():
    found = mentions_of(
        "Economy dispute\n\nNicola Sturgeon, the SNP's deputy leader, said the figures showed "
        "a failure of the executive. Ms Sturgeon said ministers had to act now."
    )
    assert ("Nicola Sturgeon", "PERSON") in found
    assert not {name for name, label in found if label in ("ORG", "GPE") and "Sturgeon" in name}
    # A title inside the span goes, as in every person mention.
    people = {
        m.name
        for m in entities.document_mentions(
            persons.nlp()(
                "Rail talks\n\nMr Bussereau said the line would open. Mr Bussereau added that "
                "the cost was known."
            ),
            "Rail talks",
        )
        if m.label == "PERSON"
    }
    assert not {name for name in people if name.startswith("Mr ")}


LINE_UP = (
    "Squad named\n\nFrance have named their squad for the match with Ireland in Dublin.\n\n"
    "Dimitri Yachvili (Biarritz), Pierre Mignoni (Clermont), Yann Delaigue (Castres), "
    "Frederic Michalak (Stade Toulousain), Damien Traille (Biarritz), Fabien Pelous (Stade "
    "Toulousain, capt), Sebastien Bruno (Sale/ENG), Julien Laharrague (Brive)\n"
)


def test_every_name_of_a_line_up_is_a_person_and_every_bracket_a_club():
    found = mentions_of(LINE_UP)
    for player in ("Yann Delaigue", "Fabien Pelous", "Sebastien Bruno", "Dimitri Yachvili"):
        assert (player, "PERSON") in found
    for club in ("Biarritz", "Clermont", "Castres", "Stade Toulousain", "Sale", "Brive"):
        assert (club, "ORG") in found
    assert not {name for name, label in found if label != "PERSON" and "Pelous" in name}


def test_a_line_ups_clubs_are_clubs_however_the_archive_names_their_towns():
    clubs = {
        m.name: m
        for m in entities.document_mentions(persons.nlp()(LINE_UP), "Squad named")
        if m.label == "ORG"
    }
    assert clubs["Castres"].titled and clubs["Biarritz"].titled
    # The archive names the town a place in many documents; the brackets say "club" here.
    evidence = archive_of(*[[NameMention("Castres", "GPE")] for _ in range(5)])
    assert values([clubs["Castres"]], evidence) == [("organisation", "Castres")]
    assert values([NameMention("Castres", "ORG")], evidence) == [("place", "Castres")]
    # What the brackets say holds for the whole document, where the model also said "person".
    mentions = [clubs["Castres"], NameMention("Castres", "PERSON")]
    assert values(mentions, evidence) == [("organisation", "Castres")]


def test_a_place_the_world_knows_is_a_place_where_the_archive_has_little_else_to_say():
    from archive.ingest import gazetteer

    assert gazetteer.known_place("Nagano") and gazetteer.known_place("mauritius")
    assert not gazetteer.known_place("Soham")  # a town of 10,000: not from a gazetteer
    assert not gazetteer.known_place("Windows")
    evidence = archive_of([NameMention("Nagano", "ORG")])
    assert values([NameMention("Nagano", "ORG")], evidence) == [("place", "Nagano")]
    assert values([NameMention("Porto Alegre", "PERSON")], evidence) == [("place", "Porto Alegre")]
    # Where the archive often names it an organisation (the club), its evidence stands.
    evidence = archive_of(*[[NameMention("Liverpool", "ORG")] for _ in range(5)])
    assert values([NameMention("Liverpool", "ORG")], evidence) == [("organisation", "Liverpool")]
    # A title says person, whatever city shares the name ("Mr Santa Ana").
    assert values([NameMention("Santa Ana", "PERSON", 1, True)], evidence) == [
        ("person", "Santa Ana")
    ]
    assert values([NameMention("Santa Ana", "PERSON")], evidence) == [("place", "Santa Ana")]


def test_evidence_beyond_the_models_labels_makes_a_value_sure():
    """The review list shows what the pipeline is least sure of: a country the model called a
    firm ("Botswana") is sure once a gazetteer names it, a city much less ("Parma" is a club
    too); a full name titled as a person ("Mr Cable") is sure however often the model said
    organisation."""
    from archive.ingest.resolution import WORLD_KNOWS_CONFIDENCE

    def confidence(mention, evidence):
        (value,) = resolve_document([mention], evidence, Decisions())
        return value.kind, value.confidence

    evidence = archive_of(
        [NameMention("Botswana", "ORG")],
        [NameMention("Parma", "ORG")],
        *[[NameMention("Vince Cable", "ORG")] for _ in range(4)],
        [NameMention("Vince Cable", "PERSON", 1, True)],
    )
    assert confidence(NameMention("Botswana", "ORG"), evidence) == (
        "place",
        WORLD_KNOWS_CONFIDENCE,
    )
    assert confidence(NameMention("Parma", "ORG"), evidence) == ("place", 0.5)
    assert confidence(NameMention("Vince Cable", "ORG"), evidence) == (
        "person",
        WORLD_KNOWS_CONFIDENCE,
    )


def test_a_one_word_place_no_gazetteer_knows_needs_the_archives_evidence():
    from archive.ingest import gazetteer

    # Known under any name: a city's other names, regions (ISO 3166-2), old country names.
    for place in ("Kiev", "Brasilia", "Lancashire", "Waikato", "Burma", "Europe"):
        assert gazetteer.any_place(place), place
    assert not gazetteer.any_place("Kasabian") and not gazetteer.any_place("Opel")
    one = archive_of([NameMention("Sizzla", "GPE")])
    # In a small archive every name has little evidence ("Britain", which GeoNames calls the
    # United Kingdom): kept.
    assert values([NameMention("Sizzla", "GPE")], one) == [("place", "Sizzla")]
    one.documents = 1000
    assert values([NameMention("Sizzla", "GPE")], one) == []
    # Known to GeoNames, or a place in the archive's documents often enough.
    assert values([NameMention("Nagano", "GPE")], one) == [("place", "Nagano")]
    often = archive_of(*[[NameMention("Humberside", "GPE")] for _ in range(3)])
    often.documents = 1000
    assert values([NameMention("Humberside", "GPE")], often) == [("place", "Humberside")]


def test_a_place_of_two_words_no_gazetteer_knows_needs_the_archives_evidence():
    """ "Thabo Mbeki", a place to the model in three documents: no word of it is a place, and no
    other place name of the archive begins or ends like it. A word that is a place ("Sea" of
    "Sea Isle"), or that begins another place name ("Oak" of "Oak Park"), keeps it."""
    archive = archive_of(
        *[[NameMention("Thabo Mbeki", "GPE")] for _ in range(3)],
        [NameMention("Oak Park", "GPE")],
        [NameMention("Oak Brook", "GPE")],
    )
    assert values([NameMention("Thabo Mbeki", "GPE")], archive) == [("place", "Thabo Mbeki")]
    archive.documents = 1000  # only in a large archive (see the test above)
    assert values([NameMention("Thabo Mbeki", "GPE")], archive) == []
    assert values([NameMention("Sea Isle", "GPE")], archive) == [("place", "Sea Isle")]
    assert values([NameMention("Oak Brook", "GPE")], archive) == [("place", "Oak Brook")]


def test_a_list_of_players_and_countries_keeps_the_countries_as_places():
    players, teams, label = entities.line_ups(
        persons.nlp()(
            "Seeds\n\nRoger Federer (Switzerland), Andy Roddick (United States), Lleyton "
            "Hewitt (Australia), Marat Safin (Russia), Carlos Moya (Spain)\n"
        )
    )
    assert "Roger Federer" in players and label == "GPE" and "Switzerland" in teams


def test_a_sentence_with_brackets_is_not_a_line_up():
    players, teams, _ = entities.line_ups(
        persons.nlp()(
            "Results\n\nThe company (Acme) said on Monday that its chairman, John Smith (the "
            "founder), would retire after a long career in the business.\n"
        )
    )
    assert players == [] and teams == {}


def test_a_full_name_used_in_the_plural_is_a_part_not_a_person():
    text = (
        "Musical delayed\n\nPreview performances of the musical Billy Elliot have been delayed. "
        '"The young Billy Elliots will benefit from a little extra time," said Elton John.'
    )
    found = mentions_of(text)
    assert not {name for name, label in found if label == "PERSON" and "Billy" in name}
    # Kept as evidence, so that the archive does not find the name as a person here either.
    assert ("Billy Elliot", COMMON) in found
    assert ("Elton John", "PERSON") in found


# --- Archive evidence --------------------------------------------------------------------------


def test_a_party_the_model_calls_a_nationality_is_an_organisation():
    party = [NameMention("Conservative Party", "ORG")]
    evidence = archive_of(party, party, *[[NameMention("Conservatives", "NORP")] for _ in range(5)])
    assert values([NameMention("Conservatives", "NORP")], evidence) == [
        ("organisation", "Conservatives")
    ]
    # A nationality names no party: still no value.
    evidence.add([NameMention("British", "NORP")])
    assert values([NameMention("British", "NORP")], evidence) == []


def test_a_group_is_read_whole_and_written_before_its_members_is_evidence_of_a_party():
    """The small model tags "Democrat" alone in "Liberal Democrat MP": the group is read with
    its capitalised words before it, and a word for a party's member after it is stored as
    evidence (PARTY). A sentence's first word and another kind's entity stay apart."""
    found = mentions_of(
        "Party row\n\nThe Liberal Democrat MP Mark Oaten said the plan was wrong. Senate "
        "Democrats agreed with him on Tuesday."
    )
    assert ("Liberal Democrat", "NORP") in found
    assert ("Liberal Democrat", "PARTY") in found
    assert ("Democrat", "NORP") not in found
    assert ("Senate Democrats", "NORP") not in found
    found = mentions_of("Vote\n\nFormer Tory voters said so. Tory MPs agreed.")
    assert ("Former Tory", "NORP") not in found
    assert ("Tory", "PARTY") in found
    # Read as an organisation and a group ("Liberal", "Democrat"): one group where the text
    # names the whole elsewhere.
    found = mentions_of(
        "Temple\n\nCharles Kennedy is set to speak. The Liberal Democrat leader will visit the "
        "temple. He praised the stand the Liberal Democrats took."
    )
    assert ("Liberal Democrat", "NORP") in found
    assert ("Liberal", "ORG") not in found


def test_an_organisation_read_over_a_comma_is_the_names_it_lists():
    """The model reads a list as one organisation: its names of two words or more are apart;
    a firm's partners ("Goldman, Sachs") and a name cut short before "and" stay whole."""
    found = mentions_of(
        "Profile\n\nHe trained at Guy's Hospital Medical School, University of London, and in "
        "Switzerland."
    )
    assert ("Guy's Hospital Medical School", "ORG") in found
    assert ("University of London", "ORG") in found
    assert not any("," in name for name, label in found if label == "ORG")
    found = mentions_of("Deal\n\nShares of Goldman, Sachs rose on Monday in New York.")
    assert not any(name in ("Goldman", "Sachs") for name, label in found)


def test_the_persons_of_a_list_of_places_are_places():
    """A list is of one kind of thing: the model reads constituencies as persons where it tags
    their neighbours in the list as places. A list of people that names a town stays people."""
    found = mentions_of(
        "Student seats\n\nThe seats where the party says student votes can swing the election "
        "are: Bristol West, Cardiff Central, Leeds North West, Cambridge, Manchester Gorton, "
        "Sheffield Central, Holborn and St Pancras, Oldham East and Saddleworth, Manchester "
        "Withington, Birmingham Yardley, Taunton, Orpington, Eastbourne, Wells, Canterbury, "
        "Westmorland and Lonsdale."
    )
    persons_found = {name for name, label in found if label == "PERSON"}
    # The names that look like places themselves (a large town and a district); a lone word
    # only a list vouches for stays as the model read it ("Westmorland").
    assert not persons_found & {
        "Manchester Gorton",
        "Manchester Withington",
        "Birmingham Yardley",
        "Leeds North West",
    }, found
    assert ("Manchester Gorton", "GPE") in found
    found = mentions_of(
        "Cabinet\n\nThe meeting was attended by Tony Blair, Gordon Brown, Jack Straw, John "
        "Prescott and David Blunkett in London."
    )
    assert {"Tony Blair", "Gordon Brown", "Jack Straw", "John Prescott", "David Blunkett"} <= {
        name for name, label in found if label == "PERSON"
    }, found
    # People whose first names are towns, and surnames that are towns too: people still.
    for text, people in (
        (
            "Premiere\n\nThe guests were Paris Hilton, Orlando Bloom, Sydney Pollack and "
            "Florence Welch, who arrived late.",
            {"Orlando Bloom", "Florence Welch"},
        ),
        (
            "Party\n\nCharlotte Church, Victoria Beckham, Madison Beer and Chelsea Clinton "
            "were there.",
            {"Victoria Beckham", "Chelsea Clinton"},
        ),
    ):
        found = mentions_of(text)
        listed = {name for name, label in found if label == "PERSON"}
        assert people <= listed, found


def test_a_word_that_begins_more_places_than_persons_is_no_first_name():
    evidence = archive_of(
        *[[NameMention(f"New {w}", "PERSON")] for w in ("Adams", "Brown", "Carter")],
        *[[NameMention(f"New {w}", "GPE")] for w in ("York", "Zealand", "Delhi", "Jersey")],
    )
    assert values([NameMention("New Mexico", "GPE")], evidence) == [("place", "New Mexico")]


def test_an_initial_and_a_surname_is_a_person_however_often_the_model_says_otherwise(db):
    """A rugby team sheet's "S Parisse" (an organisation in 7 documents to the model, "Parisse"
    alone a place in 2) is a person; "S Korea" is not, as the archive tags "Korea" on its own
    a place in 6."""
    evidence = archive_of(
        *[[NameMention("S Parisse", "ORG")] for _ in range(5)],
        *[[NameMention("S Parisse", "ORG"), NameMention("Parisse", "GPE")] for _ in range(2)],
        *[[NameMention("Korea", "GPE")] for _ in range(6)],
    )
    assert values([NameMention("S Parisse", "ORG")], evidence) == [("person", "S Parisse")]
    assert values([NameMention("S Korea", "GPE")], evidence) == [("place", "S Korea")]
    # A place the world knows that no person of the archive is named after; a firm's name;
    # an article.
    assert values([NameMention("N Ireland", "GPE")], evidence) == [("place", "N Ireland")]
    firm = archive_of([NameMention("K Mart Corp", "ORG")], [NameMention("K Mart", "ORG")])
    assert values([NameMention("K Mart", "ORG")], firm) == [("organisation", "K Mart")]
    assert values([NameMention("A Chrysler", "ORG")], firm) == [("organisation", "A Chrysler")]
    # A surname that is also a town: the archive names people after it.
    jenkins = archive_of([person("Neil Jenkins")], [NameMention("G Jenkins", "ORG")])
    assert values([NameMention("G Jenkins", "ORG")], jenkins) == [("person", "G Jenkins")]


def test_a_full_name_the_archive_titles_as_a_person_is_a_person_where_the_model_says_firm():
    """ "Imanol Harinordoquy" is an organisation to the model in 3 documents and a player of a
    line-up in 1: a person everywhere. A person's label without a title or a line-up is not
    enough: "Abbey National", read once as a person, stays the bank it is in 5 documents."""
    evidence = archive_of(
        *[[NameMention("Imanol Harinordoquy", "ORG")] for _ in range(3)],
        [NameMention("Imanol Harinordoquy", "PERSON", 1, True)],
        *[[NameMention("Abbey National", "ORG")] for _ in range(5)],
        [NameMention("Abbey National", "PERSON", 1, False)],
    )
    assert values([NameMention("Imanol Harinordoquy", "ORG")], evidence) == [
        ("person", "Imanol Harinordoquy")
    ]
    assert values([NameMention("Abbey National", "ORG")], evidence) == [
        ("organisation", "Abbey National")
    ]


def test_a_lone_word_tagged_as_an_organisation_beside_the_person_it_ends_or_begins_is_that_person():
    evidence = archive_of(
        *[[NameMention(f"Philip {w}", "PERSON")] for w in ("Roth", "Glass", "Lee")]
    )
    found = values(
        [NameMention("Philip Pullman", "ORG"), NameMention("Pullman", "ORG", 2)], evidence
    )
    assert found == [("person", "Philip Pullman")]
    # Nor is the first name the text calls him by ("Imanol" beside "Imanol Harinordoquy").
    found = values(
        [NameMention("Imanol Harinordoquy", "PERSON"), NameMention("Imanol", "ORG")], evidence
    )
    assert found == [("person", "Imanol Harinordoquy")]


def test_a_title_that_is_also_a_surname_stays_at_the_end_of_a_name():
    assert persons.clean_mention("John Sergeant") == "John Sergeant"
    assert persons.clean_mention("Sergeant John Smith") == "John Smith"


def test_generic_organisation_words_and_lone_letters_are_no_values(monkeypatch):
    from archive.ingest import resolution

    monkeypatch.setattr(resolution, "GENERIC_TAIL", 3)
    evidence = Evidence()
    for company in ("Ford Motor Co", "Texaco Co", "Bell Co"):
        evidence.add([NameMention(company, "ORG", 1, False)])
        evidence.add([NameMention(company.replace(" Co", " Inc"), "ORG", 1, False)])
    found = values(
        [
            NameMention("Co Inc", "ORG", 1, False),
            NameMention("Co", "ORG", 1, False),
            NameMention("P", "ORG", 1, False),
            NameMention("Texaco Co", "ORG", 1, False),
            NameMention("Treasury", "ORG", 1, False),
        ],
        evidence,
    )
    assert found == [("organisation", "Texaco Co"), ("organisation", "Treasury")]


def test_a_person_name_that_begins_a_firms_name_is_the_firm(monkeypatch):
    """A stockbroker, "James Capel and Co": "James Capel" in the news is the firm."""
    from archive.ingest import resolution

    monkeypatch.setattr(resolution, "GENERIC_TAIL", 3)
    evidence = Evidence()
    for firm in ("James Capel and Co", "Hoare Govett Co", "Bell Co", "Texaco Co"):
        evidence.add([NameMention(firm, "ORG", 1, False)])
    evidence.add([NameMention("Nelson Mandela Foundation", "ORG", 1, False)])
    found = values(
        [
            NameMention("James Capel", "PERSON", 2, False),
            NameMention("Nelson Mandela", "PERSON", 2, False),
        ],
        evidence,
    )
    assert found == [("organisation", "James Capel"), ("person", "Nelson Mandela")]


# --- Where a place stands ---------------------------------------------------------------------


def test_each_mention_says_whether_its_text_writes_the_name_where_a_place_stands():
    def located(text):
        doc = persons.nlp()(text)
        found = entities.document_mentions(doc, text.split("\n")[0])
        return {m.name: m.located for m in found if m.label in entities.PLACE_LABELS}

    # After "in" or "across" (a compass word between), or in a wire's dateline: a place's place.
    found = located(
        "Floods\n\nHeavy rain fell in Lahore on Tuesday. Crops failed across northern Kenya."
    )
    assert found == {"Lahore": True, "Kenya": True}
    assert located("OMAHA, Neb., March 3 - Valmont Industries Inc said it sold its unit.") == {
        "Omaha": True,
        "Neb.": True,
    }
    # A headline above a dateline is not of the dateline; a list of clubs after a comma is not
    # "Omaha, Neb."; a compass word with a hyphen may stand between ("south-east Asia").
    doc = persons.nlp()(
        "Newcastle beat Southampton\n\nLONDON, March 3 - Newcastle beat Southampton 2-1 on "
        "Saturday, the club said."
    )
    found = entities.document_mentions(doc, "Newcastle beat Southampton")
    assert {m.name: m.located for m in found if m.label == "GPE"} == {
        "London": True,
        "Newcastle": False,
        "Southampton": False,
    }
    found = located("Floods\n\nFloods spread in south-east Asia. Southampton, Newcastle won.")
    assert found == {"Asia": True, "Southampton": False, "Newcastle": False}
    # The model tags a film a place; nothing in the text puts it (or Paris, here) where a place
    # stands.
    found = located(
        "Film wins awards\n\nSideways won five awards on Sunday. The director of Sideways said "
        "Sideways was a small film. Paris gave it a prize."
    )
    assert found == {"Sideways": False, "Paris": False}


def _placed(name, located, label="GPE", titled=False):
    return [NameMention(name, label, 1, titled, located)]


def test_a_name_the_archive_tags_a_place_but_never_writes_where_places_stand_is_no_place():
    film = [_placed("Sideways", False) for _ in range(4)]
    # Documents that tag "Hewitt" a place and never put it where one stands; two call him a
    # person.
    player = [_placed("Hewitt", False) for _ in range(5)] + [[person("Hewitt", 1, True)]] * 2
    # A city whose archive never puts it where places stand is its club there ("Newcastle beat
    # Chelsea"), an organisation in the two documents that say so; a document that puts it
    # where a place stands ("in Newcastle") keeps the city. A country named so is its team, and
    # a place (the gold's conventions); one document in four that places a name keeps it one.
    city = [_placed("Newcastle", False) for _ in range(4)] + [_placed("Newcastle", True, "ORG")] * 2
    country = [_placed("Croatia", False) for _ in range(4)]
    capital = [_placed("Tehran", False) for _ in range(4)]  # "Tehran said": its government
    # ...but a capital the archive also names as an organisation is the club there: "Madrid".
    club = [_placed("Madrid", False) for _ in range(4)] + [[NameMention("Madrid", "ORG")]] * 2
    river = [_placed("Yangtze", False) for _ in range(3)] + [_placed("Yangtze", True)]
    evidence = archive_of(*film, *player, *city, *country, *capital, *club, *river)
    assert values(_placed("Sideways", False), evidence) == []
    # (A lone surname stays a person's value when its document names it twice.)
    hewitt = [NameMention("Hewitt", "GPE", 2, False, False)]
    assert values(hewitt, evidence) == [("person", "Hewitt")]
    # A surname that is also a town keeps its person: "Kerry", tagged a place where the model
    # misreads John Kerry, is the person the archive names in four documents.
    kerry = [_placed("Kerry", False) for _ in range(5)] + [[person("Kerry", 2)]] * 4
    found = values([NameMention("Kerry", "GPE", 2, False, False)], archive_of(*kerry))
    assert found == [("person", "Kerry")]
    assert values(_placed("Newcastle", False), evidence) == [("organisation", "Newcastle")]
    assert values(_placed("Newcastle", True), evidence) == [("place", "Newcastle")]
    assert values(_placed("Croatia", False), evidence) == [("place", "Croatia")]
    assert values(_placed("Tehran", False), evidence) == [("place", "Tehran")]
    assert values(_placed("Madrid", False), evidence) == [("organisation", "Madrid")]
    assert values(_placed("Yangtze", False), evidence) == [("place", "Yangtze")]
    # A line-up's brackets say it is a club or a country, whatever the prose says.
    assert values(_placed("Sideways", False, titled=True), evidence) == [("place", "Sideways")]
    # Three documents are too few to say anything.
    few = archive_of(*film[:3])
    assert values(_placed("Sideways", False), few) == [("place", "Sideways")]
    # Mentions extracted before this was recorded (None) are no evidence either way; where the
    # archive has evidence, such a mention follows it.
    old = archive_of(*[_placed("Sideways", None) for _ in range(6)])
    assert values(_placed("Sideways", None), old) == [("place", "Sideways")]
    assert values(_placed("Sideways", None), evidence) == []


def test_a_name_no_gazetteer_knows_that_most_documents_tag_otherwise_is_no_place():
    """ "Windows" on the BBC archive: a place in 17 documents ("in Windows XP"), a product or
    firm in 26. A plurality of one kind among three is no evidence that it is a place."""
    software = (
        [_placed("Windows", True) for _ in range(4)]
        + [[NameMention("Windows", "PRODUCT")]] * 3
        + [[NameMention("Windows", "ORG")]] * 2
    )
    # A real place the gazetteers do not list is a place with one voice; a known place keeps
    # its kind however the archive tags it ("Chelsea", the club).
    village = [_placed("Lower Brailes", True) for _ in range(3)] + [
        [NameMention("Lower Brailes", "ORG")]
    ]
    club = [_placed("Chelsea", True)] + [[NameMention("Chelsea", "ORG")]] * 3
    evidence = archive_of(*software, *village, *club)
    assert values(_placed("Windows", True), evidence) == []
    assert values(_placed("Lower Brailes", True), evidence) == [("place", "Lower Brailes")]
    assert values(_placed("Chelsea", True), evidence) == [("place", "Chelsea")]
    # Three kinds once each: no kind ("New Order", the band, a place, a firm and a person).
    band = [_placed("New Order", True), [NameMention("New Order", "ORG")], [person("New Order")]]
    assert values(_placed("New Order", True), archive_of(*band)) == []
    # ...and where the firm is the majority, the value is the firm's.
    firm = [_placed("Gizmondo", True)] * 2 + [[NameMention("Gizmondo", "ORG")]] * 3
    assert values(_placed("Gizmondo", True), archive_of(*firm)) == [("organisation", "Gizmondo")]


def test_a_place_name_ending_in_an_organisations_word_is_that_organisation():
    """ "Manchester United" and "New Labour", places to the model in 11 and 15 BBC documents:
    "United" and "Labour" alone are organisations to the archive. "West Bank" ends in a word
    the archive tags as an organisation about as often as not, and stays a place; so does a
    name a gazetteer knows, and one its document writes where a place stands."""
    club = [[NameMention("United", "ORG")]] * 5 + [_placed("United", True)]
    party = [[NameMention("Labour", "ORG")]] * 6
    bank = [[NameMention("Bank", "ORG")]] * 5 + [[NameMention("Bank", "FAC")]] * 4
    evidence = archive_of(*club, *party, *bank)
    assert values(_placed("Manchester United", False), evidence) == [
        ("organisation", "Manchester United")
    ]
    assert values(_placed("New Labour", False), evidence) == [("organisation", "New Labour")]
    assert values(_placed("West Bank", False), evidence) == [("place", "West Bank")]
    assert values(_placed("Labour", False), evidence) == [("organisation", "Labour")]
    # A document that puts it where a place stands keeps the place: "BLUE BELL, Pa., March 2 -"
    # is a dateline, whatever the archive says of "Bell".
    assert values(_placed("New Labour", True), evidence) == [("place", "New Labour")]
    # Too little evidence of the word: the document's own label stands.
    few = archive_of(*party[:4])
    assert values(_placed("New Labour", False), few) == [("place", "New Labour")]
    united = archive_of(*club, _placed("United States", False))
    assert values(_placed("United States", False), united) == [("place", "United States")]


def test_a_us_state_abbreviated_as_the_wires_write_it_is_the_states_value():
    """Reuters writes "SAN JOSE, Calif., March 3 -": the place facet shows "California" once,
    not "Calif." (100 documents) beside "California" (45)."""
    mentions = [_placed("Calif.", True)[0], NameMention("California", "GPE")]
    assert values(mentions, archive_of()) == [("place", "California")]
    # The state, not the city the bare name means in the news.
    assert values(_placed("N.Y.", True), archive_of()) == [("place", "New York State")]
    assert values(_placed("W. Va.", True), archive_of()) == [("place", "West Virginia")]
    # Only as a place: an organisation keeps its own name.
    assert values([NameMention("Ind.", "ORG")], archive_of()) == [("organisation", "Ind.")]


@pytest.mark.django_db(transaction=True)
def test_an_import_that_makes_a_name_unplaced_resolves_its_earlier_documents_again():
    """Three documents tag "Sideways" a place and never place it: too few to say, a place. The
    fourth, in a later import, tips the archive's evidence: the earlier three lose it too."""
    from archive.models import Place

    stories = [
        (
            f"film-{i}",
            f"Film news {i}\n\nSideways won {i + 2} awards on Sunday. The director of "
            "Sideways said the film was small.",
        )
        for i in range(4)
    ]
    ingest.ingest([_jsonl(stories[:3])])
    assert Document.objects.filter(places__name="Sideways").count() == 3
    ingest.ingest([_jsonl(stories[3:])])
    assert not Place.objects.filter(name="Sideways", documents__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_where_places_stand_is_stored_with_the_mentions_and_read_back_as_evidence(make_document):
    from archive.ingest.store import store_mentions

    for i in range(4):
        document = make_document(title=f"Story {i}", body=f"Text {i}.")
        store_mentions(
            document,
            [
                NameMention("Sideways", "GPE", 2, False, False),
                NameMention("Lahore", "GPE", 1, False, i == 0),
                NameMention("Sideways", "WORK_OF_ART", 1, False, False),
                person("Alan Payne"),
            ],
            new=True,
        )
    evidence = Evidence.from_db()
    assert evidence.place_context["sideways"] == {"seen": 4, "located": 0}
    assert evidence.place_context["lahore"] == {"seen": 4, "located": 1}
    assert evidence.placed_like_no_place("Sideways")
    assert not evidence.placed_like_no_place("Lahore")
    # The same counts as an import keeps them in memory, document by document.
    again = archive_of(
        *[
            [NameMention("Sideways", "GPE", 2, False, False), _placed("Lahore", i == 0)[0]]
            for i in range(4)
        ]
    )
    assert again.place_context == evidence.place_context


def test_pieces_of_a_datelines_capitals_are_not_names():
    # The model reads "ST" of "ST. LOUIS" as a place and "ILL" of "OAK BROOK, ILL." as an
    # organisation; the dateline gives its place, and a name in the dateline in lowercase stays.
    assert mentions_of("ST. LOUIS, Oct. 20 - Shr 32 cts vs 40 cts\n\nNet 882,000 vs 1,000.") >= {
        ("St. Louis", "GPE")
    }
    found = mentions_of("OAK BROOK, ILL., Oct 20 - Shr 61 cts vs 55 cts\n\nNet 726,000.")
    assert {("Oak Brook", "GPE"), ("Ill.", "GPE")} <= found
    assert not {n for n, _ in found} & {"ILL", "ST"}
    found = mentions_of("HILLSIDE, N.J., March 3 - The company said it would buy a rival.")
    assert {("Hillside", "GPE"), ("N.J.", "GPE")} <= found
    found = mentions_of("SURFERS PARADISE, Australia, March 3 - Talks began in Canberra today.")
    assert {("Surfers Paradise", "GPE"), ("Australia", "GPE")} <= found


def test_a_place_that_gains_enough_evidence_is_resolved_again_where_it_was_dropped():
    # An import that brings "Sizzla" a third document makes it a value: the end-of-import pass
    # must look again at the earlier documents that mention it (the rule dropped it there).
    from archive.ingest.persons import NameBook
    from archive.ingest.pipeline import _Archive

    evidence = archive_of([NameMention("Sizzla", "GPE")], [NameMention("Sizzla", "GPE")])
    evidence.documents = 1000
    archive = _Archive(NameBook(), evidence, Decisions())
    third = [NameMention("Sizzla", "GPE")]
    archive.note(third)
    assert "Sizzla" not in archive.affected_names()
    evidence.add(third)
    assert "Sizzla" in archive.affected_names()


def test_every_form_of_a_name_an_import_flips_sends_its_documents_to_the_last_pass():
    """A line-up's "(Liverpool)" is the club whatever the archive says; "Liverpool" in prose
    follows the archive's majority. An import whose first "Liverpool" was a line-up's, and that
    turns the majority, must still look again at the documents with the other form: which form
    an import meets first depends on its workers' timing, and two imports of the same files
    ended with different values (Liverpool a place or an organisation in 25 documents)."""
    from archive.ingest.persons import NameBook
    from archive.ingest.pipeline import _Archive

    club = NameMention("Liverpool", "ORG", located=False)
    bracket = NameMention("Liverpool", "ORG", titled=True)
    city = NameMention("Liverpool", "GPE", located=True)
    evidence = archive_of(*[[club]] * 5, *[[city]] * 4)
    archive = _Archive(NameBook(), evidence, Decisions())
    archive.note([bracket])
    archive.note([city])
    assert values([city], evidence) == [("organisation", "Liverpool")]
    assert "Liverpool" not in archive.affected_names()
    evidence.add([city])
    evidence.add([city])
    assert values([bracket], evidence) == [("organisation", "Liverpool")]
    assert values([city], evidence) == [("place", "Liverpool")]
    assert "Liverpool" in archive.affected_names()


def test_a_form_of_a_name_the_import_never_wrote_is_resolved_again_when_it_flips():
    """Measured: 200 Reuters records imported into an archive of 4,124, then a whole-archive
    pass changed 5 documents. "Export Enhancement Program", an organisation to the model in an
    earlier document and a law in another (a tie: each document keeps its own label), came in
    twice more as a law: the earlier organisation is no value now. The import wrote only the
    law's form, whose verdict did not change, so its documents were not looked at again."""
    from archive.ingest.persons import NameBook
    from archive.ingest.pipeline import _Archive

    organisation = NameMention("Export Enhancement Program", "ORG", located=False)
    law = NameMention("Export Enhancement Program", "LAW")
    evidence = archive_of([organisation], [law])
    archive = _Archive(NameBook(), evidence, Decisions())
    assert values([organisation], evidence) == [("organisation", "Export Enhancement Program")]
    for _ in range(2):
        archive.note([law])
        evidence.add([law])
    assert values([organisation], evidence) == []
    assert "Export Enhancement Program" in archive.affected_names()


def test_the_spelling_an_import_makes_the_value_is_resolved_again_where_the_other_was():
    """ "N.A." was an organisation in two documents; an import that writes "NA" in more
    documents makes "NA" the value's name, and the earlier documents' "N.A." joins it only if
    the last pass looks at them: the name of the value before and after counts as changed."""
    from archive.ingest.persons import NameBook
    from archive.ingest.pipeline import _Archive

    dotted = NameMention("N.A.", "ORG", located=False)
    plain = NameMention("NA", "ORG", located=False)
    evidence = archive_of([dotted], [dotted], [plain])
    archive = _Archive(NameBook(), evidence, Decisions())
    before = values([plain], evidence)
    for _ in range(3):
        archive.note([plain])
        evidence.add([plain])
    after = values([dotted], evidence)
    assert before != after  # one value, named as more documents write it
    assert {"N.A.", "NA"} <= archive.affected_names()


def test_a_name_that_an_import_makes_generic_is_resolved_again_where_it_was_a_value():
    # "Bank" alone was an organisation value while the archive ended fewer than GENERIC_TAIL
    # names in "Bank"; an import that brings the fiftieth "... Bank" makes it a generic word
    # (no value), and the end-of-import pass must look again at the earlier documents that
    # name it alone, although this import never wrote "Bank" on its own after the first time.
    from archive.ingest.persons import NameBook
    from archive.ingest.pipeline import _Archive
    from archive.ingest.resolution import GENERIC_TAIL

    banks = [[NameMention(f"Bank{i} Bank", "ORG")] for i in range(GENERIC_TAIL - 1)]
    evidence = archive_of([NameMention("Bank", "ORG")], *banks)
    archive = _Archive(NameBook(), evidence, Decisions())
    archive.note([NameMention("Bank", "ORG")])
    assert values([NameMention("Bank", "ORG")], evidence) == [("organisation", "Bank")]
    assert "Bank" not in archive.affected_names()
    fiftieth = [NameMention("Last Bank", "ORG")]
    archive.note(fiftieth)
    evidence.add(fiftieth)
    assert values([NameMention("Bank", "ORG")], evidence) == []
    assert "Bank" in archive.affected_names()


def test_a_person_to_the_model_named_as_the_archive_names_firms_is_an_organisation():
    """ "Airgas Inc" and "Shady Records", persons to the model in one document each: the
    archive ends 50 organisation names in "Inc", and "Records", a plural it writes in lowercase
    (as "record"), ends another. People named so keep their first names, and a name the model
    calls a person in more documents stays one."""
    firms = [f"{a}{b}tex Inc" for a in "BCDFGHKLMN" for b in "aeiou"]
    evidence = archive_of(
        *[[NameMention(firm, "ORG")] for firm in firms],
        [NameMention("Blackground Records", "ORG")],
        [NameMention("Tech Jobs", "ORG")],
        *[[person(f"Steve {surname}")] for surname in ("Martin", "Redgrave", "Jobs")],
        *[[person("Harbert Corp")] for _ in range(4)],
    )
    evidence.words.load(["records", "record", "jobs", "job"])
    evidence.words.add(["Old records and a new record at Acme, jobs and a job."] * 3)
    assert values([person("Airgas Inc")], evidence) == [("organisation", "Airgas Inc")]
    assert values([person("Shady Records")], evidence) == [("organisation", "Shady Records")]
    assert values([person("Shady Jobs")], evidence) == [("organisation", "Shady Jobs")]
    assert values([person("Steve Jobs")], evidence) == [("person", "Steve Jobs")]
    assert values([person("Harbert Corp")], evidence) == [("person", "Harbert Corp")]
    # A plural no organisation ends ("Issam Fares"), and a plural the archive does not write
    # in lowercase, are surnames like any other.
    assert values([person("Issam Fares")], evidence) == [("person", "Issam Fares")]
    assert values([person("Shady Hughes")], evidence) == [("person", "Shady Hughes")]


def _event_archive(extra_organisations=()):
    """Three names the model tags as events and two as organisations end in "Championships";
    "Bank" ends organisation names only."""
    events = ["World Championships", "European Championships", "Dubai Tennis Championships"]
    organisations = [
        "European Indoor Championships",
        "Scottish Championships",
        "Bank of Scotland",
        "Royal Bank",
        *extra_organisations,
    ]
    return archive_of(
        *[[NameMention(name, "EVENT")] for name in events],
        *[[NameMention(name, "ORG")] for name in organisations],
    )


def test_an_organisation_to_the_model_named_as_the_archive_names_events_is_no_value():
    evidence = _event_archive()
    indoor = [NameMention("European Indoor Championships", "ORG")]
    assert values(indoor, evidence) == []
    # An organisation whose last word names no events keeps its kind, and so does a lone word.
    assert values([NameMention("Royal Bank", "ORG")], evidence) == [("organisation", "Royal Bank")]
    assert values([NameMention("Championships", "ORG")], evidence) == [
        ("organisation", "Championships")
    ]
    # An editor's word stands: a name reviewed as an organisation stays one.
    decisions = Decisions(reviewed_kind={"european indoor championships": "organisation"})
    assert [(v.kind, v.name) for v in resolve_document(indoor, evidence, decisions)] == [
        ("organisation", "European Indoor Championships")
    ]


def test_a_last_word_that_ends_far_more_organisations_than_events_names_organisations():
    # Three events, seven organisations ("... Championships Ltd" would not count: another last
    # word): more than twice as many organisations, so "Championships" no longer names events.
    evidence = _event_archive(
        extra_organisations=[
            f"{town} Championships" for town in ("Leeds", "York", "Hull", "Bath", "Ely")
        ]
    )
    assert values([NameMention("European Indoor Championships", "ORG")], evidence) == [
        ("organisation", "European Indoor Championships")
    ]
    # Two events are not enough evidence.
    evidence = archive_of(
        [NameMention("World Championships", "EVENT")],
        [NameMention("European Championships", "EVENT")],
    )
    assert values([NameMention("Scottish Championships", "ORG")], evidence) == [
        ("organisation", "Scottish Championships")
    ]


def test_a_law_is_named_as_the_archive_names_laws_and_a_figure_names_nothing():
    """Laws count as events do ("Act" ends three laws to the model and two organisations); a
    figure at the end of names says nothing of what they name ("Radio 1", a law to the model,
    and "Formula 1", an event)."""
    evidence = archive_of(
        *[
            [NameMention(name, "LAW")]
            for name in ("Human Rights Act", "Hunting Act", "Licensing Act", "Radio 1")
        ],
        [NameMention("Section 1", "LAW")],
        [NameMention("Formula 1", "EVENT")],
        *[[NameMention(name, "ORG")] for name in ("Data Protection Act", "Sarbanes-Oxley Act")],
    )
    assert values([NameMention("Data Protection Act", "ORG")], evidence) == []
    assert values([NameMention("BBC Radio 1", "ORG")], evidence) == [
        ("organisation", "BBC Radio 1")
    ]


def _events(*names):
    """One document's EVENT mentions, each name once."""
    return [NameMention(name, "EVENT") for name in dict.fromkeys(names)]


@pytest.mark.django_db(transaction=True)
def test_the_event_evidence_read_from_the_database_is_what_an_import_keeps(make_document):
    from archive.ingest.store import store_mentions

    names = ["World Championships", "European Championships", "Dubai Tennis Championships"]
    for i, name in enumerate(names):
        document = make_document(title=f"Story {i}", body=f"Text {i}.")
        store_mentions(document, _events(name, "World Championships"), new=True)
    evidence = Evidence.from_db()
    assert evidence.event_tails["championships"] == 3
    assert evidence.event_names["world championships"] == 3
    again = archive_of(*[_events(name, "World Championships") for name in names])
    assert again.event_tails == evidence.event_tails
    assert again.event_names == evidence.event_names
    # A document taken out again takes its evidence with it.
    again.add([NameMention("Dubai Tennis Championships", "EVENT")], sign=-1)
    assert again.event_tails["championships"] == 2
    assert again.named_like_an_event("Scottish Championships") is False


# --- Works' titles -------------------------------------------------------------------------------


def test_each_document_says_which_names_it_writes_as_a_works_title():
    def works(text):
        doc = persons.nlp()(text)
        found = entities.document_mentions(doc, text.split("\n")[0])
        return {m.name for m in found if m.label == entities.WORK}

    text = (
        "Leigh film wins\n\nMike Leigh's film Vera Drake won three awards. Prince sold 1.9 million "
        "copies of his latest album Musicology. The next Bond movie Casino Royale starts filming "
        "in Prague, and Martin Scorsese said the film The Aviator was his best."
    )
    found = works(text)
    # As the model spans them ("The Aviator" may keep its article): each written after its noun.
    assert {"Vera Drake", "Musicology", "Casino Royale"} <= found
    assert found <= {"Vera Drake", "Musicology", "Casino Royale", "Aviator", "The Aviator"}
    # Names the text does not write after such a noun are no works, and neither is a name after
    # a noun left out because sport and politics use it ("a single Labour MP", "play Chelsea").
    assert (
        works(
            "Vote\n\nNot a single Labour MP voted against it. Arsenal will play Chelsea on Sunday, "
            "and Microsoft said its profits rose."
        )
        == set()
    )
    # A title that goes on names no shorter name ("Miami Vice" is no work called "Miami"); a
    # headline that ends with such a noun is no sentence that goes on into the text.
    text = "Remake\n\nFarrell plays Crockett in the police drama Miami Vice."
    assert entities._written_as_works(text, {"Miami", "Miami Vice", "Crockett"}) == {"Miami Vice"}
    # "Book" and "film" are verbs too; a relative clause after a name says it made the work.
    written = entities._written_as_works
    sentence = "Customers can book Ryanair flights online, and book Eurostar tickets."
    assert written(sentence, {"Ryanair", "Eurostar"}) == set()
    assert written("They plan to film Harry Potter in Oxford.", {"Harry Potter"}) == set()
    assert written("It is the album EMI released last year.", {"EMI"}) == set()
    assert written("Mike Leigh's film Vera Drake won.", {"Vera Drake"}) == {"Vera Drake"}
    assert (
        works("Kevin Spacey movie\n\nHollywood stars Kevin Spacey and Kate Bosworth came.") == set()
    )


def _works_archive():
    """Two of five documents about a film say it is one (the model tags it an organisation in
    all five); one of twelve about a firm writes its name after "book"."""
    film = [
        [NameMention("Vera Drake", "ORG"), *([NameMention("Vera Drake", "WORK")] if i < 2 else [])]
        for i in range(5)
    ]
    firm = [
        [NameMention("Amazon", "ORG"), *([NameMention("Amazon", "WORK")] if i < 1 else [])]
        for i in range(12)
    ]
    return archive_of(*film, *firm)


def test_a_name_the_archive_writes_as_a_works_title_is_no_value():
    evidence = _works_archive()
    assert evidence.works["vera drake"] == 2
    # In a document that does not say it is a film, too: the archive says so.
    assert values([NameMention("Vera Drake", "ORG")], evidence) == []
    assert values([NameMention("Vera Drake", "PERSON")], evidence) == []
    # One document of twelve is not enough evidence, but where it stands, the document's own
    # word stands: "the book Amazon" is a work there, not the firm.
    assert values([NameMention("Amazon", "ORG")], evidence) == [("organisation", "Amazon")]
    said_here = [NameMention("Amazon", "ORG"), NameMention("Amazon", "WORK")]
    assert values(said_here, evidence) == []
    # Unless the model read a person there: "a film Clint Eastwood directed".
    directed = [NameMention("Clint Eastwood", "PERSON"), NameMention("Clint Eastwood", "WORK")]
    assert values(directed, evidence) == [("person", "Clint Eastwood")]
    # An editor's word stands: a name reviewed as an organisation stays one.
    decisions = Decisions(reviewed_kind={"vera drake": "organisation"})
    assert [
        (v.kind, v.name)
        for v in resolve_document([NameMention("Vera Drake", "ORG")], evidence, decisions)
    ] == [("organisation", "Vera Drake")]
    # So does a title, here or in the archive: "Mrs Vera Drake" is the person, in this document.
    assert values([person("Vera Drake", titled=True)], evidence) == [("person", "Vera Drake")]
    # A document taken out again takes its evidence with it: one document left is too little.
    evidence.add([NameMention("Vera Drake", "ORG"), NameMention("Vera Drake", "WORK")], sign=-1)
    assert values([NameMention("Vera Drake", "ORG")], evidence) == [("organisation", "Vera Drake")]


@pytest.mark.django_db(transaction=True)
def test_the_works_evidence_read_from_the_database_is_what_an_import_keeps(make_document):
    from archive.ingest.store import store_mentions

    documents = [
        [NameMention("Vera Drake", "ORG"), NameMention("Vera Drake", "WORK")],
        [NameMention("Vera Drake", "ORG"), NameMention("Vera Drake", "WORK")],
        [NameMention("Vera Drake", "PERSON")],
    ]
    for i, mentions in enumerate(documents):
        document = make_document(title=f"Story {i}", body=f"Text {i}.")
        store_mentions(document, mentions, new=True)
    evidence = Evidence.from_db()
    assert evidence.works == archive_of(*documents).works == {"vera drake": 2}
    assert evidence.named_as_a_work("Vera Drake")


@pytest.mark.django_db(transaction=True)
def test_an_import_drops_a_film_the_model_tags_as_an_entity():
    stories = [
        (
            f"film-{i}",
            f"Awards night {i}\n\nMike Leigh's film Vera Drake won the prize on Sunday. Vera "
            f"Drake beat {rival} to it, and the director of Vera Drake thanked the cast.",
        )
        for i, rival in enumerate(["Sideways", "Ray", "Kinsey"])
    ]
    # A story that does not say what Vera Drake is: the archive does.
    stories.append(("later", "Cinema\n\nVera Drake opens in Paris on Friday, Mike Leigh said."))
    ingest.ingest([_jsonl(stories)])
    assert Document.objects.count() == 4
    _no_document_has_the_value("Vera Drake")


def _no_document_has_the_value(name):
    for document in Document.objects.all():
        for kind in ("persons", "organisations", "places"):
            assert name not in getattr(document, kind).values_list("name", flat=True)


@pytest.mark.django_db(transaction=True)
def test_an_import_that_makes_a_name_a_work_resolves_its_earlier_documents_again():
    first = [
        (
            f"early-{i}",
            f"Cinema {i}\n\nVera Drake beat Sideways to it, and the director of Vera Drake "
            f"thanked the cast {i}.",
        )
        for i in range(3)
    ]
    ingest.ingest([_jsonl(first)])
    # The model tags the film an organisation; nothing yet says it is a film.
    assert Document.objects.filter(organisations__name="Vera Drake").count() == 3
    later = [
        (f"film-{i}", f"Awards {i}\n\nMike Leigh's film Vera Drake won the prize on Sunday {i}.")
        for i in range(2)
    ]
    ingest.ingest([_jsonl(later)])
    _no_document_has_the_value("Vera Drake")


def test_a_title_case_headlines_words_are_no_organisation_or_place_unless_the_text_repeats_them():
    """A new user's scan: "Harbour Authority Approves Zephyrine Dock Plan" gave the organisation
    "Harbour Authority Approves", which the text never writes. A headline in title case
    capitalises every word, so what the model reads into it counts only where the article says
    it again below, as for persons."""
    text = (
        "Harbour Authority Approves Zephyrine Dock Plan\n\n"
        "GLASGOW, 14 June 2003 - The Clyde Harbour Authority approved a plan on Saturday to "
        "rebuild the old Zephyrine dock, its chairman Alistair Fenwick said. The plan, backed by "
        "Scottish Enterprise, will cost about 40 million pounds, Mr Fenwick told reporters."
    )
    names = {name for name, _ in mentions_of(text)}
    assert "Harbour Authority Approves" not in names
    assert {"Scottish Enterprise", "Glasgow"} <= names
    # A name the headline gives and the text repeats stays ("Kenya"), as does every name of a
    # headline in sentence case.
    found = mentions_of(
        "Obama Visits Kenya For Talks On Trade\n\nThe president arrived in Kenya on Sunday."
    )
    assert ("Kenya", "GPE") in found
    assert ("Nairobi", "GPE") in mentions_of("Talks in Nairobi\n\nThe talks ended on Sunday.")


def test_a_surname_tagged_as_a_firm_beside_its_full_name_is_kept_as_the_persons_evidence():
    # The model tags "Troncon" ORG; the text names Alessandro Troncon in full: no organisation
    # there, and SURNAME evidence that the word is his (resolution counts it as a person's).
    found = mentions_of(
        "Italy scrum-half Alessandro Troncon is fit. Troncon will lead the side against Wales "
        "on Saturday."
    )
    assert ("Troncon", entities.SURNAME) in found
    assert ("Troncon", "ORG") not in found
    assert ("Alessandro Troncon", "PERSON") in found
