"""Archive-level resolution: which mentions become facet values, of which kind, under which name.

One document is not enough evidence. The small model calls "Sri Lanka" a person in one article
and a place in fifty; "Blair" alone in a short piece is Tony Blair when the archive links the
surname with him and nobody else. So every document's mentions (:mod:`archive.ingest.entities`,
stored as :class:`~archive.models.Mention` rows) are weighed against the whole archive's:

- **kind**: a name takes the kind the archive mostly gives it, counted in documents (PERSON,
  ORG, GPE/LOC, or another label such as PRODUCT or WORK_OF_ART, which means "none of these");
  with no other evidence, the document's own label stands; a lone word its document writes as a
  common word ("state" beside "State", a unit after a figure: ``COMMON``) or only inside a role
  ("Finance Minister", "Secretary of State": ``ROLE``) counts as "none of these" for the word,
  so "State" is no value in the documents that only write "Secretary of State";
- **parties**: a group the model tags NORP ("Tory", "Conservatives") is an organisation when the
  archive names "X Party" ("Tory Party", "Conservative Party") as one;
- **persons named again**: an organisation or place value that is the last word(s) of a person
  value of the same document ("Pullman" beside "Philip Pullman") is that person, not a value;
- **common words**: a capitalised word that the archive mostly writes in lowercase
  (:mod:`archive.ingest.wordcase`) does not begin a person's name: "Making Michael Howard" is
  Michael Howard, and "Pop Idol" or "Wonder Woman" is no person (unless the word begins many of
  the archive's two-word person names: "Will Young"; a longer name may have a position or an
  office run into it, "Wing Cedric Heymans", "Treasurer Peter Costello"; and names whose last
  word the archive mostly tags alone as no name do not count: "Record March", "Pay April" in
  dividend notices);
- **firms named after people**: a two-word person name that begins an organisation's name
  ending in a generic word ("James Capel and Co", "Walt Disney Co") is that organisation;
- **generic names**: an organisation named only by words that each end ``GENERIC_TAIL``
  different organisation names ("Co Inc", "Commission") names none in particular, and a lone
  letter ("P" of "S&P") is no organisation or place;
- **places the world knows**: a name with thin evidence as an organisation ("Nagano",
  "Mauritius") that GeoNames knows as a country, a US state or a city of 50,000 people, or an
  untitled person name of two or more words that is a city of 100,000 ("Porto Alegre")
  (:mod:`archive.ingest.gazetteer`), is a place; a name its document titles or lists in a
  line-up's brackets keeps that kind in the whole document ("Perpignan" the club, as its
  players); and a one-word place
  that no gazetteer knows and the archive tags a place in at most two documents is the
  model's guess at a word it has not seen ("Sizzla", "Intifada"), no value;
- **where a place stands**: a name that the model tags a place in at least
  ``PLACE_CONTEXT_MIN`` documents, fewer than ``PLACE_CONTEXT_SHARE`` of which write it where
  a place stands ("in ...", "across northern ...", "Omaha, Neb.", a dateline), is no place,
  except in a document that puts it there: a film ("Sideways"), an awards night ("Grammys"), a
  club ("Manchester City", "Southampton"), a firm ("Gazprom", "Delta"); it takes the other
  kind the archive gives it in two documents ("BT", an organisation), or none. Countries and
  US states keep their kind, and so do nations' capitals ("Tehran said") that the archive does
  not also name as organisations ("Madrid");
- **an organisation's word**: a place name of two words or more that no gazetteer knows and
  that ends in a word the archive mostly tags as an organisation on its own is an
  organisation: a modifier before a club's or a party's name ("Manchester United", "New
  Labour", which the model often tags as places) does not make it a place, except in a
  document that writes it where a place stands (a dateline: "BLUE BELL, Pa., March 2 -");
- **state abbreviations**: a place written as an American wire abbreviates a US state
  ("Calif.", "N.Y.") is that state's value ("California");
- **works' titles**: a name its document writes right after a noun for a work ("the film Vera
  Drake", "his latest album Musicology": ``WORK`` evidence) is no value there unless the model
  read a person, and a name the archive writes so in ``WORK_MIN`` documents and ``WORK_SHARE``
  of those that name it is no value anywhere;
- **one party**: a party named with or without "Party", in the singular or the plural
  ("Conservative Party", "Conservative", "Conservatives") is one value, named as more documents
  write it, when the archive names "X Party" as an organisation in ``MIN_EVIDENCE`` documents;
- **acronyms**: an organisation or place written as an acronym and written out ("EU",
  "European Union") is one value, named as more documents write it, when the documents that
  write the acronym beside a name with its initials write it beside that one in ``MIN_EVIDENCE``
  documents and ``JOIN_SHARE`` of them, and the archive mostly gives that name the same kind;
- **abbreviations**: the common words after an abbreviation's full stop are not of an
  organisation or place name the archive has little evidence of: "U.S. Raids" (Reuters
  capitalises after "U.S.") is "U.S.", but "U.S. Steel" stays;
- **post-nominals**: an acronym that ends many different full person names ("QC") is not part
  of a name, nor a value of its own;
- **surnames the model calls firms**: a lone word tagged as an organisation or place beside a
  person its text names in full with that surname ("Troncon" beside "Alessandro Troncon":
  ``SURNAME`` evidence) counts as a person's mention of the word, so a text that gives the
  surname alone is read as the person's where the archive mostly does so ("Ford", mostly
  written without Henry Ford, stays a firm);
- **joins**: a surname-only or partial person mention joins the one full name the archive links
  it with ("Blair" -> "Tony Blair", "George Bush" -> "George W Bush") when that name has at
  least ``JOIN_SHARE`` of the documents of every full name it could be; otherwise it stays
  apart, and a lone word stays only with a title or a second mention in its document. A full
  name that the archive's dated documents write only more than ``PERIOD_YEARS`` from the
  document's date is not among the names it could be (the period);
- **confidence** per value: how consistently the archive labels the name with its kind
  (smoothed), lower for a lone word that joined nobody;
- **editors' decisions** win over all of it: names and aliases of entities map to their entity
  (merges and renames leave aliases), a reviewed entity's kind is never changed, "not a person"
  and "never join these" decisions (:class:`~archive.models.EntityDecision`) are obeyed.

:class:`Evidence` is built from the database once, then kept up to date in memory while an
import adds documents; :func:`resolve_archive` applies the same rules to every document whose
entities were extracted (``manage.py resolve_entities``).
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from archive.ingest import gazetteer
from archive.ingest.entities import (
    COMMON,
    ORGANISATION_LABELS,
    PARTY,
    PERSON,
    PLACE_LABELS,
    ROLE,
    SURNAME,
    WORK,
    NameMention,
)
from archive.ingest.text import fold_name, initialism_letters, initials_of
from archive.ingest.wordcase import WordCaseBook

KINDS = ("person", "organisation", "place")
OTHER = "other"
# The model's labels for events and laws: of its "other" labels, the two whose names end in a
# word that says what they are ("Cup", "Championships"; "Act", "Bill"), counted apart.
EVENT_LABELS = frozenset({"EVENT", "LAW"})
# A full name must hold this share of the documents of all the full names a surname could be.
JOIN_SHARE = 0.8
# A name's kind changes from its document's label only with this many documents of evidence.
MIN_EVIDENCE = 2
# Confidence of a lone word that joined no full name, relative to a full name's.
LONE_WORD_FACTOR = 0.6
# A surname mentioned once without a title joins a full name only this clearly.
WEAK_JOIN_SHARE = 0.9
WEAK_JOIN_MIN = 3
# An initial and a surname joins a full name only when its document names this many others
# (by surname) that the full name's documents also name: the company a person keeps.
INITIAL_COMPANY = 2
# A word that begins this many different full person names in the archive is a first name.
FIRST_NAME_MIN = 3
# A word that ends this many different organisation names is generic ("Inc", "Bank").
GENERIC_TAIL = 50
# A name with at most this many documents of evidence may be re-read as a person by its shape.
SHAPE_EVIDENCE_MAX = 3
# A full name written in at least PERIOD_EVIDENCE dated documents, every one more than
# PERIOD_YEARS from a document's date, is no one that document's surname or shorter name
# stands for: the 1987 wires' "Bush" (the Vice President) is not George W Bush of 2004.
PERIOD_YEARS = 10
PERIOD_EVIDENCE = 2
# ... when its first word begins this many different full person names (and is no common
# word): fewer than FIRST_NAME_MIN, since the name's shape and its few documents say the rest.
SHAPE_FIRST_NAME_MIN = 2
# A word the archive tags on its own as no person in this many documents is no surname after an
# initial: "S Korea", "S Asia" are places.
INITIAL_SURNAME_EVIDENCE = 5
# A one-word place no gazetteer knows is no value with at most this many documents as a place,
# in an archive of at least this many documents with extracted names.
UNKNOWN_PLACE_EVIDENCE = 2
UNKNOWN_PLACE_ARCHIVE = 1000
# Rules that change with the archive's size, at these sizes (extracted documents): an import
# that takes the archive past one changes names it never mentions (crosses_a_size_rule).
SIZE_RULES = (UNKNOWN_PLACE_ARCHIVE,)
# The confidence of a value that evidence beyond the model's labels vouches for: a full name the
# archive titles as a person, a country, US state or capital the gazetteers know.
WORLD_KNOWS_CONFIDENCE = 0.9
# A full name that this many documents give a person's title or a line-up's place is a person
# in every document (the model's other labels for it notwithstanding).
TITLED_PERSON_MIN = 1
# A name (not a country, a US state or a nation's capital) that the model tags a place in at
# least this many documents, fewer than this share of which write it where a place stands ("in
# ...", "across ..."), is no place: "Sideways" (a film) and "Manchester City" (a club) in 16
# documents each, never after "in".
PLACE_CONTEXT_MIN = 4
PLACE_CONTEXT_SHARE = 0.1
# A group written before a word for a party's member, body or programme ("Tory MP", "Labour
# manifesto") in this share of the documents that name it is a party (party_by_its_members).
PARTY_MEMBER_SHARE = 0.05
# A word that ends this many different names the model tags as events or laws, and more than half
# as many as it tags as organisations, names events or laws: "Championships", "Cup", "Marathon",
# "Show"; "Act", "Bill".
EVENT_TAIL_MIN = 3
# A place name that no gazetteer knows, ending in a word that the archive tags on its own as an
# organisation in at least this many documents and this share of those that tag it at all, names
# that organisation's kind: "Manchester United" (United: 30 of 35), "New Labour" (Labour: 159 of
# 165), where "West Bank" (Bank: 12 of 23) and "New York State" stay places.
ORGANISATION_WORD_MIN = 5
ORGANISATION_WORD_SHARE = 2 / 3
# A name that its documents write as a work's title ("the film Vera Drake") in at least this many
# documents, and in at least this share of the documents that name it, is a work's title.
WORK_MIN = 2
WORK_SHARE = 0.2


# A word of a party's short name is the first three or four letters of its word ("Lib Dem").
CLIPPED_WORD_MAX = 4
# A figure as a word of its own: "69", "3,400", "1.5".
_FIGURE = re.compile(r"\d[\d,.]*")


def singular(folded: str) -> str:
    """A group's name in the singular: "tories" -> "tory", "democrats" -> "democrat"."""
    if folded.endswith("ies"):
        return folded[:-3] + "y"
    return folded.removesuffix("s")


