"""How well copies of one story are found, measured on pairs read by people, through the real
import pipeline; and what finding them costs per document.

    python bench/copies_eval.py                      # both halves, the curve, the cost
    python bench/copies_eval.py --json bench/results/copies-eval-DATE.json

What it does: converts the BBC corpus (2,225 articles), Reuters-21578 (21,577 stories) and the
headlines set (10,037) with ``bench/convert.py`` (``"persons": []``: no name extraction, which
copy detection does not need) and imports them into a fresh archive with ``manage.py ingest``'s
pipeline, which finds each document's copies as it saves it (``archive/ingest/copies.py``).
Then every pair of the gold, ``bench/gold/copies.json`` (read by people; split once into ``dev``,
on which the thresholds were chosen, and ``heldout``, only reported), is scored: the pair is
predicted a copy when both documents are in one story. Pairs marked ``uncertain`` are ignored.

The curve re-clusters the whole imported archive in memory (``copies.cluster``, as
``manage.py cluster_copies`` does) with other containment thresholds, without writing.

The cost is the time spent in copy detection (``copies.assign``, computing signatures, storing
bands, finding candidates and stories) per document, measured inside the import, overall and
for the last documents of the import (when the archive is largest).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CORPORA = ("bbc", "reuters", "headlines")
CURVE = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


class Score:
    def __init__(self) -> None:
        self.tp = self.fp = self.fn = self.tn = 0

    def add(self, gold_copy: bool, predicted: bool) -> None:
        if gold_copy and predicted:
            self.tp += 1
        elif gold_copy:
            self.fn += 1
        elif predicted:
            self.fp += 1
        else:
            self.tn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def as_json(self) -> dict[str, object]:
        return {
            "copies": self.tp + self.fn,
            "different": self.fp + self.tn,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 3),
            "recall": round(self.recall, 3),
        }


def score(pairs, story_of: dict[str, int | None]):
    """(score per split, per split and corpus, recall by kind per split, the errors)."""
    by_split: dict[str, Score] = defaultdict(Score)
    by_corpus: dict[tuple[str, str], Score] = defaultdict(Score)
    kinds: dict[tuple[str, str], Counter] = defaultdict(Counter)
    errors = []
    for pair in pairs:
        if pair["label"] == "uncertain":
            continue
        a, b = story_of.get(pair["a"]), story_of.get(pair["b"])
        if a is None or b is None:
            raise SystemExit(f"not imported: {pair['a']} or {pair['b']}")
        predicted = a == b
        gold = pair["label"] == "copy"
        by_split[pair["split"]].add(gold, predicted)
        by_corpus[(pair["split"], pair["a"].split(":")[0])].add(gold, predicted)
        kinds[(pair["split"], pair["kind"])][predicted == gold] += 1
        if predicted != gold:
            errors.append({**pair, "predicted": "copy" if predicted else "different"})
    return by_split, by_corpus, kinds, errors


def cost_by_tenth(spent: list[tuple[int, float]]) -> dict[str, object]:
    """ms per document of copy detection, overall and for each tenth of the documents."""
    total = sum(n for n, _ in spent)
    tenths: list[list[float]] = [[0, 0.0] for _ in range(10)]
    done = 0
    for n, seconds in spent:
        tenth = min(9, done * 10 // max(total, 1))
        tenths[tenth][0] += n
        tenths[tenth][1] += seconds
        done += n
    return {
        "documents": total,
        "ms_per_document": round(1000 * sum(s for _, s in spent) / max(total, 1), 3),
        "ms_per_document_by_tenth": [round(1000 * s / max(n, 1), 3) for n, s in tenths],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, help="the archive (default: a temporary one)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--verbose", action="store_true", help="list the wrong pairs")
    parser.add_argument(
        "--cost-only",
        type=Path,
        metavar="JSONL",
        help="only the cost: import this bulk file (e.g. bench/scale.py's derived-100000.jsonl) "
        "and report the time copy detection took per document, per tenth of the import",
    )
    args = parser.parse_args()

    shared = REPO.parent / "shared" / "corpora"
    if not shared.is_dir():
        sys.exit(f"{shared} is missing: the corpora are needed.")
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="copies-eval-"))
    os.environ["ARCHIVE_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from archive import ingest
    from archive.ingest import copies
    from archive.models import Document
    from bench import convert

    call_command("migrate", verbosity=0)
    gold = json.loads((REPO / "bench/gold/copies.json").read_text("utf-8"))["pairs"]

    # Time spent finding copies, per batch, as the import calls it.
    spent: list[tuple[int, float]] = []
    original_assign = copies.assign

    def timed_assign(documents):
        started = time.perf_counter()
        try:
            return original_assign(documents)
        finally:
            spent.append((len(documents), time.perf_counter() - started))

    copies.assign = timed_assign
    from archive.ingest import store

    store.copies.assign = timed_assign

    started = time.monotonic()
    documents = 0
    if args.cost_only:
        report = ingest.ingest(ingest.from_paths([args.cost_only]), workers=args.workers)
        elapsed = time.monotonic() - started
        result = {"corpus": str(args.cost_only), "import_seconds": round(elapsed, 1)}
        result.update(cost_by_tenth(spent))
        print(json.dumps(result, indent=1))
        if args.json:
            args.json.write_text(json.dumps(result, indent=1) + "\n", "utf-8")
        return
    for name in CORPORA:
        counts = convert.convert(name, data_dir / "corpora", persons_empty=True)
        report = ingest.ingest(ingest.from_paths([counts.path]), workers=args.workers)
        documents += sum(1 for item in report.items if item.document_id)
        print(f"imported {name}: {counts.records:,} records", file=sys.stderr)
    elapsed = time.monotonic() - started
    copies.assign = store.copies.assign = original_assign

    story_of = dict(Document.objects.values_list("external_id", "story_id"))
    by_split, by_corpus, kinds, errors = score(gold, story_of)

    members, pinned, _ = copies.load_members()
    curve = []
    for threshold in CURVE:
        for member in members:
            member.story_id = None
        rule = copies.Rule(min_containment=threshold)
        copies.cluster(members, pinned, rule)
        labels = {m.id: m.story_id for m in members}
        by_external = {
            external: labels.get(pk)
            for external, pk in Document.objects.values_list("external_id", "pk")
        }
        split_scores, *_ = score(gold, by_external)
        curve.append(
            {
                "min_containment": threshold,
                **{split: s.as_json() for split, s in sorted(split_scores.items())},
            }
        )

    measured = sum(n for n, _ in spent)
    seconds = sum(s for _, s in spent)
    tail = spent[-max(1, len(spent) // 10) :]
    result = {
        "parameters": copies.PARAMETERS,
        "rule": vars(copies.RULE) if hasattr(copies.RULE, "__dict__") else str(copies.RULE),
        "documents": documents,
        "import_seconds": round(elapsed, 1),
        "stories": Document.objects.values("story").distinct().count(),
        "splits": {split: s.as_json() for split, s in sorted(by_split.items())},
        "by_corpus": {f"{k[0]} {k[1]}": s.as_json() for k, s in sorted(by_corpus.items())},
        "by_kind": {
            f"{k[0]} {k[1]}": {"right": c[True], "wrong": c[False]}
            for k, c in sorted(kinds.items())
        },
        "curve": curve,
        "cost": {
            "documents": measured,
            "ms_per_document": round(1000 * seconds / max(measured, 1), 3),
            "last_tenth_ms_per_document": round(
                1000 * sum(s for _, s in tail) / max(sum(n for n, _ in tail), 1), 3
            ),
        },
        "errors": errors,
    }
    print(json.dumps({k: v for k, v in result.items() if k != "errors"}, indent=1))
    if args.verbose:
        for error in errors:
            print(error)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", "utf-8")


if __name__ == "__main__":
    main()
