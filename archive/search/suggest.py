"""Did you mean: a corrected query for a query that finds little or nothing.

Each word of the query that the archive does not know (or knows far less often than a word one or
two letters away) is replaced by the closest indexed word, closest first, then most frequent. The
index holds stems ("murre" for "murree"), so the replacement is spelled as the archive's own text
spells it: the stem is looked up in one document that has it. The engine offers the corrected
query only when it finds more documents than the original.
"""

from __future__ import annotations

import re

from archive.search.schema import DEFAULT_SEARCH_FIELDS, TEXT_ANALYZER

# A word this much rarer than its best correction is treated as a misspelling ("mumbia" once, in
# a typo in some article, versus "mumbai" everywhere).
RARER_BY = 20
SPELLINGS_COMPARED = 8
_PLAIN_WORD = re.compile(r"(?<![\w:*~\"-])([^\W\d_]{3,})(?![\w:*~])")
_OPERATOR_WORDS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO"})


def _stem(word: str) -> str | None:
    tokens = [token.text for token in TEXT_ANALYZER(word)]
    return tokens[0] if len(tokens) == 1 else None


def _doc_frequency(reader, stem: str) -> int:
    return sum(reader.doc_frequency(fieldname, stem) for fieldname in DEFAULT_SEARCH_FIELDS)


def _candidates(reader, stem: str) -> set[str]:
    """Indexed stems within one edit (two for longer words), sharing the first letter.

    Whoosh's multi-segment reader only has a slow generic version; each segment's reader walks
    its word list with an automaton.
    """
    maxdist = 2 if len(stem) >= 5 else 1
    found: set[str] = set()
    for segreader, _ in reader.leaf_readers():
        for fieldname in DEFAULT_SEARCH_FIELDS:
            if fieldname in segreader.indexed_field_names():
                found.update(segreader.terms_within(fieldname, stem, maxdist, prefix=1))
    found.discard(stem)
    return found


def _distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


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