def _plural(folded: str) -> str:
    """A group's name in the plural: "tory" -> "tories", "democrat" -> "democrats"."""
    if folded.endswith("y") and folded[-2:-1] not in ("a", "e", "i", "o", "u"):
        return folded[:-1] + "ies"
    return folded + "s"


def label_kind(label: str) -> str:
    """PERSON -> person, ORG -> organisation, GPE/LOC -> place; anything else -> other."""
    if label in (PERSON, SURNAME):
        return "person"
    if label in ORGANISATION_LABELS:
        return "organisation"
    if label in PLACE_LABELS:
        return "place"
    return OTHER


def fold(name: str) -> str:
    """The key under which the archive's evidence and the editors' decisions know a name: case,
    spacing and accents ignored, so the spellings of one name are one value."""
    return fold_name(name)


def _initialism_keys(name: str) -> tuple[str, ...]:
    """The other folded keys an initialism is written under: "U.S." -> "us" and "u.s"; "US" ->
    "u.s." and "u.s". Nothing for any other name."""
    letters = initialism_letters(name)
    if not letters:
        return ()
    dotted = ".".join(letters) + "."
    keys = dict.fromkeys(fold(form) for form in (letters, dotted, dotted[:-1]))
    keys.pop(fold(name), None)
    return tuple(keys)


@dataclass
class Decisions:
    """Editors' decisions, as resolution needs them (see :class:`~archive.models.EntityDecision`
    and the entities' names and aliases)."""

    # (kind, folded name) -> the entity's name, for every entity name and alias.
    canonical: dict[tuple[str, str], str] = field(default_factory=dict)
    # folded name -> the kind of the reviewed entity that has it as name or alias.
    reviewed_kind: dict[str, str] = field(default_factory=dict)
    # (kind, folded name): never a value of that kind.
    rejected: set[tuple[str, str]] = field(default_factory=set)
    # (kind, folded name, folded other): never joined.
    apart: set[tuple[str, str, str]] = field(default_factory=set)

    @classmethod
    def from_db(cls) -> Decisions:
        from archive.models import ENTITY_MODELS, EntityDecision

        decisions = cls()
        for kind, model in ENTITY_MODELS.items():
            # An unreviewed name is a value an earlier pass made, not a decision: a lone word
            # ("Wilkinson") must stay free to join a full name the archive learnt since, and a
            # spelling ("ClearView" or "Clearview") follows the archive's evidence
            # (:meth:`Evidence.spelling`), not whichever document happened to come first.
            for name in model.objects.filter(reviewed=True).values_list("name", flat=True):
                decisions.canonical[(kind, fold(name))] = name
                decisions.reviewed_kind[fold(name)] = kind
            alias_model = model.alias_model()
            owner = alias_model.owner_field
            for alias, name, reviewed in alias_model.objects.values_list(
                "name", f"{owner}__name", f"{owner}__reviewed"
            ).iterator():
                decisions.canonical.setdefault((kind, fold(alias)), name)
                if reviewed:
                    decisions.reviewed_kind.setdefault(fold(alias), kind)
        for kind, name, decision, other in EntityDecision.objects.values_list(
            "kind", "name", "decision", "other"
        ):
            if decision == EntityDecision.NOT:
                decisions.rejected.add((kind, fold(name)))
            else:
                decisions.apart.add((kind, fold(name), fold(other)))
        return decisions


