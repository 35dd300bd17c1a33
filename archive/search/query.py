"""Where a query is parsed: user text in, a query tree (``querytree.py``, the same for every
engine) and notices for the page out. The reader is the project's own (:class:`_Parser`): the
language is a search site's, and no engine's parser decides what it means.

Any text is accepted. Control characters are dropped, overlong text is cut, stray brackets,
quotes and operators are skipped, and should reading still fail, the words are searched as plain
words. Every adjustment becomes a notice the page shows, so the user knows what was searched.

The query language (explained to users in templates/archive/_query_help.html): words (all must
match), ``AND`` / ``OR`` / ``NOT`` and ``-word``, ``"exact phrase"``, proximity ``"word1 word2"~5``,
``title:`` / ``body:`` / ``person:`` / ``organisation:`` / ``place:`` / ``publication:``, prefix
``immigr*``, typo tolerance ``mumbay~`` (``~2`` for two edits), and dates ``date:2008``,
``date:2008-11``, ``date:[2008 TO 2010]``, ``date:>2008-11-26``. Words are stemmed ("attacks"
finds "attacked"); quoted words are not (``"federer"`` is not "federal", whose stem is the
same): see :data:`~archive.search.schema.EXACT_FIELDS`.

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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from archive.search import querytree as qt
from archive.search.analyzer import exact_terms, whole_term
from archive.search.analyzer import terms as text_terms
from archive.search.querytree import Node, positive_leaves  # noqa: F401  (public here)
from archive.search.schema import (
    DEFAULT_SEARCH_FIELDS,
    EXACT_FIELDS,
    EXACT_OF,
    QUERYABLE_FIELDS,
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
    r'"|\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\b|(?:^|\s)[-+]\w|\w:[\w"(\[{<>]|\w[*?]|[*?]\w|\w~'
)


@dataclass(frozen=True)
class ParsedQuery:
    text: str  # the text that was searched, after cleaning
    query: Node | None  # None: no query text, list everything (browse mode)
    notices: tuple[str, ...] = field(default_factory=tuple)
    # The same words joined by OR, for long plain-word queries (None otherwise).
    any_words: Node | None = None

    @property
    def is_browse(self) -> bool:
        return self.query is None


# -- reading the query language --

# Fields a query may name, and ``date:``, a query-only field turned into a range over ``day``.
_NAMED_FIELDS = frozenset((*QUERYABLE_FIELDS, "date"))
_OPERATOR_WORDS = frozenset(("AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"))
_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<open>\()
    |(?P<close>\))(?:\^(?P<close_boost>\d+(?:\.\d+)?))?
    |"(?P<phrase>[^"]*)"(?:~(?P<slop>\d+))?(?:\^(?P<phrase_boost>\d+(?:\.\d+)?))?
    |(?P<range>[\[{])\s*(?:(?P<low>[^\s\]}]+)\s+)?TO(?:\s+(?P<high>[^\s\]}]+))?\s*(?P<range_end>[\]}])
    |(?<![^\s(])'(?P<quoted>[^']*)'(?=[\s)]|$)
    |(?P<field>\w+):(?=[^\s)])
    |(?P<compare>>=|<=|=>|=<|>|<)(?P<bound>[^\s()"]+)
    |(?P<word>[^\s()"]+)
    |(?P<stray>")""",
    re.VERBOSE,
)
_BOOST = re.compile(r"\^(\d+(?:\.\d+)?)$")
_FUZZY = re.compile(r"(?<=\S)~(\d*)(?:/(\d+))?")


@dataclass
class _Token:
    kind: str  # open, close, phrase, range, quoted, field, word, operator, every
    text: str = ""
    boost: float = 1.0
    slop: int = 1
    low: str | None = None
    high: str | None = None
    low_excl: bool = False
    high_excl: bool = False
    fuzzy: tuple[int, int] | None = None  # (edits, prefix length)


