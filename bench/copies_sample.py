"""The candidate pairs behind ``bench/gold/copies.json`` (syndicated / near-duplicate copies).

    python bench/copies_sample.py                  # counts of the gold, per corpus/label/kind/split
    python bench/copies_sample.py --candidates     # the candidate pairs, with how each was drawn
    python bench/copies_sample.py --show 0:40      # print candidates 0..39 side by side, to read
    python bench/copies_sample.py --write LABELS   # LABELS: "a b label kind" lines -> copies.json
    python bench/copies_sample.py --write bench/gold/copies.json   # re-split the committed labels

Candidates are drawn deterministically (fixed seed, sorted inputs) from BBC, Reuters-21578 and the
headlines corpus, read with ``bench/convert.py``. No MinHash, shingling or any text-overlap score
of the kind the near-duplicate detector uses: BBC pairs come from exact text equality and from a
TF-IDF cosine over word unigrams (bands of similarity, so same-topic different stories come in
too); Reuters pairs from equal bodies, from titles (word Jaccard of the headline within a few
days, correction/repeat flags, the same ticker on nearby days); headline pairs from word Jaccard
of the headlines within three days. Every pair was then labelled by reading both documents; the
draw only decides what gets read, never the label (exact-text pairs excepted, which are compared
programmatically). The split is made once, by connected component of the pair graph, so no
document is in both halves. Only identifiers and labels are committed, never corpus text.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import difflib
import itertools
import json
import math
import random
import re
import sys
from collections.abc import Iterable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.convert import CORPORA, bbc, headlines, reuters  # noqa: E402

GOLD = REPO / "bench" / "gold" / "copies.json"
SEED = 20261215
LABELS = ("copy", "different", "uncertain")
KINDS = (
    "exact",
    "edited",
    "cut",
    "extended",
    "reheadlined",
    "headline",
    "same-event",
    "same-topic",
    "follow-up",
    "unrelated",
)

# How many of each draw (the bands that are taken whole have no number here).
BBC_EXACT = 50  # of the 98 exact duplicate pairs
BBC_MEDIUM = 50  # TF-IDF cosine 0.40-0.60: mostly same-topic different stories
BBC_EASY = 8  # same category, cosine < 0.05: easy negatives, sparingly
REUTERS_EXACT = 20  # identical title and body
REUTERS_RETITLED = 30  # identical body, another title
REUTERS_TITLE = 70  # headline word Jaccard >= 0.6 within 3 days, bodies differ
# CORRECTED / CORRECTION / RPT / REPEAT / UPDATE / REFILE stories (tables too) with their match
REUTERS_FLAGGED = 60
REUTERS_COMPANY = 50  # same <TICKER> in the headline within 2 days, headlines unalike
HEADLINES_BANDS = ((0.9, 1.01, None), (0.7, 0.9, 40), (0.5, 0.7, 30), (0.35, 0.5, 15))

DESCRIPTION = (
    "Gold pairs for near-duplicate / syndicated-copy detection (pair precision and recall). "
    "Candidates drawn by bench/copies_sample.py (seed 20261215, deterministic), with no MinHash"
    " or shingling: BBC - 50 of the 98 exact duplicate pairs (same title and body), all 35 "
    "pairs with the same body under another title, every pair with TF-IDF cosine (word "
    "unigrams) >= 0.6 that is not one of those (86), 50 pairs with cosine 0.4-0.6 and 8 "
    "same-category pairs with cosine < 0.05; Reuters-21578 - 20 identical title+body pairs, 30 "
    "identical-body/other-title pairs, 70 pairs of prose stories whose headlines share >= 60% "
    "of their words within 3 days, 60 CORRECTED / CORRECTION / RPT / REPEAT / UPDATE / REFILE "
    "stories with the best-matching headline within 3 days, 50 pairs of prose stories with the "
    "same <TICKER> in unalike headlines within 2 days; headlines - pairs within 3 days by "
    "headline word Jaccard: all >= 0.9, 40 of 0.7-0.9, 30 of 0.5-0.7, 15 of 0.35-0.5. Labels "
    "were given by reading both documents (printed side by side, sentence-aligned, full text "
    "when in doubt); only the exact-text draws (identical title and body, or identical body) "
    "were confirmed programmatically, and their titles were read. label: copy (the same "
    "article: re-send, edited, re-headlined, cut, extended with an update or correction, "
    "dateline/byline changed; headlines: the same headline after normalising case, punctuation,"
    " quotes and site tags, or the same article URL), different (another article, even on the "
    "same event; a follow-up that is mostly new text; a stand-alone correction notice), "
    "uncertain (ignored by scoring). kind: exact, edited, cut, extended, reheadlined, headline,"
    " same-event, same-topic, follow-up, unrelated. split: dev / heldout, made once by "
    "connected component of the pair graph (no document in both halves), components shuffled "
    "with the seed and dealt to balance corpus and label. Conventions and counts: "
    "bench/gold/CONVENTIONS.md. Identifiers are bench/convert.py external_ids; no corpus text."
)

Record = dict[str, object]
Pair = tuple[str, str, str]  # a, b, how drawn


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if _key(a) <= _key(b) else (b, a)


def _key(external_id: str) -> tuple[str, object]:
    corpus, _, local = external_id.partition(":")
    return (corpus, int(local) if local.isdigit() else local)


def _sample(rng: random.Random, items: list, count: int | None) -> list:
    items = sorted(items)
    return items if count is None or len(items) <= count else sorted(rng.sample(items, count))


def _day(record: Record) -> dt.date | None:
    return dt.date.fromisoformat(str(record["published"])) if record.get("published") else None


# --- BBC --------------------------------------------------------------------------------------


def _tfidf_cosines(records: list[Record]) -> np.ndarray:
    """Cosine of (1 + log tf) * log(N / df) vectors over lower-cased word unigrams."""
    docs = [re.findall(r"[a-z0-9]+", f"{r['title']} {r['body']}".lower()) for r in records]
    df = collections.Counter(w for words in docs for w in set(words))
    n = len(docs)
    shared = {w: i for i, w in enumerate(sorted(w for w, c in df.items() if c > 1))}
    matrix = np.zeros((n, len(shared)), dtype=np.float32)
    norms = np.zeros(n, dtype=np.float64)
    for i, words in enumerate(docs):
        for w, c in collections.Counter(words).items():
            weight = (1 + math.log(c)) * math.log(n / df[w])
            norms[i] += weight * weight
            if w in shared:
                matrix[i, shared[w]] = weight
    matrix /= np.sqrt(norms)[:, None].astype(np.float32)
    cosines = matrix @ matrix.T
    np.fill_diagonal(cosines, 0)
    return cosines


def bbc_candidates(records: list[Record], rng: random.Random) -> list[Pair]:
    ids = [str(r["external_id"]) for r in records]
    out: list[Pair] = []
    by_text: dict[tuple, list[str]] = collections.defaultdict(list)
    by_body: dict[object, list[str]] = collections.defaultdict(list)
    for r in records:
        by_text[(r["title"], r["body"])].append(str(r["external_id"]))
        by_body[r["body"]].append(str(r["external_id"]))
    exact = {_pair(a, b) for v in by_text.values() for a, b in itertools.combinations(v, 2)}
    same_body = {_pair(a, b) for v in by_body.values() for a, b in itertools.combinations(v, 2)}
    out += [(a, b, "bbc-exact") for a, b in _sample(rng, list(exact), BBC_EXACT)]
    out += [(a, b, "bbc-same-body") for a, b in sorted(same_body - exact)]
    cos = _tfidf_cosines(records)
    rows, cols = np.triu_indices(len(records), 1)
    values = cos[rows, cols]
    taken = exact | same_body
    high = [
        _pair(ids[i], ids[j]) for i, j in zip(rows[values >= 0.6], cols[values >= 0.6], strict=True)
    ]
    out += [(a, b, "bbc-cosine>=0.6") for a, b in sorted(set(high) - taken)]
    band = (values >= 0.4) & (values < 0.6)
    medium = [_pair(ids[i], ids[j]) for i, j in zip(rows[band], cols[band], strict=True)]
    out += [(a, b, "bbc-cosine-0.4-0.6") for a, b in _sample(rng, medium, BBC_MEDIUM)]
    category = [i.split(":")[1].split("/")[0] for i in ids]
    low = [
        _pair(ids[i], ids[j])
        for i, j in zip(rows[values < 0.05], cols[values < 0.05], strict=True)
        if category[i] == category[j]
    ]
    out += [(a, b, "bbc-easy") for a, b in _sample(rng, low, BBC_EASY)]
    return out


# --- Reuters ------------------------------------------------------------------------------------

_FLAG = re.compile(r"\b(CORRECTED|CORRECTION|RPT|REPEAT|UPDATE|REFILE)\b")
_TICKER = re.compile(r"<([A-Z.]{1,6})>")


def _title_words(title: str) -> frozenset[str]:
    title = _TICKER.sub(" ", _FLAG.sub(" ", title))
    return frozenset(re.findall(r"[a-z0-9]+", title.lower()))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def _alike_within_days(ids, days, words, max_df: int) -> dict[tuple[str, str], float]:
    """Word-set Jaccard of every pair printed within 3 days that shares a word found in at
    most ``max_df`` items (an inverted index, never all pairs)."""
    df = collections.Counter(w for ws in words for w in ws)
    index: dict[str, list[int]] = collections.defaultdict(list)
    for i, ws in enumerate(words):
        for w in ws:
            if df[w] <= max_df:
                index[w].append(i)
    alike: dict[tuple[str, str], float] = {}
    for postings in index.values():
        for i, j in itertools.combinations(postings, 2):
            if abs((days[i] - days[j]).days) > 3:
                continue
            key = _pair(ids[i], ids[j])
            if key not in alike:
                alike[key] = _jaccard(words[i], words[j])
    return alike


def _prose(record: Record) -> bool:
    """A story in words, not a price table or a results table: 40+ lower-case words."""
    return len(re.findall(r"\b[a-z]{3,}\b", str(record["body"]))) >= 40


def reuters_candidates(records: list[Record], rng: random.Random) -> list[Pair]:
    stories = [r for r in records if r["body"] != r["title"] and r.get("published")]
    prose = [_prose(r) for r in stories]
    ids = [str(r["external_id"]) for r in stories]
    days = [_day(r) for r in stories]
    words = [_title_words(str(r["title"])) for r in stories]
    out: list[Pair] = []
    by_body: dict[object, list[int]] = collections.defaultdict(list)
    for i, r in enumerate(stories):
        by_body[r["body"]].append(i)
    exact, retitled = [], []
    for group in by_body.values():
        for i, j in itertools.combinations(group, 2):
            same_title = stories[i]["title"] == stories[j]["title"]
            (exact if same_title else retitled).append(_pair(ids[i], ids[j]))
    seen = set(exact) | set(retitled)
    out += [(a, b, "reuters-exact") for a, b in _sample(rng, exact, REUTERS_EXACT)]
    out += [(a, b, "reuters-same-body") for a, b in _sample(rng, retitled, REUTERS_RETITLED)]

    alike = _alike_within_days(ids, days, words, max_df=300)
    position = {x: i for i, x in enumerate(ids)}
    both = lambda p: prose[position[p[0]]] and prose[position[p[1]]]  # noqa: E731
    similar = [p for p, v in alike.items() if v >= 0.6 and p not in seen and both(p)]
    drawn = _sample(rng, similar, REUTERS_TITLE)
    out += [(a, b, "reuters-title>=0.6") for a, b in drawn]
    seen |= set(drawn)

    flagged = []
    for i, r in enumerate(stories):
        if not _FLAG.search(str(r["title"])):
            continue
        best, best_score = None, 0.3
        for j in range(max(0, i - 400), min(len(stories), i + 400)):
            if j == i or abs((days[i] - days[j]).days) > 3:
                continue
            score = _jaccard(words[i], words[j])
            if score > best_score or (score == best_score and best is not None and j < best):
                best, best_score = j, score
        if best is not None:
            flagged.append(_pair(ids[i], ids[best]))
    flagged = [p for p in dict.fromkeys(flagged) if p not in seen]
    drawn = _sample(rng, flagged, REUTERS_FLAGGED)
    out += [(a, b, "reuters-flagged") for a, b in drawn]
    seen |= set(drawn)

    by_ticker: dict[str, list[int]] = collections.defaultdict(list)
    for i, r in enumerate(stories):
        for ticker in set(_TICKER.findall(str(r["title"]))):
            by_ticker[ticker].append(i)
    company = set()
    for postings in by_ticker.values():
        for i, j in itertools.combinations(postings, 2):
            if (
                prose[i]
                and prose[j]
                and abs((days[i] - days[j]).days) <= 2
                and _jaccard(words[i], words[j]) < 0.3
            ):
                company.add(_pair(ids[i], ids[j]))
    company -= seen
    out += [(a, b, "reuters-same-ticker") for a, b in _sample(rng, list(company), REUTERS_COMPANY)]
    return out


# --- Headlines ----------------------------------------------------------------------------------


def _headline_words(title: str) -> frozenset[str]:
    return frozenset(re.findall(r"\w+", title.lower().replace("'", "").replace("\u2019", "")))


def headline_candidates(records: list[Record], rng: random.Random) -> list[Pair]:
    records = [r for r in records if r.get("published")]
    ids = [str(r["external_id"]) for r in records]
    days = [_day(r) for r in records]
    words = [_headline_words(str(r["title"])) for r in records]
    alike = _alike_within_days(ids, days, words, max_df=50)
    out: list[Pair] = []
    for low, high, count in HEADLINES_BANDS:
        band = [p for p, v in alike.items() if low <= v < high]
        out += [
            (a, b, f"headlines-jaccard-{low}-{min(high, 1.0)}")
            for a, b in _sample(rng, band, count)
        ]
    return out


# --- All ----------------------------------------------------------------------------------------


def load(corpora: Path = CORPORA) -> dict[str, list[Record]]:
    return {
        "bbc": list(bbc(corpora / "bbc" / "bbc")),
        "reuters": list(reuters(corpora / "reuters21578" / "sgm-data")),
        "headlines": list(headlines(corpora / "headlines" / "headlines.json")),
    }


def candidates(data: dict[str, list[Record]]) -> list[Pair]:
    """All candidate pairs, in a fixed order; each corpus has its own seeded generator."""
    out: list[Pair] = []
    out += bbc_candidates(data["bbc"], random.Random(f"{SEED}-bbc"))
    out += reuters_candidates(data["reuters"], random.Random(f"{SEED}-reuters"))
    out += headline_candidates(data["headlines"], random.Random(f"{SEED}-headlines"))
    unique: dict[tuple[str, str], str] = {}
    for a, b, how in out:
        unique.setdefault((a, b), how)
    return [(a, b, how) for (a, b), how in unique.items()]


def split(pairs: list[dict[str, str]]) -> None:
    """Set ``split`` on every pair: connected components of the pair graph, shuffled with the
    seed, then each component goes to the half that has fewer pairs of its majority label so far
    (ties: fewer pairs; then dev). All pairs of a component share a half."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p in pairs:
        parent[find(p["a"])] = find(p["b"])
    components: dict[str, list[dict[str, str]]] = collections.defaultdict(list)
    for p in pairs:
        components[find(p["a"])].append(p)
    ordered = sorted(components.values(), key=lambda c: sorted((p["a"], p["b"]) for p in c))
    random.Random(f"{SEED}-split").shuffle(ordered)
    ordered.sort(key=len, reverse=True)  # stable: big components first, seeded order within
    tally = {h: collections.Counter() for h in ("dev", "heldout")}
    for component in ordered:
        corpus = component[0]["a"].split(":")[0]
        labels = collections.Counter(p["label"] for p in component)
        label = labels.most_common(1)[0][0]
        half = min(
            ("dev", "heldout"),
            key=lambda h: (tally[h][(corpus, label)], sum(tally[h].values()), h != "dev"),
        )
        for p in component:
            p["split"] = half
            tally[half][(corpus, p["label"])] += 1


