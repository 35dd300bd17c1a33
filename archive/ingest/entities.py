"""Where names are extracted: one pass of spaCy's small English model per document gives every
person, organisation and place it mentions, as :class:`NameMention` evidence.

A mention is what one document says about one name: the model's label (PERSON, ORG, GPE, LOC,
and the labels that say "not an entity we facet": PRODUCT, WORK_OF_ART, EVENT, FAC, LAW, NORP),
how often, and whether a title came with it ("Mr Blair"). Persons go through the per-document
rules of :mod:`archive.ingest.persons` (cleaning, widening, joining "Gupta" to "Madhukar Gupta");
organisations and places are cleaned of articles and possessives. The text's own structure
adds evidence: every name of a line-up ("Yann Delaigue (Castres), ...") is a person and every
bracket a club; a full name tagged as an organisation whose surname the text gives a title ("Ms
Sturgeon") is a person; a lone word the text also writes in lowercase, or only after a figure
("1900 GMT"), or only inside a role ("Finance Minister"), is stored with the label ``COMMON`` or
``ROLE``, as evidence for the archive rather than as an organisation; a name the text writes as a
work's title ("the film Vera Drake", "his latest album Musicology") is stored once more with the
label ``WORK``. Which mentions become facet values is decided with the whole archive's evidence
in :mod:`archive.ingest.resolution`.

The model runs in ``workers`` processes, each of which also turns its documents into mentions,
so only small tuples cross between processes (a spaCy ``Doc`` is expensive to send back).
"""

from __future__ import annotations

import itertools
import multiprocessing
import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from archive.chunks import chunked
from archive.ingest import persons

T = TypeVar("T")

PERSON = "PERSON"
ORGANISATION_LABELS = frozenset({"ORG"})
PLACE_LABELS = frozenset({"GPE", "LOC"})
# Labels kept only as evidence against the other kinds ("Vauxhall Corsa" is a PRODUCT elsewhere).
OTHER_LABELS = frozenset({"PRODUCT", "WORK_OF_ART", "EVENT", "FAC", "LAW", "NORP", "LANGUAGE"})
# Capitalised dates ("February", "Christmas") are evidence too: the model sometimes calls them
# persons. Lowercase and numeric ones ("last week", "2004") are not kept.
DATE_LABELS = frozenset({"DATE", "TIME"})
KEPT_LABELS = ORGANISATION_LABELS | PLACE_LABELS | OTHER_LABELS | DATE_LABELS
# A lone word tagged as an organisation or place that its text also writes in lowercase ("State"
# beside "the state") or only after a figure ("1900 GMT"), or a full name the text uses in the
# plural ("the young Billy Elliots"): not a value, but stored as evidence that the text uses the
# name as a common word or a thing (resolution counts it as "not an entity" for the name).
COMMON = "COMMON"
# A lone word tagged as an organisation that its text writes only as part of a role ("Finance
# Minister", "Education Secretary", "Secretary of State"): a value only where the archive mostly
# gives the word an entity's kind (resolution counts it as "not an entity" for the word).
ROLE = "ROLE"
_ROLE_WORDS = frozenset("minister ministers secretary secretaries spokesman spokeswoman".split())
# A name its text writes right after a noun for a work ("the film Vera Drake", "Bond movie Casino
# Royale", "the musical Bollywood Dreams"): stored again with this label, as evidence that the
# name is a work's title here (the model tags films, albums and books as organisations, places
# and persons). Not a value in that document unless the model called it a person; the archive
# counts it as "not an entity" and as a work's title for the name (resolution).
WORK = "WORK"
# A group the text writes right before a word for a party's member, body or programme ("Tory
# MP", "Liberal Democrat spokesman", "Labour manifesto", "Republican Senator"): stored again
# with this label, as evidence that the group is a political party (the model tags "Tory",
# "Conservatives" and "Liberal Democrats" as nationalities, NORP). Evidence only; resolution
# counts the name as a party's where a fair share of its documents write it so
# (``resolution.Evidence.party_by_its_members``: "Iraqi MPs" is rare beside "Iraqi").
PARTY = "PARTY"
# A lone word the model tags as an organisation or place where its text names one person in
# full with it as the surname ("Troncon" tagged ORG beside "Alessandro Troncon"): the person
# named again, so no value of its own there, and stored with this label as evidence that the
# word is that person's name (resolution counts it as a person's mention of the name). The
# model tags some players as organisations everywhere; in a document that gives the surname
# alone, the archive's evidence then says who it is. A firm named after a person ("Ford")
# stays an organisation where the archive mostly writes it without the person.
SURNAME = "SURNAME"
_PARTY_WORDS = frozenset(
    """MP MPs MEP MEPs MSP MSPs AM AMs peer peers councillor councillors backbencher
    backbenchers frontbencher frontbenchers frontbench backbench Senator Congressman
    Congresswoman manifesto conference whip whips shadow spokesman spokeswoman candidate
    candidates activists""".split()
)
# The nouns, in lowercase: "single", "game", "show", "series" and "play" are left out, since
# sport and politics write them before names that are no works ("a single Labour MP", "the
# Test series", "play Chelsea"). Spaces only, within a line: a headline may end with such a noun
# and its text begin with a name ("... Kevin Spacey movie" / "Hollywood stars ...").
_WORK_NOUN = re.compile(
    r"\b(film|films|movie|movies|album|albums|song|songs|novel|novels|book|books|musical"
    r"|sitcom|drama|comedy|documentary|biopic|opera|thriller) +(?:[Tt]he +)?[\"'\u2018\u201c]?"
)
# "Book" and "film" are verbs too ("can book Ryanair flights", "to film Harry Potter"): as nouns
# only after an article, a possessive, a few adjectives, a name ("Bond film") or a year.
_VERB_TOO = frozenset({"book", "books", "film", "films"})
_NOUN_BEFORE = re.compile(
    r"(?:\b(?:the|a|an|his|her|its|their|our|my|your|this|that|whose|new|latest|first|debut|"
    r"next|last|hit|short|feature)|'s|\u2019s|\b[A-Z][\w-]*|\b\d{4}) +$"
)
# After a name: a letter or digit of a longer word, or a capitalised word of a longer title; or a
# verb of a relative clause ("the album EMI released", "a film Clint Eastwood directed").
_TITLE_GOES_ON = re.compile(r"\w| +[A-Z0-9]| +(?:has +|had +)?[a-z]+ed\b")
# Documents handed to a worker at a time; spaCy batches within them.
CHUNK = 64
# Chunks per worker the model may run ahead of the import (extract_stream): enough to keep the
# workers busy while the import writes an index step or resolves names, a few seconds each.
IN_FLIGHT = 8

