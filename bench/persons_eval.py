"""Document-level precision and recall of person extraction against gold sets.

    python bench/persons_eval.py            # seeds + BBC sample (+ CoNLL-2003 test if present)

Gold sets:
- seeds: the persons of fixtures/seed_articles.json (read and checked by hand), with its aliases
  as acceptable answers ("Musharraf" for "Pervez Musharraf");
- bbc: bench/gold/bbc_persons.json, 40 BBC articles annotated by reading (names only);
- conll2003: ../shared/corpora/conll2003, if present (PER spans of the test set, per document).

Extraction runs as on an empty archive (no known persons), so the figures do not profit from the
fixture's names. Prints a Markdown table; --json writes the figures too.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def seeds_gold() -> tuple[list[str], list[set[str]], dict[str, str]]:
    from archive.ingest import readers

    # The fixture uses natural keys: persons are referred to as [name].
    fixture = json.loads((REPO / "fixtures" / "seed_articles.json").read_text("utf-8"))
    aliases = {
        i["fields"]["name"]: i["fields"]["person"][0]
        for i in fixture
        if i["model"] == "archive.personalias"
    }
    texts, gold = [], []
    by_stem = {
        i["fields"]["external_id"].removeprefix("seed:"): i["fields"]
        for i in fixture
        if i["model"] == "archive.document"
    }
    for path in sorted((SHARED / "seeds").glob("*.txt")):
        draft = readers.read(path.name, ".txt", path.read_bytes())[0]
        texts.append(draft.body)
        names = by_stem[path.stem]["persons"]
        gold.append({name[0] for name in names})
    return texts, gold, aliases


def bbc_gold() -> tuple[list[str], list[set[str]], dict[str, str]]:
    from archive.ingest import readers

    spec = json.loads((REPO / "bench" / "gold" / "bbc_persons.json").read_text("utf-8"))
    root = SHARED / "corpora" / "bbc" / "bbc"
    texts, gold = [], []
    for item in spec["documents"]:
        path = root / item["file"]
        texts.append(readers.read(path.name, ".txt", path.read_bytes())[0].body)
        gold.append(set(item["persons"]))
    return texts, gold, spec.get("aliases", {})


def conll_gold() -> tuple[list[str], list[set[str]], dict[str, str]] | None:
    folder = SHARED / "corpora" / "conll2003"
    candidates = sorted(folder.glob("*test*")) if folder.is_dir() else []
    if not candidates:
        return None
    texts, gold = [], []
    words: list[str] = []
    names: set[str] = set()
    current: list[str] = []

    def close_name():
        if current:
            names.add(" ".join(current))
            current.clear()

    def close_doc():
        close_name()
        if words:
            texts.append(" ".join(words))
            gold.append(set(names))
        words.clear()
        names.clear()

    for line in candidates[0].read_text("utf-8", errors="replace").splitlines():
        if line.startswith("-DOCSTART-"):
            close_doc()
            continue
        parts = line.split()
        if not parts:
            close_name()
            words.append("\n")
            continue
        word, tag = parts[0], parts[-1]
        words.append(word)
        if tag.endswith("PER") and not tag.startswith("B-"):
            current.append(word)
        elif tag == "B-PER":
            close_name()
            current.append(word)
        else:
            close_name()
    close_doc()
    return texts, gold, {}


def score(predicted: list[list[str]], gold: list[set[str]], aliases: dict[str, str]) -> dict:
    canon = {k.casefold(): v.casefold() for k, v in aliases.items()}
    tp = n_pred = n_gold = 0
    misses, extras = [], []
    for names, expected in zip(predicted, gold, strict=True):
        expected_keys = {g.casefold() for g in expected}
        predicted_keys = {canon.get(n.casefold(), n.casefold()) for n in names}
        hits = predicted_keys & expected_keys
        tp += len(hits)
        n_pred += len(predicted_keys)
        n_gold += len(expected_keys)
        misses += sorted(expected_keys - hits)
        extras += sorted(predicted_keys - hits)
    precision = tp / n_pred if n_pred else 1.0
    recall = tp / n_gold if n_gold else 1.0
    return {
        "documents": len(gold),
        "gold": n_gold,
        "predicted": n_pred,
        "correct": tp,
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "missed": misses,
        "extra": extras,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--verbose", action="store_true", help="list missed and extra names")
    args = parser.parse_args()

    import django

    django.setup()
    from archive.ingest import persons

    sets = {"seeds": seeds_gold}
    if (REPO / "bench" / "gold" / "bbc_persons.json").exists():
        sets["bbc"] = bbc_gold
    results = {}
    for name, load in [*sets.items(), ("conll2003", conll_gold)]:
        loaded = load()
        if loaded is None:
            print(f"({name}: not present, skipped)", file=sys.stderr)
            continue
        texts, gold, aliases = loaded
        started = time.monotonic()
        ours = persons.extract(texts)
        elapsed = time.monotonic() - started
        raw = [
            sorted({t for t, label in ents if label == "PERSON"})
            for ents in persons.raw_entities(texts)
        ]
        results[name] = {
            "ours": score(ours, gold, aliases),
            "raw_spacy": score(raw, gold, aliases),
            "seconds": round(elapsed, 2),
        }

    print("| gold set | documents | gold names | precision | recall | raw spaCy P | raw spaCy R |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        ours, raw = r["ours"], r["raw_spacy"]
        print(
            f"| {name} | {ours['documents']} | {ours['gold']} | {ours['precision']:.3f} | "
            f"{ours['recall']:.3f} | {raw['precision']:.3f} | {raw['recall']:.3f} |"
        )
    if args.verbose:
        for name, r in results.items():
            print(f"\n{name} missed: {r['ours']['missed']}\n{name} extra: {r['ours']['extra']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", "utf-8")


if __name__ == "__main__":
    main()
