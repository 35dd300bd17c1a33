"""Highlighting: snippets for result lists and the marked-up full text of a document page.

Safety rule: every piece of document text is HTML-escaped *before* ``<mark>`` tags are added, so
the strings returned here are safe HTML whatever the document contains.

What is marked (:class:`~archive.search.types.QueryTerms`, from :func:`terms_to_mark`): a query's
words wherever they stand, and a quoted phrase only where its words stand together as the index
sees them (stop words skipped, stems compared), as one mark from its first word to its last; a
proximity phrase (``"a b"~5``) marks its words where they are near enough. Words under NOT are
not marked.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterable, Iterator

from django.utils.html import escape

from archive.search import querytree as qt
from archive.search.analyzer import exact_form, is_stop_word, term_spans
from archive.search.querytree import positive_leaves
from archive.search.schema import DEFAULT_SEARCH_FIELDS, EXACT_OF, IndexedDocument
from archive.search.types import Hit, Phrase, QueryTerms

START_MARK = "<mark>"
STOP_MARK = "</mark>"
ELLIPSIS = "…"
SNIPPET_CHARS = 220
SNIPPET_CONTEXT = 70  # characters of context kept before the first and after the last match
SNIPPETS_PER_HIT = 3
# Text goes on after a fragment (it ends with "…") when a word follows, not only a full stop.
_WORD_AFTER = re.compile(r"\w")
# Words past this character are not looked at for snippets (as Whoosh's fragmenters).
SNIPPET_CHAR_LIMIT = 2**15
# Before a term of QueryTerms: the word as written (an exact field's term), not a stem. No index
# term starts with it (the analyzer's terms are word characters).
EXACT_MARK = "="


class MarkFormatter:
    """Escapes text and wraps matched words in ``<mark>``; numbers them when ``numbered``."""

    def __init__(self, numbered: bool = False) -> None:
        self.numbered = numbered
        self.count = 0

    def _text(self, text: str) -> str:
        return escape(text)

    def format_token(self, text: str, token, replace: bool = False) -> str:
        """One match (``token.startchar`` .. ``token.endchar`` of ``text``), escaped, marked."""
        self.count += 1
        word = escape(token.text if replace else text[token.startchar : token.endchar])
        if self.numbered:
            return f'<mark id="hit-{self.count}">{word}{STOP_MARK}'
        return f"{START_MARK}{word}{STOP_MARK}"

    def format_fragment(self, fragment, replace: bool = False) -> str:
        """A fragment's text (``fragment.startchar`` .. ``fragment.endchar``), escaped, with
        its matches (in text order, not overlapping) marked."""
        output = []
        index = fragment.startchar
        text = fragment.text
        for match in fragment.matches:
            if match.startchar is None or match.startchar < index:
                continue
            if match.startchar > index:
                output.append(self._text(text[index : match.startchar]))
            output.append(self.format_token(text, match, replace))
            index = match.endchar
        output.append(self._text(text[index : fragment.endchar]))
        return "".join(output)


def terms_to_mark(
    parsed: qt.Node | None, expand: Callable[[qt.Node], Iterable[str]]
) -> dict[str, QueryTerms]:
    """What a parsed query marks in each text field, for every engine: its leaves outside NOT;
    a phrase of two or more words as a phrase, any other leaf as the index terms ``expand``
    gives it (each engine expands prefixes, wildcards and fuzzy terms over its own terms)."""
    words: dict[str, set[str]] = {name: set() for name in DEFAULT_SEARCH_FIELDS}
    phrases: dict[str, set[Phrase]] = {name: set() for name in DEFAULT_SEARCH_FIELDS}
    for leaf in positive_leaves(parsed) if parsed is not None else ():
        fieldname = getattr(leaf, "fieldname", None)
        exact = fieldname in EXACT_OF
        if exact:
            fieldname = EXACT_OF[fieldname]
            if isinstance(leaf, qt.Term):
                words[fieldname].add(EXACT_MARK + str(leaf.text))
                continue
        if fieldname not in words:
            continue
        if isinstance(leaf, qt.Phrase):
            mark = EXACT_MARK if exact else ""
            phrase = tuple(mark + str(word) for word in leaf.words)
            if len(phrase) > 1:
                phrases[fieldname].add(Phrase(phrase, max(1, int(leaf.slop))))
            else:
                words[fieldname].update(phrase)
        else:
            words[fieldname].update(expand(leaf))
    return {name: QueryTerms(frozenset(words[name]), frozenset(phrases[name])) for name in words}


def _as_terms(terms: QueryTerms | Iterable[str]) -> QueryTerms:
    """Plain index terms (a set of words) are words marked wherever they stand."""
    return terms if isinstance(terms, QueryTerms) else QueryTerms(frozenset(terms))


def _marked_words(
    text: str, terms: QueryTerms, char_limit: int | None = None
) -> Iterator[tuple[int, int, str, int | None, bool]]:
    """(start, end, term, mark, in_phrase) of every word of ``text`` (see ``term_spans``).
    ``mark`` is None for a word left unmarked, else the index of the first word of its mark:
    the words of one exact phrase occurrence share one mark, every other matched word has its
    own. ``in_phrase``: the word is marked as part of a phrase."""
    spans = term_spans(text, char_limit)
    words = terms.words
    forms = None  # each word's exact term (EXACT_MARK + its form), when a quoted word asks
    asks_exact = _asks_exact(terms)
    if terms.phrases or asks_exact:
        spans = list(spans)
    if asks_exact:
        forms = [EXACT_MARK + exact_form(text[start:end]) for start, end, _ in spans]
    in_phrases = _phrase_marks(text, spans, terms.phrases, forms) if terms.phrases else {}
    for index, (start, end, term) in enumerate(spans):
        if forms is not None and forms[index] in words:
            term = forms[index]
        mark = in_phrases.get(index)
        if mark is not None:
            yield start, end, term, mark, True
        else:
            yield start, end, term, index if term in words else None, False


def _asks_exact(terms: QueryTerms) -> bool:
    """Whether any of the query's words or phrases is quoted (exact terms)."""
    return any(word.startswith(EXACT_MARK) for word in terms.words) or any(
        phrase.words[0].startswith(EXACT_MARK) for phrase in terms.phrases
    )