def _tokens(text: str) -> list[_Token]:
    """The query's tokens. A field name is one token, and the token after it is never an
    operator (``title:AND`` searches the word); a comparison after it (``date:>2008``) is a
    one-sided range."""
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(text):
        after_field = bool(tokens) and tokens[-1].kind == "field"
        if match.group("space") is not None or match.group("stray") is not None:
            continue
        if match.group("open") is not None:
            tokens.append(_Token("open"))
        elif match.group("close") is not None:
            tokens.append(_Token("close", boost=float(match.group("close_boost") or 1)))
        elif match.group("phrase") is not None:
            tokens.append(
                _Token(
                    "phrase",
                    match.group("phrase"),
                    boost=float(match.group("phrase_boost") or 1),
                    slop=max(1, int(match.group("slop") or 1)),
                )
            )
        elif match.group("range") is not None:
            tokens.append(
                _Token(
                    "range",
                    # "*" is an open end, as Lucene and Elasticsearch write it: [2008 TO *].
                    low=None if match.group("low") == "*" else match.group("low"),
                    high=None if match.group("high") == "*" else match.group("high"),
                    low_excl=match.group("range") == "{",
                    high_excl=match.group("range_end") == "}",
                )
            )
        elif match.group("quoted") is not None:
            tokens.append(_Token("quoted", match.group("quoted")))
        elif match.group("field") is not None:
            name = match.group("field")
            if name in _NAMED_FIELDS and not after_field:
                tokens.append(_Token("field", name))
            else:  # an unknown name ("id:3", "foo:bar") is part of the words
                tokens.extend(_word_tokens(match.group(0), after_field))
        elif match.group("compare") is not None and after_field:
            sign, bound = match.group("compare"), match.group("bound")
            if ">" in sign:
                tokens.append(_Token("range", low=bound, low_excl=sign == ">"))
            else:
                tokens.append(_Token("range", high=bound, high_excl=sign == "<"))
        else:
            tokens.extend(_word_tokens(match.group(0), after_field))
    return tokens


def _word_tokens(text: str, after_field: bool) -> list[_Token]:
    """A run of characters between spaces: an operator, ``*`` (every document), or a word with
    its suffixes: ``~`` / ``~2`` / ``~2/3`` (typo tolerance, then the letters that must match
    at the start) and ``^2`` (boost). Text after a typo suffix is a word of its own."""
    if not after_field and text in _OPERATOR_WORDS:
        return [_Token("operator", text)]
    if text in ("*", "*:*"):
        return [_Token("every")]
    boost = 1.0
    found = _BOOST.search(text)
    if found:
        boost = float(found.group(1))
        text = text[: found.start()]
    fuzzy = _FUZZY.search(text)
    if fuzzy:
        edits = int(fuzzy.group(1)) if fuzzy.group(1) else 1
        prefix = int(fuzzy.group(2)) if fuzzy.group(2) else 0
        word = _Token("word", text[: fuzzy.start()], boost=boost, fuzzy=(edits, prefix))
        rest = text[fuzzy.end() :]
        return [word, *(_word_tokens(rest, False) if rest else [])]
    return [_Token("word", text, boost=boost)]


