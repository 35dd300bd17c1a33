"""Did you mean: a corrected query for a query that finds little or nothing.

Each word of the query that the archive does not know (or knows far less often than a word one or
two letters away) is replaced by the closest indexed word. Candidates are the indexed stems within
one or two edits of the word's stem, and the stems of the words one edit from the word itself
(the stem of "elecion" is far from "elect", the stem of "election"). The index holds stems
("murre" for "murree"), so each candidate is spelled as the archive's own text spells it, in the
form closest to the query's word; the closest spelling wins (a missed or extra doubled letter
counting half an edit), then the most frequent. The engine offers the corrected query only when
it finds more documents than the original.

Engine-neutral: each backend gives a :class:`Lexicon` of its index (the embedded engine from its
segments' word lists, ``whoosh/suggest.py``; the cluster from its dictionary).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

from rapidfuzz.distance import OSA, Levenshtein

from archive.search.analyzer import TEXT_ANALYZER, fold_accents

# A word this much rarer than its best correction is treated as a misspelling ("mumbia" once, in
# a typo in some article, versus "mumbai" everywhere).
RARER_BY = 20
SPELLINGS_COMPARED = 8
# Documents read to find how the archive spells a stem (the form closest to the query's word).
DOCUMENTS_READ_FOR_SPELLING = 3
# A plain word of a query: not quoted, not a field's value, not a pattern or a typo search (also
# what forms.py looks at).
PLAIN_WORD = re.compile(r"(?<![\w:*~\"-])([^\W\d_]{3,})(?![\w:*~])")
OPERATOR_WORDS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO"})


class Lexicon(Protocol):
    """What spelling correction needs to know of an index's headline and text terms."""

    def is_known(self, stem: str) -> bool: ...
    def doc_frequency(self, stem: str) -> int: ...
    def candidates(self, stem: str, distance: int) -> set[str]:
        """Indexed stems within ``distance`` edits of ``stem``, sharing its first letter."""
        ...

    def texts_with(self, stem: str, limit: int) -> Iterable[str]:
        """The text (body, else headline) of up to ``limit`` documents holding ``stem``."""
        ...


def _stem(word: str) -> str | None:
    tokens = [token.text for token in TEXT_ANALYZER(word)]
    return tokens[0] if len(tokens) == 1 else None


def _distance(a: str, b: str) -> int:
    return Levenshtein.distance(a, b)


def _typo_distance(word: str, spelling: str) -> float:
    """Edit distance, two neighbouring letters swapped counting one edit ("bliar" is as near
    "blair" as "liar", and the archive writes "blair" far more), a missed or extra doubled
    letter ("muree" for "murree") half: the commonest slips, so "murree" beats "murex" for
    "muree"."""
    distance = OSA.distance(word, spelling)
    if distance == 1 and abs(len(word) - len(spelling)) == 1:
        short, long = sorted((word, spelling), key=len)
        for i in range(1, len(long)):
            if long[i] == long[i - 1] and long[:i] + long[i + 1 :] == short:
                return 0.5
    return distance


def _slips_allowed(word: str) -> int:
    """How many slips a typo of ``word`` may hold: two in a word of five letters or more, one in
    a shorter word (the edits Elasticsearch's ``AUTO`` fuzziness allows)."""
    return 2 if len(word) >= 5 else 1


def _within_a_typo(word: str, spelling: str, nearest: float) -> bool:
    """Whether ``spelling`` is near enough the typed ``word`` to be what was meant, accents
    aside: the stems may be two edits apart when the words are not ("segolen" and "stolen", but
    "Ségolène" is four slips from "stolen"). ``nearest``: the typed word's distance to the
    candidate's stem or to a word one edit away that has that stem, which may be nearer than
    the archive's spelling ("unversity" is one slip from "university", and the archive writes
    only "universities")."""
    slips = _typo_distance(fold_accents(word), fold_accents(spelling))
    return min(slips, nearest) <= _slips_allowed(word)


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _one_edit(word: str) -> set[str]:
    """Every string one deletion, transposition, replacement or insertion away from ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    found = {left + right[1:] for left, right in splits if right}
    found |= {left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1}
    found |= {left + c + right[1:] for left, right in splits if right for c in _LETTERS}
    found |= {left + c + right for left, right in splits for c in _LETTERS}
    return found


def _candidates_by_word(lexicon: Lexicon, word: str, stem: str) -> dict[str, str]:
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
            and lexicon.is_known(variant_stem)
        ):
            found[variant_stem] = variant
    return found


def _spelling(lexicon: Lexicon, stem: str, near: str) -> str | None:
    """How the archive's text spells a word whose stem is ``stem`` (lower case): of the forms in
    the first few documents that have it, the one closest to ``near``."""
    best: tuple[float, str] | None = None
    for text in lexicon.texts_with(stem, DOCUMENTS_READ_FOR_SPELLING):
        for token in TEXT_ANALYZER(text, chars=True):
            if token.text == stem:
                form = text[token.startchar : token.endchar].lower()
                key = (_typo_distance(near, form), form)
                if best is None or key < best:
                    best = key
    return best[1] if best is not None else None


def corrected_words(lexicon: Lexicon, text: str) -> str | None:
    """``text`` with its unknown or rare words replaced by the closest known ones, or None when
    no word needs (or has) a correction. Fielded words, operators, phrases and wildcards stay."""
    changed = False

    def replace(match: re.Match) -> str:
        nonlocal changed
        word = match.group(1)
        if word in OPERATOR_WORDS:
            return word
        stem = _stem(word)
        if stem is None:
            return word  # a stop word
        lower = word.lower()
        frequency = lexicon.doc_frequency(stem)
        hints = _candidates_by_word(lexicon, lower, stem)
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
            for candidate in lexicon.candidates(stem, _slips_allowed(stem)) | set(hints)
            if (candidate_frequency := lexicon.doc_frequency(candidate))
            >= max(1, frequency * RARER_BY)
        )
        # Stems can mislead ("muree" -> "mure" is one edit from "more"): the closest spelling,
        # as the archive writes it, decides among the closest few stems.
        best: tuple[float, int, str] | None = None
        for nearest, _, negative_frequency, candidate in ranked[:SPELLINGS_COMPARED]:
            spelling = _spelling(lexicon, candidate, near=lower)
            if spelling is None or not _within_a_typo(lower, spelling, nearest):
                continue
            key = (_typo_distance(lower, spelling), negative_frequency, spelling)
            if best is None or key < best:
                best = key
        if best is None or best[2] == lower:
            return word
        changed = True
        return best[2]

    corrected = PLAIN_WORD.sub(replace, text)
    return corrected if changed else None
