"""Where a query is parsed: user text in, a Whoosh query and notices for the page out.

Any text is accepted. Control characters are dropped, overlong text is cut (Whoosh's parser slows
down sharply on long input), and text the parser cannot read is searched as plain words. Every
adjustment becomes a notice the page shows, so the user knows what was actually searched.

The query language (explained to users in templates/archive/_query_help.html): words (all must
match), ``AND`` / ``OR`` / ``NOT`` and ``-word``, ``"exact phrase"``, proximity ``"word1 word2"~5``,
``title:`` / ``body:`` / ``person:`` / ``organisation:`` / ``place:`` / ``publication:``, prefix
``immigr*``, typo tolerance ``mumbay~`` (``~2`` for two edits), and dates ``date:2008``,
``date:2008-11``, ``date:[2008 TO 2010]``, ``date:>2008-11-26``.

A name given to ``person:`` / ``organisation:`` / ``place:`` may be an alias (another spelling,
a merged or renamed entity's old name): its entity's name is searched too, as the filters take
it. This layer knows no database: the app registers how names resolve (:func:`set_name_resolver`,
in ``archive/apps.py``), and both engines search the tree with the names resolved.

A query of several plain words (no operators) also gets an any-words form, which the engine uses
when too few documents have all the words: a sentence pasted from an article still finds the
documents that share most of its words.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from whoosh import fields, qparser, query

from archive.search.schema import (
    DEFAULT_SEARCH_FIELDS,
    QUERYABLE_FIELDS,
    SCHEMA,
    TEXT_FIELDS,
    clean_value,
)

# C0/C1 control characters, except tab and newline, which are plain whitespace here.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_WORDS = re.compile(r"\w+", re.UNICODE)


# A query with at least this many plain words may fall back to matching any of them.
ANY_WORDS_MIN_WORDS = 3
# What makes a query more than plain words (then it is taken literally, with no any-words form):
# quotes, AND/OR/NOT, a leading - or +, a field name, a wildcard or a fuzzy ~. Brackets, colons
# and other punctuation inside a pasted sentence ("IL-6 (a cytokine): ...") do not.
_OPERATORS = re.compile(
    r'"|\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\b|(?:^|\s)[-+]\w|\w:[\w"(\[]|\w[*?]|[*?]\w|\w~'
)


@dataclass(frozen=True)
class ParsedQuery:
    text: str  # the text that was searched, after cleaning
    query: query.Query | None  # None: no query text, list everything (browse mode)
    notices: tuple[str, ...] = field(default_factory=tuple)
    # The same words joined by OR, for long plain-word queries (None otherwise).
    any_words: query.Query | None = None

    @property
    def is_browse(self) -> bool:
        return self.query is None


@lru_cache(maxsize=2)
def _parser(group: type = qparser.AndGroup) -> qparser.QueryParser:
    # A schema of only the fields users may name, so `id:3` or `day:2025` are read as plain words;
    # `date:` is a query-only field, turned into a range over the indexed `day` below.
    queryable = fields.Schema(**{name: SCHEMA[name] for name in QUERYABLE_FIELDS}, date=fields.ID())
    parser = qparser.MultifieldParser(
        list(DEFAULT_SEARCH_FIELDS),
        schema=queryable,
        fieldboosts=DEFAULT_SEARCH_FIELDS,
        group=group,
    )
    parser.add_plugin(qparser.FuzzyTermPlugin())  # mumbay~
    parser.add_plugin(qparser.GtLtPlugin())  # date:>2008
    return parser


_DATE = re.compile(r"^(\d{4})(?:-?(\d{1,2})(?:-?(\d{1,2}))?)?$")


class DateError(ValueError):
    pass


def _key(day: dt.date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def date_bounds(text: str) -> tuple[dt.date, dt.date]:
    """The first and last day a date of any precision covers: "2008" -> 2008-01-01 .. 2008-12-31,
    "2008-11" -> 2008-11-01 .. 2008-11-30, "2008-11-26" -> that day."""
    match = _DATE.match(text.strip())
    if not match:
        raise DateError(text)
    year, month, day = (int(g) if g else None for g in match.groups())
    try:
        if month is None:
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
        if day is None:
            first = dt.date(year, month, 1)
            following = dt.date(year + month // 12, month % 12 + 1, 1) if year < 9999 else None
            return first, (following - dt.timedelta(days=1)) if following else dt.date(year, 12, 31)
        exact = dt.date(year, month, day)
    except ValueError as exc:
        raise DateError(text) from exc
    return exact, exact


def _day_range(node: query.Query) -> query.Query:
    """`date:` terms and ranges as an inclusive TermRange over `day` (fixed-width YYYYMMDD, so
    comparing the strings compares the dates). Excluding bounds (`date:>2008`) start after the
    whole year."""
    one_day = dt.timedelta(days=1)
    if isinstance(node, query.Term):
        low, high = date_bounds(node.text)
    else:
        low = high = None
        if node.start:
            first, last = date_bounds(node.start)
            low = last + one_day if node.startexcl else first
        if node.end:
            first, last = date_bounds(node.end)
            high = first - one_day if node.endexcl else last
    return query.TermRange(
        "day",
        _key(low) if low else None,
        _key(high) if high else None,
        False,
        False,
        constantscore=True,
    )


def _resolve_dates(parsed: query.Query, notices: list[str]) -> query.Query:
    def visit(node: query.Query) -> query.Query:
        if getattr(node, "fieldname", None) != "date":
            return node
        if not isinstance(node, query.Term | query.TermRange):
            notices.append(
                "date: takes a date or a range, e.g. date:2008 or date:[2008 TO 2010]; "
                "the date condition was left out."
            )
            return query.Every()
        try:
            return _day_range(node)
        except DateError as exc:
            notices.append(
                f"“{exc}” is not a date; write dates as 2008, 2008-11 or 2008-11-26, "
                "e.g. date:[2008 TO 2010]. The date condition was left out."
            )
            return query.Every()

    return parsed.accept(visit)


# Typo tolerance goes up to this many edits, as in Elasticsearch's fuzzy queries: "mumbai~5"
# would match every word of six letters or fewer, and take long to expand.
MAX_EDITS = 2


def _cap_edits(parsed: query.Query, notices: list[str]) -> query.Query:
    """Fuzzy words of more than ``MAX_EDITS`` edits read as ``MAX_EDITS``, with a notice."""

    def visit(node: query.Query) -> query.Query:
        if isinstance(node, query.FuzzyTerm) and node.maxdist > MAX_EDITS:
            # The term as the index has it may differ from what was typed ("terror" for
            # "terrorism"): the notice names the edits only.
            notice = (
                f"Typo tolerance goes up to {MAX_EDITS} edits: ~{node.maxdist} was searched as "
                f"~{MAX_EDITS}."
            )
            if notice not in notices:  # once, not once per field searched
                notices.append(notice)
            return query.FuzzyTerm(
                node.fieldname, node.text, node.boost, MAX_EDITS, node.prefixlength
            )
        return node

    return parsed.accept(visit)


# (field, names) -> the names that are aliases, each -> its entity's name; names it leaves out are
# searched as written. Fields: the value fields a query may name (person, ..., publication).
NameResolver = Callable[[str, Iterable[str]], Mapping[str, str]]
VALUE_QUERY_FIELDS = tuple(name for name in QUERYABLE_FIELDS if name not in TEXT_FIELDS)
_name_resolver: NameResolver | None = None


def set_name_resolver(resolver: NameResolver | None) -> None:
    """How ``person:"Ajmal Kasab"`` finds the entity "Ajmal Kasab" is an alias of: the app
    registers it at startup (None: names are searched as written)."""
    global _name_resolver
    _name_resolver = resolver


def _resolve_names(parsed: query.Query) -> query.Query:
    """Value-field terms that name an alias also search its entity's name (one look-up per
    field)."""
    resolver = _name_resolver
    if resolver is None:
        return parsed
    named: dict[str, set[str]] = {}
    for leaf in parsed.leaves():
        if type(leaf) is query.Term and leaf.fieldname in VALUE_QUERY_FIELDS:
            named.setdefault(leaf.fieldname, set()).add(clean_value(term_text(leaf.text)))
    if not named:
        return parsed
    targets = {fieldname: resolver(fieldname, names) for fieldname, names in named.items()}

    def visit(node: query.Query) -> query.Query:
        if type(node) is query.Term and node.fieldname in targets:
            name = targets[node.fieldname].get(clean_value(term_text(node.text)))
            if name:
                # The entity, and what the words find as written (``person:Gupta`` still finds
                # every name containing "Gupta" when "Gupta" is also an alias).
                return query.Or([node, query.Term(node.fieldname, name, boost=node.boost)])
        return node

    return parsed.accept(visit)


def term_text(text: object) -> str:
    """A term's text as a string: Whoosh keeps some terms as UTF-8 bytes."""
    return text.decode("utf-8") if isinstance(text, bytes) else str(text)