class _Parser:
    """Recursive descent over the tokens. From loosest to tightest: words side by side (all
    must match; any, for the any-words form), ``ANDNOT`` and ``ANDMAYBE``, ``OR``, ``AND``,
    ``NOT``; brackets group. Stray operators and brackets are skipped, never an error.
    A field name applies to the word, phrase, range or bracketed group after it."""

    def __init__(self, tokens: list[_Token], group: type = qt.And) -> None:
        self.tokens = tokens
        self.position = 0
        self.group = group

    def _peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _is_operator(self, *names: str) -> bool:
        token = self._peek()
        return token is not None and token.kind == "operator" and token.text in names

    def parse(self) -> Node:
        node = self._sequence(None)
        while self._peek() is not None:  # an unmatched ")": skip it and read on
            self.position += 1
            node = qt.combine(self.group, [node, self._sequence(None)])
        return node

    def _sequence(self, fieldname: str | None) -> Node:
        items: list[Node] = []
        while (token := self._peek()) is not None and token.kind != "close":
            node = self._binary(fieldname)
            if node is None:
                self.position += 1  # an operator with nothing before it
                continue
            items.append(node)
        return qt.combine(self.group, items)

    def _binary(self, fieldname: str | None) -> Node | None:
        left = self._or(fieldname)
        while left is not None and self._is_operator("ANDNOT", "ANDMAYBE"):
            kind = qt.AndNot if self._peek().text == "ANDNOT" else qt.AndMaybe
            self.position += 1
            right = self._or(fieldname)
            if right is None:
                break
            if left is qt.NULL:
                return qt.NULL
            left = left if right is qt.NULL else kind(left, right)
        return left

    def _or(self, fieldname: str | None) -> Node | None:
        return self._infix(fieldname, "OR", self._and, qt.Or)

    def _and(self, fieldname: str | None) -> Node | None:
        return self._infix(fieldname, "AND", self._not, qt.And)

    def _infix(
        self,
        fieldname: str | None,
        operator: str,
        operand: Callable[[str | None], Node | None],
        kind: type,
    ) -> Node | None:
        """``operand (operator operand)*`` as one ``kind`` node; a dangling operator is skipped."""
        left = operand(fieldname)
        while left is not None and self._is_operator(operator):
            self.position += 1
            right = operand(fieldname)
            if right is None:
                break
            left = qt.combine(kind, [left, right])
        return left

    def _not(self, fieldname: str | None) -> Node | None:
        if self._is_operator("NOT"):
            self.position += 1
            inner = self._not(fieldname)
            if inner is None or inner is qt.NULL:
                return inner
            return inner.query if isinstance(inner, qt.Not) else qt.Not(inner)
        return self._atom(fieldname)

    def _atom(self, fieldname: str | None) -> Node | None:
        token = self._peek()
        if token is None or token.kind in ("operator", "close"):
            return None
        self.position += 1
        if token.kind == "open":
            node = self._sequence(fieldname)
            closing = self._peek()
            if closing is not None:  # the ")"; an unclosed "(" ends with the query
                self.position += 1
                if closing.boost != 1.0 and node is not qt.NULL:
                    node = node.with_boost(node.boost * closing.boost)
            return node
        if token.kind == "field":
            operand = self._atom(token.text)
            if operand is None:  # "title:" before an operator or ")": the name as a word
                return _leaf(_Token("word", token.text), fieldname)
            return operand
        if token.kind == "every":
            return qt.Every()
        return _leaf(token, fieldname)


def _leaf(token: _Token, fieldname: str | None) -> Node:
    """A word, phrase or range in one named field, or in every default field (OR, each field
    with its weight)."""
    if fieldname is not None:
        return _field_leaf(token, fieldname, token.boost)
    nodes = [_field_leaf(token, name, weight) for name, weight in DEFAULT_SEARCH_FIELDS.items()]
    return qt.combine(qt.Or, nodes, token.boost)


def _field_leaf(token: _Token, fieldname: str, boost: float) -> Node:
    analysed = fieldname in TEXT_FIELDS
    if token.kind == "range":
        low, high = token.low, token.high
        if analysed:
            low = whole_term(low, stem=False) if low else None
            high = whole_term(high, stem=False) if high else None
        return qt.TermRange(fieldname, low, high, token.low_excl, token.high_excl, boost)
    text = token.text
    if not analysed:  # a value (person, publication, date) is searched as written
        text = text.strip()
        if not text:
            return qt.NULL
        if token.kind == "word" and _is_pattern(text):
            return _pattern(fieldname, text, boost, text[:-1] if _is_prefix(text) else None)
        # A typo mark on a value is not read (``person:blair~`` is ``person:blair``, which
        # already finds every value with the word "Blair").
        return qt.Term(fieldname, text, boost)
    if token.kind == "word" and _is_pattern(text):
        if _is_prefix(text):
            return _pattern(fieldname, text, boost, whole_term(text[:-1]))
        return _pattern(fieldname, whole_term(text, stem=False), boost, None)
    if token.kind == "word" and token.fuzzy:
        edits, prefix = token.fuzzy
        return qt.combine(
            qt.And, [_fuzzy(fieldname, t, boost, edits, prefix) for t in text_terms(text)]
        )
    if token.kind == "phrase":
        # Quoted: the words as written, in the field's unstemmed twin (as Elasticsearch's
        # quote_field_suffix), so a name is not found by a common word with its stem.
        fieldname, words = EXACT_FIELDS[fieldname], exact_terms(text)
        if len(words) > 1:
            return qt.Phrase(fieldname, tuple(words), token.slop, boost)
    else:
        words = text_terms(text)
    return qt.combine(qt.And, [qt.Term(fieldname, word, boost) for word in words])