_LEADING_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
# Lowercase words that belong inside organisation and place names ("Bank of England").
_INNER_WORDS = frozenset("of and for the de du la le del von van y on in at & und et".split())
# Lowercase words that names have inside them: the function words above, other languages' ("Parc
# des Sports", "Banca di Roma", "Frankfurt am Main", "Dar es Salaam", "Lashkar e Taiba", "Bergen
# op Zoom", "Jamaat ud Dawa"), English prepositions of names ("Newcastle upon Tyne", "Committee
# to Protect Journalists", "Doctors without Borders", "Campaign against Arms Trade") and a firm's
# "co". Any other lowercase word between capitalised ones joins two names (:func:`clean_entity`).
_NAME_INNER_WORDS = _INNER_WORDS | frozenset(
    "des der den das di da do dos della dello degli delle dei dels al el sur sous sans".split()
    + "am an im zu zum zur auf aux au es e en op aan los las les bin ibn ud ut ul ur na i".split()
    + "og och af av til sobre upon under super to without against co cie".split()
)
_LOWERCASE_WORD = re.compile(r"[a-z]+")
# A wire dateline: "NEW YORK, March 3 -", "LONDON (Reuters) -", "SURFERS PARADISE, Australia,".
_DATELINE_PLACE = re.compile(r"\A\s*([A-Z][A-Z.'-]+(?: [A-Z][A-Z.'-]+){0,3})(?:,| \()")
_EDGE = re.compile(r"^[^\w(]+|[^\w.)&+!]+$")
# A score or a price in a span ends the name: "Arsenal 2-1", "Newcastle 2-1 Bolton", "Rafael
# Nadal 6-2 6-7", "International Paper 1-1/4" (a results line or a price table that the model read
# as one name). No name of the archive has such a word in it.
_RESULT = re.compile(r"(?:^|\s)\d+[-\u2013]\d+(?:/\d+)?(?=\s|$)")
_POSSESSIVE = re.compile(r"(?:['\u2019]s|['\u2019])$")
MAX_NAME = 120


# Words after which a name stands where a place does ("in Lahore", "across northern Kenya",
# "on the Yangtze", "Omaha, Neb." after a place and a comma; a wire's dateline is one too).
# "At", "from" and "to" are left out: firms, clubs and events stand there as often ("at
# Gazprom", "an offer from BT", "lost to Newcastle").
_LOCATIVE = frozenset(
    "in on near across outside throughout within into inside around towards toward".split()
)
# Words that may stand between them and the place: "in the Caribbean", "in north-west England"
# (which spaCy reads as "north", "-", "west").
_PLACE_QUALIFIERS = frozenset(
    """the north south east west northern southern eastern western central downtown rural
    mainland""".split()
)