def positive_leaves(node: query.Query) -> Iterator[query.Query]:
    """The leaves of a query whose words a matching document holds: every leaf except those
    under NOT (``NOT word``, ``-word``, the second part of ``ANDNOT``). A phrase is one leaf."""
    if isinstance(node, query.Not):
        return
    if isinstance(node, query.AndNot):
        yield from positive_leaves(node.a)
    elif node.is_leaf():
        yield node
    else:
        for child in node.children():
            yield from positive_leaves(child)


def _cut(text: str, max_chars: int) -> str:
    """Cut at the last space before ``max_chars`` so no word is split."""
    head = text[:max_chars]
    space = head.rfind(" ")
    return head[:space] if space > max_chars // 2 else head


# "-word" and "+word" as web search engines read them: exclude the word, require the word (which
# every word already is). Only at the start of a word, so "e-mail" and "1-0" are left alone, and
# never inside a quoted phrase.
_OPERATOR_OR_PHRASE = re.compile(r'"[^"]*"|(?:^|(?<=[\s(]))[-+](?=[\w"(])')


def _web_operators(text: str) -> str:
    def replace(match: re.Match) -> str:
        token = match.group(0)
        if token.startswith('"'):
            return token
        return "NOT " if token == "-" else ""

    return _OPERATOR_OR_PHRASE.sub(replace, text)


