"""Did you mean: a corrected query for a query that finds little or nothing.

Each word of the query that the archive does not know (or knows far less often than a word one or
two letters away) is replaced by the closest indexed word, closest first, then most frequent. The
index holds stems ("murre" for "murree"), so the replacement is spelled as the archive's own text
spells it: the stem is looked up in one document that has it. The engine offers the corrected
query only when it finds more documents than the original.
"""

from __future__ import annotations

import re
from collections import defaultdict

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from archive.search.schema import DEFAULT_SEARCH_FIELDS, TEXT_ANALYZER
from archive.search.scoring import ByteLRU

# A word this much rarer than its best correction is treated as a misspelling ("mumbia" once, in
# a typo in some article, versus "mumbai" everywhere).
RARER_BY = 20
SPELLINGS_COMPARED = 8
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


def segment_words(segreader, fieldname: str) -> dict[str, list[str]]:
    """The alphabetic words a segment's field holds, by first letter."""
    segment = segreader.segment()
    if segment is None:  # the reader of an empty index
        return {}
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
                size += 56 + len(word)
    words = dict(by_letter)
    _words_cache.put(key, words, size + 1000)
    return words


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
            words = segment_words(segreader, fieldname).get(stem[0], ())
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


def _spelling(searcher, stem: str) -> str | None:
    """How the archive's text spells a word whose stem is ``stem`` (lower case)."""
    for fieldname in ("body", "title"):
        postings = (
            searcher.reader().postings(fieldname, stem)
            if (fieldname, stem) in (searcher.reader())
            else None
        )
        if postings is None or not postings.is_active():
            continue
        text = str(searcher.stored_fields(postings.id()).get(fieldname) or "")
        for token in TEXT_ANALYZER(text, chars=True):
            if token.text == stem:
                return text[token.startchar : token.endchar].lower()
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
        frequency = _doc_frequency(reader, stem)
        ranked = sorted(
            (_distance(stem, candidate), -candidate_frequency, candidate)
            for candidate in _candidates(reader, stem)
            if (candidate_frequency := _doc_frequency(reader, candidate))
            >= max(1, frequency * RARER_BY)
        )
        # Stems can mislead ("muree" -> "mure" is one edit from "more"): the closest spelling,
        # as the archive writes it, decides among the closest few stems.
        best: tuple[int, int, str] | None = None
        for _, negative_frequency, candidate in ranked[:SPELLINGS_COMPARED]:
            spelling = _spelling(searcher, candidate)
            if spelling is None:
                continue
            key = (_distance(word.lower(), spelling), negative_frequency, spelling)
            if best is None or key < best:
                best = key
        if best is None or best[2] == word.lower():
            return word
        spelling = best[2]
        changed = True
        return spelling

    corrected = _PLAIN_WORD.sub(replace, text)
    return corrected if changed else None