def _phrase_marks(
    text: str,
    spans: list[tuple[int, int, str]],
    phrases: Iterable[Phrase],
    alternatives: list[str] | None = None,
) -> dict[int, int]:
    """Word index -> the index of the first word of its mark, for the words that stand as one of
    ``phrases``. Positions count only the words the index keeps (stop words and one-letter words
    take none), as the index's positions do, so "attack on Mumbai" is the phrase "attack
    Mumbai". Overlapping occurrences become one mark. ``alternatives``: each word's exact term,
    which a quoted phrase's words are compared with."""
    kept = [i for i, (start, end, _) in enumerate(spans) if not is_stop_word(text[start:end])]
    terms = [spans[i][2] for i in kept]
    exact = [alternatives[i] for i in kept] if alternatives is not None else terms
    where: dict[str, list[int]] = {}  # term -> its positions, ascending
    for position, term in enumerate(terms):
        where.setdefault(term, []).append(position)
    if alternatives is not None:  # exact terms never equal a stem: they start with EXACT_MARK
        for position, term in enumerate(exact):
            where.setdefault(term, []).append(position)
    runs: list[tuple[int, int]] = []  # (first, last) positions, each run marked as one
    for phrase in phrases:
        words = list(phrase.words)
        forms = exact if words[0].startswith(EXACT_MARK) else terms
        if phrase.slop <= 1:
            n = len(words)
            runs += [(p, p + n - 1) for p in where.get(words[0], ()) if forms[p : p + n] == words]
        else:
            runs += [(p, p) for p in _near_positions(phrase, where)]
    marks: dict[int, int] = {}
    mark, last = 0, -1
    for first, final in sorted(runs):
        if first > last:
            mark = kept[first]
        for position in range(max(first, last + 1), final + 1):
            marks[kept[position]] = mark
        last = max(last, final)
    return marks


def _near_positions(phrase: Phrase, where: dict[str, list[int]]) -> set[int]:
    """The positions of the words of every match of a proximity phrase: its words in order, each
    1 to ``slop`` positions after the one before (what Whoosh's Phrase with a slop matches)."""
    slop = phrase.slop
    # Forwards: where each word can end a match of the words up to it.
    reached = [where.get(phrase.words[0], [])]
    for word in phrase.words[1:]:
        before = reached[-1]
        reached.append(
            [
                p
                for p in where.get(word, ())
                if (i := bisect_left(before, p - slop)) < len(before) and before[i] < p
            ]
        )
    # Backwards: of those, the ones the rest of a match follows.
    chosen = reached[-1]
    found = set(chosen)
    for positions in reversed(reached[:-1]):
        after = chosen
        chosen = [
            p
            for p in positions
            if (i := bisect_left(after, p + 1)) < len(after) and after[i] <= p + slop
        ]
        found.update(chosen)
    return found