# A question mark ending a word ends a question ("do vaccines cause autism?"); only inside a
# word is it a one-letter wildcard ("wom?n").
_QUESTION_MARK = re.compile(r"(?<=\w)\?+(?=[\s)\]]|$)")


def parse_query(raw: str, max_chars: int = 1000) -> ParsedQuery:
    notices: list[str] = []
    text = " ".join(_CONTROL_CHARS.sub(" ", raw or "").split())
    if len(text) > max_chars:
        text = _cut(text, max_chars)
        notices.append(
            f"Your query was longer than {max_chars} characters; only the first part was searched."
        )
    if not text:
        return ParsedQuery("", None, tuple(notices))

    parsed: query.Query | None
    try:
        parsed = _cap_edits(
            _resolve_dates(_parser().parse(_web_operators(_QUESTION_MARK.sub("", text))), notices),
            notices,
        )
    except Exception:
        parsed = None
    if parsed is None:
        words = " ".join(_WORDS.findall(text))
        notices.append("The query syntax could not be read, so its words were searched instead.")
        try:
            parsed = _parser().parse(words) if words else query.NullQuery
        except Exception:
            parsed = query.NullQuery
    if parsed is query.NullQuery or isinstance(parsed, query.NullQuery.__class__):
        notices.append(
            "The query has no searchable words: very common words such as “and” or “the”, "
            "single letters and punctuation are not indexed."
        )
        parsed = query.NullQuery
    else:
        parsed = _resolve_names(parsed)
    any_words = None
    words = _WORDS.findall(text)
    if len(words) >= ANY_WORDS_MIN_WORDS and not _OPERATORS.search(_QUESTION_MARK.sub("", text)):
        try:
            any_words = _parser(qparser.OrGroup).parse(" ".join(words))
        except Exception:
            any_words = None
    return ParsedQuery(text, parsed, tuple(notices), any_words)
