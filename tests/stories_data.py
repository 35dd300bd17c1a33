"""Article texts for the copy-detection and folding tests: unrelated articles share no runs of
words; copies are the same paragraphs edited as papers edit wire stories."""

from __future__ import annotations

import random

_SYLLABLES = "ka lo mi ran tes vo pu sel dar ni gom fe ta rik su ban lek mor zi quo".split()


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 3)))


def article(seed: int, paragraphs: int = 6, words: int = 45, topic: str = "") -> str:
    """A text of its own: another seed shares (almost) no four-word run with it. ``topic``
    words are sprinkled in so that a query finds several articles."""
    rng = random.Random(seed)
    out = []
    for _ in range(paragraphs):
        tokens = [_word(rng) for _ in range(words)]
        if topic:
            tokens[rng.randrange(words)] = topic
        out.append(" ".join(tokens).capitalize() + ".")
    return "\n\n".join(out)


def cut_last(text: str) -> str:
    return "\n\n".join(text.split("\n\n")[:-1])


def with_dateline(text: str, dateline: str = "MUMBAI, Nov 27 (Reuters) -") -> str:
    return f"{dateline} {text}"


def with_correction(text: str) -> str:
    return text + "\n\nCorrection: an earlier version of this story misspelt a name."
