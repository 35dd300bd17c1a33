"""The query language read into the shared tree (``archive/search/query.py``), engine-free:
what each form becomes, how operators bind, and that nothing a user types is an error."""

import random

import pytest

from archive.search import querytree as qt
from archive.search.query import parse_query

# A name after person: is looked up among aliases (the database).
pytestmark = pytest.mark.django_db


def words(word: str, title: float = 1.5, body: float = 1.0) -> qt.Node:
    """A plain word as every default field searches it."""
    return qt.Or((qt.Term("title", word, title), qt.Term("body", word, body)))


def tree(text: str) -> qt.Node:
    return parse_query(text).query


def test_words_are_analysed_and_all_required():
    assert tree("Attacks Café") == qt.And((words("attack"), words("cafe")))


def test_phrases_keep_their_order_and_proximity():
    # Quoted words are searched as written (not stemmed), in the text fields' exact twins.
    assert tree('"the attacks on Mumbai"~3') == qt.Or(
        (
            qt.Phrase("title_exact", ("attacks", "mumbai"), 3, 1.5),
            qt.Phrase("body_exact", ("attacks", "mumbai"), 3, 1.0),
        )
    )
    # One word in quotes is that word as written, weighed as any word.
    assert tree('"Federer"') == qt.Or(
        (qt.Term("title_exact", "federer", 1.5), qt.Term("body_exact", "federer"))
    )
    assert tree("Federer") == words("feder")  # the stem "federal" and "federation" have too


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # NOT binds tightest, then AND, then OR, then ANDNOT; words side by side loosest.
        ("a1 AND b1 OR c1", qt.Or((qt.And((words("a1"), words("b1"))), *words("c1").subqueries))),
        (
            "a1 OR b1 c1",
            qt.And((qt.Or((*words("a1").subqueries, *words("b1").subqueries)), words("c1"))),
        ),
        ("a1 AND NOT b1", qt.And((words("a1"), qt.Not(words("b1"))))),
        (
            "a1 OR b1 ANDNOT c1",
            qt.AndNot(qt.Or((*words("a1").subqueries, *words("b1").subqueries)), words("c1")),
        ),
        ("a1 -b1", qt.And((words("a1"), qt.Not(words("b1"))))),
        ("NOT NOT a1", words("a1")),
        ("(a1 b1) OR c1", qt.Or((qt.And((words("a1"), words("b1"))), *words("c1").subqueries))),
    ],
)
def test_operators_bind_as_documented(text, expected):
    assert tree(text) == expected


def test_a_field_name_applies_to_the_word_phrase_or_group_after_it():
    assert tree("title:Mumbai hotel") == qt.And((qt.Term("title", "mumbai"), words("hotel")))
    assert tree("title:(Mumbai OR Taj)") == qt.Or(
        (qt.Term("title", "mumbai"), qt.Term("title", "taj"))
    )
    # Values are searched as written (the engines match names case-insensitively).
    assert tree('person:"Madhukar Gupta"') == qt.Term("person", "Madhukar Gupta")
    assert tree("title:AND") is qt.NULL  # after a field name, AND is a (stop) word


def test_prefixes_wildcards_and_typos():
    assert tree("Attacks*") == qt.Or(
        (qt.Prefix("title", "attack", 1.5), qt.Prefix("body", "attack"))
    )
    assert tree("wom?n") == qt.Or(
        (qt.Wildcard("title", "wom?n", 1.5), qt.Wildcard("body", "wom?n"))
    )
    fuzzy = tree("Mumbay~2/1")
    assert fuzzy == qt.Or(
        (qt.FuzzyTerm("title", "mumbay", 1.5, 2, 1), qt.FuzzyTerm("body", "mumbay", 1.0, 2, 1))
    )


def test_dates_become_day_ranges():
    assert tree("date:2008-11") == qt.TermRange("day", "20081101", "20081130")
    assert tree("date:[2008 TO 2010]") == qt.TermRange("day", "20080101", "20101231")
    assert tree("date:>2008") == qt.TermRange("day", "20090101", None)
    assert tree("date:<=2008-11-26") == qt.TermRange("day", None, "20081126")
    assert tree("date:{2008 TO 2010}") == qt.TermRange("day", "20090101", "20091231")


def test_boosts_weigh_a_word_or_a_group():
    assert tree("Mumbai^2") == qt.Or(
        (qt.Term("title", "mumbai", 1.5), qt.Term("body", "mumbai")), 2.0
    )
    assert tree("title:(Mumbai OR Taj)^2").boost == 2.0


@pytest.mark.parametrize(
    "text",
    [
        '"unbalanced',
        ")(",
        "((a",
        "a AND",
        "OR OR NOT",
        "[a TO",
        "date:",
        "title:",
        ":x",
        "~",
        "^",
        "a^b",
        "*:*",
        "x:y:z",
        "date:>",
        "'",
        "''",
        '""',
        "NOT",
        "ANDNOT x",
        "x ANDMAYBE",
    ],
)
def test_stray_syntax_is_read_leniently(text):
    parsed = parse_query(text)
    assert parsed.query is not None
    assert not any("could not be read" in notice for notice in parsed.notices)


def test_random_syntax_never_fails():
    """No sequence of the language's pieces makes the reader fail (it would fall back to plain
    words with a notice)."""
    pieces = [
        '"',
        "(",
        ")",
        "AND",
        "OR",
        "NOT",
        "ANDNOT",
        "-",
        "+",
        "title:",
        "date:",
        "*",
        "?",
        "~",
        "~2",
        "^2",
        "[",
        "]",
        "{",
        "}",
        "TO",
        ">",
        "<=",
        "2008",
        "storm",
        "Café",
        "U.S.",
        "e-mail",
        "'",
        ":",
        "person:",
    ]
    rng = random.Random(3)
    for _ in range(3000):
        text = "".join(rng.choice(pieces) + rng.choice(["", " "]) for _ in range(rng.randint(1, 9)))
        parsed = parse_query(text)
        assert not any("could not be read" in notice for notice in parsed.notices), text


def test_a_typo_mark_on_a_very_short_term_searches_the_term():
    """One edit from "il" (of "IL-6~") is almost every short word: the term itself."""
    assert tree("IL-6~") == words("il")
    assert tree("Mumbay~") == qt.Or(
        (qt.FuzzyTerm("title", "mumbay", 1.5, 1), qt.FuzzyTerm("body", "mumbay", 1.0, 1))
    )


@pytest.mark.parametrize("text", ["date:<2008-11 hotel", "date:{2008 TO 2010} hotel siege"])
def test_a_date_condition_is_no_plain_words_query(text):
    """A query with a date condition is taken as written: no any-words form that would search
    "date", "2008" and "11" as words."""
    assert parse_query(text).any_words is None