@dataclass(frozen=True)
class NameMention:
    name: str
    label: str
    count: int = 1
    titled: bool = False
    # Whether the document writes the name where a place stands at least once ("in Lahore"):
    # the archive's evidence that a name the model tags as a place is one ("Sideways", a film,
    # and "Manchester City", a club, never stand there). None: not looked at (a person's name,
    # a text's common word or role, a line-up's club, or a mention extracted before this was
    # recorded).
    located: bool | None = None


def clean_entity(text: str) -> str:
    """An organisation or place span as a value: "the European Union's" -> "European Union".

    A span ends at a bracket or a spaced dash ("Fabien Pelous (Stade Toulousain", "World Social
    Forum - the") and loses trailing lowercase words the model ran on into ("U.S. raids").
    """
    text = " ".join(text.split())
    text = re.split(r"\s*\(|\s[-\u2013\u2014]\s", text, maxsplit=1)[0]
    text = _RESULT.split(text, maxsplit=1)[0]
    text = _LEADING_ARTICLE.sub("", text)
    words = text.split()
    # A personal title and a name after the first word belong to a person the model ran the
    # span on into ("Commons after Mr Brown", "Foreign Policy Centre Mr Straw"); a title that
    # begins the name is the name's own ("Dr Pepper", "Lady Margaret Hall").
    for i in range(1, len(words) - 1):
        if (
            words[i].casefold().rstrip(".") in persons.PERSONAL_TITLES
            and words[i + 1][:1].isupper()
        ):
            # What stays must be a name of its own: words the model ran on across ("Commons
            # after"), two words or more, or an acronym; not a headline's one word ("Analysing
            # Mr Brown": nothing).
            before = words[:i]
            kept = before[-1][:1].islower() or len(before) >= 2 or before[0].isupper()
            words = before if kept else []
            break
    # A lowercase word between capitalised ones that no name has inside it joins two names the
    # model read as one: "Tottenham v Nottingham Forest", "Barcelona star Ronaldinho", "Balco
    # boss Victor Conte", "Henry joined City". What comes before it stays when it is a name of
    # its own (two words or more, or an acronym): one capitalised word may be a headline's or a
    # sentence's first, or either side of a fixture; the text names each again on its own.
    for i in range(1, len(words) - 1):
        word = words[i]
        if (
            _LOWERCASE_WORD.fullmatch(word)
            and word not in _NAME_INNER_WORDS
            and words[i + 1][:1].isupper()
        ):
            before = words[:i]
            words = before if len(before) >= 2 or before[0].isupper() else []
            break
    while words and (words[-1][:1].islower() or words[-1].casefold() in _INNER_WORDS):
        words.pop()
    text = " ".join(words)
    text = _POSSESSIVE.sub("", text)
    text = _EDGE.sub("", text)
    return text.strip()


def dateline_place(text: str) -> str:
    """The place of a wire dateline at the start of a story ("NEW YORK, March 3 -" -> "New
    York"), which the model misses in capitals; "" without one."""
    places, _ = _dateline(text)
    return places[0] if places else ""


# The state or province after a dateline's city, abbreviated: "OAK BROOK, ILL., Oct 20 -".
_DATELINE_REGION = re.compile(r",\s*([A-Z][A-Z.]{0,6}\.)(?:,|\s)")


def _dateline(text: str) -> tuple[list[str], range]:
    """A wire dateline at the start of a story (in its first three lines): its places, and
    where it stands in the text, from its line's start to its dash; ([], range(0)) without one
    (a headline above it is not of it). The places are its city and the abbreviated state or
    province after it, as the wire writes them in its text ("OAK BROOK, ILL., Oct 20 -" -> "Oak
    Brook", "Ill."; "NEWARK, N.J." -> "Newark", "N.J.")."""
    offset = 0
    for line in text.split("\n")[:3]:
        match = _DATELINE_PLACE.match(line)
        if match and len(line) > len(match.group(1)) + 20:
            places = [" ".join(w.capitalize() if len(w) > 2 else w for w in match.group(1).split())]
            region = _DATELINE_REGION.match(line, match.end(1))
            if region:
                abbreviation = region.group(1)
                inner = "." in abbreviation[:-1]  # "N.J." stays; "ILL." is written "Ill."
                places.append(abbreviation if inner else abbreviation.capitalize())
            dash = re.search(r"\s[-\u2013\u2014]\s", line)
            end = dash.start() if dash and dash.start() < 80 else match.end()
            return places, range(offset, offset + end)
        offset += len(line) + 1
    return [], range(0)


def _usable(name: str) -> bool:
    return (
        bool(name)
        and len(name) <= MAX_NAME
        and any(c.isalpha() for c in name)
        and (name[0].isupper() or name[0].isdigit())
        and not name.isdigit()
    )


