"""A derived benchmark corpus of any size, recombined from real text in ../shared/corpora.

    python bench/scale.py --docs 100000 --out var/bench    # -> var/bench/derived-100000.jsonl
                                                           #    + derived-100000.meta.json

The real corpora alone are too small to show how search scales, so larger archives are derived
from them. Every document is labelled as derived by its ``external_id`` (``derived:<n>``) and by
the sidecar ``derived-<N>.meta.json``, which records the method, the seed, the sources (with
their SHA-256) and what came out; the text itself carries no marker.

Method. The pools come from the converted corpora (bench/convert.py; run first if its files are
missing from --out). Titles: every real title of Reuters, BBC, headlines and SciFact. Paragraphs:
the prose paragraphs of the Reuters, BBC and SciFact bodies (tables, numbers-only lines and
headline-only items left out); a paragraph shorter than 35 words is joined with the next one of
the same article, since wire paragraphs are a sentence long. A document is a random title and
3 to 8 random paragraphs (about 350 words on average); a date between 1980-01-01 and 2025-12-31,
a year's weight growing 6% a year (2025 is about 14 times as likely as 1980), the day uniform
within the year; a publication drawn Zipf-like (weight 1/rank**1.1) from "Reuters", "BBC News"
and the 1,592 site names of the headlines corpus, most frequent first; 0 to 5 persons drawn
Zipf-like (1/rank) from real names, most frequent first: the Reuters PEOPLE tags and the
two-word capitalised names of the BBC texts whose surname also appears as "Mr Surname" or
"Surname said". Persons go in the ``persons`` field, so the archive runs no name extraction.

Deterministic for a given --seed and sources. Streamed: memory holds the pools, not the output.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import hashlib
import itertools
import json
import random
import re
import sys
import time
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import convert  # noqa: E402
from bench.queries import STOPWORDS  # noqa: E402

FIRST, LAST = dt.date(1980, 1, 1), dt.date(2025, 12, 31)
YEAR_GROWTH = 1.06
PARAGRAPHS = (3, 8)
MIN_PARAGRAPH_WORDS = 35
PERSONS_PER_DOC = (0.2, 0.25, 0.2, 0.15, 0.12, 0.08)  # P(0 persons), ..., P(5 persons)
PUBLICATION_EXPONENT = 1.1
PERSON_EXPONENT = 1.0
CANDIDATE_WORDS = 64  # words whose exact document frequency is counted

_WORDLIKE = re.compile(r"[A-Za-z][A-Za-z'\u2019.,;:()-]*$")
_WORDS = re.compile(r"[a-z]+")  # as bench/queries.py counts words
_NAME_WORD = r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
# Two capitalised words inside a sentence (not after a full stop), not followed by a third.
_PAIR = re.compile(rf"(?<=[a-z0-9,;:()\"] )({_NAME_WORD}) ({_NAME_WORD})\b(?! [A-Z])")
_SURNAME = re.compile(
    rf"\b(?:Mr|Mrs|Ms|Miss|Dr) ({_NAME_WORD})\b|\b({_NAME_WORD}) (?:said|says|told|added)\b"
)
_NOT_FIRST_NAMES = frozenset(
    """Mr Mrs Ms Miss Dr Sir Lord Lady Dame President Prime Chancellor Minister Secretary
    General Judge Prince Princess King Queen Pope Chief Director Professor Senator Governor
    Coach Manager Captain Detective Inspector Saint New North South East West Great United
    European British Scottish Welsh Irish English American French German Liberal Conservative
    National Royal Home Foreign Downing Wall World Premier Lib Labour Financial Sunday Daily
    Associated Electoral Audit Deutsche Football Google State Development Entertainment Visual
    Asia Africa Europe China India Japan Russia Federal International Olympic Grand Super
    Channel Microsoft Apple Sony Nintendo Virgin Warner Universal Top Best Golden Old Los San
    Las Hong Sri Tory Tories Democratic Republican Green Commons Whitehall Westminster Euro
    January February March April May June July August September October November December
    Monday Tuesday Wednesday Thursday Friday Saturday The Band Law Dow Age Century Sky Sun
    Standard Support Wales Ask Security""".split()
)
_NOT_SURNAMES = frozenset(
    """Party Union Commission Office Street Bank Research Association Times Democrats Dems
    Labour America Britain Kingdom Department Executive Parliament Council Court League Cup
    Club United City Group Centre Center Radio News Press Statistics Telegraph Agency Institute
    Ministry Committee Assembly Corporation Entertainment Records Music Awards Award Festival
    Government Minister Secretary Airways Airlines Motors Media Network Games Championships
    Championship Open Cross Square Road House Hall Stadium Park Palace Service Services Fund
    Foundation Society Authority Board Trust Organisation Organization Nations States Republic
    Island Islands Office Ltd Inc Group Holdings Records Studios Pictures Television Online
    Post Journal Mail Guardian Express Herald Review Week Day Year Prize Trophy Series Tour
    Championships Sport Sports Rugby Football Villa Rovers Athletic Town County Wanderers
    Albion Forest Hotspur Athletico Madrid Milan Europe Asia Africa Brothers Sisters Band
    Show Oscars Act Rock Aid Lords Industry Country Concern University Magazine Prison Police
    Communications Life""".split()
)


# --- Pools --------------------------------------------------------------------------------------


@dataclass
class Pools:
    """What derived documents are drawn from, all real text from the converted corpora."""

    titles: list[str] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    paragraph_words: array = field(default_factory=lambda: array("I"))
    persons: Counter[str] = field(default_factory=Counter)
    publications: Counter[str] = field(default_factory=Counter)
    sources: dict[str, dict[str, object]] = field(default_factory=dict)


def is_prose(paragraph: str) -> bool:
    """A paragraph of sentences, not a table row or a line of figures."""
    words = paragraph.split()
    if len(words) < 8:
        return False
    return sum(bool(_WORDLIKE.match(w)) for w in words) >= 0.7 * len(words)


def article_paragraphs(body: str, min_words: int = MIN_PARAGRAPH_WORDS) -> Iterator[str]:
    """An article's prose paragraphs, each short one joined with the next one."""
    run: list[str] = []
    for paragraph in body.split("\n\n"):
        if not is_prose(paragraph):
            if run:
                yield " ".join(run)
            run = []
            continue
        run.append(paragraph)
        if sum(len(p.split()) for p in run) >= min_words:
            yield " ".join(run)
            run = []
    if run:
        yield " ".join(run)


