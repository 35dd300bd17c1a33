"""Highlighting: snippets for result lists and the marked-up full text of a document page.

Safety rule: every piece of document text is HTML-escaped *before* ``<mark>`` tags are added, so
the strings returned here are safe HTML whatever the document contains.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from django.utils.html import escape
from whoosh import highlight

from archive.search.analyzer import term_spans
from archive.search.schema import IndexedDocument
from archive.search.types import Hit

START_MARK = "<mark>"
STOP_MARK = "</mark>"
ELLIPSIS = "…"
SNIPPET_CHARS = 220
SNIPPET_CONTEXT = 70  # characters of context kept before the first and after the last match
SNIPPETS_PER_HIT = 3
# Words past this character are not looked at for snippets (as Whoosh's fragmenters).
SNIPPET_CHAR_LIMIT = 2**15


class MarkFormatter(highlight.Formatter):
    """Escapes text and wraps matched words in ``<mark>``; numbers them when ``numbered``."""

    def __init__(self, numbered: bool = False) -> None:
        self.numbered = numbered
        self.count = 0

    def _text(self, text: str) -> str:
        return escape(text)

    def format_token(self, text: str, token, replace: bool = False) -> str:
        self.count += 1
        word = escape(highlight.get_text(text, token, replace))
        if self.numbered:
            return f'<mark id="hit-{self.count}">{word}{STOP_MARK}'
        return f"{START_MARK}{word}{STOP_MARK}"


class _Match:
    """A matched word: where it is in the text and the index term it matched."""

    __slots__ = ("endchar", "startchar", "text")

    def __init__(self, startchar: int, endchar: int, text: str) -> None:
        self.startchar, self.endchar, self.text = startchar, endchar, text


class _Fragment:
    """A stretch of text with the matches inside it (what the formatter needs)."""

    __slots__ = ("endchar", "matches", "startchar", "text")

    def __init__(self, text: str, matches: list[_Match], startchar: int, endchar: int) -> None:
        self.text, self.matches = text, matches
        self.startchar, self.endchar = startchar, endchar

    @property
    def score(self) -> int:
        """Whoosh's BasicFragmentScorer: matches, times 100 per distinct term matched."""
        return len(self.matches) * (len({m.text for m in self.matches}) * 100 or 1)


def _context_fragments(text: str, terms: frozenset[str]) -> list[_Fragment]:
    """Fragments of at most SNIPPET_CHARS around matched words, with SNIPPET_CONTEXT characters
    of context each side: the rule of Whoosh's ContextFragmenter, over plain tuples."""
    maxchars, surround = SNIPPET_CHARS, SNIPPET_CONTEXT
    fragments: list[_Fragment] = []
    first = None  # start of the current fragment
    befores: deque[int] = deque()  # starts of the words just before a fragment
    countdown = -1  # characters left before the fragment ends; < 0 outside a fragment
    matches: list[_Match] = []
    length = 0
    end = 0
    for start, end, term in term_spans(text, SNIPPET_CHAR_LIMIT):
        matched = term in terms
        if countdown < 0 and not matched:
            befores.append(start)
            while befores and end - befores[0] > surround:
                befores.popleft()
        elif length + end - start > maxchars:
            countdown = 0
        elif matched:
            countdown = surround
            if first is None:
                if befores:
                    first = befores[0]
                else:
                    first = start
                    countdown += surround
            matches.append(_Match(start, end, term))
        if countdown >= 0:
            length += end - start
            countdown -= end - start
            if countdown <= 0:
                fragments.append(_Fragment(text, matches, first, end))
                matches, befores, first, length = [], deque(), None, 0
    if matches:
        fragments.append(_Fragment(text, matches, first, end))
    return fragments


def snippets(text: str, terms: Iterable[str], top: int = SNIPPETS_PER_HIT) -> list[str]:
    """Up to ``top`` escaped fragments of ``text`` around the matched terms, in text order.

    Falls back to the opening of the text when no term matches (say, a title-only match).
    """
    termset = frozenset(terms)
    if termset:
        fragments = _best_fragments(_context_fragments(text, termset), top)
        if fragments:
            formatter = MarkFormatter()
            return [
                (ELLIPSIS if f.startchar > 0 else "")
                + formatter.format_fragment(f)
                + (ELLIPSIS if f.endchar < len(text.rstrip()) else "")
                for f in fragments
            ]
    return [lead(text)] if text.strip() else []


def _best_fragments(fragments: list[_Fragment], top: int) -> list[_Fragment]:
    """The ``top`` best-scoring fragments, in text order.

    (Whoosh's ``top_fragments`` breaks score ties by object id, so its pick varies between runs.)
    """
    scored = [(f.score, f) for f in fragments]
    scored = [(score, f) for score, f in scored if score >= 1]
    scored.sort(key=lambda pair: (-pair[0], pair[1].startchar))
    return sorted((f for _, f in scored[:top]), key=lambda f: f.startchar)


def without_headline(body: str, title: str) -> str:
    """The body without a first line that repeats the title, so snippets do not repeat it."""
    first, _, rest = body.lstrip().partition("\n")
    if " ".join(first.split()) == " ".join(title.split()) and rest.strip():
        return rest.lstrip()
    return body


def lead(text: str, max_chars: int = SNIPPET_CHARS) -> str:
    """The escaped opening of ``text``, cut at a word boundary."""
    flat = " ".join(text.split())
    if len(flat) <= max_chars:
        return escape(flat)
    head = flat[:max_chars]
    space = head.rfind(" ")
    if space > max_chars // 2:
        head = head[:space]
    return escape(head.rstrip(" ,;:")) + ELLIPSIS


def mark_all(text: str, terms: Iterable[str], formatter: MarkFormatter | None = None) -> str:
    """The whole of ``text``, escaped, with every matched term marked.

    Pass one numbered formatter for several pieces of one page so ids run on (hit-1, hit-2, ...).
    """
    termset = frozenset(terms)
    if not termset:
        return escape(text)
    formatter = formatter or MarkFormatter()
    matches = [_Match(start, end, term) for start, end, term in term_spans(text) if term in termset]
    return formatter.format_fragment(_Fragment(text, matches, 0, len(text)))


def marked_hit(
    doc: IndexedDocument,
    score: float | None,
    terms: dict[str, frozenset[str]],
    with_snippets: bool = True,
) -> Hit:
    """A result as every backend returns it: the headline marked and up to three snippets of
    the text (without the headline) around ``terms``, all escaped first; plain escaped headline
    and no snippets when ``with_snippets`` is off (exports, feeds)."""
    return Hit(
        id=doc.id,
        title=doc.title,
        title_html=mark_all(doc.title, terms.get("title", ()))
        if with_snippets
        else escape(doc.title),
        published=doc.published,
        date_inferred=doc.date_inferred,
        publication=doc.publication,
        persons=doc.persons,
        organisations=doc.organisations,
        places=doc.places,
        snippets=snippets(without_headline(doc.body, doc.title), terms.get("body", ()))
        if with_snippets
        else [],
        score=score,
        source_url=doc.source_url,
        story=doc.story,
    )
