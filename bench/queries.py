"""The benchmark's fixed query set, chosen from the corpus itself so it means the same thing at
any size: each class names what it stresses (see the issue's list)."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

STOPWORDS = frozenset(
    "a an and are as at be been but by for from had has have he her his i in is it its of on or "
    "she that the their they this to was we were which will with would not there who than".split()
)
_ANY_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class BenchQuery:
    name: str  # the query class
    q: str = ""
    persons: tuple[str, ...] = ()
    publications: tuple[str, ...] = ()
    year: int | None = None
    notes: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class CorpusStats:
    """What the query set is chosen from, gathered in one pass over the JSONL corpus."""

    documents: int = 0
    sampled: int = 0  # documents whose words were counted
    document_frequency: Counter = field(default_factory=Counter)
    persons: Counter = field(default_factory=Counter)
    publications: Counter = field(default_factory=Counter)
    years: Counter = field(default_factory=Counter)
    bigrams: Counter = field(default_factory=Counter)


def gather(path: Path, sample_every: int = 1) -> CorpusStats:
    stats = CorpusStats()
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            record = json.loads(line)
            stats.documents += 1
            for person in record.get("persons") or ():
                stats.persons[person] += 1
            if record.get("publication"):
                stats.publications[record["publication"]] += 1
            if record.get("published"):
                stats.years[int(record["published"][:4])] += 1
            if number % sample_every:
                continue
            stats.sampled += 1
            all_words = _ANY_WORD.findall(f"{record['title']} {record['body']}".lower())
            words = [w for w in all_words if len(w) >= 4]
            stats.document_frequency.update(set(words))
            stats.bigrams.update(
                {
                    f"{a} {b}"
                    for a, b in itertools.pairwise(all_words)
                    if len(a) >= 4 and len(b) >= 4
                }
                if number % (sample_every * 10) == 0
                else ()
            )
    return stats


def choose(stats: CorpusStats) -> list[BenchQuery]:
    """One query per class; the choice is deterministic for a given corpus."""
    content = [
        (word, df / stats.sampled)
        for word, df in stats.document_frequency.most_common()
        if word not in STOPWORDS
    ]
    common, common_share = content[0]  # the broadest query the archive will see
    second = next(w for w, share in content if w != common and share < 0.2)
    rare = next(w for w, share in reversed(content) if share * stats.sampled >= 3)
    phrase = next(b for b, _ in stats.bigrams.most_common() if not set(b.split()) & STOPWORDS)
    prefix = second[:4] + "*"
    person = stats.persons.most_common(1)[0][0] if stats.persons else ""
    publications = tuple(p for p, _ in stats.publications.most_common(2))
    year = stats.years.most_common(1)[0][0] if stats.years else None
    return [
        BenchQuery("rare word", rare),
        BenchQuery("common word", common, notes=f"in {common_share:.0%} of documents"),
        BenchQuery("two words", f"{common} {second}"),
        BenchQuery("phrase", f'"{phrase}"'),
        BenchQuery("prefix", prefix),
        BenchQuery("person filter", common, persons=(person,) if person else ()),
        BenchQuery("two publications + year", common, publications=publications, year=year),
        BenchQuery("browse", ""),
    ]