def bbc_names(bodies: Sequence[str]) -> Counter[str]:
    """Person-like names in BBC texts: "Tony Blair" where "Mr Blair" or "Blair said" also occurs.

    A simple heuristic (the archive's own extraction is better, and slower); counts are the
    number of articles naming the person, and names in only one article are left out.
    """
    pairs: Counter[str] = Counter()
    surnames: set[str] = set()
    for body in bodies:
        pairs.update(
            {
                f"{first} {last}"
                for first, last in _PAIR.findall(body)
                if first not in _NOT_FIRST_NAMES and last not in _NOT_SURNAMES
            }
        )
        surnames.update(a or b for a, b in _SURNAME.findall(body))
    return Counter({name: n for name, n in pairs.items() if n >= 2 and name.split()[1] in surnames})


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for chunk in iter(lambda: data.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def converted(out: Path, corpora: Path) -> dict[str, Path]:
    """The converted corpora in ``out``, converting those that are missing."""
    paths = {}
    for name in convert.NAMES:
        path = out / f"{name}.jsonl"
        if not path.exists():
            if not corpora.is_dir():
                raise SystemExit(f"{path} is missing and so is {corpora} to convert it from.")
            print(convert.convert(name, out, corpora).line(), flush=True)
        paths[name] = path
    return paths


def _records(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def gather(paths: dict[str, Path]) -> Pools:
    """Titles, paragraphs, names and publications from the converted corpora, in a fixed order."""
    pools = Pools()
    seen_titles: set[str] = set()
    seen_paragraphs: set[str] = set()
    bbc_bodies: list[str] = []
    for name, path in paths.items():
        records = 0
        for record in _records(path):
            records += 1
            title, body = record["title"], record["body"]
            if title not in seen_titles:
                seen_titles.add(title)
                pools.titles.append(title)
            if name == "headlines":
                if record.get("publication"):
                    pools.publications[record["publication"]] += 1
                continue
            if name == "reuters":
                pools.persons.update(record.get("persons") or ())
            if name == "bbc":
                bbc_bodies.append(body)
            if body == title:
                continue  # a headline-only item (Reuters BRIEF)
            for paragraph in article_paragraphs(body):
                if paragraph not in seen_paragraphs:
                    seen_paragraphs.add(paragraph)
                    pools.paragraphs.append(paragraph)
                    pools.paragraph_words.append(len(paragraph.split()))
        pools.sources[name] = {"file": path.name, "records": records, "sha256": _sha256(path)}
    pools.persons.update(bbc_names(bbc_bodies))
    return pools


def ranked(counts: Counter[str], first: Sequence[str] = ()) -> list[str]:
    """``first``, then the rest most frequent first (ties by name, so the order is fixed)."""
    rest = sorted((n for n in counts if n not in first), key=lambda n: (-counts[n], n))
    return [*first, *rest]


# --- Drawing ------------------------------------------------------------------------------------


class Zipf:
    """Draw from ``values`` with probability proportional to 1 / rank**exponent."""

    def __init__(self, values: Sequence[str], exponent: float, rng: random.Random) -> None:
        if not values:
            raise ValueError("Nothing to draw from.")
        self.values = list(values)
        weights = (1 / rank**exponent for rank in range(1, len(values) + 1))
        self.cumulative = list(itertools.accumulate(weights))
        self.rng = rng

    def draw(self) -> str:
        point = self.rng.random() * self.cumulative[-1]
        return self.values[bisect.bisect_right(self.cumulative, point)]


class Dates:
    """Days from FIRST to LAST; a year weighs YEAR_GROWTH times the one before."""

    def __init__(self, rng: random.Random) -> None:
        self.years = list(range(FIRST.year, LAST.year + 1))
        weights = (YEAR_GROWTH ** (y - FIRST.year) for y in self.years)
        self.cumulative = list(itertools.accumulate(weights))
        self.rng = rng

    def draw(self) -> dt.date:
        point = self.rng.random() * self.cumulative[-1]
        year = self.years[bisect.bisect_right(self.cumulative, point)]
        start = max(dt.date(year, 1, 1), FIRST)
        days = (min(dt.date(year, 12, 31), LAST) - start).days
        return start + dt.timedelta(days=self.rng.randint(0, days))


class WordMasks:
    """Exact document frequencies of the candidate common words, cheaply: each paragraph and
    title gets a bit mask of the candidates it contains, a document the OR of its parts."""

    def __init__(self, pools: Pools, candidates: int = CANDIDATE_WORDS) -> None:
        frequency: Counter[str] = Counter()
        for text in itertools.chain(pools.paragraphs, pools.titles):
            frequency.update(self.words(text))
        self.words_ranked = [w for w, _ in frequency.most_common(candidates)]
        bits = {w: 1 << i for i, w in enumerate(self.words_ranked)}
        self.paragraph = [self.mask(p, bits) for p in pools.paragraphs]
        self.title = {t: self.mask(t, bits) for t in pools.titles}
        self.documents = array("Q")

    @staticmethod
    def words(text: str) -> set[str]:
        """Words as bench/queries.py counts them: 4+ letters, not a stopword."""
        return {w for w in _WORDS.findall(text.lower()) if len(w) >= 4 and w not in STOPWORDS}

    @classmethod
    def mask(cls, text: str, bits: dict[str, int]) -> int:
        mask = 0
        for word in cls.words(text) & bits.keys():
            mask |= bits[word]
        return mask

    def most_common(self, n: int = 5) -> dict[str, float]:
        """The ``n`` words in the most documents, as a share of all documents."""
        masks = np.frombuffer(self.documents, dtype=np.uint64)
        if not len(masks):
            return {}
        counts = {
            word: int(np.count_nonzero(masks & np.uint64(1 << i)))
            for i, word in enumerate(self.words_ranked)
        }
        top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:n]
        return {word: round(count / len(masks), 4) for word, count in top}


# --- Building -----------------------------------------------------------------------------------


def build(
    docs: int,
    out: Path,
    seed: int = 1,
    corpora: Path = convert.CORPORA,
) -> Path:
    """Write ``out/derived-<docs>.jsonl`` and its ``.meta.json``; return the JSONL path."""
    if docs < 1:
        raise ValueError("--docs must be at least 1")
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    pools = gather(converted(out, corpora))
    publications = ranked(pools.publications, first=("Reuters", "BBC News"))
    persons_ranked = ranked(pools.persons)
    rng = random.Random(seed)
    titles, paragraphs, lengths = pools.titles, pools.paragraphs, pools.paragraph_words
    sites = Zipf(publications, PUBLICATION_EXPONENT, rng)
    persons = Zipf(persons_ranked, PERSON_EXPONENT, rng)
    dates = Dates(rng)
    person_counts = list(itertools.accumulate(PERSONS_PER_DOC))
    masks = WordMasks(pools)
    words_total, words_min, words_max = 0, sys.maxsize, 0
    first_day, last_day = LAST, FIRST
    path = out / f"derived-{docs}.jsonl"
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as output:
        for number in range(docs):
            title = rng.choice(titles)
            chosen = [rng.randrange(len(paragraphs)) for _ in range(rng.randint(*PARAGRAPHS))]
            k = bisect.bisect_right(person_counts, rng.random() * person_counts[-1])
            names = list(dict.fromkeys(persons.draw() for _ in range(k)))
            day = dates.draw()
            record = {
                "title": title,
                "body": "\n\n".join(paragraphs[i] for i in chosen),
                "published": day.isoformat(),
                "publication": sites.draw(),
                "persons": names,
                "external_id": f"derived:{number}",
            }
            output.write(json.dumps(record, ensure_ascii=False) + "\n")
            words = sum(lengths[i] for i in chosen)
            words_total += words
            words_min, words_max = min(words_min, words), max(words_max, words)
            first_day, last_day = min(first_day, day), max(last_day, day)
            mask = masks.title[title]
            for i in chosen:
                mask |= masks.paragraph[i]
            masks.documents.append(mask)
    partial.replace(path)
    meta = {
        "derived": True,
        "note": "Derived from real corpora by recombination; not real articles.",
        "generator": "bench/scale.py",
        "documents": docs,
        "seed": seed,
        "method": " ".join(__doc__.split("\n\n")[3].split()).removeprefix("Method. "),
        "parameters": {
            "paragraphs_per_document": list(PARAGRAPHS),
            "min_paragraph_words": MIN_PARAGRAPH_WORDS,
            "date_range": [FIRST.isoformat(), LAST.isoformat()],
            "year_weight_growth": YEAR_GROWTH,
            "publication_zipf_exponent": PUBLICATION_EXPONENT,
            "person_zipf_exponent": PERSON_EXPONENT,
            "persons_per_document_probabilities": list(PERSONS_PER_DOC),
        },
        "sources": pools.sources,
        "pools": {
            "titles": len(titles),
            "paragraphs": len(paragraphs),
            "publications": len(publications),
            "persons": len(persons_ranked),
            "top_publications": publications[:5],
            "top_persons": persons_ranked[:10],
        },
        "output": {
            "file": path.name,
            "bytes": path.stat().st_size,
            "body_words_mean": round(words_total / docs, 1),
            "body_words_min": words_min,
            "body_words_max": words_max,
            "published_first": first_day.isoformat(),
            "published_last": last_day.isoformat(),
        },
        "most_common_words": {
            "definition": (
                "share of documents whose title or body contains the word (lower-cased, 4+ "
                "letters, not a bench/queries.py stopword); exact, over all documents"
            ),
            "document_frequency": masks.most_common(5),
        },
    }
    meta_path = out / f"derived-{docs}.meta.json"
    meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(
        f"{docs:,} derived documents in {time.monotonic() - started:.1f} s: {path} "
        f"({path.stat().st_size / 1e6:.1f} MB), {meta_path.name}",
        flush=True,
    )
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, required=True, help="how many documents")
    parser.add_argument("--out", type=Path, default=REPO / "var" / "bench")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corpora", type=Path, default=convert.CORPORA)
    args = parser.parse_args(argv)
    if args.docs < 1:
        parser.error("--docs must be at least 1")
    build(args.docs, args.out, args.seed, args.corpora)


if __name__ == "__main__":
    main()