def document_mentions(doc, title: str | None = None) -> list[NameMention]:
    """Every name one spaCy ``Doc`` mentions, with its label and count."""
    listed = _places_listed(doc, persons.ents_of(doc))
    if listed != persons.ents_of(doc):
        persons.set_ents(doc, listed)
    found, not_person_words, titled = persons.mentions(doc)
    players, teams, team_label = line_ups(doc)
    if players:
        # The model tags some players of a line-up as organisations: their words say nothing
        # against them being persons.
        found = found + players
        not_person_words = not_person_words - {w.casefold() for p in players for w in p.split()}
        # The line-up says they are persons as a title would ("titled": the archive's other
        # labels for the name do not overrule it).
        titled = set(titled) | {persons.clean_mention(p) for p in players} | set(players)
    text = persons.text_of(doc)
    people = {
        name: [count, name in titled]
        for name, count in persons.document_persons(found, not_person_words, text, title)
    }
    person_names = set(people)
    # Words the text also uses in lowercase are common words ("State", "Home", "Education").
    lowercase = persons.token_facts(doc).lowercase
    counts: dict[tuple[str, str], int] = {}
    located: set[tuple[str, str]] = set()
    units, roles = _units(doc), _roles(doc)
    parties: set[str] = set()
    dateline, dateline_span = _dateline(text)
    # A headline in title case: a name read into its capitals counts only if the text below
    # says it again ("Harbour Authority Approves", of "Harbour Authority Approves Dock Plan"),
    # as for persons.
    headline = title if title and text.startswith(title) and persons.is_title_case(title) else ""
    below = text[len(headline) :]
    for ent in _widened_groups(doc, _lists_apart(doc, persons.ents_of(doc))):
        if ent.label_ not in KEPT_LABELS:
            continue
        if ent.start_char < len(headline) and clean_entity(ent.text) not in below:
            continue
        if ent.start_char in dateline_span and ent.text.rstrip(".").isupper():
            # Pieces of the dateline's capitals: "ST" of "ST. LOUIS", "ILL" of "OAK BROOK,
            # ILL." (the dateline's place is added below).
            continue
        if persons.labels_a_table_row(doc, ent):
            continue  # "Shr 20 cts vs 18 cts": a row of a results table
        if _end_of_a_longer_name(doc, ent):
            continue  # "Rings" of "Lord of the Rings"
        name = clean_entity(ent.text)
        if not _usable(name) or name in person_names:
            continue
        if (
            ent.label_ in ("NORP", "ORG")
            and ent.end < len(doc)
            and doc[ent.end].text in _PARTY_WORDS
        ):
            parties.add(name)  # "Tory MP": "Tory" is a party
        if name in teams:
            continue  # counted below, with the line-up's label
        if ent.label_ in DATE_LABELS and not (name[0].isupper() and name.isalpha()):
            continue
        if name in roles:
            counts[(name, ROLE)] = counts.get((name, ROLE), 0) + 1
            continue
        if name in units:
            counts[(name, COMMON)] = counts.get((name, COMMON), 0) + 1
            continue
        if " " not in name and name.lower() in lowercase and not name.isupper():
            if ent.label_ in ORGANISATION_LABELS | PLACE_LABELS:
                counts[(name, COMMON)] = counts.get((name, COMMON), 0) + 1
            continue
        if _part_of_a_person(name, person_names):
            # "Robson" tagged ORG beside "Bobby Robson": the person, named again.
            if " " not in name and ent.label_ in ORGANISATION_LABELS | PLACE_LABELS:
                counts[(name, SURNAME)] = counts.get((name, SURNAME), 0) + 1
            continue
        key = (name, ent.label_)
        counts[key] = counts.get(key, 0) + 1
        if ent.start_char in dateline_span or _where_a_place_stands(doc, ent):
            located.add(key)  # "OMAHA, Neb., March 3 -": the dateline says where
    for team, count in teams.items():
        counts[(team, team_label)] = count
    # "Nicola Sturgeon" tagged ORG, then "Ms Sturgeon": the text itself says she is a person.
    for name, label in list(counts):
        words = name.split()
        if (
            label in ORGANISATION_LABELS | PLACE_LABELS
            and 2 <= len(words) <= 3
            and all(_name_word(w) for w in words)
            and (words[-1] in titled or words[0].casefold().rstrip(".") in persons.PERSONAL_TITLES)
        ):
            count = counts.pop((name, label))
            lone = people.pop(words[-1], [0, True])
            # "Mr Bussereau" tagged ORG: the title goes; the surname joins the one full name of
            # the text that ends with it ("Dominique Bussereau").
            person = persons.clean_mention(name)
            fuller = [p for p in people if " " not in person and p.split()[-1] == person]
            entry = people.setdefault(fuller[0] if len(fuller) == 1 else person, [0, True])
            entry[0] += count + lone[0]
            entry[1] = True
    result = [NameMention(name, PERSON, count, bool(t)) for name, (count, t) in people.items()]
    # A full name the text uses as a thing ("the young Billy Elliots") is evidence against it
    # being a person, here and in the archive.
    cleaned = {persons.clean_mention(m) for m in found}
    for name in sorted(persons.used_in_the_plural(cleaned - person_names, text)):
        counts[(name, COMMON)] = counts.get((name, COMMON), 0) + 1
    works = _written_as_works(
        text, {name for name, label in counts if label not in (COMMON, ROLE, SURNAME)}
    )
    works |= _written_as_works(text, set(people))
    for place in dateline:
        # The dateline's capitals ("MUMBAI") are the place, whatever label the model gave them.
        for key in [k for k in counts if k[0].casefold() == place.casefold()]:
            counts.pop(key)
        counts[(place, "GPE")] = counts.get((place, "GPE"), 0) + 1
        located.add((place, "GPE"))
    # A line-up's brackets say what their names are, as a title would: clubs ("Perpignan"), or
    # countries ("Roger Federer (Switzerland)").
    result += [
        NameMention(
            name,
            label,
            count,
            name in teams and label == team_label,
            # A line-up's brackets are no prose: nothing to say where the name stands.
            None if label in (COMMON, ROLE, SURNAME) or name in teams else (name, label) in located,
        )
        for (name, label), count in counts.items()
    ]
    result += [NameMention(name, WORK) for name in sorted(works)]
    result += [NameMention(name, PARTY) for name in sorted(parties)]
    return result