@dataclass
class Evidence:
    """The archive's mentions, summarised for resolution and kept up to date as documents come.

    ``labels``: folded name -> documents per kind (person, organisation, place, other) in which
    the model gave the name that kind. ``full_names``: folded last word -> documents per full
    (two or more words) person name spelled as most often seen.
    """

    labels: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    full_names: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    # folded first word -> how many different full person names begin with it.
    first_names: Counter = field(default_factory=Counter)
    # folded last word -> how many different organisation names of two or more words end so.
    organisation_tails: Counter = field(default_factory=Counter)
    # folded first word -> how many different place names of two or more words begin with it.
    place_heads: Counter = field(default_factory=Counter)
    # folded last word -> how many different place names of two or more words end with it.
    place_tails: Counter = field(default_factory=Counter)
    # folded name of two or more words -> documents that tag it an event or a law
    # (``EVENT_LABELS``, of the "other" labels); folded last word -> how many different such
    # names end with it.
    event_names: Counter = field(default_factory=Counter)
    event_tails: Counter = field(default_factory=Counter)
    # folded name -> documents that write it as a work's title ("the film Vera Drake": ``WORK``).
    works: Counter = field(default_factory=Counter)
    # folded full name (two words or more) -> documents that give it a person's title or a
    # line-up's place ("Mr Fabien Pelous", "Fabien Pelous (Stade Toulousain)").
    titled_persons: Counter = field(default_factory=Counter)
    # folded "x" -> documents in which "X Party" is an organisation: "Tory", "Conservatives"
    # (NORP to the model) name that party.
    parties: Counter = field(default_factory=Counter)
    # folded name -> documents that write it before a word for a party's member, body or
    # programme ("Tory MP", "Liberal Democrat spokesman": ``PARTY``): the evidence that a group
    # is a party where the archive never writes "X Party" ("Liberal Democrats").
    party_members: Counter = field(default_factory=Counter)
    # folded name -> documents per spelling as written ("ClearView Economics": 2).
    spellings: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    # How the archive writes words: in lowercase, or capitalised within a sentence.
    words: WordCaseBook = field(default_factory=WordCaseBook)
    # folded first word -> folded last word -> how many of the names counted in ``first_names``
    # join the two ("will" -> "young": 1).
    first_and_last: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    # folded first two words of organisation names of three or more words -> their last words
    # ("james capel" -> "co": "James Capel and Co").
    firm_heads: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    # folded name -> of the documents that tag it a place and say where it stands (mentions
    # extracted since that is recorded): "seen" all of them, "located" those that write it
    # where a place stands ("in Lahore"; ``entities.NameMention.located``).
    place_context: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    # Documents with extracted names in the archive (from the database, then as an import
    # creates them): the rules that need a large archive ask it.
    documents: int = 0
    # Acronym letters, casefolded ("eu") -> folded organisation or place names of two words or
    # more whose initials they are ("european union") -> documents that name both: the
    # evidence that the acronym stands for that name.
    acronyms: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    # folded full person name (two words or more) -> documents per year of the dated documents
    # that write it (:meth:`far_in_time`).
    person_years: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    # folded full person name -> the surnames its documents also mention, read from the
    # database when an initial asks (:meth:`company_of`).
    _company: dict[str, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)
    # (the evidence's size, the party stems read at that size): :meth:`_party_stems`.
    _parties_seen: tuple = field(default=((), frozenset()), repr=False, compare=False)

    def common_word(self, word: str) -> bool:
        """Whether a capitalised word of a name is a common word the archive mostly writes in
        lowercase ("Making", "Pop"), and not a first name of the archive's people ("Will")."""
        return (
            word[:1].isupper()
            and not word.isupper()
            and self.words.common(word)
            and not self._common_first_name(word)
        )

    def _common_first_name(self, word: str) -> bool:
        """Whether a common word is also a first name: it begins ``FIRST_NAME_MIN`` full names,
        most of which end in a word that the archive, on its own, does not mostly tag as no
        name. "Record" and "Pay" begin "Record March", "Pay April", "Record Aug" in hundreds of
        dividend notices, but "March" and "April" alone are dates to the archive."""
        if self.first_names[fold(word)] < FIRST_NAME_MIN:
            return False
        lasts = [last for last, n in self.first_and_last.get(fold(word), {}).items() if n > 0]
        no_names = sum(1 for last in lasts if self._no_name_alone(last))
        return no_names * 2 < len(lasts)

    def _no_name_alone(self, folded: str) -> bool:
        """Whether the archive tags this word, on its own, mostly as no name at all (a date, a
        number, a group), in at least ``MIN_EVIDENCE`` documents."""
        counts = self.labels.get(folded)
        if not counts or counts[OTHER] < MIN_EVIDENCE:
            return False
        return counts[OTHER] > counts["person"] + counts["organisation"] + counts["place"]

    def not_of_the_name(self, words: list[str]) -> int:
        """How many of a person name's first words are not part of the name: a nationality
        (:meth:`_group_before`), common words ("Making Michael Howard", "Pop Idol"), and a word
        before a full name that the archive knows better without it ("Blairite Alan Milburn",
        "Gilbert Andy Roddick"), unless the word is itself a first name of the archive's
        people; and an acronym before a full name ("DJ John Peel")."""
        start = self._group_before(words)
        while start < len(words):
            word = words[start]
            rest = words[start + 1 :]
            if (
                self.common_word(word)
                or (
                    len(rest) >= 2
                    and word[:1].isupper()
                    and self.first_names[fold(word)] < FIRST_NAME_MIN
                    and self._better_known(" ".join(rest), " ".join(words[start:]))
                )
                or self._acronym_before_a_full_name(word, rest)
            ):
                start += 1
            else:
                break
        return start

    def _acronym_before_a_full_name(self, word: str, rest: list[str]) -> bool:
        """An acronym before a full name whose first word is a first name of the archive's
        people: a role or a body run into the name ("DJ John Peel", "PM Tony Blair"). Initials
        that are a first name stand before a surname alone ("JP McManus", "KP Robertson")."""
        return (
            len(rest) >= 2
            and len(word) >= 2
            and word.isupper()
            and word.isalpha()
            and self.first_names[fold(rest[0])] >= FIRST_NAME_MIN
        )

    def without_common_tail(self, name: str) -> str:
        """An organisation or place name without the common words after an abbreviation's full
        stop: "U.S. Raids" -> "U.S.". Reuters' 1987 wire capitalises every word after "U.S."
        ("the U.S. Attacks on two of its Gulf oil platforms"), and the model runs the name on
        into it; the archive writes "raids" and "attacks" in lowercase. Only a name the archive
        has thin evidence of (``SHAPE_EVIDENCE_MAX`` documents: "U.S. Steel" and "Dr. Pepper"
        stay) and whose shortened form has evidence of its own (``MIN_EVIDENCE`` documents), so
        that the shortened name's kind is the archive's ("U.S.": a place). "St. Louis" and "Dart
        Group Corp." keep their words."""
        words = name.split()
        if sum(self.labels.get(fold(name), Counter()).values()) > SHAPE_EVIDENCE_MAX:
            return name
        for i in range(1, len(words)):
            if words[i - 1].endswith(".") and all(self.common_word(w) for w in words[i:]):
                shorter = " ".join(words[:i])
                if sum(self.labels.get(fold(shorter), Counter()).values()) >= MIN_EVIDENCE:
                    return shorter
                return name
        return name

    def without_figure(self, mention: NameMention) -> NameMention:
        """An organisation or place mention without the figure after a person's or a place's
        name, in a table or a match report: "Denmark 69" -> the place "Denmark", "Drogba 107"
        -> the person "Drogba" (the surname of the archive's "Didier Drogba"). Where the name
        before the figure is an organisation's, or nothing the archive knows, the figure is
        part of the name ("Channel 4", "BBC Radio 1", "Nokia 6600"). Only a name the archive
        has thin evidence of (``SHAPE_EVIDENCE_MAX`` documents), before a name that is a person's
        or a place's in most of the documents that name it."""
        words = mention.name.split()
        if len(words) < 2 or not _FIGURE.fullmatch(words[-1]):
            return mention
        if sum(self.labels.get(fold(mention.name), Counter()).values()) > SHAPE_EVIDENCE_MAX:
            return mention
        shorter = " ".join(words[:-1])
        counts = Counter(self.labels.get(fold(shorter), Counter()))
        if len(words) == 2:
            # A surname alone: the full names that end in it, in their documents.
            counts["person"] += sum(self.full_names.get(fold(shorter), Counter()).values())
        if sum(counts.values()) < MIN_EVIDENCE:
            return mention
        kind = max(counts, key=counts.get)
        if kind not in ("person", "place") or 2 * counts[kind] <= sum(counts.values()):
            return mention  # "Firefox 1.0": a product, a firm and a person's surname by turns
        return dataclasses.replace(
            mention, name=shorter, label=PERSON if kind == "person" else "GPE"
        )

    def firm(self, name: str) -> bool:
        """Whether a two-word person name is a firm's: the archive names an organisation that
        begins with it and ends in a generic word ("James Capel and Co", "Samuel Montagu and Co
        Ltd", "Walt Disney Co"). In the news, such a name is the firm far more often than the
        person it was named after."""
        folded = fold(name)
        if len(folded.split()) != 2:
            return False
        lasts = self.firm_heads.get(folded, {})
        tails = self.organisation_tails
        return any(n > 0 and tails[last] >= GENERIC_TAIL for last, n in lasts.items())

    def generic_organisation(self, name: str) -> bool:
        """Whether every word of an organisation name ends at least ``GENERIC_TAIL`` different
        organisation names in the archive: "Co Inc", "Co Ltd", "Commission" name a kind of
        organisation (a company's suffix, a body), none in particular."""
        return all(self.organisation_tails[word] >= GENERIC_TAIL for word in fold(name).split())

    def ran_on(self, words: list[str]) -> bool:
        """Whether the last word of a person name of three words or more is not of the name:
        the model ran a person's name on into the word after it ("Bill Cosby TV", "Johnny
        Carson Theater"). The word is a common word the archive mostly writes in lowercase, or
        an acronym; the archive names the name without it as a person; and no other full name
        of the archive's people ends in that word (it is no surname: "Andrew Bonar Law" stays,
        and so does "James Dean Bradfield", whose last word is no common word)."""
        last = words[-1] if words else ""
        if len(words) < 3 or not (self.words.common(last) or (last.isupper() and len(last) > 1)):
            return False
        whole = fold(" ".join(words))
        ending = self.full_names.get(fold(words[-1]), Counter())
        if any(fold(name) != whole and n > 0 for name, n in ending.items()):
            return False
        return self._better_known(" ".join(words[:-1]), " ".join(words))

    def post_nominal(self, words: list[str]) -> bool:
        """Whether a full name's last word is a post-nominal ("Philippe Sands QC", "... MP"):
        an acronym that ends many different full names in the archive, as no surname does in
        capitals, after a full name of its own (two words before it)."""
        return len(words) >= 3 and self.post_nominal_word(words[-1])

    def post_nominal_word(self, word: str) -> bool:
        """An acronym that ends at least ``FIRST_NAME_MIN`` different full person names ("QC")."""
        return (
            len(word) >= 2
            and word.isupper()
            and word.isalpha()
            and len(self.full_names.get(fold(word), ())) >= FIRST_NAME_MIN
        )

    def _group_before(self, words: list[str]) -> int:
        """How many first words (one or two) name a group of people rather than anyone: a
        nationality the model tags NORP on its own, across the archive, more often than a
        person ("Kenyan Alice Timbilil", "New Zealander Peter Jackson"). Only before a full name
        (two words left), and never a first name of the archive's people ("Christian")."""
        if self.first_names[fold(words[0])] >= FIRST_NAME_MIN:
            return 0
        for length in (2, 1):
            if len(words) - length < 2:
                continue
            counts = self.labels.get(fold(" ".join(words[:length])))
            if counts and counts[OTHER] >= MIN_EVIDENCE and counts[OTHER] > counts["person"]:
                return length
        return 0

    def _better_known(self, shorter: str, longer: str) -> bool:
        """Whether the archive names ``shorter`` as a person in more documents than ``longer``
        (both full names ending in the same word)."""
        counts = self.full_names.get(fold(shorter.split()[-1]), Counter())
        spelled = {fold(name): n for name, n in counts.items()}
        return spelled.get(fold(shorter), 0) > spelled.get(fold(longer), 0)

    def spelling(self, name: str) -> str:
        """The archive's spelling of a name: the one written in the most documents (ties: not
        all capitals, then the first in code-point order), so the value's name does not depend
        on which document came first. An initialism with and without its dots ("U.S." and
        "US", "U.K." and "UK") is one name: wires write the dots, most web sites do not."""
        counts = self._written(name)
        if not counts:
            return " ".join(name.split())
        return max(counts, key=lambda written: (counts[written], not written.isupper(), written))

    def _written(self, name: str) -> Counter:
        """Documents per spelling of a name, an initialism's forms with and without dots
        together (read only: the archive's own counter unless there are forms to add)."""
        counts = self.spellings.get(fold(name), Counter())
        others = _initialism_keys(name)
        if others:  # rare: copy, not the counts of every name resolved
            counts = Counter(counts)
            for key in others:
                counts.update(self.spellings.get(key, ()))
        return counts

    def add(self, mentions: Iterable[NameMention], sign: int = 1, year: int | None = None) -> None:
        """Count one document's mentions in (``sign`` -1: take them out again); ``year``: the
        document's, if dated. ``documents`` is counted by the caller, which knows whether the
        document is new."""
        kinds_seen: set[tuple[str, str]] = set()
        events_seen: set[str] = set()
        works_seen: set[str] = set()
        persons_seen: set[str] = set()
        written: set[str] = set()
        placed: dict[str, bool] = {}
        for mention in mentions:
            if mention.label == PARTY:
                self.party_members[fold(mention.name)] += sign
                continue  # no kind of its own: the group's own mention has its label
            kinds_seen.add((fold(mention.name), label_kind(mention.label)))
            if mention.label in EVENT_LABELS:
                events_seen.add(fold(mention.name))
            if mention.label == WORK:
                works_seen.add(fold(mention.name))
            if mention.label in PLACE_LABELS and mention.located is not None:
                folded = fold(mention.name)
                placed[folded] = placed.get(folded, False) or mention.located
            if mention.label != COMMON:
                written.add(" ".join(mention.name.split()))
        for name in written:
            self.spellings[fold(name)][name] += sign
        self._count_acronyms(
            {m.name for m in mentions if m.label in ORGANISATION_LABELS | PLACE_LABELS}, sign
        )
        titled_seen: set[str] = set()
        for mention in mentions:
            if mention.label == PERSON and " " in mention.name.strip():
                persons_seen.add(" ".join(mention.name.split()))
                if mention.titled:
                    titled_seen.add(fold(mention.name))
        for name in titled_seen:
            self.titled_persons[name] += sign
        for name, located in placed.items():
            self.place_context[name]["seen"] += sign
            self.place_context[name]["located"] += sign * located
        for name in events_seen:
            self._count_event(name, 1, sign)
        for name in works_seen:
            self.works[name] += sign
        for name, kind in kinds_seen:
            counts = self.labels[name]
            if " " in name and _flips(counts[kind], sign):
                self._count_shape(name, kind, sign)
            if kind == "organisation" and name.endswith(" party"):
                self.parties[name.removesuffix(" party")] += sign
            counts[kind] += sign
        for name in persons_seen:
            if year is not None:
                self.person_years[fold(name)][year] += sign
            counts = self.full_names[fold(name.split()[-1])]
            if _flips(counts[name], sign) and _first_name_evidence(name):
                first, last = fold(name.split()[0]), fold(name.split()[-1])
                self.first_names[first] += sign
                self.first_and_last[first][last] += sign
            counts[name] += sign

    @classmethod
    def from_db(cls) -> Evidence:
        """The evidence of every stored mention: two grouped queries, no texts read."""
        from django.db.models import Count, Q
        from django.db.models.functions import ExtractYear

        from archive.models import Document, Mention

        evidence = cls(words=WordCaseBook(database=True))
        evidence.documents = Document.objects.filter(entities_extracted=True).count()
        rows = (
            Mention.objects.values_list("name", "label")
            .annotate(documents=Count("document", distinct=True))
            .order_by()
        )
        spelled = (
            Mention.objects.exclude(label=COMMON)
            .values_list("name")
            .annotate(documents=Count("document", distinct=True))
            .order_by()
        )
        for name, documents in spelled.iterator():
            evidence.spellings[fold(name)][" ".join(name.split())] += documents
        leading: set[str] = set()  # the first words of person names (see below)
        organisations_and_places: set[str] = set()  # for the acronyms' evidence
        for name, label, documents in rows.iterator():
            folded = fold(name)
            if label == PARTY:
                evidence.party_members[folded] += documents
                continue
            kind = label_kind(label)
            if label in ORGANISATION_LABELS | PLACE_LABELS:
                organisations_and_places.add(name)
            if label == PERSON and name[:1].isupper():
                leading.add(folded.split()[0])
            if " " in folded and not evidence.labels[folded][kind]:
                evidence._count_shape(folded, kind, 1)
            if label in EVENT_LABELS:
                evidence._count_event(folded, documents, 1)
            if label == WORK:
                evidence.works[folded] += documents
            if kind == "organisation" and folded.endswith(" party"):
                evidence.parties[folded.removesuffix(" party")] += documents
            evidence.labels[folded][kind] += documents
        evidence._acronyms_from_db(organisations_and_places)
        # Read now, so that an import that makes one of them common (or no longer common) knows
        # which stored names to resolve again (``WordCaseBook.flipped``).
        evidence.words.load(leading)
        persons = (
            Mention.objects.filter(label=PERSON, name__contains=" ")
            .values_list("name")
            .annotate(documents=Count("document", distinct=True))
            .order_by()
        )
        titled = (
            Mention.objects.filter(label=PERSON, titled=True, name__contains=" ")
            .values_list("name")
            .annotate(documents=Count("document", distinct=True))
            .order_by()
        )
        for name, documents in titled.iterator():
            evidence.titled_persons[fold(name)] += documents
        dated = (
            Mention.objects.filter(
                label=PERSON, name__contains=" ", document__published__isnull=False
            )
            .annotate(year=ExtractYear("document__published"))
            .values_list("name", "year")
            .annotate(documents=Count("document", distinct=True))
            .order_by()
        )
        for name, year, documents in dated.iterator():
            evidence.person_years[fold(name)][year] += documents
        placed = (
            Mention.objects.filter(label__in=PLACE_LABELS, located__isnull=False)
            .values_list("name")
            .annotate(
                seen=Count("document", distinct=True),
                located=Count("document", distinct=True, filter=Q(located=True)),
            )
            .order_by()
        )
        for name, seen, located in placed.iterator():
            evidence.place_context[fold(name)]["seen"] += seen
            evidence.place_context[fold(name)]["located"] += located
        for name, documents in persons.iterator():
            name = " ".join(name.split())
            counts = evidence.full_names[fold(name.split()[-1])]
            if not counts[name] and _first_name_evidence(name):
                first, last = fold(name.split()[0]), fold(name.split()[-1])
                evidence.first_names[first] += 1
                evidence.first_and_last[first][last] += 1
            counts[name] += documents
        return evidence

    def _count_acronyms(self, names: set[str], sign: int) -> None:
        """Count the acronyms of one document's organisations and places that the document
        also writes out ("EU" beside "European Union")."""
        letters = {initialism_letters(name) for name in names} - {""}
        if not letters:
            return
        for name in names:
            initials = initials_of(name)
            if initials in letters:
                self.acronyms[initials.casefold()][fold(name)] += sign

    def _acronyms_from_db(self, names: set[str]) -> None:
        """The acronyms' evidence of the stored mentions: only the mentions of acronyms and of
        names whose initials one of them is are read, grouped by document."""
        from archive.models import Mention

        letters = {initialism_letters(name) for name in names} - {""}
        if not letters:
            return
        written_out = {name for name in names if initials_of(name) in letters}
        wanted_letters = {initials_of(name) for name in written_out}
        wanted = sorted(
            written_out | {name for name in names if initialism_letters(name) in wanted_letters}
        )
        by_document: dict[int, set[str]] = defaultdict(set)
        for start in range(0, len(wanted), 500):
            for document_id, name in (
                Mention.objects.filter(
                    name__in=wanted[start : start + 500],
                    label__in=ORGANISATION_LABELS | PLACE_LABELS,
                )
                .values_list("document_id", "name")
                .distinct()
            ):
                by_document[document_id].add(name)
        for document_names in by_document.values():
            self._count_acronyms(document_names, 1)

    def written_out(self, name: str) -> str:
        """For an organisation or place that is an acronym or an acronym written out ("EU",
        "European Union"): the written-out name (folded) the two are one value under; "" for
        any other name, and for an acronym the archive gives several meanings.

        The documents that write an acronym beside a name with its initials must write it
        beside this one in at least ``MIN_EVIDENCE`` documents and ``JOIN_SHARE`` of all of
        them: "EU" beside "European Union" in 34 documents and nothing else; "EC" beside
        "European Community" in 24 and "European Commission" in 6 stays "EC". One document
        that names both proves nothing: a story may name "US" and "Universal Studios"."""
        letters = initialism_letters(name)
        if letters:
            return self._best_written_out(letters)
        initials = initials_of(name)
        if initials and self._best_written_out(initials) == fold(name):
            return fold(name)
        return ""

    def _best_written_out(self, letters: str) -> str:
        support = self.acronyms.get(letters.casefold())
        if not support:
            return ""
        total = sum(n for n in support.values() if n > 0)
        best = max(support, key=lambda key: (support[key], key))
        if support[best] >= MIN_EVIDENCE and support[best] >= JOIN_SHARE * total:
            return best
        return ""

    def party_name(self, name: str) -> str:
        """For a party named with or without "Party", in the singular or the plural
        ("Conservative Party", "Conservative", "Conservatives"; "Labour Party", "Labour"), when
        the archive names "X Party" as an organisation in ``MIN_EVIDENCE`` documents: the one
        value's name, the form more documents write; "" for any other name."""
        base = fold(name).removesuffix(" party")
        for stem in dict.fromkeys((singular(base), base)):
            if stem and (self.parties[stem] >= MIN_EVIDENCE or self.party_by_its_members(stem)):
                forms = (f"{stem} party", stem, _plural(stem))
                written = {form: self._written(form).total() for form in forms}
                return self.spelling(max(forms, key=lambda form: (written[form], form)))
        return ""

    def mostly(self, name: str, kind: str) -> bool:
        """Whether the archive gives the name this kind at least as often as any other ("SA",
        a company's suffix, is no "South Africa")."""
        counts = self.labels.get(fold(name), Counter())
        return counts[kind] >= max(counts.values(), default=0)

    def acronym_or_written_out(self, full: str) -> str:
        """The name of the value an acronym and its written-out name (folded ``full``) are:
        whichever the archive's documents write more often ("US": 905 documents beside 99 for
        "United States"; "Securities and Exchange Commission": 71 beside 25 for "SEC")."""
        letters = initials_of(self.spelling(full))
        if self._written(letters).total() > self._written(full).total():
            return self.spelling(letters)
        return self.spelling(full)

    def _count_shape(self, folded: str, kind: str, sign: int) -> None:
        if kind == "organisation":
            words = folded.split()
            self.organisation_tails[words[-1]] += sign
            if len(words) >= 3:
                self.firm_heads[" ".join(words[:2])][words[-1]] += sign
        elif kind == "place":
            words = folded.split()
            self.place_heads[words[0]] += sign
            self.place_tails[words[-1]] += sign

    def _count_event(self, folded: str, documents: int, sign: int) -> None:
        # A figure says nothing of what a name names: "Euro 2004", "Radio 1" (a law to the
        # model) and "Shrek 2" end alike.
        if " " not in folded or not folded.split()[-1].isalpha():
            return
        if _flips(self.event_names[folded], sign):
            self.event_tails[folded.split()[-1]] += sign
        self.event_names[folded] += sign * documents

    def named_like_an_event(self, name: str) -> bool:
        """An organisation to the model named as the archive names events: its last word ends at
        least ``EVENT_TAIL_MIN`` different names the model tags as events, and more than half as
        many as it tags as organisations ("Nations" ends three events and six organisations:
        the United Nations stays). The small model tags most sports meetings, festivals
        and trade fairs as organisations ("European Indoor Championships" and "Consumer
        Electronics Show" in 16 documents each, "London Marathon" in 8), yet it calls enough
        others events ("World Championships", "Geneva Motor Show", "Boston Marathon") for the
        archive to know what such a last word names. An event is no organisation (the gold's
        conventions, as for the Olympics and the World Cup). Nor is a law, which the model
        tags as an organisation as often as a law ("Prevention of Terrorism Bill", "Data
        Protection Act") and as a law often enough ("Human Rights Act", "Gambling Bill")."""
        words = fold(name).split()
        if len(words) < 2:
            return False
        events = self.event_tails[words[-1]]
        return events >= EVENT_TAIL_MIN and 2 * events > self.organisation_tails[words[-1]]

    def named_as_a_work(self, name: str) -> bool:
        """A work's title to the archive: its documents write the name right after a noun for a
        work ("the film Vera Drake", "the song Jailhouse Rock") in at least ``WORK_MIN`` of
        them and ``WORK_SHARE`` of those that name it. The small model tags films, albums and
        books as organisations, places and persons alike ("Vera Drake" an organisation in 11
        documents, "Jailhouse Rock" a person in 3), and most documents about a film name it
        without saying it is one; those that do say so for all of them. A work is none of the
        facets' kinds (``bench/gold/CONVENTIONS.md``)."""
        folded = fold(name)
        works = self.works[folded]
        if works < WORK_MIN:
            return False
        # Each document that writes it as a work also names it with the model's label.
        labelled = sum(self.labels.get(folded, Counter()).values()) - works
        return works >= WORK_SHARE * labelled

    def titled(self, mention: NameMention) -> bool:
        """Whether a title or a line-up says the name is a person's, here or in
        ``MIN_EVIDENCE`` of the archive's documents ("Mr Keane", "Roy Keane (Manchester Utd)"):
        no work's title then, whatever the archive's works say."""
        return mention.titled or self.titled_persons[fold(mention.name)] >= MIN_EVIDENCE

    def party_of(self, mention: NameMention) -> bool:
        """Whether a group the model tags NORP ("Tory", "Conservatives") is a party the archive
        names as an organisation ("Tory Party", "Conservative Party") or writes as a party
        (:meth:`party_by_its_members`: "Liberal Democrats")."""
        if mention.label != "NORP":
            return False
        folded = fold(mention.name)
        return bool(
            self.parties[folded]
            or self.parties[singular(folded)]
            or self.party_by_its_members(folded)
        )

    def party_by_its_members(self, folded: str) -> bool:
        """Whether the archive writes a group, in the singular or the plural, before a word for
        a party's member, body or programme ("Liberal Democrat MP", "Tory manifesto",
        "Republican Senator": ``entities.PARTY``) in at least ``MIN_EVIDENCE`` documents and
        ``PARTY_MEMBER_SHARE`` of those that name it, and the model tags it a group (NORP, one
        of the "other" labels) in at least half of them. A nation's name stands before such
        words too ("Iraqi MPs"), in a far smaller share of the many documents that name the
        nation."""
        forms = (singular(folded), _plural(singular(folded)))
        members = sum(self.party_members[form] for form in forms)
        if members < MIN_EVIDENCE:
            return False
        counts = sum((self.labels.get(form, Counter()) for form in forms), Counter())
        named = sum(counts.values())
        # A group to the model: "Treasury spokesman" and "Fed spokesman" make no party of a
        # body the model already calls an organisation.
        return 2 * counts[OTHER] >= named and members >= PARTY_MEMBER_SHARE * named

    def party_clipped(self, name: str) -> str:
        """The party whose name this one clips, word by word ("Lib Dems" → "Liberal
        Democrats": every word, in the singular, the party's word or its first three or four
        letters, ``CLIPPED_WORD_MAX``), when one of the archive's parties fits, or one has
        ``JOIN_SHARE`` of the documents of those that fit; "" otherwise ("Liberal Democrats"
        clips no "Liberal Democratic Party"). Two words or
        more: a lone clipped word ("Lab", "Con") could be anything. The model reads "Lib Dems"
        as a person or a common word, so without this the party was no value in the 29 BBC
        documents that write only its short name."""
        words = singular(fold(name)).split()
        if (
            len(words) < 2
            or any(len(word) < 3 for word in words)
            or all(len(word) > CLIPPED_WORD_MAX for word in words)
        ):
            return ""  # most names: no short word to be a clipping (checked per mention)
        fits = {
            stem
            for stem in self._party_stems()
            if len(stem.split()) == len(words)
            and stem.split() != words
            and all(
                word == full or (len(word) <= CLIPPED_WORD_MAX and full.startswith(word))
                for word, full in zip(words, stem.split(), strict=True)
            )
        }
        if not fits:
            return ""
        # "Lib Dem" fits the "Liberal Democrat" and "Liberal Democratic" parties: the one the
        # archive names in JOIN_SHARE of their documents, as a surname joins a full name.
        documents = {stem: self._party_documents(stem) for stem in fits}
        best = max(fits, key=lambda stem: (documents[stem], stem))
        if documents[best] < JOIN_SHARE * sum(documents.values()):
            return ""
        return self.party_name(best)

    def _party_documents(self, stem: str) -> int:
        """The documents that name a party, in the singular or the plural, with any label."""
        forms = (stem, _plural(stem), f"{stem} party")
        return sum(sum(self.labels.get(form, Counter()).values()) for form in forms)

    def _party_stems(self) -> frozenset[str]:
        """The archive's parties of two words or more, in the singular (:meth:`party_name`'s
        evidence), kept while the evidence is unchanged in size."""
        key = (self.documents, sum(self.parties.values()), sum(self.party_members.values()))
        if self._parties_seen[0] != key:
            stems = {
                singular(name)
                for name in (*self.parties, *self.party_members)
                if " " in name
                and (self.parties[name] >= MIN_EVIDENCE or self.party_by_its_members(name))
            }
            self._parties_seen = (key, frozenset(stems))
        return self._parties_seen[1]

    def shaped_like_a_person(self, name: str) -> bool:
        """Two or three capitalised words, the first a first name of the archive's people
        (``SHAPE_FIRST_NAME_MIN`` of them: "Alistair Cragg" after Alistair Darling and Alistair
        Campbell) and no common word ("Golden Nugget", "Super Mario"), the last no
        organisation's last word ("Nicola Sturgeon", not "Stan Lee Media") nor the plural of a
        common word ("Wright Engineers"), and little evidence of the name itself: the small
        model often tags a person it has not seen as an organisation or a place. Or an initial
        and a surname (:meth:`_initial_and_surname`)."""
        words = name.split()
        if self._initial_and_surname(words):
            return True
        if not 2 <= len(words) <= 3 or not all(_name_word(w) for w in words):
            return False
        counts = self.labels.get(fold(name), Counter())
        if gazetteer.known_place(name):
            return False  # "Santa Monica": a place the world knows
        return (
            sum(counts.values()) <= SHAPE_EVIDENCE_MAX
            and self.first_names[fold(words[0])] >= SHAPE_FIRST_NAME_MIN
            # "New Mexico": a word that begins more places than persons is no first name.
            and self.place_heads[fold(words[0])] < self.first_names[fold(words[0])]
            and self.organisation_tails[fold(words[-1])] < 2
            and not self.common_word(words[0])
            and not self._plural_of_a_common_word(words[-1])
        )

    def named_like_a_firm(self, name: str) -> bool:
        """A person to the model, named as the archive names firms: the mirror image of
        :meth:`shaped_like_a_person`. The small model tags "Airgas Inc", "Harbert Corp" and
        "Shady Records" persons in a sentence it misreads. Two words or more, the first a name
        word that begins no ``FIRST_NAME_MIN`` full names of the archive's people, the name seen
        in at most ``SHAPE_EVIDENCE_MAX`` documents, and the last word either a company's or
        body's generic word (it ends ``GENERIC_TAIL`` different organisation names: "Inc",
        "Corp", "Group") or the plural of a common word that ends another organisation name
        ("Records", "Productions"). People with such surnames keep them by their first names
        ("Steve Jobs", "David Laws", "Barry Bonds"); an acronym first ("DJ Rob Da Bank") is no
        firm's."""
        words = name.split()
        if len(words) < 2 or not _name_word(words[0]):
            return False
        if self.first_names[fold(words[0])] >= FIRST_NAME_MIN:
            return False
        if sum(self.labels.get(fold(name), Counter()).values()) > SHAPE_EVIDENCE_MAX:
            return False
        last = words[-1]
        tails = self.organisation_tails[fold(last)]
        if tails >= GENERIC_TAIL:
            return True
        return tails >= 1 and self._plural_of_a_common_word(last)

    def _plural_of_a_common_word(self, word: str) -> bool:
        """ "Records", "Tests": the archive writes the word and its singular in lowercase."""
        return (
            len(word) >= 4
            and word.endswith("s")
            and not word.endswith("ss")
            and _name_word(word)
            and self.words.common(word)
            and self.words.common(word[:-1])
        )

    def _initial_and_surname(self, words: list[str]) -> bool:
        """An initial and a surname ("S Parisse", "K Maggs": the model tags the players of a
        rugby team sheet as organisations and places), however often the model says otherwise.
        Not when the second word is a common word ("X Factor", "G Services"), a place the
        world knows that no person of the archive is named after ("N Ireland", "S Korea", "W
        Germany"), or a word the archive on its own mostly tags as no person ("S Asia", "S
        Korean"); not when the archive names a firm that begins so ("K Mart Corp", "J Sainsbury
        Plc"); and not after "A" or "I", which are words."""
        if len(words) != 2 or not _is_initial(words[0]):
            return False
        surname = words[1]
        if len(surname) < 3 or not _name_word(surname) or self.common_word(surname):
            return False
        if any(n > 0 for n in self.firm_heads.get(fold(" ".join(words)), Counter()).values()):
            return False
        if gazetteer.any_place(surname) and not any(
            n > 0 for n in self.full_names.get(fold(surname), Counter()).values()
        ):
            return False
        alone = self.labels.get(fold(surname), Counter())
        others = alone["organisation"] + alone["place"] + alone[OTHER]
        return not (others >= INITIAL_SURNAME_EVIDENCE and others > alone["person"])

    def known_place(self, mention: NameMention, kind: str) -> bool:
        """Whether a name the archive has thin evidence of as an organisation (or, of two or
        more words, as a person) is a place the world knows (:mod:`archive.ingest.gazetteer`):
        the small model tags "Nagano" and "Mauritius" organisations, "Porto Alegre" a person,
        and a constituency named by its town and a compass word, "Bolton West", a person.
        Where the archive often calls a city's name an organisation ("Liverpool", the club),
        its own evidence stands."""
        name = mention.name
        counts = self.labels.get(fold(name), Counter())
        if mention.titled:
            return False  # a line-up's club ("Perpignan"), "Mr Lincoln"
        if kind == "organisation":
            return counts["organisation"] <= SHAPE_EVIDENCE_MAX and (
                gazetteer.known_place(name) or gazetteer.compass_part(name)
            )
        if kind == "person":
            return (
                " " in name.strip()
                and counts["person"] <= SHAPE_EVIDENCE_MAX
                and (
                    gazetteer.known_place(name, gazetteer.MIN_PERSON_CITY_POPULATION)
                    or gazetteer.compass_part(name)
                )
            )
        return False

    def unknown_place(self, name: str) -> bool:
        """A place that no gazetteer knows and the archive has little evidence of: the small
        model's guess at a name it has not seen. Only in an archive of ``UNKNOWN_PLACE_ARCHIVE``
        documents with extracted names: in a small one, "Britain" (which GeoNames lists as the
        United Kingdom) has little evidence too.

        - One word that the archive tags a place in at most ``UNKNOWN_PLACE_EVIDENCE`` documents
          ("Sizzla", "Greensleeves", "Intifada").
        - Two or three name words, none of them a place any gazetteer knows, in at most
          ``SHAPE_EVIDENCE_MAX`` documents, that begin and end no other place name of the archive,
          the last not a common word ("Thabo Mbeki", "Pepito Elhorga", "Battlestar Galactica";
          "Sichuan Province" ends in a common word and stays; "Llyn Peninsula", whose last word
          the archive writes in lowercase only twice, goes too)."""
        if self.documents < UNKNOWN_PLACE_ARCHIVE:
            return False  # in a small archive every name has little evidence
        if gazetteer.any_place(name):
            return False
        counts = self.labels.get(fold(name), Counter())
        words = name.split()
        if len(words) == 1:
            return counts["place"] <= UNKNOWN_PLACE_EVIDENCE
        return (
            len(words) <= 3
            and all(_name_word(w) for w in words)
            and sum(counts.values()) <= SHAPE_EVIDENCE_MAX
            and self.place_heads[fold(words[0])] <= 1
            and self.place_tails[fold(words[-1])] <= 1
            and not self.common_word(words[-1])
            and not any(gazetteer.any_place(w) for w in words)
        )

    def kind_of(self, mention: NameMention) -> str:
        """The kind the archive mostly gives this name; the document's own label on a tie or
        with too little evidence."""
        own = label_kind(mention.label)
        if mention.titled:
            # The document itself says so: "Mr Pelous", a player in a line-up, and a club in its
            # brackets ("Castres", "Newcastle") however often the archive names the town.
            return own
        if own != "person" and self.titled_persons[fold(mention.name)] >= TITLED_PERSON_MIN:
            # A document that gives the full name a title or a line-up's place says it is a
            # person where the model called it a firm ("Imanol Harinordoquy": an organisation
            # in 3 documents, a player in a line-up in 1; "Vince Cable": 4 and "Mr Cable" in
            # 1): no organisation or place is titled so.
            return "person"
        counts = self.labels.get(fold(mention.name))
        if not counts or sum(counts.values()) < MIN_EVIDENCE:
            return own
        best = max(counts.values())
        if counts[own] == best:
            return own
        return max(counts, key=lambda k: (counts[k], k == own))

    def placed_like_no_place(self, name: str) -> bool:
        """Whether a name the model tags as a place is written as no place is: in at least
        ``PLACE_CONTEXT_MIN`` documents that tag it a place, fewer than ``PLACE_CONTEXT_SHARE``
        of them put it where a place stands ("in Lahore", "across northern Kenya", "Omaha,
        Neb.", a dateline). The small model tags films, shows, awards, clubs, firms and software
        as places ("Sideways", "Grammys", "Manchester City", "Gizmondo"), often in every
        document that names them, so their labels alone cannot tell; the archive's prose does:
        "stars in Sideways" is rare beside "Sideways won". So does a city's name that the
        archive uses for its club or a firm ("Southampton" beat Chelsea, "Delta" the airline).
        A country or a US state keeps its kind: named for its team or its government ("Croatia
        beat Sweden"), it is still the place (``bench/gold/CONVENTIONS.md``); so does a
        nation's capital ("Tehran said") that the archive does not also name as an
        organisation ("Madrid", the club).
        The caller keeps the place where its own document puts it where places stand."""
        context = self.place_context.get(fold(name))
        if not context or context["seen"] < PLACE_CONTEXT_MIN:
            return False
        if context["located"] >= PLACE_CONTEXT_SHARE * context["seen"]:
            return False
        if gazetteer.capital(name):
            # A capital stands for its government ("Tehran said") unless the archive names it
            # as an organisation too: "Madrid", the club.
            return self.labels.get(fold(name), Counter())["organisation"] >= MIN_EVIDENCE
        return not gazetteer.country_or_state(name)

    def a_place_to_a_minority(self, name: str) -> bool:
        """Whether a name that no gazetteer knows is tagged a place in fewer than half of the
        archive's documents that tag it at all (at least ``MIN_EVIDENCE``): "Windows" is a
        place in 17 documents of the BBC archive and a product or firm in 26, and a plurality of
        one kind among three is no evidence that it is a place. Real places the gazetteers miss
        are tagged places with one voice."""
        counts = self.labels.get(fold(name), Counter())
        total = sum(counts.values())
        return (
            total >= MIN_EVIDENCE and 2 * counts["place"] < total and not gazetteer.any_place(name)
        )

    def ends_in_an_organisations_word(self, name: str) -> bool:
        """Whether a name of two words or more that no gazetteer knows ends in a word the
        archive tags on its own as an organisation in ``ORGANISATION_WORD_MIN`` documents and
        ``ORGANISATION_WORD_SHARE`` of those that tag it ("Manchester United", "New Labour")."""
        words = name.split()
        if len(words) < 2 or gazetteer.any_place(name):
            return False
        counts = self.labels.get(fold(words[-1]), Counter())
        organisation = counts["organisation"]
        return (
            organisation >= ORGANISATION_WORD_MIN
            and organisation >= ORGANISATION_WORD_SHARE * sum(counts.values())
        )

    def kind_of_the_majority(self, name: str) -> str:
        """For a name :meth:`a_place_to_a_minority`: the kind its other documents give it most
        (person, organisation, or no facet's kind: "Windows", a product); no kind on a tie
        ("Spirited Away": a place, a person and a work once each)."""
        counts = self.labels.get(fold(name), Counter())
        best = max(counts[k] for k in ("person", "organisation", OTHER))
        winners = [k for k in ("person", "organisation", OTHER) if counts[k] == best]
        return winners[0] if len(winners) == 1 else OTHER

    def kind_besides_place(self, name: str) -> str:
        """For a name :meth:`placed_like_no_place`: the other kind the archive gives it in at
        least ``MIN_EVIDENCE`` documents ("Hewitt", the player; "BT"), or no kind
        ("Grammys")."""
        counts = self.labels.get(fold(name), Counter())
        others = {k: counts[k] for k in ("person", "organisation") if counts[k] >= MIN_EVIDENCE}
        return max(others, key=lambda k: (others[k], k)) if others else OTHER

    def far_in_time(self, full: str, year: int) -> bool:
        """Whether the archive writes the full name only far from ``year``: in at least
        ``PERIOD_EVIDENCE`` dated documents, none within ``PERIOD_YEARS`` of it. Undated
        documents say nothing either way."""
        years = self.person_years.get(fold(full))
        if not years:
            return False
        dated = [(written, n) for written, n in years.items() if n > 0]
        return sum(n for _, n in dated) >= PERIOD_EVIDENCE and all(
            abs(written - year) > PERIOD_YEARS for written, _ in dated
        )

    def company_of(self, full: str) -> frozenset[str]:
        """The last words (folded) of the persons that the documents naming ``full`` also name,
        as stored: the company a person keeps in the archive. Read once per name per
        :class:`Evidence` (only initials ask, and few names have them)."""
        key = fold(full)
        if not self.words.database:
            return frozenset()  # an archive held only in memory (tests) has no documents to read
        if key not in self._company:
            from archive.models import Mention

            spellings = list(self.spellings.get(key, ())) or [full]
            documents = Mention.objects.filter(name__in=spellings).values("document")
            names = (
                Mention.objects.filter(document__in=documents)
                .exclude(label__in=(COMMON, ROLE))
                .values_list("name", "label")
                .distinct()
            )
            self._company[key] = frozenset(
                surnames(n for n, label in names if _of_a_person(n, label))
                - {fold(full.split()[-1])}
            )
        return self._company[key]

    def share(self, name: str, kind: str) -> float:
        """How consistently the archive gives ``name`` this kind, smoothed (1 of 1 is 0.67)."""
        counts = self.labels.get(fold(name), Counter())
        return (counts[kind] + 1) / (sum(counts.values()) + 2)

    def full_name_for(self, name: str, apart: Callable[[str, str], bool]) -> tuple[str, float]:
        """The full person name that a surname-only or partial ``name`` stands for, and the
        share of the candidates' documents it holds; ("", 0) when no candidate dominates."""
        words = name.split()
        names = self.full_names.get(fold(words[-1]), Counter())
        # A full name ("Tony Blair", 137 documents) joins a fuller one only as well known as
        # itself ("George W Bush"), not a one-off span around it ("Howard Tony Blair").
        own = max((n for full, n in names.items() if fold(full) == fold(name)), default=0)
        candidates = {
            full: documents
            for full, documents in names.items()
            if documents > 0
            and (
                (len(full.split()) > len(words) and (len(words) == 1 or documents >= own))
                # A name that only writes out an initial is no span around it: "Ben Kay" for a
                # team sheet's "B Kay", however often the sheets print him so.
                or _spelled_out(words, full.split())
            )
            and _words_in_order(words, full.split())
            # "Given James Bond" (a sentence's first word run into the name) is no fuller name.
            and not self.not_of_the_name(full.split())
            and not apart(name, full)
        }
        # One candidate per name, whichever way its documents spell it ("José", "Jose").
        per_name: Counter = Counter()
        for full, documents in candidates.items():
            per_name[fold(full)] += documents
        # A candidate that is a fuller candidate without some of its words, and written in no
        # more documents, is that candidate (its own mentions join it): "George Bush" (6)
        # counts for "George W Bush" (26) when a lone "Bush" weighs them.
        for short in sorted(per_name, key=lambda key: len(key.split())):
            fuller = [
                long
                for long in per_name
                if len(long.split()) > len(short.split())
                and per_name[long] >= per_name[short]
                and _words_in_order(short.split(), long.split())
            ]
            if len(fuller) == 1:
                per_name[fuller[0]] += per_name.pop(short)
        total = sum(per_name.values())
        if not total:
            return "", 0.0
        best = max(per_name, key=lambda key: (per_name[key], key))
        share = per_name[best] / total
        return (self.spelling(best), share) if share >= JOIN_SHARE else ("", share)


