"""How headline and text are cut into index terms: words, lower case, stop words dropped,
Snowball English stems, accents folded ("Attacks" -> "attack", "Café" -> "cafe").

One generator does what Whoosh's ``StemmingAnalyzer() | CharsetFilter(accent_map)`` does through
five (tokenizer, lower case, stop words, stems, accents), with the same tokens, positions and
offsets. Analysis runs for every document indexed and, at search time, over the stored text of
every hit that gets a snippet; the five-stage pipeline was half of a search's time and a third of
an index build's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from whoosh.analysis import STOP_WORDS, Analyzer, Token
from whoosh.lang import porter2
from whoosh.support.charset import accent_map

# Bump when the terms this module produces change: an index built by another version is then
# reported by check_index and rebuilt by `rebuild_index --if-needed` (see outdated_analysis).
ANALYZER_VERSION = 1
# Whoosh's default word pattern (RegexTokenizer): letters/digits, with inner dots ("U.S.", "1.5").
WORD = re.compile(r"\w+(\.?\w+)*", re.UNICODE)
# tokenize=False: the whole value is one word (exactly one match, even for "").
WHOLE_VALUE = re.compile(r"\A.*", re.DOTALL)
MIN_WORD_CHARS = 2


# Stems already computed. A plain dict: a lookup is atomic under the GIL, so threads share it
# safely, and it is several times cheaper than a call through functools.lru_cache. Cleared when
# full, which is rare (200,000 distinct words).
_stems: dict[str, str] = {}
STEM_CACHE_SIZE = 200_000


def english_stem(word: str) -> str:
    """Porter2 (Snowball English), cached.

    Not Whoosh's default Porter implementation, which keeps doubled consonants: "planned" ->
    "plann", "stopped" -> "stopp", so `plan` missed "planned". The cache is ours, because Whoosh's
    StemFilter cache is not safe for threads (when it is full, threads evicting at the same time
    raise KeyError or "dictionary changed size during iteration": 312 errors of 2,579 requests in
    the 100k load test).
    """
    stem = _stems.get(word)
    if stem is None:
        if len(_stems) >= STEM_CACHE_SIZE:
            _stems.clear()
        stem = _stems[word] = porter2.stem(word)
    return stem


class NewsTextAnalyzer(Analyzer):
    """The title and body analyzer. An index stores (pickles) it, so its name and attributes are
    part of the index format: change them only with :data:`ANALYZER_VERSION`."""

    is_morph = True  # it stems: Whoosh asks this to decide how to treat wildcards and spelling

    def __init__(self, stem: Callable[[str], str] = english_stem) -> None:
        self.stemfn = stem
        self.version = ANALYZER_VERSION

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        no_morph: bool = False,
        **kwargs,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        stem = None if no_morph else self.stemfn
        cached_stems = _stems if stem is english_stem else {}
        stops = STOP_WORDS
        matches = (WORD if tokenize else WHOLE_VALUE).finditer(value)
        kept_pos = None  # positions are renumbered over the words kept (as Whoosh's StopFilter)
        for index, match in enumerate(matches):
            original = match.group()
            text = original.lower()
            stopped = len(text) < MIN_WORD_CHARS or text in stops
            if stopped and removestops:
                continue
            token.boost = 1.0
            token.stopped = stopped
            if keeporiginal or not tokenize:
                token.original = original
            if positions:
                if stopped:
                    token.pos = start_pos + index
                else:
                    kept_pos = start_pos + index if kept_pos is None else kept_pos + 1
                    token.pos = kept_pos
            if chars:
                token.startchar = start_char + match.start()
                token.endchar = start_char + match.end()
            if not stopped and stem is not None:
                text = cached_stems.get(text) or stem(text)
            # Folding accents is a dictionary lookup per character: only for text that has any.
            token.text = text if text.isascii() else text.translate(accent_map)
            yield token

    def term_positions(self, value: str) -> dict[str, list[int]]:
        """Each index term of a text and its positions, in order of first use, as
        ``self(value, positions=True)`` numbers them (the first word kept at its place among
        all words, the words kept after it one after another), without a ``Token`` and a
        generator step per word: what an index build asks of every headline and text."""
        words = _WORD_MATCHES.findall(value)
        first = next((i for i, word in enumerate(words) if not is_stop_word(word)), 0)
        found: dict[str, list[int]] = {}
        for position, term in enumerate(_index_terms(words, self.stemfn), start=first):
            positions = found.get(term)
            if positions is None:
                found[term] = [position]
            else:
                positions.append(position)
        return found


TEXT_ANALYZER = NewsTextAnalyzer()

# WORD without its capturing group, for findall (the same matches).
_WORD_MATCHES = re.compile(r"\w+(?:\.?\w+)*", re.UNICODE)


def terms(value: str) -> list[str]:
    """The index terms of a text, as plain strings: what ``TEXT_ANALYZER(value)`` yields as
    token texts, with stop words removed, in about half the time (no Token objects, no
    generator). A cluster backend indexes these terms itself (``archive/search/sphinxql``)."""
    return _index_terms(_WORD_MATCHES.findall(value), english_stem)


def _index_terms(words: list[str], stem: Callable[[str], str]) -> list[str]:
    """The terms of these words (as the tokenizer finds them): stop words and one-letter words
    dropped, the rest lower case, stemmed, accents folded."""
    stops = STOP_WORDS
    cached = _stems if stem is english_stem else {}
    out = []
    for word in words:
        text = word.lower()
        if len(text) < MIN_WORD_CHARS or text in stops:
            continue
        text = cached.get(text) or stem(text)
        out.append(text if text.isascii() else text.translate(accent_map))
    return out


def term_spans(value: str, char_limit: int | None = None) -> Iterator[tuple[int, int, str]]:
    """(start, end, term) of every word of a text, stop words kept but not stemmed: what
    ``TEXT_ANALYZER(value, chars=True, mode="query", removestops=False)`` yields, without a Token
    and a generator step per word. Highlighting runs it over the text of every hit shown, so
    it is a large part of a search's own time. Words ending past ``char_limit`` are left out.
    """
    stops = STOP_WORDS
    cached = _stems
    for match in _WORD_MATCHES.finditer(value):
        start, end = match.span()
        if char_limit is not None and end > char_limit:
            return
        term = match.group().lower()
        if len(term) >= MIN_WORD_CHARS and term not in stops:
            term = cached.get(term) or english_stem(term)
        yield start, end, term if term.isascii() else term.translate(accent_map)


def whole_term(value: str, stem: bool = True) -> str:
    """A value analysed as one word, as a query's prefix or pattern is (``attacks*`` searches
    the terms starting "attack"): lower case, stemmed unless ``stem`` is false or it is a stop
    word or a single letter, accents folded. Nothing is split off or dropped."""
    text = value.lower()
    if stem and len(text) >= MIN_WORD_CHARS and text not in STOP_WORDS:
        text = _stems.get(text) or english_stem(text)
    return text if text.isascii() else text.translate(accent_map)


def is_stop_word(word: str) -> bool:
    """Whether the analyzer drops a word of the text (too short, or a stop word): it takes no
    position, so the words either side of it count as consecutive for a phrase."""
    text = word.lower()
    return len(text) < MIN_WORD_CHARS or text in STOP_WORDS


def describe(analyzer: object) -> str:
    """A short name for an analyzer, for messages: class, version, stemmer."""
    stem = getattr(analyzer, "stemfn", None)
    for item in getattr(analyzer, "items", ()):  # a Whoosh CompositeAnalyzer (older versions)
        stem = getattr(item, "stemfn", stem)
    stem_name = f"{getattr(stem, '__module__', '?')}.{getattr(stem, '__name__', stem)}"
    version = getattr(analyzer, "version", None)
    return f"{type(analyzer).__name__}{f' v{version}' if version else ''} ({stem_name})"


def same_analysis(found: object, expected: NewsTextAnalyzer) -> bool:
    """Whether an index's stored analyzer makes the same terms as ``expected``."""
    return (
        type(found) is type(expected)
        and getattr(found, "version", None) == expected.version
        and getattr(found, "stemfn", None) is expected.stemfn
    )