_SENTENCE_ENDS = frozenset({".", "!", "?", ":", ";", '"', "\u201c", "\u201d", "'", "-", "\u2014"})


def _end_of_a_longer_name(doc, ent) -> bool:
    """Whether a one-word organisation is only the end of a longer name the model did not tag:
    it follows "of" or "of the" after a capitalised word that no entity holds and that is no
    function word nor a role, nor the first word of a sentence ("Lord of the Rings", "Shaun of
    the Dead", "Phantom of the Opera"; not "Chairman of Reuters", "Shares of Microsoft rose").
    Not a place: "Philips of the Netherlands" names a firm the model may not tag, and the place
    all the same (on the gold archive, places lost 15 mentions so)."""
    if len(ent) != 1 or ent.label_ not in ORGANISATION_LABELS:
        return False
    i = ent.start - 1
    if i >= 0 and doc[i].lower_ == "the":
        i -= 1
    if i < 1 or doc[i].lower_ != "of":
        return False
    before = doc[i - 1]
    word = before.text.casefold().rstrip(".")
    # The first word of a sentence is capitalised whatever it is ("Shares of Microsoft rose").
    opening = i < 2 or doc[i - 2].is_space or doc[i - 2].text in _SENTENCE_ENDS
    return (
        not opening
        and before.text[:1].isupper()
        and before.is_alpha
        and not before.ent_type_
        and word not in persons._stop_words()
        and (word not in persons.HONORIFICS or word in persons.PERSONAL_TITLES)
    )


def _written_as_works(text: str, names: set[str]) -> set[str]:
    """The names the text writes right after a noun for a work (:data:`WORK`), with or without
    "the" or an opening quote between: "the film The Aviator" names "Aviator". A name the title
    goes on after is not it ("the drama Miami Vice" says nothing of Miami), nor a name a
    relative clause follows ("the album EMI released")."""
    found: set[str] = set()
    if not names:
        return found
    for match in _WORK_NOUN.finditer(text):
        if match.group(1) in _VERB_TOO and not _NOUN_BEFORE.search(
            text, max(0, match.start() - 24), match.start()
        ):
            continue
        after = text[match.end() : match.end() + MAX_NAME + 2]
        for name in names - found:
            if after.startswith(name) and not _TITLE_GOES_ON.match(after, len(name)):
                found.add(name)
    return found


def _where_a_place_stands(doc, ent) -> bool:
    """Whether the entity stands where a place does: after a locative preposition, perhaps with
    "the" or a compass word between ("in the Caribbean", "across northern Kenya", "in
    south-east Asia"), or, abbreviated, after a place and a comma ("Omaha, Neb."; a list of
    clubs, "Southampton, Newcastle", is not)."""
    i = ent.start - 1
    for _ in range(4):
        qualifier = i >= 0 and doc[i].lower_ in _PLACE_QUALIFIERS
        hyphen = i > 0 and doc[i].text == "-" and doc[i - 1].lower_ in _PLACE_QUALIFIERS
        if not (qualifier or hyphen):
            break
        i -= 1
    if i < 0:
        return False
    if doc[i].lower_ in _LOCATIVE:
        return True
    return (
        ent.text.endswith(".")
        and doc[i].text == ","
        and i > 0
        and doc[i - 1].ent_type_ in PLACE_LABELS
    )


