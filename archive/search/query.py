"""Where a query is parsed: user text in, a Whoosh query and notices for the page out.

Any text is accepted. Control characters are dropped, overlong text is cut (Whoosh's parser slows
down sharply on long input), and text the parser cannot read is searched as plain words. Every
adjustment becomes a notice the page shows, so the user knows what was actually searched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from whoosh import fields, qparser, query

from archive.search.schema import DEFAULT_SEARCH_FIELDS, QUERYABLE_FIELDS, SCHEMA

# C0/C1 control characters, except tab and newline, which are plain whitespace here.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_WORDS = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class ParsedQuery:
    text: str  # the text that was searched, after cleaning
    query: query.Query | None  # None: no query text, list everything (browse mode)
    notices: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_browse(self) -> bool:
        return self.query is None


@lru_cache(maxsize=1)
def _parser() -> qparser.QueryParser:
    # A schema of only the fields users may name, so `id:3` or `day:2025` are read as plain words.
    queryable = fields.Schema(**{name: SCHEMA[name] for name in QUERYABLE_FIELDS})
    return qparser.MultifieldParser(
        list(DEFAULT_SEARCH_FIELDS),
        schema=queryable,
        fieldboosts=DEFAULT_SEARCH_FIELDS,
        group=qparser.AndGroup,
    )


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
        parsed = _parser().parse(_web_operators(text))
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
    return ParsedQuery(text, parsed, tuple(notices))