# A typo mark on a term this short searches the term itself: one edit away from "il" (of "IL-6~")
# is almost every two- and three-letter word (as Elasticsearch's AUTO fuzziness, 0 edits).
FUZZY_MIN_CHARS = 3


def _fuzzy(fieldname: str, term: str, boost: float, edits: int, prefix: int) -> Node:
    if len(term) < FUZZY_MIN_CHARS:
        return qt.Term(fieldname, term, boost)
    return qt.FuzzyTerm(fieldname, term, boost, edits, prefix)


def _is_pattern(text: str) -> bool:
    return "*" in text or "?" in text


def _is_prefix(text: str) -> bool:
    """``immigr*``: one trailing star and no other wildcard."""
    return text.endswith("*") and not _is_pattern(text[:-1])


def _pattern(fieldname: str, text: str, boost: float, prefix: str | None) -> Node:
    if prefix is not None:
        return qt.Prefix(fieldname, prefix, boost) if prefix else qt.NULL
    if not text.strip("*?"):
        return qt.NULL
    return qt.Wildcard(fieldname, text, boost)


def _parse(text: str, group: type = qt.And) -> Node:
    return _Parser(_tokens(text), group).parse()


# 2008, 2008-11, 2008-11-26 (one-digit months and days too), or run together: 200811, 20081126
# (two digits each then: "99999" is no date, not September 9999).
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?|(\d{2})(\d{2})?)?$")


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
    year, dashed_month, dashed_day, month, day = (int(g) if g else None for g in match.groups())
    if dashed_month is not None:
        month, day = dashed_month, dashed_day
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


def _day_range(node: qt.Term | qt.TermRange) -> Node:
    """`date:` terms and ranges as an inclusive TermRange over `day` (fixed-width YYYYMMDD, so
    comparing the strings compares the dates). Excluding bounds (`date:>2008`) start after the
    whole year."""
    one_day = dt.timedelta(days=1)
    if isinstance(node, qt.Term):
        low, high = date_bounds(node.text)
    else:
        low = high = None
        if node.start:
            first, last = date_bounds(node.start)
            low = last + one_day if node.startexcl else first
        if node.end:
            first, last = date_bounds(node.end)
            high = first - one_day if node.endexcl else last
    return qt.TermRange("day", _key(low) if low else None, _key(high) if high else None)


def _backwards(node: qt.Term | qt.TermRange) -> bool:
    """A range whose first date begins after its last date ends (``date:[2010 TO 2008]``)."""
    if not isinstance(node, qt.TermRange) or not (node.start and node.end):
        return False
    return date_bounds(node.start)[0] > date_bounds(node.end)[1]


def _resolve_dates(parsed: Node, notices: list[str]) -> Node:
    def visit(node: Node) -> Node:
        if getattr(node, "fieldname", None) != "date":
            return node
        if not isinstance(node, qt.Term | qt.TermRange):
            notices.append(
                "date: takes a date or a range, e.g. date:2008 or date:[2008 TO 2010]; "
                "the date condition was left out."
            )
            return qt.Every()
        try:
            if _backwards(node):
                # date:[2010 TO 2008]: read the way round it was surely meant, and say so.
                node = qt.TermRange(
                    "date", node.end, node.start, node.endexcl, node.startexcl, node.boost
                )
                opening, closing = "{" if node.startexcl else "[", "}" if node.endexcl else "]"
                notices.append(
                    "The date range ended before it began; it was read as "
                    f"date:{opening}{node.start} TO {node.end}{closing}."
                )
            return _day_range(node)
        except DateError as exc:
            notices.append(
                f"“{exc}” is not a date; write dates as 2008, 2008-11 or 2008-11-26, "
                "e.g. date:[2008 TO 2010]. The date condition was left out."
            )
            return qt.Every()

    return parsed.accept(visit)