# The last words of a firm's name that may follow a comma ("Salomon Brothers, Inc").
_FIRM_SUFFIXES = frozenset(
    "inc inc. ltd ltd. co co. corp corp. plc llc lp sa ag nv bhd limited".split()
)


def _lists_apart(doc, ents) -> list:
    """The entities, an organisation that the model read over a comma split into the names it
    lists ("Guy's Hospital Medical School, University of London", "Isle of Wight, Dorset
    West"), each with the organisation's label for resolution to weigh. Every name listed has
    two words or more: one-word pieces are surnames of a match report's list ("Bowyer,
    Elliott, Bernard.") or a firm's partners ("Goldman, Sachs"), which stay whole, as does a
    firm's name with "and" or "&" in it or right after it ("Kronish, Lieb, Weiner and
    Hellman"; "Smith Barney, Harris Upham" of "... and Co", which the model cut short) or a
    company suffix after its comma ("Salomon Brothers, Inc")."""
    from spacy.tokens import Span

    result = []
    for ent in ents:
        commas = [t.i for t in ent if t.text == ","]
        if (
            ent.label_ not in ORGANISATION_LABELS
            or not commas
            or any(t.lower_ in ("and", "&") for t in ent)
            or (ent.end < len(doc) and doc[ent.end].lower_ in ("and", "&"))
            or ent[-1].lower_ in _FIRM_SUFFIXES
        ):
            result.append(ent)
            continue
        bounds = [ent.start, *[i + 1 for i in commas], ent.end + 1]
        pieces = [(start, end - 1) for start, end in itertools.pairwise(bounds)]
        if any(end - start < 2 or not doc[start].text[:1].isupper() for start, end in pieces):
            result.append(ent)
            continue
        result += [Span(doc, start, end, label=ent.label_) for start, end in pieces]
    return result


# A run of names joined only by commas and "and" is a list when it has this many names.
LIST_MIN = 4
# A list is of places when this share of its names are places (``_places_listed``), and this
# share the model itself tags as places.
LIST_PLACE_SHARE = 2 / 3
LIST_TAGGED_SHARE = 1 / 3
_LIST_JOINS = frozenset({",", "and", "&", "or"})


def _places_listed(doc, ents) -> tuple:
    """The entities, the persons of a list of places tagged as places: a list is of one kind
    of thing, and the small model reads constituencies ("Bristol West, Cardiff Central,
    Manchester Gorton, ...") and districts as persons where it tags their neighbours as places.
    A list is a run of at least ``LIST_MIN`` names with only commas, "and", "&" or "or" between
    them (and names the model did not tag); it is of places when ``LIST_PLACE_SHARE`` of its
    names are, and the model tags ``LIST_TAGGED_SHARE`` of them so itself: a list of people
    whose first names are towns ("Paris Hilton, Orlando Bloom, Sydney Pollack") is not. Only
    persons that look like places themselves change: a list of clubs is written with their
    towns' names too ("Liverpool, Everton, Newcastle"). Measured on the BBC corpus: 7
    documents change, every one a list of places (constituencies, "Manchester, Liverpool, ...
    and Torbay", "Paris, Lille, Lyon and Toulouse"); none of the 62 development articles has
    such a list."""
    from spacy.tokens import Span

    from archive.ingest import gazetteer

    def joined(a, b) -> bool:
        """Only commas and "and" between, and capitalised words no entity holds: names the
        model left untagged ("Oldham East and Saddleworth", ", Bournemouth West,")."""
        between = doc[a.end : b.start]
        joins = [t.lower_ in _LIST_JOINS for t in between]
        return (
            0 < len(between) <= 4
            and any(joins)
            and all(j or (t.is_title and t.is_alpha) for j, t in zip(joins, between, strict=True))
        )

    def place_like(ent) -> bool:
        """A name of two words or more tagged a place, or that begins with a town the size of
        a constituency's ("Manchester Gorton") or ends in compass words ("Leeds North West");
        one word tagged a place that the gazetteer knows, or a town that large. The model tags a
        list of players' surnames as places at random ("Kalman, Regan, Rigney"), and towns share
        their names with surnames ("Moore", "Gibson"): one word needs both voices."""
        name = clean_entity(ent.text)
        if not name:
            return False
        large = gazetteer.MIN_PERSON_CITY_POPULATION
        if " " not in name:
            return gazetteer.any_place(name) and (
                ent.label_ in PLACE_LABELS or gazetteer.known_place(name, large)
            )
        return (
            ent.label_ in PLACE_LABELS
            or gazetteer.known_place(name.split()[0], large)
            or gazetteer.compass_part(name)
        )

    ents = list(ents)
    runs: list[list[int]] = []
    for i, ent in enumerate(ents):
        if runs and runs[-1][-1] == i - 1 and joined(ents[i - 1], ent):
            runs[-1].append(i)
        else:
            runs.append([i])
    for run in runs:
        if len(run) < LIST_MIN:
            continue
        places = sum(place_like(ents[i]) for i in run)
        tagged = sum(ents[i].label_ in PLACE_LABELS for i in run)
        if places < LIST_PLACE_SHARE * len(run) or tagged < LIST_TAGGED_SHARE * len(run):
            continue  # "Paris Hilton, Orlando Bloom, Sydney Pollack": towns, to a gazetteer
        for i in run:
            ent = ents[i]
            if ent.label_ == PERSON and place_like(ent):
                ents[i] = Span(doc, ent.start, ent.end, label="GPE")
    return tuple(ents)