def _first_name_evidence(name: str) -> bool:
    """Whether a full person name says that its first word is a first name: two words ("Will
    Young"), or a middle initial between ("George W Bush"). A longer name may begin with a word
    run into it ("Wing Cedric Heymans", "Treasurer Peter Costello"): counting those would make
    a player's position or an office a first name of the archive's people."""
    words = name.split()
    return len(words) == 2 or (len(words) == 3 and len(words[1].rstrip(".")) == 1)


def name_words(mentions: Iterable[NameMention]) -> set[str]:
    """The words of these mentions whose case resolution may ask about (each word of a person
    name but the last; each word after an abbreviation in other names; the last word of other
    names of two or three words, for places no gazetteer knows and initials with a surname), to
    read their counts in one go. A word asked about that is not among them is read on its own
    (``WordCaseBook.counts``): the plural last word of a name shaped like a firm's is asked
    about so rarely that reading every plural surname ahead would cost more."""
    words: set[str] = set()
    for mention in mentions:
        split = mention.name.split()
        if mention.label == PERSON:
            words.update(w for w in (split[:-1] or split) if w[:1].isupper())
        elif mention.label != COMMON:
            after = next((i for i, w in enumerate(split[:-1], 1) if w.endswith(".")), 0)
            words.update(w for w in split[after:] if after and w[:1].isupper())
            if 2 <= len(split) <= 3 and split[-1][:1].isupper():
                words.add(split[-1])
    return words


