"""How headline and text are cut into index terms: words, lower case, stop words dropped,
Snowball English stems, accents folded ("Attacks" -> "attack", "Café" -> "cafe").

Every engine indexes and searches these terms (the cluster with its own morphology off), so a
word counts the same everywhere. One pass does what an analysis chain does in five stages
(tokenizer, lower case, stop words, stems, accents), with the same tokens, positions and offsets:
analysis runs for every document indexed and, at search time, over the stored text of every hit
that gets a snippet.

No search engine's code is imported here: :class:`NewsTextAnalyzer` is called the way Lucene-
family analyzers are (``analyzer(text, positions=True, chars=True, mode="index")`` yielding
tokens), which is what the embedded engine expects of a field's analyzer.
"""

from __future__ import annotations

import copy
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator

import Stemmer

# Bump when the terms this module produces change: an index built by another version is then
# reported by check_index and rebuilt by `rebuild_index --if-needed` (see outdated_analysis).
# 2: Snowball's own English stemmer (PyStemmer) and Unicode accent folding, instead of Whoosh's
# Porter2 port ("organization" was "organ", "internally" "intern") and its accent table.
# 3: the exact fields (schema.EXACT_FIELDS): quoted words are searched as written.
ANALYZER_VERSION = 3
# The first version whose indexes have the exact fields.
EXACT_FIELDS_VERSION = 3
# Words too common to index (the list every version of the site has used).
STOP_WORDS = frozenset(
    "a an and are as at be by can for from have if in is it may not of on or tbd that the this "
    "to us we when will with yet you your".split()
)
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


# A Snowball stemmer per thread: a PyStemmer object is not safe to share between threads.
_stemmers = threading.local()


def english_stem(word: str) -> str:
    """Snowball English (Porter2), from Snowball's own C code (PyStemmer), cached.

    Not the original Porter algorithm, which keeps doubled consonants: "planned" -> "plann",
    "stopped" -> "stopp", so `plan` missed "planned". The cache is a plain dict, safe to share
    between threads (an analysis chain's cache that evicts while other threads read it raised
    KeyError in the 100k load test).
    """
    stem = _stems.get(word)
    if stem is None:
        stemmer = getattr(_stemmers, "english", None)
        if stemmer is None:
            stemmer = _stemmers.english = Stemmer.Stemmer("english", 0)  # 0: no second cache
        if len(_stems) >= STEM_CACHE_SIZE:
            _stems.clear()
        stem = _stems[word] = stemmer.stemWord(word)
    return stem


# Letters with no accent to strip that readers type without one (Unicode gives them no
# decomposition): "Nesbø" is found by "nesbo", "Łódź" by "lodz", "Straße" by "strasse".
_PLAIN_LETTERS = str.maketrans(
    {"ø": "o", "đ": "d", "ð": "d", "ħ": "h", "\u0131": "i", "ł": "l", "ŀ": "l", "ŧ": "t",
     "þ": "th", "ß": "ss", "æ": "ae", "œ": "oe"}
)  # fmt: skip
_folded: dict[str, str] = {}


def fold_accents(text: str, cache: bool = True) -> str:
    """Lower-case text without its accents ("café" -> "cafe"): canonical decomposition, marks
    dropped, then the letters in ``_PLAIN_LETTERS``. Cached per word unless ``cache`` is false
    (a word's folding is looked up for every non-ASCII token)."""
    folded = _folded.get(text)
    if folded is None:
        decomposed = unicodedata.normalize("NFD", text.translate(_PLAIN_LETTERS))
        stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
        folded = unicodedata.normalize("NFC", stripped)
        if cache:
            if len(_folded) >= STEM_CACHE_SIZE:
                _folded.clear()
            _folded[text] = folded
    return folded


class Token:
    """One word of a text, as an analyzer yields it (one object, updated for each word, as in
    Lucene and Whoosh): ``text``, and ``pos`` / ``startchar`` / ``endchar`` when asked for."""

    def __init__(self, positions=False, chars=False, removestops=True, mode="", **kwargs):
        self.positions, self.chars = positions, chars
        self.stopped = False
        self.boost = 1.0
        self.removestops, self.mode = removestops, mode
        self.__dict__.update(kwargs)

    def copy(self) -> Token:
        return copy.copy(self)

    def __repr__(self) -> str:
        return f"Token({self.__dict__!r})"


class NewsTextAnalyzer:
    """The title and body analyzer. An index stores (pickles) it, so its name and attributes are
    part of the index format: change them only with :data:`ANALYZER_VERSION`."""

    is_morph = True  # it stems: engines ask this to decide how to treat wildcards and spelling

    def __init__(self, stem: Callable[[str], str] = english_stem) -> None:
        self.stemfn = stem
        self.version = ANALYZER_VERSION

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.__dict__ == self.__dict__

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def has_morph(self) -> bool:
        return True

    def clean(self) -> None:
        """Nothing to free (the stem cache is shared and bounded)."""

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
            token.text = text if text.isascii() else fold_accents(text)
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


def exact_word(word: str) -> str:
    """No stemming: the "stem" of a word in the exact fields is the word itself."""
    return word


class ExactTextAnalyzer(NewsTextAnalyzer):
    """The exact fields' analyzer: the same words, positions, case and accent folding as
    :class:`NewsTextAnalyzer`, not stemmed. Snowball gives "Federer", "federal" and "federation"
    one stem ("feder"), so a name cannot be told from common words by its stem: a quoted word
    searches these fields (as Elasticsearch's ``quote_field_suffix`` searches an unstemmed
    sub-field). An index pickles it: its name is part of the index format."""

    is_morph = False

    def __init__(self) -> None:
        super().__init__(exact_word)

    def has_morph(self) -> bool:
        return False


EXACT_ANALYZER = ExactTextAnalyzer()

# WORD without its capturing group, for findall (the same matches).
_WORD_MATCHES = re.compile(r"\w+(?:\.?\w+)*", re.UNICODE)


def terms(value: str) -> list[str]:
    """The index terms of a text, as plain strings: what ``TEXT_ANALYZER(value)`` yields as
    token texts, with stop words removed, in about half the time (no Token objects, no
    generator). A cluster backend indexes these terms itself (``archive/search/sphinxql``)."""
    return _index_terms(_WORD_MATCHES.findall(value), english_stem)


def exact_terms(value: str) -> list[str]:
    """The exact fields' terms of a text: as :func:`terms`, not stemmed."""
    return _index_terms(_WORD_MATCHES.findall(value), exact_word)


def exact_form(word: str) -> str:
    """How the exact fields hold one word of a text: lower case, accents folded."""
    text = word.lower()
    return text if text.isascii() else fold_accents(text)


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
        if stem is not exact_word:
            text = cached.get(text) or stem(text)
        out.append(text if text.isascii() else fold_accents(text))
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
        yield start, end, term if term.isascii() else fold_accents(term)


def whole_term(value: str, stem: bool = True) -> str:
    """A value analysed as one word, as a query's prefix or pattern is (``attacks*`` searches
    the terms starting "attack"): lower case, stemmed unless ``stem`` is false or it is a stop
    word or a single letter, accents folded. Nothing is split off or dropped."""
    text = value.lower()
    if stem and len(text) >= MIN_WORD_CHARS and text not in STOP_WORDS:
        text = _stems.get(text) or english_stem(text)
    return text if text.isascii() else fold_accents(text)


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