class _Match:
    """A matched word: where it is in the text, the index term it matched, and its mark (the
    words of one phrase occurrence share one)."""

    __slots__ = ("endchar", "in_phrase", "mark", "ordinal", "startchar", "text")

    def __init__(
        self,
        startchar: int,
        endchar: int,
        text: str,
        mark: int | None = None,
        in_phrase: bool = False,
        ordinal: int = 0,
    ) -> None:
        self.startchar, self.endchar, self.text = startchar, endchar, text
        self.mark, self.in_phrase = mark, in_phrase
        self.ordinal = ordinal  # which mark of the text it is (1, 2, ...), as a page numbers them


def _joined(matches: list[_Match]) -> list[_Match]:
    """The matches with the words of each mark joined into one, from its first word to its last
    (the text between them is escaped inside the mark, as any text)."""
    joined: list[_Match] = []
    for match in matches:
        if joined and match.mark is not None and joined[-1].mark == match.mark:
            first = joined[-1]
            joined[-1] = _Match(
                first.startchar,
                match.endchar,
                first.text,
                first.mark,
                first.in_phrase,
                first.ordinal,
            )
        else:
            joined.append(match)
    return joined


class _Fragment:
    """A stretch of text with the matches inside it (what the formatter needs)."""

    __slots__ = ("endchar", "matches", "startchar", "text")

    def __init__(self, text: str, matches: list[_Match], startchar: int, endchar: int) -> None:
        self.text, self.matches = text, matches
        self.startchar, self.endchar = startchar, endchar

    def marked(self, formatter: MarkFormatter) -> str:
        """The fragment's text, escaped, with its marks."""
        joined = _Fragment(self.text, _joined(self.matches), self.startchar, self.endchar)
        return formatter.format_fragment(joined)

    @property
    def score(self) -> int:
        """Whoosh's BasicFragmentScorer: matches, times 100 per distinct term matched."""
        return len(self.matches) * (len({m.text for m in self.matches}) * 100 or 1)


def _context_fragments(text: str, terms: QueryTerms) -> list[_Fragment]:
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
    ordinal, last_mark = 0, None  # the marks so far, as mark_all numbers them on a page
    cut: set[int] = set()  # phrases a fragment's end cut: their other words are no mark either
    for start, end, term, mark, in_phrase in _marked_words(text, terms, SNIPPET_CHAR_LIMIT):
        if mark is not None and mark in cut:
            mark = None
        matched = mark is not None
        if matched and mark != last_mark:
            ordinal, last_mark = ordinal + 1, mark
        if countdown < 0 and not matched:
            befores.append(start)
            while befores and end - befores[0] > surround:
                befores.popleft()
        elif length + end - start > maxchars:
            countdown = 0
            if matched:
                # A phrase cut by the fragment's end: its first words are no mark without it,
                # nor its last ones in the next fragment.
                matches = [m for m in matches if m.mark != mark]
                if in_phrase:
                    cut.add(mark)
        elif matched:
            countdown = surround
            if first is None:
                if befores:
                    first = befores[0]
                else:
                    first = start
                    countdown += surround
            matches.append(_Match(start, end, term, mark, in_phrase, ordinal))
        if countdown >= 0:
            length += end - start
            countdown -= end - start
            if countdown <= 0:
                if matches:
                    fragments.append(_Fragment(text, matches, first, end))
                matches, befores, first, length = [], deque(), None, 0
    if matches:
        fragments.append(_Fragment(text, matches, first, end))
    return _close_ones_joined(fragments)


def _close_ones_joined(fragments: list[_Fragment]) -> list[_Fragment]:
    """A fragment that begins within SNIPPET_CONTEXT characters of the one before joins it, as
    long as the two stay within a fragment and its context each side: a match just after a
    fragment's end otherwise stood alone, without context ("…<mark>tax</mark>…" after a
    fragment ending "UK head", the words between being stop words)."""
    joined: list[_Fragment] = []
    for fragment in fragments:
        before = joined[-1] if joined else None
        if (
            before is not None
            and fragment.startchar - before.endchar <= SNIPPET_CONTEXT
            and fragment.endchar - before.startchar <= SNIPPET_CHARS + 2 * SNIPPET_CONTEXT
        ):
            joined[-1] = _Fragment(
                fragment.text,
                before.matches + fragment.matches,
                before.startchar,
                fragment.endchar,
            )
        else:
            joined.append(fragment)
    return joined