def names_beginning_with(words: Iterable[str]) -> set[str]:
    """The stored person names that begin with one of these (casefolded) words, and the last
    words of those names: when a word becomes common or stops being common, these are the
    mentions whose resolution may change ("Speaker Sylvia" and the lone "Sylvia" it could
    join). One pass over the distinct person names: a LIKE per word read the whole mentions
    table every time (no index serves it), and a fresh import flips hundreds of words."""
    from archive.models import Mention

    wanted = {w.casefold() for w in words}
    found: set[str] = set()
    if not wanted:
        return found
    names = Mention.objects.filter(label=PERSON).values_list("name", flat=True).distinct()
    for name in names.iterator(chunk_size=5000):
        split = name.split()
        if split and split[0].casefold() in wanted:
            found.add(name)
            found.add(split[-1])
    return found


def joinable_lone_name(name: str, evidence: Evidence, decisions: Decisions) -> str:
    """The full name a lone-word person value would join now ("" if none): a value left like that
    is a surname the archive could resolve (``bench/persons_eval.py`` counts them)."""
    if " " in name.strip() or evidence.first_names[fold(name)] >= FIRST_NAME_MIN:
        return ""
    full, _ = evidence.full_name_for(
        name, lambda short, long: ("person", fold(short), fold(long)) in decisions.apart
    )
    return full