def _widened_groups(doc, ents) -> list:
    """The entities, each group (NORP) with the capitalised words right before it that the
    model left out or tagged as a group apart ("Liberal" of "Liberal Democrat", "Social" of
    "Social Democrats": the small model tags "Democrat" alone). Not a sentence's first word
    ("Former Tory ..."), a stop word, or a word of an entity of another kind ("Senate
    Democrats"), unless the text names the whole elsewhere as one group or organisation ("the
    Liberal Democrat leader", read as "Liberal" and "Democrat", in a text that writes "the
    Liberal Democrats"). An entity whose words are taken in goes."""
    from spacy.tokens import Span

    ents = list(ents)
    named = {_group_key(e.text) for e in ents if e.label_ in ("NORP", "ORG")}
    taken: set[int] = set()
    widened = []
    for i, ent in enumerate(ents):
        if ent.label_ != "NORP":
            widened.append(ent)
            continue
        start = ent.start
        while start > 0:
            word = doc[start - 1]
            if not word.is_title or word.is_sent_start or word.is_stop:
                break
            if word.ent_type_ and word.ent_type_ != "NORP":
                before = next((e for e in ents[:i] if e.start <= start - 1 < e.end), None)
                whole = before is not None and before.end == start and before.label_ == "ORG"
                if not (whole and _group_key(doc[before.start : ent.end].text) in named):
                    break  # "Senate Democrats": the Senate stays an organisation of its own
                start = before.start
                continue
            start -= 1
        if start == ent.start:
            widened.append(ent)
            continue
        # An entity the words belonged to, whole, goes into this group.
        for j in range(i - 1, -1, -1):
            if ents[j].end <= start:
                break
            if ents[j].start >= start:
                taken.add(j)
            else:
                start = ent.start  # only part of it: leave both as the model read them
        widened.append(Span(doc, start, ent.end, label=ent.label_) if start < ent.start else ent)
    return [ent for j, ent in enumerate(widened) if j not in taken]


def _group_key(text: str) -> str:
    """A group's name compared in the singular and without case: "Liberal Democrats" and
    "Liberal Democrat" are one."""
    return " ".join(text.split()).casefold().removesuffix("s")


def _units(doc) -> set[str]:
    """Acronyms the model tags as organisations that the text writes only after a figure: units
    ("1900 GMT", "40 MB")."""
    after_figure: dict[str, bool] = {}
    for ent in persons.ents_of(doc):
        name = ent.text
        if ent.label_ in ORGANISATION_LABELS and name.isupper() and name.isalpha():
            figure = ent.start > 0 and doc[ent.start - 1].text[:1].isdigit()
            after_figure[name] = after_figure.get(name, True) and figure
    return {name for name, always in after_figure.items() if always}


def _roles(doc) -> set[str]:
    """Lone words the model tags as organisations that the text writes only inside a role:
    before "Minister", "Secretary", "spokesman", or after "Secretary of"."""
    in_role: dict[str, bool] = {}
    for ent in persons.ents_of(doc):
        if ent.label_ not in ORGANISATION_LABELS or len(ent) != 1 or not ent.text.isalpha():
            continue
        after = doc[ent.end].lower_ if ent.end < len(doc) else ""
        before = [t.lower_ for t in doc[max(ent.start - 3, 0) : ent.start]]
        if before[-1:] == ["the"]:
            before = before[:-1]
        role = after in _ROLE_WORDS or (
            before[-1:] == ["of"] and before[-2:-1] and before[-2] in _ROLE_WORDS
        )
        in_role[ent.text] = in_role.get(ent.text, True) and bool(role)
    return {name for name, always in in_role.items() if always}


def _name_word(word: str) -> bool:
    return word[:1].isupper() and not word.isupper() and word.replace("-", "").isalpha()


