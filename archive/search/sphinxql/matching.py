"""A parsed query (``archive/search/query.py``'s tree) as SphinxQL's extended query syntax.

Both engines search the same terms: the index holds the project's analyser output (words
lower-cased, stop words dropped, stemmed, accents folded) with the engine's own morphology off,
and the query tree's words are already analysed the same way. What is not text becomes tokens
of a hidden field, ``facts``, that every document carries:

- ``xall`` in every document: what a query of only ``NOT`` words is matched against (Sphinx
  cannot compute a lone negation), and ``Every()``;
- a value of a facet (a person, organisation, place, publication) as ``<letter><hash>``:
  ``person:gupta`` becomes the OR of the tokens of every person whose name is or contains the
  words, exactly as the embedded engine resolves it;
- its date as ``y2008``, ``m200811`` and ``d20081126``: ``date:[2008-11-20 TO 2009]`` becomes
  the OR of the fewest year, month and day tokens that cover the range.

Typo tolerance (``mumbay~``) has no SphinxQL form in 2.2.11: like Whoosh, the word becomes the
OR of the archive's terms within its edit distance (``expand_fuzzy``, from the backend's
dictionary). What SphinxQL cannot express is matched as near as it can be and reported:
wildcards other than a trailing ``*``, and the order of a proximity phrase's words (Sphinx's
``"a b"~5`` matches them in any order).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rapidfuzz.distance import Levenshtein

from archive.search import querytree as qt
from archive.search.query import term_text
from archive.search.schema import MULTI_VALUE_FIELDS

FACTS = "facts"
EVERY = "xall"
NOTHING = "xnone"  # a token no document carries
# A facet field's letter in its value tokens.
VALUE_LETTERS = {"person": "p", "organisation": "o", "place": "l", "publication": "b"}
VALUE_FIELDS = (*MULTI_VALUE_FIELDS, "publication")
_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_MAX_63 = (1 << 63) - 1
# Anything but letters, digits, "_" and "." would be read as an operator.
_UNSAFE = re.compile(r"[^\w.]", re.UNICODE)


def value_id(fieldname: str, value: str) -> int:
    """A facet value's number (positive, 63 bits): its MVA member, names-index id and token."""
    hashed = _FNV_OFFSET
    for byte in f"{fieldname}\n{value}".encode():
        hashed = ((hashed ^ byte) * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return (hashed & _MAX_63) or 1


def value_token(fieldname: str, value: str) -> str:
    return f"{VALUE_LETTERS[fieldname]}{value_id(fieldname, value):x}"


def date_tokens(day: dt.date | None) -> list[str]:
    if day is None:
        return []
    return [f"y{day.year:04d}", f"m{day.year:04d}{day.month:02d}", f"d{day:%Y%m%d}"]


@dataclass
class Translation:
    """The MATCH() text, the value filters beside it (field, value ids: each a condition on the
    field's attribute that every match must meet), and what could not be expressed (one notice
    each)."""

    text: str
    unsupported: list[str] = field(default_factory=list)
    filters: list[tuple[str, list[int]]] = field(default_factory=list)


class Unsupported(ValueError):
    """A query part SphinxQL cannot express at all."""


# (field, text, pattern): the values named (schema.values_named).
ValueResolver = Callable[[str, str, bool], list[str]]


def _is_value_clause(node: qt.Node) -> bool:
    """A word or pattern searched in a facet field (``person:gupta``, ``person:bl*``)."""
    return (
        isinstance(node, qt.Term | qt.Prefix | qt.Wildcard)
        and getattr(node, "fieldname", None) in VALUE_FIELDS
    )


def _word(text: object) -> str:
    word = term_text(text)
    return _UNSAFE.sub("", word)


class Translator:
    """Turns one query tree into MATCH() text. ``resolve_values(field, text, pattern)`` gives
    the values of a facet field that a query term names (exact, or containing its words, or
    matching a wildcard's, :func:`~archive.search.schema.values_named`); ``day_bounds``
    the first and last day any document is dated (for open date ranges)."""

    def __init__(
        self,
        resolve_values: ValueResolver,
        day_bounds: Callable[[], tuple[dt.date, dt.date] | None],
        expand_fuzzy: Callable[[str, int, int], list[str]],
    ) -> None:
        self.resolve_values = resolve_values
        self.day_bounds = day_bounds
        self.expand_fuzzy = expand_fuzzy
        self.unsupported: list[str] = []

    def translate(self, node: qt.Node) -> Translation:
        """A value clause that every match must meet (the whole query, or one of its top-level
        AND parts: ``person:s* blair``) becomes a filter on the value ids, not tokens in MATCH():
        a pattern can name thousands of values, and an OR of that many tokens took searchd
        seconds (``person:s*``, 923 values on 4,158 documents: timed out at 3 s; as a filter
        13 ms). Neither form ranks (the facts field has no weight), so the order is the same."""
        self.unsupported = []
        parts = list(node.subqueries) if isinstance(node, qt.And) else [node]
        filters: list[tuple[str, list[int]]] = []
        kept: list[qt.Node] = []
        for part in parts:
            if chosen := self._chosen_values(part):
                filters.append(chosen)
            else:
                kept.append(part)
        if not kept:
            text = self._any([EVERY])
        elif len(kept) == 1:
            text = self._node(kept[0])
        else:
            text = "(" + " ".join(self._node(q) for q in kept) + ")"
        return Translation(text, list(dict.fromkeys(self.unsupported)), filters)

    def _chosen_values(self, node: qt.Node) -> tuple[str, list[int]] | None:
        """(field, value ids) when ``node`` is a value clause, or an OR of value clauses of one
        field (``person:s* OR person:b*``) that names any value; else None."""
        clauses = list(node.subqueries) if isinstance(node, qt.Or) else [node]
        fields = {getattr(clause, "fieldname", None) for clause in clauses}
        if len(fields) != 1 or not all(_is_value_clause(clause) for clause in clauses):
            return None
        values = [value for clause in clauses for value in self._values(clause)]
        if not values:
            return None
        fieldname = fields.pop()
        return fieldname, [value_id(fieldname, v) for v in dict.fromkeys(values)]

    def _values(self, node: qt.Node) -> list[str]:
        """The values a value clause (``person:gupta``, ``person:bl*``) names; [] for any other
        node."""
        if not _is_value_clause(node):
            return []
        fieldname = node.fieldname
        text = term_text(node.text) + ("*" if isinstance(node, qt.Prefix) else "")
        return self.resolve_values(fieldname, text, not isinstance(node, qt.Term))

    def _any(self, tokens: Iterable[str]) -> str:
        tokens = list(dict.fromkeys(tokens)) or [NOTHING]
        return f"(@{FACTS} {' | '.join(tokens)})"

    def _node(self, node: qt.Node) -> str:
        if node is qt.NULL:
            return self._any([NOTHING])
        if isinstance(node, qt.Every):
            return self._any([EVERY])
        fieldname = getattr(node, "fieldname", None)
        if isinstance(node, qt.TermRange) and fieldname == "day":
            return self._any(self._day_range(node.start, node.end))
        # A value's words (``person:gupta``, ``person:bl*``), as in the embedded engine.
        if _is_value_clause(node):
            return self._any(value_token(fieldname, v) for v in self._values(node))
        if isinstance(node, qt.FuzzyTerm):
            words = self.expand_fuzzy(_word(node.text), node.maxdist, node.prefixlength)
            words = [w for w in (_word(w) for w in words) if w] or [NOTHING]
            return self._field(fieldname, "(" + " | ".join(words) + ")")
        if isinstance(node, qt.Prefix):
            word = _word(node.text)
            return self._field(fieldname, f"{word}*" if word else NOTHING)
        if isinstance(node, qt.Wildcard):
            pattern = str(node.text)
            stem = _word(pattern.rstrip("*"))
            if pattern.endswith("*") and stem and not re.search(r"[*?]", pattern.rstrip("*")):
                return self._field(fieldname, f"{stem}*")
            head = _word(re.split(r"[*?]", pattern)[0])
            if not head:
                self.unsupported.append(
                    "A wildcard at the start of a word (*ism) is not supported by this search "
                    "engine: that word found nothing."
                )
                return self._field(fieldname, NOTHING)
            self.unsupported.append(
                "Wildcards inside a word (wom?n) are not supported by this search engine: "
                "the part before the wildcard was searched as a prefix."
            )
            return self._field(fieldname, f"{head}*")
        if isinstance(node, qt.Term):
            return self._field(fieldname, _word(node.text) or NOTHING)
        if isinstance(node, qt.Phrase):
            words = [w for w in (_word(w) for w in node.words) if w]
            if not words:
                return self._any([NOTHING])
            phrase = '"' + " ".join(words) + '"'
            if node.slop > 1:
                phrase += f"~{node.slop}"
                if len(words) > 1:
                    self.unsupported.append(
                        "A proximity search (“…”~5) finds its words in any order on this "
                        "search engine, not only in the order written."
                    )
            return self._field(fieldname, phrase)
        if isinstance(node, qt.AndNot):
            return f"({self._node(node.a)} -{self._node(node.b)})"
        if isinstance(node, qt.AndMaybe):
            return f"({self._node(node.a)} MAYBE {self._node(node.b)})"
        if isinstance(node, qt.Not):
            return f"(@{FACTS} {EVERY} -{self._node(node.query)})"
        if isinstance(node, qt.And):
            return "(" + " ".join(self._node(q) for q in node.subqueries) + ")"
        if isinstance(node, qt.Or):
            return "(" + " | ".join(self._node(q) for q in node.subqueries) + ")"
        if isinstance(node, qt.TermRange):
            raise Unsupported(f"A range over {fieldname} is not supported by this search engine.")
        raise Unsupported(f"This query form ({type(node).__name__}) is not supported here.")

    @staticmethod
    def _field(fieldname: str | None, text: str) -> str:
        return f"(@{fieldname} {text})" if fieldname else f"({text})"

    def _day_range(self, start: str | None, end: str | None) -> list[str]:
        """The year, month and day tokens covering [start, end] (YYYYMMDD, either open)."""
        bounds = self.day_bounds()
        if bounds is None:
            return [NOTHING]
        low = _parse_key(start) if start else bounds[0]
        high = _parse_key(end) if end else bounds[1]
        low, high = max(low, bounds[0]), min(high, bounds[1])
        return covering_tokens(low, high) if low <= high else [NOTHING]


def _parse_key(key: str) -> dt.date:
    return dt.date(int(key[:4]), int(key[4:6]), int(key[6:8]))


def covering_tokens(low: dt.date, high: dt.date) -> list[str]:
    """The fewest y/m/d tokens whose days are exactly [low, high]."""
    tokens: list[str] = []
    day = low
    one = dt.timedelta(days=1)
    while day <= high:
        year_end = dt.date(day.year, 12, 31)
        if day.month == 1 and day.day == 1 and year_end <= high:
            tokens.append(f"y{day.year:04d}")
            if year_end == dt.date.max:
                break
            day = year_end + one
            continue
        following = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
        month_end = following - one
        if day.day == 1 and month_end <= high:
            tokens.append(f"m{day.year:04d}{day.month:02d}")
            day = following
            continue
        tokens.append(f"d{day:%Y%m%d}")
        day += one
    return tokens


def within_distance(a: str, b: str, limit: int) -> bool:
    """Whether the Levenshtein distance of ``a`` and ``b`` is at most ``limit`` (rapidfuzz, in
    C++: a fuzzy word is compared with every term of the archive that shares its prefix)."""
    return Levenshtein.distance(a, b, score_cutoff=limit) <= limit