def _documents(evidence: Evidence, full: str) -> int:
    """Documents that name this full person name, however they spell it ("José", "Jose")."""
    names = evidence.full_names.get(fold(full.split()[-1]), Counter())
    key = fold(full)
    return sum(n for written, n in names.items() if n > 0 and fold(written) == key)


def _flips(count: int, sign: int) -> bool:
    """Whether adding ``sign`` makes ``count`` go from 0 to 1 or from 1 to 0."""
    return (count == 0 and sign > 0) or (count == 1 and sign < 0)


_INITIAL = re.compile(r"[A-Z]\.?")


def _name_word(word: str) -> bool:
    return (
        word[:1].isupper()
        and not word.isupper()
        and word.replace("-", "").replace("'", "").isalpha()
    )


def surnames(names: Iterable[str]) -> set[str]:
    """The folded last words of these names."""
    return {fold(name.split()[-1]) for name in names if name.split()}


def _of_a_person(name: str, label: str) -> bool:
    """A full name the model tags a person ("Charlie Hodgson"), or an initial and a surname
    whatever its label (a team sheet's players are organisations and places to the model): the
    persons a text names, not "New Zealand" or "Six Nations"."""
    words = name.split()
    if len(words) < 2:
        return False
    return label == PERSON or (len(words) == 2 and _is_initial(words[0]))