# One item of a line-up: "Fabien Pelous (Stade Toulousain, capt)", "Sebastien Bruno (Sale/ENG)".
_LINE_UP_ITEM = re.compile(
    r"(?:^|(?<=[,;:]\s))([A-Z][^\s(),;:]*(?: [A-Z][^\s(),;:]*){1,3}) \(([A-Z][^()\d]{1,40})\)"
)
# A line is a line-up when it is mostly such items, at least this many.
LINE_UP_MIN = 4


def line_ups(doc) -> tuple[list[str], dict[str, int], str]:
    """The players and teams of the text's line-ups: lines that are lists of "Name (Team)"
    items ("Yann Delaigue (Castres), Frederic Michalak (Stade Toulousain), ..."), where the model
    tags at least half the names as persons. Every name of such a list is a person, and every
    bracket the same kind of thing: the teams (organisations), or, when the model tags most of
    them as places, the countries ("Roger Federer (Switzerland)"). Returns (players, team ->
    count, the teams' label)."""
    players: list[str] = []
    teams: dict[str, int] = {}
    votes = {"place": 0, "names": 0}
    position = 0
    for line in persons.text_of(doc).split("\n"):
        start, position = position, position + len(line) + 1
        items = list(_LINE_UP_ITEM.finditer(line))
        if len(items) < LINE_UP_MIN or sum(len(m.group(0)) for m in items) < 0.6 * len(line):
            continue
        tagged = [_labels(doc, start + m.start(1), start + m.end(1)) for m in items]
        if sum("PERSON" in t for t in tagged) * 2 < len(items):
            continue
        for item in items:
            players.append(item.group(1))
            team = clean_entity(item.group(2).split(",")[0].split("/")[0])
            if not team:
                continue
            teams[team] = teams.get(team, 0) + 1
            labels = _labels(doc, start + item.start(2), start + item.end(2))
            votes["place"] += bool(labels & PLACE_LABELS)
            votes["names"] += 1
    label = "GPE" if votes["place"] * 2 > votes["names"] else "ORG"
    return players, teams, label


def _labels(doc, start: int, end: int) -> set[str]:
    span = doc.char_span(start, end, alignment_mode="expand")
    return {t.ent_type_ for t in span if t.ent_type_} if span is not None else set()


def _part_of_a_person(name: str, person_names: set[str]) -> bool:
    """Whether ``name`` is a person's name of the same text, or its last words."""
    words = name.casefold().split()
    return any(
        len(words) < len(full.split()) and full.casefold().split()[-len(words) :] == words
        for full in person_names
        if " " in full
    )


def _mentions_of(texts: Sequence[tuple[str, str | None]]) -> list[list[NameMention]]:
    docs = persons.nlp().pipe((text[: persons.MAX_CHARS] for text, _ in texts), batch_size=32)
    found = []
    for doc, (_, title) in zip(docs, texts, strict=True):
        found.append(document_mentions(doc, title))
        persons.forget(doc)
    return found


def extract_stream(
    items: Iterable[tuple[str | None, str | None, T]], workers: int = 1, chunk: int = CHUNK
) -> Iterator[tuple[T, list[NameMention] | None]]:
    """(context, mentions) for each (text, title, context), in input order, as a stream.

    An item whose text is None needs no model (a record that gives its persons): it comes out
    with None, in its place, and an input of only such items never loads the model or starts a
    process. With ``workers`` > 1 the model runs in that many forked processes (it is loaded
    once, before forking, and shared); at most IN_FLIGHT chunks per worker are in flight (the
    model runs ahead while the import saves or indexes), so memory stays flat however long the
    input.
    """
    pool: ProcessPoolExecutor | None = None
    # Chunks in input order: a future for the texts of each, or None when none needed the model.
    pending: deque[tuple[list, Future | None]] = deque()
    try:
        for batch in chunked(items, chunk):
            texts = [(t, h) for t, h, _ in batch if t is not None]
            if not texts:
                pending.append((batch, None))
            elif workers <= 1:
                pending.append((batch, _done(_mentions_of(texts))))
            else:
                if pool is None:
                    persons.nlp()  # load before forking: the workers share it
                    context = multiprocessing.get_context("fork")
                    pool = ProcessPoolExecutor(workers, mp_context=context)
                pending.append((batch, pool.submit(_mentions_of, texts)))
            while pending and (
                pending[0][1] is None or pending[0][1].done() or len(pending) >= IN_FLIGHT * workers
            ):
                yield from _collect(*pending.popleft())
        while pending:
            yield from _collect(*pending.popleft())
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _done(result: list[list[NameMention]]) -> Future:
    future: Future = Future()
    future.set_result(result)
    return future


def _collect(
    batch: list, future: Future | None
) -> Iterator[tuple[object, list[NameMention] | None]]:
    found = iter(future.result() if future is not None else ())
    for text, _, context in batch:
        yield context, (None if text is None else next(found))