def snippets(
    text: str, terms: QueryTerms | Iterable[str], top: int = SNIPPETS_PER_HIT
) -> list[str]:
    """Up to ``top`` escaped fragments of ``text`` around the marked words, in text order: a
    phrase's words count only where they stand as the phrase, so a fragment without it is not
    picked for them. ``terms``: a field's :class:`QueryTerms`, or plain index terms.

    Falls back to the opening of the text when nothing is marked (say, a title-only match).
    """
    return [snippet for snippet, _ in numbered_snippets(text, terms, top)]


def numbered_snippets(
    text: str, terms: QueryTerms | Iterable[str], top: int = SNIPPETS_PER_HIT
) -> list[tuple[str, int | None]]:
    """:func:`snippets`, each with the number of its first mark among all the marks of
    ``text`` (None for the opening shown when nothing is marked): a document page that marks
    ``text`` with one numbered :class:`MarkFormatter` gives that mark the id ``hit-<number>``,
    so a snippet links to the very place it quotes."""
    termset = _as_terms(terms)
    if termset:
        fragments = _best_fragments(_context_fragments(text, termset), top)
        if fragments:
            formatter = MarkFormatter()
            return [
                (
                    (ELLIPSIS if f.startchar > 0 else "")
                    + f.marked(formatter)
                    + (ELLIPSIS if _WORD_AFTER.search(text, f.endchar) else ""),
                    f.matches[0].ordinal,
                )
                for f in fragments
            ]
    return [(lead(text), None)] if text.strip() else []


def _best_fragments(fragments: list[_Fragment], top: int) -> list[_Fragment]:
    """The ``top`` best-scoring fragments, in text order; those with a phrase of the query
    first (as search engines' highlighters prefer them), then by score.

    (Whoosh's ``top_fragments`` breaks score ties by object id, so its pick varies between runs.)
    """
    scored = [(f.score, f) for f in fragments]
    scored = [(score, f) for score, f in scored if score >= 1]
    scored.sort(
        key=lambda pair: (
            not any(m.in_phrase for m in pair[1].matches),
            -pair[0],
            pair[1].startchar,
        )
    )
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


def mark_all(
    text: str, terms: QueryTerms | Iterable[str], formatter: MarkFormatter | None = None
) -> str:
    """The whole of ``text``, escaped, with every occurrence of ``terms`` marked (a phrase's as
    one mark). ``terms``: a field's :class:`QueryTerms`, or plain index terms.

    Pass one numbered formatter for several pieces of one page so ids run on (hit-1, hit-2, ...).
    """
    termset = _as_terms(terms)
    if not termset:
        return escape(text)
    formatter = formatter or MarkFormatter()
    matches = [
        _Match(start, end, term, mark)
        for start, end, term, mark, _ in _marked_words(text, termset)
        if mark is not None
    ]
    return _Fragment(text, matches, 0, len(text)).marked(formatter)


def marked_hit(
    doc: IndexedDocument,
    score: float | None,
    terms: dict[str, QueryTerms],
    with_snippets: bool = True,
) -> Hit:
    """A result as every backend returns it: the headline marked and up to three snippets of
    the text (without the headline) around ``terms`` (per field), all escaped first; plain
    escaped headline and no snippets when ``with_snippets`` is off (exports, feeds)."""
    return Hit(
        id=doc.id,
        title=doc.title,
        title_html=mark_all(doc.title, terms.get("title", QueryTerms()))
        if with_snippets
        else escape(doc.title),
        published=doc.published,
        date_inferred=doc.date_inferred,
        publication=doc.publication,
        persons=doc.persons,
        organisations=doc.organisations,
        places=doc.places,
        **_snippet_fields(doc, terms, with_snippets),
        score=score,
        source_url=doc.source_url,
        story=doc.story,
    )


def _snippet_fields(
    doc: IndexedDocument, terms: dict[str, QueryTerms], with_snippets: bool
) -> dict[str, list]:
    """A hit's snippets and, for each, the number of the mark it starts at on the document's
    page (whose text is the body without its headline, as here)."""
    if not with_snippets:
        return {"snippets": [], "snippet_hits": []}
    body = without_headline(doc.body, doc.title)
    pairs = numbered_snippets(body, terms.get("body", QueryTerms()))
    return {"snippets": [s for s, _ in pairs], "snippet_hits": [n for _, n in pairs]}