def _spelled_out(short: list[str], long: list[str]) -> bool:
    """Whether ``long`` is ``short`` with its initials written out: as many words, ``short``
    with an initial and ``long`` with none ("C Hodgson", "Charlie Hodgson")."""
    return (
        len(long) == len(short)
        and any(_is_initial(w) for w in short)
        and not any(_is_initial(w) for w in long)
    )


def _is_initial(word: str) -> bool:
    return bool(_INITIAL.fullmatch(word)) and word not in ("A", "I")


def _words_in_order(short: list[str], long: list[str]) -> bool:
    """Whether every word of ``short`` is a word of ``long``, in order. An initial ("C" or
    "C.") is that initial where ``long`` writes it ("W Bush" in "George W. Bush"), or else
    stands for the next word of ``long`` if that begins with its letter, so a team sheet's "C
    Hodgson" is in "Charlie Hodgson" (and, with the join's rules, joins him where he is the one
    such name), and "M Williams" is not in "Hugh Morgan Williams"."""
    position = 0
    folded = [fold(w).rstrip(".") for w in long]
    for word in short:
        key = fold(word).rstrip(".")
        if _is_initial(word) and key not in folded[position:]:
            if position >= len(folded) - 1 or folded[position][:1] != key:
                return False  # (an initial is never the surname)
            position += 1
            continue
        try:
            position = folded.index(key, position) + 1
        except ValueError:
            return False
    return True


@dataclass(frozen=True)
class Value:
    kind: str
    name: str
    confidence: float


def resolve_document(
    mentions: Iterable[NameMention],
    evidence: Evidence,
    decisions: Decisions,
    year: int | None = None,
) -> list[Value]:
    """One document's facet values from its mentions (the rules of the module docstring);
    ``year``: the document's, if dated (a surname joins no one of another period)."""
    values: dict[tuple[str, str], float] = {}
    mentions = list(mentions)
    # A name its document gives a title or a line-up's brackets is what they say everywhere in
    # that document: "Perpignan" of "(Perpignan)" is the club where the model also called it
    # a person.
    said = {fold(m.name) for m in mentions if m.titled}
    # The persons the document names, by surname: an initial joins a full name only in the
    # company that full name keeps (_person_name).
    company = surnames(m.name for m in mentions if _of_a_person(m.name, m.label))
    # Names the document writes as a work's title ("the film Vera Drake").
    works = {fold(m.name) for m in mentions if m.label == WORK}
    for mention in mentions:
        clipped = "" if mention.label in (WORK, PARTY) else evidence.party_clipped(mention.name)
        if clipped and fold(mention.name) not in decisions.reviewed_kind:
            # "Lib Dems", a person or a common word to the model: the party it names.
            mention = dataclasses.replace(mention, name=clipped, label="NORP", titled=False)
        if mention.label in (COMMON, WORK, PARTY, SURNAME):
            # Evidence only: the text writes the word as a common word, a work, a party, or
            # as the surname of a person it names in full.
            continue
        if not mention.titled and fold(mention.name) in said:
            continue
        if fold(mention.name) not in decisions.reviewed_kind and (
            # The document says it is a work, unless the model read a person there: "a book
            # Tony Blair wrote" says nothing against Tony Blair.
            (fold(mention.name) in works and mention.label != PERSON)
            or (evidence.named_as_a_work(mention.name) and not evidence.titled(mention))
        ):
            continue
        if mention.label != PERSON and fold(mention.name) not in decisions.reviewed_kind:
            trimmed = evidence.without_common_tail(mention.name)
            if trimmed != mention.name:
                mention = dataclasses.replace(mention, name=trimmed)
            mention = evidence.without_figure(mention)
        folded = fold(mention.name)
        kind = decisions.reviewed_kind.get(folded) or evidence.kind_of(mention)
        confidence = evidence.share(mention.name, kind)
        if kind == OTHER and folded not in decisions.reviewed_kind and evidence.party_of(mention):
            kind, confidence = "organisation", 0.5
        if folded not in decisions.reviewed_kind and evidence.known_place(mention, kind):
            # A country, a US state or a capital is what the model missed; a city's name is
            # often a club's, a firm's or a person's too ("Parma", "Ajax", "Hitachi").
            sure = gazetteer.country_or_state(mention.name) or gazetteer.capital(mention.name)
            kind, confidence = "place", (WORLD_KNOWS_CONFIDENCE if sure else 0.5)
        elif (
            folded not in decisions.reviewed_kind
            and kind in ("organisation", "place")
            and evidence.shaped_like_a_person(mention.name)
        ):
            kind, confidence = "person", 0.5
        elif (
            folded not in decisions.reviewed_kind
            and kind == "person"
            and not mention.titled
            and evidence.named_like_a_firm(mention.name)
        ):
            kind, confidence = "organisation", 0.5
        elif folded not in decisions.reviewed_kind and kind == "place" and not mention.titled:
            kind, confidence = _kind_of_a_place(mention, evidence, confidence)
        if kind == OTHER:
            continue
        if (
            kind == "person"
            and " " in folded
            and evidence.titled_persons[folded] >= TITLED_PERSON_MIN
        ):
            # A title or a line-up's place says so, whatever the model's labels ("Mr Cable").
            confidence = max(confidence, WORLD_KNOWS_CONFIDENCE)
        name = mention.name
        canonical = decisions.canonical.get((kind, folded))
        if canonical is None and kind == "person":
            mention = _without_common_words(mention, evidence)
            if mention is None:
                continue
            name, confidence = _person_name(mention, evidence, decisions, confidence, company, year)
            if not name:
                continue
        elif canonical is not None:
            name = canonical
        if kind == "place" and canonical is None:
            name = gazetteer.state_of_abbreviation(name) or name  # "Calif." -> "California"
        if kind in ("organisation", "place") and canonical is None:
            # "EU" and "European Union" are one value (Evidence.written_out).
            full = evidence.written_out(name)
            if full and evidence.mostly(full, kind):
                name = evidence.acronym_or_written_out(full)
        if kind == "organisation" and canonical is None:
            name = evidence.party_name(name) or name  # "Conservative Party" = "Conservatives"
        if kind == "person" and canonical is None and evidence.firm(name):
            kind, confidence = "organisation", 0.5  # "James Capel": the firm
        if (kind, fold(name)) not in decisions.canonical:
            name = evidence.spelling(name)
        # The rules above may write the mention as a name an editor merged or renamed ("Tories"
        # -> "Tory", merged into "Conservatives"): the editor's value, as for the name itself.
        name = decisions.canonical.get((kind, fold(name)), name)
        if (kind, fold(name)) in decisions.rejected or (kind, folded) in decisions.rejected:
            continue
        key = (kind, name)
        values[key] = max(values.get(key, 0.0), confidence)
    # "Pullman" tagged ORG beside "Philip Pullman" read as a person: the person, named again;
    # so is "Imanol" beside "Imanol Harinordoquy" (a first name, as the text calls him later).
    parts = {
        part
        for kind, name in values
        if kind == "person"
        for n in range(1, len(name.split()))
        for part in (tuple(fold(name).split()[-n:]), tuple(fold(name).split()[:n]))
    }
    # "QC" tagged as a place after "Philippe Sands QC": a post-nominal, no value of its own;
    # nor is a lone letter ("P" of "S&P") or an organisation named only by generic words.
    return [
        Value(kind, name, round(conf, 3))
        for (kind, name), conf in values.items()
        if kind == "person"
        or fold(name) in decisions.reviewed_kind
        or (
            tuple(fold(name).split()) not in parts
            and not evidence.post_nominal_word(name)
            and len(name.strip(". ")) > 1
            and not (
                kind == "organisation"
                and (evidence.generic_organisation(name) or evidence.named_like_an_event(name))
            )
            and not (kind == "place" and evidence.unknown_place(name))
        )
    ]


def _kind_of_a_place(
    mention: NameMention, evidence: Evidence, confidence: float
) -> tuple[str, float]:
    """The kind and confidence of an untitled mention the archive calls a place, after the
    rules that say it is no place (the module docstring's *where a place stands*, the minority
    place and *an organisation's word*); ("place", ``confidence``) when none applies."""
    name = mention.name
    # Not where this document puts it where a place stands; a mention extracted before that was
    # recorded (None) follows the archive, as a mention follows its majority.
    if not mention.located and evidence.placed_like_no_place(name):
        kind = evidence.kind_besides_place(name)
        return kind, evidence.share(name, kind)
    if evidence.a_place_to_a_minority(name):
        kind = evidence.kind_of_the_majority(name)
        return kind, evidence.share(name, kind)
    # A document that puts it where a place stands keeps it ("BLUE BELL, Pa., March 2 -").
    if not mention.located and evidence.ends_in_an_organisations_word(name):
        return "organisation", 0.5
    return "place", confidence


def _without_common_words(mention: NameMention, evidence: Evidence) -> NameMention | None:
    """The person mention without the words it begins with that are not of the name
    (:meth:`Evidence.not_of_the_name`: "Making Michael Howard" -> "Michael Howard", "Blairite
    Alan Milburn" -> "Alan Milburn"), nor a post-nominal or a word the model ran the name on
    into at its end ("Bill Cosby TV": :meth:`Evidence.ran_on`); None when nothing of a name is
    left ("Pop Idol", "Nasty"). A titled lone word stays ("Mr Young"): the title says it is a
    name."""
    words = mention.name.split()
    if len(words) == 1:
        if mention.titled or not evidence.common_word(words[0]):
            return mention
        return None
    if evidence.post_nominal(words) or evidence.ran_on(words):
        words = words[:-1]
        mention = dataclasses.replace(mention, name=" ".join(words))
    start = evidence.not_of_the_name(words)
    if start == 0:
        return mention
    if len(words) - start < 2:
        return None  # "Veterans Simon", "Wonder Woman": not a full name
    return dataclasses.replace(mention, name=" ".join(words[start:]))


