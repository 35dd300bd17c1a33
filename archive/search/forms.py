"""Words that share a stem: an unquoted word finds every word with its stem, and Snowball gives
some unrelated words one stem ("Federer", "federal" and "federation" are all "feder";
"international" and "internal" are "intern"). When other words are a large part of what a query's
word finds, the page says which, and that quotes find the word alone (the exact fields,
``schema.EXACT_FIELDS``). A word's own inflections ("attack", "attacks", "attacked") are not
other words: they are what stemming is for.

Engine-neutral: each backend gives an :class:`ExactLexicon` of its exact fields (the embedded
engine's term lists, the cluster's dictionary).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from itertools import islice
from typing import Protocol

from archive.search.analyzer import exact_form, whole_term
from archive.search.spelling import OPERATOR_WORDS, PLAIN_WORD
from archive.search.types import SharedStem

# What a word may add to its stem and still be the same word, inflected (and "-er", "-ly": a
# comparative, an adverb).
INFLECTIONS = frozenset({"", "e", "s", "es", "d", "ed", "ing", "er", "ers", "est", "ly"})
FORMS_SHOWN = 3
WORDS_LOOKED_AT = 5  # of a long query, the first words only
FORMS_READ = 50  # words with the stem looked at, at most
WORDS_SCANNED = 5000  # words of the prefix read from the index, at most
# Other words are shown when they hold at least this share of what the word finds.
OTHER_SHARE = 0.25
_QUOTED = re.compile(r'"[^"]*"?')


class ExactLexicon(Protocol):
    def exact_words(self, prefix: str) -> Iterable[str]:
        """The exact fields' words starting with ``prefix``, in alphabetical order."""
        ...

    def exact_documents(self, words: list[str]) -> Mapping[str, int]:
        """How many live documents hold each word in an exact field (headline or text)."""
        ...


def _ending(word: str, stem: str) -> str | None:
    """What ``word`` adds to ``stem``, spelling changes aside: a final "e" dropped ("hope",
    "hoping"), "y" made "i" ("company", "compani"), a consonant doubled ("plan", "planned");
    None when it does not start with the stem."""
    if word.startswith(stem) or (stem.endswith("i") and word.startswith(stem[:-1] + "y")):
        rest = word[len(stem) :]
    elif stem.endswith("e") and word.startswith(stem[:-1]):
        rest = word[len(stem) - 1 :]
    else:
        return None
    if len(rest) > 1 and rest[0] == stem[-1] and rest[1:] in INFLECTIONS:
        rest = rest[1:]
    return rest


def same_word(a: str, b: str, stem: str) -> bool:
    """Whether two words of one stem are forms of one word (both the stem and an inflection,
    or one the other and an inflection: "election", "elections")."""
    if a.startswith(b) and a[len(b) :] in INFLECTIONS:
        return True
    if b.startswith(a) and b[len(a) :] in INFLECTIONS:
        return True
    return _ending(a, stem) in INFLECTIONS and _ending(b, stem) in INFLECTIONS


def _plain_spans(text: str) -> list[tuple[int, int]]:
    """Where the query's plain words stand: not quoted, not a field's value, not a pattern or
    a typo search (quoted text is blanked, so the spans are the query's own)."""
    unquoted = _QUOTED.sub(lambda quoted: " " * len(quoted.group()), text)
    return [
        match.span(1)
        for match in PLAIN_WORD.finditer(unquoted)
        if match.group(1) not in OPERATOR_WORDS
    ]


def _plain_words(text: str) -> list[str]:
    """The query's plain words, each once (in any case: "Federer federer" is one word)."""
    words: dict[str, str] = {}
    for start, end in _plain_spans(text):
        words.setdefault(exact_form(text[start:end]), text[start:end])
    return list(words.values())[:WORDS_LOOKED_AT]


def with_word_quoted(text: str, word: str) -> str:
    """The query with its first plain ``word`` (as :func:`shared_stems` found it) in quotes:
    the search that finds that word alone."""
    for start, end in _plain_spans(text):
        if exact_form(text[start:end]) == exact_form(word):
            return f'{text[:start]}"{text[start:end]}"{text[end:]}'
    return text


def shared_stems(text: str, lexicon: ExactLexicon) -> tuple[SharedStem, ...]:
    """The query's plain words that find many documents through other words with their stem."""
    found = []
    for word in _plain_words(text):
        stem = whole_term(word)
        typed = exact_form(word)
        # "hope" is also "hoping", "compani" "company": read from before the final letter.
        prefix = stem[:-1] if len(stem) > 3 and stem[-1] in "ei" else stem
        scanned = islice(lexicon.exact_words(prefix), WORDS_SCANNED)
        forms = list(islice((form for form in scanned if whole_term(form) == stem), FORMS_READ))
        others = [form for form in forms if form != typed and not same_word(typed, form, stem)]
        if not others:
            continue
        counts = lexicon.exact_documents([typed, *others])
        held_by = {form: counts[form] for form in others if counts.get(form)}
        held = sum(held_by.values())  # a document may hold several: a share, not a count
        if not held or held < OTHER_SHARE * (held + counts.get(typed, 0)):
            continue
        ranked = sorted(held_by, key=lambda form: (-held_by[form], form))[:FORMS_SHOWN]
        found.append(SharedStem(word, tuple(ranked)))
    return tuple(found)
