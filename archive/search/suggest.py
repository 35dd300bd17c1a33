"""Did you mean: a corrected query for a query that finds little or nothing.

Each word of the query that the archive does not know (or knows far less often than a word one or
two letters away) is replaced by the closest indexed word. Candidates are the indexed stems within
one or two edits of the word's stem, and the stems of the words one edit from the word itself
(the stem of "elecion" is far from "elect", the stem of "election"). The index holds stems
("murre" for "murree"), so each candidate is spelled as the archive's own text spells it, in the
form closest to the query's word; the closest spelling wins (a missed or extra doubled letter
counting half an edit), then the most frequent. The engine offers the corrected query only when
it finds more documents than the original.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from archive.search.schema import DEFAULT_SEARCH_FIELDS, TEXT_ANALYZER
from archive.search.scoring import ByteLRU

# A word this much rarer than its best correction is treated as a misspelling ("mumbia" once, in
# a typo in some article, versus "mumbai" everywhere).
RARER_BY = 20
SPELLINGS_COMPARED = 8
# Documents read to find how the archive spells a stem (the form closest to the query's word).
DOCUMENTS_READ_FOR_SPELLING = 3
_PLAIN_WORD = re.compile(r"(?<![\w:*~\"-])([^\W\d_]{3,})(?![\w:*~])")
_OPERATOR_WORDS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO"})

# Each segment's words by first letter, read once (segments never change). About 10 MB per
# 100,000 news articles; bounded so that a huge vocabulary cannot grow a worker without limit.
_words_cache = ByteLRU(64 * 1024 * 1024)


def _stem(word: str) -> str | None:
    tokens = [token.text for token in TEXT_ANALYZER(word)]
    return tokens[0] if len(tokens) == 1 else None


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
    if fieldname in segreader.indexed_field_names():
        for term in segreader.lexicon(fieldname):
            word = term.decode("utf-8") if isinstance(term, bytes) else term
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


def _candidates(reader, stem: str) -> set[str]:
    """Indexed stems within one edit (two for longer words), sharing the first letter.

    Whoosh's own ``terms_within`` walks the on-disk word list with an automaton, one file seek
    per step: 0.2-0.7 s per word at 100,000 documents. The cached word list compared in C++
    (rapidfuzz) takes about a millisecond.
    """
    maxdist = 2 if len(stem) >= 5 else 1
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


def _distance(a: str, b: str) -> int:
    return Levenshtein.distance(a, b)


def _typo_distance(word: str, spelling: str) -> float:
    """Edit distance, a missed or extra doubled letter ("muree" for "murree") counting half: the
    commonest slip, so "murree" beats "murex" for "muree"."""
    distance = Levenshtein.distance(word, spelling)
    if distance == 1 and abs(len(word) - len(spelling)) == 1:
        short, long = sorted((word, spelling), key=len)
        for i in range(1, len(long)):
            if long[i] == long[i - 1] and long[:i] + long[i + 1 :] == short:
                return 0.5
    return distance


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _one_edit(word: str) -> set[str]:
    """Every string one deletion, transposition, replacement or insertion away from ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    found = {left + right[1:] for left, right in splits if right}
    found |= {left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1}
    found |= {left + c + right[1:] for left, right in splits if right for c in _LETTERS}
    found |= {left + c + right for left, right in splits for c in _LETTERS}
    return found


def _candidates_by_word(reader, word: str, stem: str) -> dict[str, str]:
    """Indexed stems of the words one edit from ``word`` itself, each with that word.

    The query word's stem can be far from the intended word's ("elecion" stays "elecion";
    "election" is "elect", three edits away), so the stems of the corrected words are looked up
    too.
    """
    found: dict[str, str] = {}
    for variant in sorted(_one_edit(word)):
        if len(variant) < 3 or not variant.isalpha():
            continue
        variant_stem = _stem(variant)
        if (
            variant_stem
            and variant_stem != stem
            and variant_stem not in found
            and _is_known(reader, variant_stem)
        ):
            found[variant_stem] = variant
    return found


def _spelling(searcher, stem: str, near: str) -> str | None:
    """How the archive's text spells a word whose stem is ``stem`` (lower case): of the forms in
    the first few documents that have it, the one closest to ``near``."""
    best: tuple[float, str] | None = None
    reader = searcher.reader()
    for fieldname in ("body", "title"):
        if (fieldname, stem) not in reader:
            continue
        postings = reader.postings(fieldname, stem)
        for _ in range(DOCUMENTS_READ_FOR_SPELLING):
            if not postings.is_active():
                break
            text = str(searcher.stored_fields(postings.id()).get(fieldname) or "")
            for token in TEXT_ANALYZER(text, chars=True):
                if token.text == stem:
                    form = text[token.startchar : token.endchar].lower()
                    key = (_typo_distance(near, form), form)
                    if best is None or key < best:
                        best = key
            postings.next()
        if best is not None:
            return best[1]
    return None


def corrected_words(searcher, text: str) -> str | None:
    """``text`` with its unknown or rare words replaced by the closest known ones, or None when
    no word needs (or has) a correction. Fielded words, operators, phrases and wildcards stay."""
    reader = searcher.reader()
    changed = False

    def replace(match: re.Match) -> str:
        nonlocal changed
        word = match.group(1)
        if word in _OPERATOR_WORDS:
            return word
        stem = _stem(word)
        if stem is None:
            return word  # a stop word
        lower = word.lower()
        frequency = _doc_frequency(reader, stem)
        hints = _candidates_by_word(reader, lower, stem)
        ranked = sorted(
            (
                min(
                    _typo_distance(lower, candidate),
                    _typo_distance(lower, hints.get(candidate, candidate)),
                ),
                _distance(stem, candidate),
                -candidate_frequency,
                candidate,
            )
            for candidate in _candidates(reader, stem) | set(hints)
            if (candidate_frequency := _doc_frequency(reader, candidate))
            >= max(1, frequency * RARER_BY)
        )
        # Stems can mislead ("muree" -> "mure" is one edit from "more"): the closest spelling,
        # as the archive writes it, decides among the closest few stems.
        best: tuple[float, int, str] | None = None
        for *_, negative_frequency, candidate in ranked[:SPELLINGS_COMPARED]:
            spelling = _spelling(searcher, candidate, near=lower)
            if spelling is None:
                continue
            key = (_typo_distance(lower, spelling), negative_frequency, spelling)
            if best is None or key < best:
                best = key
        if best is None or best[2] == lower:
            return word
        changed = True
        return best[2]

    corrected = _PLAIN_WORD.sub(replace, text)
    return corrected if changed else None