def _person_name(
    mention: NameMention,
    evidence: Evidence,
    decisions: Decisions,
    confidence: float,
    company: set[str] | frozenset[str] = frozenset(),
    year: int | None = None,
) -> tuple[str, float]:
    """A person mention's value: itself, the full name it joins, or "" (not a value).
    ``company``: the surnames of the persons its document names; ``year``: its date's."""

    words = mention.name.split()
    # An initial ("C Hodgson" of a team sheet) joins only a full name whose company it keeps:
    # its document names at least INITIAL_COMPANY others (by surname) that the full name's
    # documents also name. "R Kelly", the singer beside Kanye West, is not Ruth Kelly, nor "J
    # Ross (Essex)", a referee, Jonathan Ross.
    initial = len(words) > 1 and _is_initial(words[0])
    others = company - {fold(words[-1])} if initial else frozenset()

    def apart(name: str, full: str) -> bool:
        if ("person", fold(name), fold(full)) in decisions.apart:
            return True
        if year is not None and evidence.far_in_time(full, year):
            return True  # another period's man: the 1987 Vice President Bush, for 2004's
        return initial and (
            len(others) < INITIAL_COMPANY
            or len(others & evidence.company_of(full)) < INITIAL_COMPANY
        )

    lone = " " not in mention.name.strip()
    weak = lone and not (mention.titled or mention.count >= 2)
    if lone and evidence.first_names[fold(mention.name)] >= FIRST_NAME_MIN:
        # "John" alone is somebody's first name, not "Elton John"'s surname, and not a value
        # unless a title says who ("King Abdullah").
        return (mention.name, confidence * LONE_WORD_FACTOR) if mention.titled else ("", 0.0)
    full, share = evidence.full_name_for(mention.name, apart)
    if full and weak and (share < WEAK_JOIN_SHARE or _documents(evidence, full) < WEAK_JOIN_MIN):
        full = ""  # one untitled mention: joined only to a name the archive knows well
    if full:
        canonical = decisions.canonical.get(("person", fold(full)), full)
        return canonical, confidence * share
    if " " in mention.name.strip():
        return mention.name, confidence
    # A lone word that joined nobody: a name only with a title or a second mention.
    if not (mention.titled or mention.count >= 2):
        return "", 0.0
    return mention.name, confidence * LONE_WORD_FACTOR


@dataclass
class ResolutionReport:
    documents: int = 0  # documents whose entities were resolved
    changed: int = 0  # documents whose persons, organisations or places changed
    removed: int = 0  # entities left with no document, no alias and no review, deleted

    def summary(self) -> str:
        return (
            f"{self.documents:,} documents resolved, {self.changed:,} changed, "
            f"{self.removed:,} unused entities removed."
        )


CHUNK = 1000


def crosses_a_size_rule(before: int, now: int) -> bool:
    """Whether an archive that grew from ``before`` to ``now`` extracted documents crossed a
    size at which a rule changes (:data:`SIZE_RULES`): every stored mention it rules on may
    resolve otherwise, whatever the import mentioned."""
    return any(before < size <= now for size in SIZE_RULES)


def resolve_archive(
    progress: Callable[[int, int], None] | None = None,
    evidence: Evidence | None = None,
    document_ids: Iterable[int] | None = None,
) -> ResolutionReport:
    """Apply the rules to every document whose entities were extracted (or only to
    ``document_ids``), with the whole archive's evidence, writing only what changed (each change
    reaches the index through the outbox), then set every unreviewed entity's confidence and
    remove the unused ones. No text is read: only the stored mentions."""
    from django.db import transaction

    from archive.ingest.store import relink_entities
    from archive.models import ENTITY_MODELS, Document, FormerName, Mention

    evidence = evidence or Evidence.from_db()
    decisions = Decisions.from_db()
    report = ResolutionReport()
    confidence: dict[tuple[str, str], list[float]] = defaultdict(list)
    dropped: set[tuple[str, str]] = set()
    # Where dropped values went: the values of the documents each left, and a mention of it.
    left: dict[tuple[str, str], Counter] = defaultdict(Counter)
    documents_left: Counter = Counter()
    mention_of: dict[tuple[str, str], NameMention] = {}
    documents = Document.objects.filter(entities_extracted=True)
    if document_ids is None:
        ids = list(documents.order_by("pk").values_list("pk", flat=True))
    else:
        wanted = sorted(set(document_ids))
        ids = sorted(
            pk
            for start in range(0, len(wanted), 500)
            for pk in documents.filter(pk__in=wanted[start : start + 500]).values_list(
                "pk", flat=True
            )
        )
    relations = {
        kind: model._meta.get_field("documents").remote_field.name
        for kind, model in ENTITY_MODELS.items()
    }
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        found: dict[int, list[NameMention]] = defaultdict(list)
        for document_id, name, label, count, titled, located in Mention.objects.filter(
            document_id__in=chunk
        ).values_list("document_id", "name", "label", "count", "titled", "located"):
            found[document_id].append(NameMention(name, label, count, titled, located))
        evidence.words.load(name_words(m for ms in found.values() for m in ms))
        years = {
            pk: published.year
            for pk, published in documents.filter(pk__in=chunk, published__isnull=False)
            .values_list("pk", "published")
            .iterator()
        }
        current: dict[tuple[int, str], set[str]] = defaultdict(set)
        for kind, relation in relations.items():
            through = getattr(Document, relation).through
            column = f"{ENTITY_MODELS[kind]._meta.model_name}__name"
            for document_id, name in through.objects.filter(document_id__in=chunk).values_list(
                "document_id", column
            ):
                current[(document_id, kind)].add(name)
        with transaction.atomic():
            changes: dict[str, list[tuple[int, list[str]]]] = {kind: [] for kind in KINDS}
            for document_id in chunk:
                values = resolve_document(
                    found.get(document_id, []), evidence, decisions, years.get(document_id)
                )
                changed = False
                for kind in KINDS:
                    names = [v.name for v in values if v.kind == kind]
                    before = current.get((document_id, kind), set())
                    if set(names) != before:
                        changes[kind].append((document_id, names))
                        for name in before - set(names):
                            dropped.add((kind, name))
                            documents_left[(kind, name)] += 1
                            left[(kind, name)].update({(v.kind, v.name) for v in values})
                            for mention in found.get(document_id, []):
                                if fold(mention.name) == fold(name):
                                    mention_of.setdefault((kind, name), mention)
                        changed = True
                for value in values:
                    confidence[(value.kind, value.name)].append(value.confidence)
                report.changed += changed
            relink_entities(changes)
        report.documents += len(chunk)
        if progress is not None:
            progress(report.documents, len(ids))
    with transaction.atomic():
        for kind, model in ENTITY_MODELS.items():
            updates = []
            for entity in _unreviewed(model, [n for k, n in confidence if k == kind]):
                scores = confidence[(kind, entity.name)]
                value = round(sum(scores) / len(scores), 3)
                if value != entity.confidence:
                    entity.confidence = value
                    updates.append(entity)
            _set_confidences(model, updates)
            gone = [name for k, name in dropped if k == kind]
            for start in range(0, len(gone), 500):
                unused = model.objects.filter(
                    reviewed=False, name__in=gone[start : start + 500], documents=None, aliases=None
                )
                for entity in unused.only("pk", "name", "slug"):
                    key = (kind, entity.name)
                    moved = _successor(
                        key,
                        documents_left[key],
                        left[key],
                        mention_of.get(key),
                        evidence,
                        decisions,
                    )
                    if moved is not None:
                        FormerName.record(entity, *moved)
                report.removed += unused.count()
                unused.delete()
    return report


def _successor(
    value: tuple[str, str],
    documents: int,
    values_left: Counter,
    mention: NameMention | None,
    evidence: Evidence,
    decisions: Decisions,
) -> tuple[str, str] | None:
    """The value (kind, name) that has the documents a removed ``value`` left, for the old
    addresses of its page (:class:`~archive.models.FormerName`); None when none clearly does.

    ``documents``: how many documents it left; ``values_left``: their values now, each counted
    once per document. What
    the archive makes of a mention of the name on its own comes first ("Conservative Party" ->
    "Conservatives", a spelling, a kind that changed); then the one value most of those
    documents have that contains its words ("C Hodgson" -> "Charlie Hodgson", which needs the
    company of the sheet that names him)."""
    if mention is not None:
        for found in resolve_document([mention], evidence, decisions):
            moved = (found.kind, found.name)
            if moved != value and values_left[moved]:
                return moved
    words = {fold(w).rstrip(".") for w in value[1].split() if not _is_initial(w)}
    candidates = [
        (count, moved)
        for moved, count in values_left.items()
        if moved != value
        and words
        and words <= {fold(w).rstrip(".") for w in moved[1].split()}
        and 2 * count >= documents
    ]
    candidates.sort(reverse=True)
    if candidates and (len(candidates) == 1 or candidates[0][0] > candidates[1][0]):
        return candidates[0][1]
    return None


def _set_confidences(model: type, entities: list) -> None:
    """Write the entities' new confidences in one ``executemany``: ``bulk_update`` builds a
    CASE expression per 500 rows, which took 2 s of a 4,000-document import's closing pass. A
    confidence is not indexed, so no signal is needed."""
    from django.db import connection

    if not entities:
        return
    quote = connection.ops.quote_name
    column = model._meta.get_field("confidence").column
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {quote(column)} = %s "
        f"WHERE {quote(model._meta.pk.column)} = %s"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(entity.confidence, entity.pk) for entity in entities])


def _unreviewed(model, names: list[str]) -> Iterable:
    """The unreviewed entities with these names, read in slices (databases cap query sizes)."""
    for start in range(0, len(names), 500):
        yield from model.objects.filter(reviewed=False, name__in=names[start : start + 500]).only(
            "pk", "name", "confidence"
        )


def documents_mentioning(names: Iterable[str], any_spelling: bool = False) -> set[int]:
    """Documents with a stored mention of any of these names (as spelled, and capitalised):
    the ones a decision about the names, or new evidence of them, can change.

    ``any_spelling``: also every stored spelling that folds alike ("José Barroso" for "Jose
    Barroso"), as an editor's decision is kept by the folded name; one pass over the distinct
    stored names. An import's names come with their spellings already (``Evidence.spellings``)."""
    from archive.models import Mention

    names = set(names)
    forms = {form for name in names for form in (name, name.title())}
    if any_spelling and names:
        wanted = {fold(name) for name in names}
        stored = Mention.objects.values_list("name", flat=True).distinct()
        forms |= {name for name in stored.iterator(chunk_size=5000) if fold(name) in wanted}
    spellings = sorted(forms)
    found: set[int] = set()
    for start in range(0, len(spellings), 500):
        found.update(
            Mention.objects.filter(name__in=spellings[start : start + 500]).values_list(
                "document_id", flat=True
            )
        )
    return found