# Typo tolerance goes up to this many edits, as in Elasticsearch's fuzzy queries: "mumbai~5"
# would match every word of six letters or fewer, and take long to expand.
MAX_EDITS = 2


def _cap_edits(parsed: Node, notices: list[str]) -> Node:
    """Fuzzy words of more than ``MAX_EDITS`` edits read as ``MAX_EDITS``, with a notice."""

    def visit(node: Node) -> Node:
        if isinstance(node, qt.FuzzyTerm) and node.maxdist > MAX_EDITS:
            # The term as the index has it may differ from what was typed ("terror" for
            # "terrorism"): the notice names the edits only.
            notice = (
                f"Typo tolerance goes up to {MAX_EDITS} edits: ~{node.maxdist} was searched as "
                f"~{MAX_EDITS}."
            )
            if notice not in notices:  # once, not once per field searched
                notices.append(notice)
            return qt.FuzzyTerm(node.fieldname, node.text, node.boost, MAX_EDITS, node.prefixlength)
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


def _resolve_names(parsed: Node) -> Node:
    """Value-field terms that name an alias also search its entity's name (one look-up per
    field)."""
    resolver = _name_resolver
    if resolver is None:
        return parsed
    named: dict[str, set[str]] = {}
    for leaf in parsed.leaves():
        if type(leaf) is qt.Term and leaf.fieldname in VALUE_QUERY_FIELDS:
            named.setdefault(leaf.fieldname, set()).add(clean_value(term_text(leaf.text)))
    if not named:
        return parsed
    targets = {fieldname: resolver(fieldname, names) for fieldname, names in named.items()}

    def visit(node: Node) -> Node:
        if type(node) is qt.Term and node.fieldname in targets:
            name = targets[node.fieldname].get(clean_value(term_text(node.text)))
            if name:
                # The entity, and what the words find as written (``person:Gupta`` still finds
                # every name containing "Gupta" when "Gupta" is also an alias).
                return qt.Or((node, qt.Term(node.fieldname, name, node.boost)))
        return node

    return parsed.accept(visit)


def term_text(text: object) -> str:
    """A term's text as a string: an engine's term lists may hold UTF-8 bytes (Whoosh's do)."""
    return text.decode("utf-8") if isinstance(text, bytes) else str(text)


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
# A word and a colon before more text, outside quotes: what a field name looks like.
_FIELD_LIKE = re.compile(r"(?<![\w\"/:.])([^\W\d_][\w]*):(?=[^\s)/])")
_NOT_FIELDS = frozenset(("http", "https", "ftp", "mailto"))  # an address's scheme


def _unknown_fields(text: str) -> list[str]:
    """The field-like names of a query ("headline:" of "headline:blair") that are no field, in
    the order written: they are searched as words, which the user should know."""
    names = _written_fields(text, _FIELD_LIKE)
    return [n for n in names if n not in _NAMED_FIELDS and n.lower() not in _NOT_FIELDS]


def _written_fields(text: str, pattern: re.Pattern[str]) -> list[str]:
    """The names ``pattern`` finds before a colon outside quotes, once each, in order."""
    # A quoted part is kept as an empty pair of quotes: 'person:"Tony Blair"' has a value.
    unquoted = re.sub(r'"[^"]*"', '""', text)
    return list(dict.fromkeys(m.group(1) for m in pattern.finditer(unquoted)))


