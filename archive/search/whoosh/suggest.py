"""Did you mean, in the embedded engine: its segments' word lists as the spelling ``Lexicon``
of ``archive/search/spelling.py`` (where the correction itself is explained)."""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from whoosh import query as wq

from archive.search import spelling
from archive.search.query import term_text
from archive.search.schema import DEFAULT_SEARCH_FIELDS, EXACT_FIELDS
from archive.search.whoosh.scoring import ByteLRU, segment_terms

# Each segment's words by first letter, read once (segments never change). About 10 MB per
# 100,000 news articles; bounded so that a huge vocabulary cannot grow a worker without limit.
_words_cache = ByteLRU(64 * 1024 * 1024)


def _doc_frequency(reader, stem: str) -> int:
    return sum(reader.doc_frequency(fieldname, stem) for fieldname in DEFAULT_SEARCH_FIELDS)


@dataclass(frozen=True)
class SegmentWords:
    """The alphabetic words one segment's field holds: by first letter (for edit-distance
    scans) and as a set (for membership)."""

    by_letter: dict[str, list[str]]
    known: frozenset[str]


_NO_WORDS = SegmentWords({}, frozenset())


def segment_words(segreader, fieldname: str) -> SegmentWords:
    """The words of a segment's field, read once per segment (segments never change)."""
    segment = segreader.segment()
    if segment is None:  # the reader of an empty index
        return _NO_WORDS
    key = (segment.segment_id(), fieldname, "words")
    cached = _words_cache.get(key)
    if cached is not None:
        return cached[0]
    by_letter: dict[str, list[str]] = defaultdict(list)
    size = 0
    for word in segment_terms(segreader, fieldname):  # the lexicon, read once for both uses
        if len(word) > 1 and word.isalpha():
            by_letter[word[0]].append(word)
            size += 120 + len(word)  # the string, its list slot and its set slot
    words = SegmentWords(dict(by_letter), frozenset(w for ws in by_letter.values() for w in ws))
    _words_cache.put(key, words, size + 1000)
    return words


def _is_known(reader, stem: str) -> bool:
    return any(
        stem in segment_words(segreader, fieldname).known
        for segreader, _ in reader.leaf_readers()
        for fieldname in DEFAULT_SEARCH_FIELDS
    )


def _candidates(reader, stem: str, maxdist: int) -> set[str]:
    """Indexed stems within one edit (two for longer words), sharing the first letter.

    Whoosh's own ``terms_within`` walks the on-disk word list with an automaton, one file seek
    per step: 0.2-0.7 s per word at 100,000 documents. The cached word list compared in C++
    (rapidfuzz) takes about a millisecond.
    """
    found: set[str] = set()
    for segreader, _ in reader.leaf_readers():
        for fieldname in DEFAULT_SEARCH_FIELDS:
            words = segment_words(segreader, fieldname).by_letter.get(stem[0], ())
            found.update(
                choice
                for choice, _, _ in process.extract_iter(
                    stem, words, scorer=Levenshtein.distance, score_cutoff=maxdist
                )
            )
    found.discard(stem)
    return found


class WhooshLexicon:
    """A searcher's headline and text terms, for :func:`spelling.corrected_words`."""

    def __init__(self, searcher) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()

    def is_known(self, stem: str) -> bool:
        return _is_known(self.reader, stem)

    def doc_frequency(self, stem: str) -> int:
        return _doc_frequency(self.reader, stem)

    def candidates(self, stem: str, distance: int) -> set[str]:
        return _candidates(self.reader, stem, distance)

    def texts_with(self, stem: str, limit: int) -> Iterator[str]:
        for fieldname in ("body", "title"):
            if (fieldname, stem) not in self.reader:
                continue
            postings = self.reader.postings(fieldname, stem)
            found = False
            for _ in range(limit):
                if not postings.is_active():
                    break
                yield str(self.searcher.stored_fields(postings.id()).get(fieldname) or "")
                found = True
                postings.next()
            if found:
                return


class WhooshExactWords:
    """A searcher's exact-field words, for ``forms.shared_stems``."""

    def __init__(self, searcher) -> None:
        self.searcher = searcher

    def _fields(self) -> list[str]:
        # An index built before the exact fields has none (its quoted words are stemmed).
        return [f for f in EXACT_FIELDS.values() if f in self.searcher.schema]

    def exact_words(self, prefix: str) -> Iterator[str]:
        """Both fields' words, merged in alphabetical order, each once."""
        reader = self.searcher.reader()
        merged = heapq.merge(*(reader.expand_prefix(f, prefix) for f in self._fields()))
        last = None
        for term in merged:
            word = term_text(term)
            if word != last:
                yield word
                last = word

    def exact_documents(self, words: list[str]) -> dict[str, int]:
        """The live documents with each word in the headline or the text (term counts would
        include documents deleted or replaced since the last merge)."""
        fields = self._fields()
        return {
            word: sum(
                1 for _ in self.searcher.docs_for_query(wq.Or([wq.Term(f, word) for f in fields]))
            )
            for word in words
        }


def corrected_words(searcher, text: str) -> str | None:
    """``text`` with unknown or rare words corrected (see ``spelling.corrected_words``)."""
    return spelling.corrected_words(WhooshLexicon(searcher), text)
