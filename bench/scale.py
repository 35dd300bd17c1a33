"""A derived benchmark corpus of any size, built from real news text in ../shared/corpora.

    python bench/scale.py --docs 100000 --out var/bench     # -> var/bench/derived-100000.jsonl

Each document is *derived*, and labelled so (external_id ``derived:<n>``, and a
``derived-<N>.meta.json`` beside it says how it was made): a real headline (BBC or Reuters) and
3 to 7 real paragraphs drawn at random from the BBC and Reuters bodies; a date spread over
1980-2025 with recent years more likely; a publication drawn from a long-tailed (Zipf-like)
distribution over the 1,500+ real site names of the headlines corpus plus Reuters and BBC News;
0 to 5 persons drawn Zipf-like from the real names of the Reuters PEOPLE tags, given in the
``persons`` field so the archive does not run NER on them. Deterministic for a given --seed.
Output is streamed, so 500,000 documents need little memory.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import html
import json
import random
import re
import sys
from collections import Counter
from itertools import accumulate
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPORA = REPO.parent / "shared" / "corpora"
_REUTERS = re.compile(r"<REUTERS.*?</REUTERS>", re.S)
_FIELD = {
    name: re.compile(rf"<{name}>(.*?)</{name}>", re.S) for name in ("TITLE", "BODY", "PEOPLE")
}
_D = re.compile(r"<D>(.*?)</D>")


def _reuters(folder: Path):
    for path in sorted(folder.glob("*.sgm")):
        text = path.read_bytes().decode("latin-1")
        for block in _REUTERS.findall(text):
            fields = {k: (m.group(1) if (m := p.search(block)) else "") for k, p in _FIELD.items()}
            people = [
                " ".join(w.capitalize() for w in name.split("-"))
                for name in _D.findall(fields["PEOPLE"])
            ]
            body = html.unescape(fields["BODY"]).replace("\x03", "").strip()
            yield html.unescape(fields["TITLE"]).strip(), body, people


def sources(corpora: Path):
    """(titles, paragraphs, person names with counts, publication names) from the real corpora."""
    titles, paragraphs, people = [], [], Counter()
    for path in sorted((corpora / "bbc" / "bbc").glob("*/*.txt")):
        lines = path.read_bytes().decode("utf-8", errors="replace").split("\n")
        titles.append(lines[0].strip())
        paragraphs += [p.strip() for p in lines[1:] if len(p.split()) >= 15]
    reuters = corpora / "reuters21578" / "sgm-data"
    for title, body, names in _reuters(reuters):
        if title:
            titles.append(
                " ".join(w.capitalize() for w in title.split()) if title.isupper() else title
            )
        paragraphs += [
            " ".join(p.split()) for p in re.split(r"\n\s{2,}|\n\n", body) if len(p.split()) >= 15
        ]
        people.update(names)
    headlines = json.loads((corpora / "headlines" / "headlines.json").read_text("utf-8"))
    domains = Counter(item["domain"] for item in headlines)
    publications = ["Reuters", "BBC News"] + [d for d, _ in domains.most_common()]
    return titles, paragraphs, people, publications


class Zipf:
    """Draw from ``values`` with probability proportional to 1 / rank**s."""

    def __init__(self, values: list, s: float, rng: random.Random) -> None:
        self.values = values
        self.cumulative = list(accumulate(1 / (rank**s) for rank in range(1, len(values) + 1)))
        self.rng = rng

    def draw(self):
        point = self.rng.random() * self.cumulative[-1]
        return self.values[bisect.bisect_left(self.cumulative, point)]


def build(docs: int, out: Path, seed: int = 1, corpora: Path = CORPORA) -> Path:
    rng = random.Random(seed)
    titles, paragraphs, people, publications = sources(corpora)
    persons = Zipf([name for name, _ in people.most_common()], 1.05, rng)
    sites = Zipf(publications, 1.1, rng)
    start, span = dt.date(1980, 1, 1), (dt.date(2025, 12, 31) - dt.date(1980, 1, 1)).days
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"derived-{docs}.jsonl"
    words = Counter()
    with path.open("w", encoding="utf-8") as output:
        for number in range(docs):
            body = "\n\n".join(rng.sample(paragraphs, rng.randint(3, 7)))
            names = list(
                dict.fromkeys(persons.draw() for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 4, 5))))
            )
            day = start + dt.timedelta(days=int(span * rng.random() ** 0.6))
            record = {
                "title": rng.choice(titles),
                "body": body,
                "published": day.isoformat(),
                "publication": sites.draw(),
                "persons": names,
                "external_id": f"derived:{number}",
            }
            if number % 100 == 0:
                words.update(set(re.findall(r"[a-z]{4,}", body.lower())))
            output.write(json.dumps(record, ensure_ascii=False) + "\n")
    sampled = (docs + 99) // 100
    meta = {
        "derived": True,
        "documents": docs,
        "seed": seed,
        "method": __doc__.strip().split("\n\n", 2)[2],
        "sources": {
            "titles": len(titles),
            "paragraphs": len(paragraphs),
            "person_names": len(people),
            "publications": len(publications),
        },
        "most_common_words": {w: round(c / sampled, 3) for w, c in words.most_common(5)},
    }
    (out / f"derived-{docs}.meta.json").write_text(json.dumps(meta, indent=2) + "\n", "utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, required=True)
    parser.add_argument("--out", type=Path, default=REPO / "var" / "bench")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not CORPORA.is_dir():
        sys.exit(f"{CORPORA} is missing: the derived corpus is built from it.")
    print(build(args.docs, args.out, args.seed))


if __name__ == "__main__":
    main()