# --- Reading aid --------------------------------------------------------------------------------


def _sentences(text: str) -> list[str]:
    parts = re.split(r'(?<=[.!?"])\s+(?=[A-Z"])|\n\n', text)
    return [s for s in parts if s.strip()]


def show(a: Record, b: Record, width: int = 170) -> str:
    """Both documents side by side for reading: titles, lengths, and a sentence-level alignment
    (identical runs abbreviated, everything else printed)."""
    lines = []
    for tag, r in (("A", a), ("B", b)):
        lines.append(
            f"{tag} {r['external_id']} [{r.get('published', '')}] {r.get('publication', '')} "
            f"{len(str(r['body']))}c | {r['title']}"
        )
        if r.get("url"):
            lines.append(f"    {r['url']}")
    if a["body"] == a["title"] and b["body"] == b["title"]:
        return "\n".join(lines)
    sa, sb = _sentences(str(a["body"])), _sentences(str(b["body"]))

    def norm(s: str) -> str:
        return " ".join(re.findall(r"\w+", s.lower()))

    matcher = difflib.SequenceMatcher(None, [norm(s) for s in sa], [norm(s) for s in sb], False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            lines.append(f"  ={i2 - i1}s: {sa[i1][:90]}")
            continue
        lines += [f"  A- {s[:width]}" for s in sa[i1:i2]]
        lines += [f"  B+ {s[:width]}" for s in sb[j1:j2]]
    return "\n".join(lines)


# --- Gold ---------------------------------------------------------------------------------------


def counts(pairs: Iterable[dict[str, str]]) -> str:
    pairs = list(pairs)
    out = [f"{len(pairs)} pairs"]
    for field in ("corpus", "label", "kind", "split"):
        tally = collections.Counter(
            p["a"].split(":")[0] if field == "corpus" else p[field] for p in pairs
        )
        out.append(f"{field:>7}: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())))
    table = collections.Counter((p["a"].split(":")[0], p["split"], p["label"]) for p in pairs)
    for corpus in sorted({k[0] for k in table}):
        for half in ("dev", "heldout"):
            row = ", ".join(f"{lab} {table[(corpus, half, lab)]}" for lab in LABELS)
            out.append(f"  {corpus:<10} {half:<8} {row}")
    kinds = collections.Counter((p["label"], p["kind"]) for p in pairs)
    out.append(
        "  label/kind: " + ", ".join(f"{lab}/{k} {v}" for (lab, k), v in sorted(kinds.items()))
    )
    return "\n".join(out)


def write(label_file: Path, cands: list[Pair], description: str) -> list[dict[str, str]]:
    wanted = {(a, b) for a, b, _ in cands}
    labelled: dict[tuple[str, str], tuple[str, str]] = {}
    if label_file.suffix == ".json":  # re-split from an existing gold file
        for p in json.loads(label_file.read_text("utf-8"))["pairs"]:
            labelled[_pair(p["a"], p["b"])] = (p["label"], p["kind"])
        lines: list[str] = []
    else:
        lines = label_file.read_text("utf-8").splitlines()
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        a, b, label, kind = line.split()
        assert label in LABELS and kind in KINDS, line
        labelled[_pair(a, b)] = (label, kind)
    missing = wanted - set(labelled)
    extra = set(labelled) - wanted
    if missing or extra:
        sys.exit(
            f"{len(missing)} candidates unlabelled, {len(extra)} labels not candidates: "
            f"{sorted(missing)[:5]} {sorted(extra)[:5]}"
        )
    pairs = [
        {"a": a, "b": b, "label": labelled[(a, b)][0], "kind": labelled[(a, b)][1]}
        for a, b, _ in cands
    ]
    split(pairs)
    GOLD.write_text(
        json.dumps({"description": description, "pairs": pairs}, indent=1, ensure_ascii=False)
        + "\n",
        "utf-8",
    )
    return pairs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", action="store_true", help="list the candidate pairs")
    parser.add_argument("--show", metavar="FROM:TO", help="print candidates FROM..TO-1 to read")
    parser.add_argument("--write", type=Path, metavar="LABELS", help="labels -> copies.json")
    parser.add_argument("--corpora", type=Path, default=CORPORA)
    args = parser.parse_args(argv)
    if not (args.candidates or args.show or args.write):
        print(counts(json.loads(GOLD.read_text("utf-8"))["pairs"]))
        return
    data = load(args.corpora)
    cands = candidates(data)
    if args.candidates:
        for n, (a, b, how) in enumerate(cands):
            print(n, a, b, how)
    if args.show:
        records = {str(r["external_id"]): r for v in data.values() for r in v}
        start, _, stop = args.show.partition(":")
        for n in range(int(start), int(stop or len(cands))):
            if n >= len(cands):
                break
            a, b, how = cands[n]
            print(f"{'=' * 30} #{n} {how}")
            print(show(records[a], records[b]))
    if args.write:
        pairs = write(args.write, cands, DESCRIPTION)
        print(counts(pairs))


if __name__ == "__main__":
    main()