# A field's name with nothing after it ("person:" at the end, or before a space).
_BARE_FIELD = re.compile(r"(?<![\w\"/:.])([^\W\d_][\w]*):(?=[\s)]|$)")


def _bare_fields(text: str) -> list[str]:
    """The fields written with nothing after them ("person:"): searched as words, which the user
    should know, as for a name that is no field."""
    return [n for n in _written_fields(text, _BARE_FIELD) if n in _NAMED_FIELDS]


# What each field's notice shows as an example of a value right after the colon.
_FIELD_EXAMPLES = {
    "person": '"Tony Blair"',
    "organisation": '"European Union"',
    "place": "london",
    "publication": "reuters",
    "date": "[2008 TO 2010]",
}


def _bare_fields_notice(names: list[str]) -> str:
    written = ", ".join(f"“{name}:”" for name in names)
    example = names[0]
    return (
        f"{written} had nothing after {'it' if len(names) == 1 else 'them'}, so "
        f"{'it was' if len(names) == 1 else 'they were'} searched as "
        f"{'a word' if len(names) == 1 else 'words'}: write the value right after the colon "
        f"({example}:{_FIELD_EXAMPLES.get(example, 'blair')})."
    )


def _unknown_fields_notice(names: list[str]) -> str:
    written = ", ".join(f"“{name}:”" for name in names)
    one = len(names) == 1
    return (
        f"{written} {'is not a field' if one else 'are not fields'} of this archive, so "
        f"{'it was' if one else 'they were'} searched as words. The fields are "
        "title:, body:, person:, organisation:, place:, publication: and date: (in lowercase)."
    )


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
    if unknown := _unknown_fields(text):
        notices.append(_unknown_fields_notice(unknown))
    if bare := _bare_fields(text):
        notices.append(_bare_fields_notice(bare))

    parsed: Node | None
    try:
        parsed = _cap_edits(
            _resolve_dates(_parse(_web_operators(_QUESTION_MARK.sub("", text))), notices),
            notices,
        )
    except Exception:  # a bug in reading the syntax must not cost the user the search
        parsed = None
    if parsed is None:
        words = " ".join(_WORDS.findall(text))
        notices.append("The query syntax could not be read, so its words were searched instead.")
        parsed = _parse(words) if words else qt.NULL
    if parsed is qt.NULL:
        notices.append(
            "The query has no searchable words: very common words such as “and” or “the”, "
            "single letters and punctuation are not indexed."
        )
    else:
        parsed = _resolve_names(parsed)
    any_words = None
    words = _WORDS.findall(text)
    if len(words) >= ANY_WORDS_MIN_WORDS and not _OPERATORS.search(_QUESTION_MARK.sub("", text)):
        any_words = _parse(" ".join(words), qt.Or)
    return ParsedQuery(text, parsed, tuple(notices), any_words)


OLDER_INDEX_NOTICE = (
    "The search index was built by an older version of the site, so quoted words were "
    "searched in any form (“attacks” as “attack”). Rebuild it (`manage.py rebuild_index "
    "--if-needed`) to search them as written."
)


def without_exact_fields(parsed: ParsedQuery) -> ParsedQuery:
    """The query for an index built before the exact fields (analyser version 2): quoted words
    search the stemmed fields, as they did then, and a notice says so. Such an index keeps
    answering until it is rebuilt, as the README promises of an outdated index."""
    changed = False

    def visit(node: Node) -> Node:
        nonlocal changed
        fieldname = getattr(node, "fieldname", None)
        if fieldname not in EXACT_OF:
            return node
        changed = True
        if isinstance(node, qt.Phrase):
            words = tuple(whole_term(str(word)) for word in node.words)
            return replace(node, fieldname=EXACT_OF[fieldname], words=words)
        return replace(node, fieldname=EXACT_OF[fieldname], text=whole_term(str(node.text)))

    if parsed.query is None:
        return parsed
    query = parsed.query.accept(visit)
    if not changed:
        return parsed
    return replace(parsed, query=query, notices=(*parsed.notices, OLDER_INDEX_NOTICE))
