"""Text analysis (tokens, stems) as the index and the queries see it."""

from __future__ import annotations

import random
import string
import threading

from archive.search.analyzer import TEXT_ANALYZER


def stems(text: str) -> list[str]:
    return [token.text for token in TEXT_ANALYZER(text)]


def test_stems_undouble_consonants_and_fold_accents():
    assert stems("planned planning plans plan") == ["plan"] * 4
    assert stems("stopped stopping stops") == ["stop"] * 3
    assert stems("attacks attacked") == ["attack"] * 2
    assert stems("Café the news") == ["cafe", "news"]
    # Inner dots stay in a word (the stemmer then takes "s" off "u.s"); one letter is no word.
    assert stems("U.S. 1.5 don't") == ["u.", "1.5", "don"]


def test_positions_skip_stop_words_and_offsets_point_into_the_text():
    """What Whoosh's StemmingAnalyzer | CharsetFilter would give (phrases and highlighting rely on
    it): positions count the words kept, so "company. It said" holds "compani said" side by side;
    offsets are the word's place in the original text, accents and all."""
    text = "The company. It said Café owners planned"
    tokens = [
        (t.text, t.pos, text[t.startchar : t.endchar])
        for t in TEXT_ANALYZER(text, positions=True, chars=True)
    ]
    assert tokens == [
        ("compani", 1, "company"),
        ("said", 2, "said"),
        ("cafe", 3, "Café"),
        ("owner", 4, "owners"),
        ("plan", 5, "planned"),
    ]


def test_query_mode_keeps_stop_words_marked_and_unstemmed():
    tokens = [
        (t.text, t.stopped, t.original)
        for t in TEXT_ANALYZER("The Attacks", mode="query", removestops=False, keeporiginal=True)
    ]
    assert tokens == [("the", True, "The"), ("attack", False, "Attacks")]
    # A whole value as one word (how Whoosh analyses prefixes and ranges), and no stemming.
    assert [t.text for t in TEXT_ANALYZER("Immigr", tokenize=False)] == ["immigr"]
    assert [t.text for t in TEXT_ANALYZER("attacks", no_morph=True)] == ["attacks"]


def test_many_threads_can_analyse_at_once():
    """A threaded web worker analyses queries and snippets in several threads. With Whoosh's own
    stem cache, threads evicting from a full cache at once raised KeyError; enough distinct words
    to fill and evict any cache of that size are analysed here in eight threads."""
    errors: list[BaseException] = []

    def analyse(seed: int) -> None:
        rng = random.Random(seed)
        words = ["".join(rng.choices(string.ascii_lowercase, k=9)) + "ing" for _ in range(40_000)]
        try:
            for start in range(0, len(words), 200):
                stems(" ".join(words[start : start + 200]))
        except BaseException as exc:  # any failure in a thread is the finding
            errors.append(exc)

    threads = [threading.Thread(target=analyse, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def _random_texts(seed: int) -> list[str]:
    """200 texts of 300 characters: letters, digits, punctuation, accents, other scripts."""
    alphabet = string.ascii_letters + string.digits + " .,;:'-éüßøΩж"
    generator = random.Random(seed)
    return ["".join(generator.choice(alphabet) for _ in range(300)) for _ in range(200)]


def test_terms_are_the_analyzers_token_texts():
    """The plain-string path (what a cluster backend indexes) and the analyzer agree, on
    punctuation, numbers, dotted acronyms, stop words, accents and other scripts."""
    from archive.search.analyzer import terms

    samples = [
        "The U.S. attacks on Café Zürich: 1.5 mln dlrs, planned & stopped; it's the naïve one.",
        "Mumbai, 26/11 — Ajmal Kasab's trial; e-mail www.example.com O'Neill Москва 東京 a b",
        "",
        "   ",
    ]
    for text in samples + _random_texts(seed=7):
        assert terms(text) == [token.text for token in TEXT_ANALYZER(text)], text


def test_term_positions_are_the_analyzers_positions():
    """The index build's path (terms and positions without a Token per word) numbers positions
    as the analyzer does: stop words take none, the first word kept keeps its place."""
    samples = [
        "The U.S. attacks on Café Zürich: the attacks, the attack; a an the of it attacks.",
        "of the a Mumbai, 26/11 — Ajmal Kasab's trial; Kasab Kasab O'Neill Москва 東京 a b",
        "",
        "the of and",
    ]
    for text in samples + _random_texts(seed=11):
        expected: dict[str, list[int]] = {}
        for token in TEXT_ANALYZER(text, positions=True):
            expected.setdefault(token.text, []).append(token.pos)
        found = TEXT_ANALYZER.term_positions(text)
        assert found == expected, text
        assert list(found) == list(expected), text  # terms in order of first use


def test_the_text_fields_postings_are_whooshs_own():
    """The text fields' format writes what Whoosh's positions format writes (term, frequency,
    weight, encoded positions); any other argument takes Whoosh's own path."""
    from archive.search.whoosh.schema import SCHEMA

    text = "The attacks on Café Zürich: the attacks, the attack; of it Attacks Mumbai 26/11."
    for fieldname in ("title", "body"):
        field_format = SCHEMA[fieldname].format
        fast = list(field_format.word_values(text, TEXT_ANALYZER, mode="index"))
        whoosh_path = list(field_format.word_values(text, TEXT_ANALYZER, mode="index", start_pos=0))
        assert fast == whoosh_path
        assert ("attack", 4, 4.0) in [entry[:3] for entry in fast]


def test_term_spans_are_the_query_mode_tokens_highlighting_used():
    """Snippets and marked text read (start, end, term) from ``term_spans`` instead of Token
    objects: the same words, offsets and terms as the analyzer in query mode with stop words kept
    (unstemmed), and words past the character limit left out."""
    from archive.search.analyzer import term_spans

    alphabet = string.ascii_letters + string.digits + " .,;:'-éüßøΩж"
    generator = random.Random(11)
    samples = ["The U.S. attacks on Café Zürich: it's the naïve one, planned & stopped. a I"]
    samples += ["".join(generator.choice(alphabet) for _ in range(300)) for _ in range(200)]
    for text in samples:
        expected = [
            (t.startchar, t.endchar, t.text)
            for t in TEXT_ANALYZER(text, chars=True, mode="query", removestops=False)
        ]
        assert list(term_spans(text)) == expected, text
        assert list(term_spans(text, char_limit=100)) == [s for s in expected if s[1] <= 100]
