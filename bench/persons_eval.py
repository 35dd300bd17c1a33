"""How good the extracted persons, organisations and places are, measured on gold sets read by
people, through the real import pipeline.

    python bench/persons_eval.py                 # both halves of the entity gold, and more
    python bench/persons_eval.py --ceiling       # also spaCy's own nlp.pipe rate on the texts
    python bench/persons_eval.py --speed-only --bbc 500 --reuters 500   # the rates only, quick

What it does: imports the whole BBC corpus (2,225 files, ``--publication "BBC News"``) and a
sample of Reuters-21578 (``--reuters N`` stories in corpus order plus the gold ones, their PEOPLE
tags removed so that names are extracted) into a fresh archive with ``manage.py ingest``'s
pipeline (two worker processes), which ends with the archive-level resolution pass; then reads
each gold document's persons, organisations and places from the database and scores them.

Gold sets:
- entities: ``bench/gold/entities.json``, 124 articles read by people (conventions in
  ``bench/gold/CONVENTIONS.md``),
  split once into ``dev`` (rules were tuned on it) and ``heldout`` (only reported);
- fresh: ``bench/gold/entities_fresh.json``, 50 more articles read the same way (drawn by
  ``bench/gold_sample.py --fresh`` on 2026-12-07, when the first held-out half had been read in
  many reports), a second held-out set: only reported;
- bbc40: ``bench/gold/bbc_persons.json``, the 40 BBC articles the per-document person rules were
  tuned on (persons only);
- seeds: the persons of ``fixtures/seed_articles.json``, with its aliases.

Scoring is per document and kind: a value matches a gold value when equal (any case) or when it
is a gold value's alias; a gold value the article only gives as a surname matches the full name
the archive joined it to; an acronym matches its written-out name, either way ("EU", "European
Union": one value, named as most documents write it), so does a party with and without "Party"
or a plural ("Conservatives", "Conservative Party"), and an initialism matches itself without
its dots; names marked ``uncertain`` are ignored. Raw spaCy (every PERSON, ORG
and GPE/LOC span as it comes) is scored the same way, as the baseline. Also reported: documents/s
of the import, the number of surname-only person values whose full name the archive knows
unambiguously (the target is none), and the inferred dates of the BBC documents.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO))

KINDS = {"person": "persons", "organisation": "organisations", "place": "places"}


def fold(text: str) -> str:
    # The gold was read from the files as they are ("B&#233;ziers"); the import decodes the
    # character references a scrape left ("Béziers"), and compares names without accents
    # (one value for "José" and "Jose", under the spelling the archive uses most).
    from archive.ingest.text import fold_name  # after django.setup() in main()

    return fold_name(html.unescape(text))


def _partial_of(short: str, long: str) -> bool:
    """Whether a gold value that the article gives only as a surname ("Blair") is the last word
    of a found name ("Tony Blair"): the archive joined the surname to the full name. A found
    name with other words around a gold full name ("Howard Tony Blair", "Making Michael
    Howard") is not that name. Likewise a gold initial and surname from a team sheet ("C
    Hodgson") is the found full name with that initial and surname ("Charlie Hodgson")."""
    if " " not in short.strip():
        return fold(long.split()[-1]) == fold(short)
    initial, *rest = short.split()
    words = long.split()
    return (
        len(initial.rstrip(".")) == 1
        and len(words) == len(rest) + 1
        and fold(words[0])[:1] == fold(initial)[:1]
        and [fold(w) for w in words[1:]] == [fold(w) for w in rest]
    )


def name_key(name: str) -> str:
    """How a found name is compared with the gold: folded (case, spacing, accents), and an
    initialism without its dots ("U.S." is "US"), which is spelling, not another name: the
    archive names a value in the form most of its documents write, the gold in the form its
    article writes."""
    from archive.ingest.text import initialism_letters  # after django.setup() in main()

    return fold(initialism_letters(name) or name)


def _party(name: str) -> str:
    """A party's name without "Party", in the singular ("Conservatives", "Conservative Party"
    -> "conservative"; "Tories" -> "tory"): the scorer's side of resolution's one value per
    party."""
    from archive.ingest.resolution import singular  # after django.setup() in main()

    return singular(fold(name).removesuffix(" party"))


def _acronym_of(short: str, long: str) -> bool:
    """Whether ``short`` is the acronym of ``long`` ("EU", "European Union")."""
    from archive.ingest.text import initialism_letters, initials_of  # after django.setup()

    letters = initialism_letters(short)
    return bool(letters) and initials_of(long) == letters


def score_document(
    predicted, gold, aliases=None, uncertain=(), parties=False
) -> tuple[int, int, int, list, list]:
    """(correct, predicted, gold, missed, extra) for one document and kind; ``parties``: for
    organisations, a party's alias counts in any of its forms ("Tory" for "Tories")."""
    alias = {name_key(a): name_key(c) for a, c in (aliases or {}).items()}
    # A party's alias in another of its forms: "Tory" for the article's "Tories".
    party_alias = {_party(a): name_key(c) for a, c in (aliases or {}).items()} if parties else {}
    ignored = {name_key(u) for u in uncertain}
    expected = {name_key(g) for g in gold}
    found = set()
    for name in predicted:
        key = alias.get(name_key(name)) or party_alias.get(_party(name), name_key(name))
        if key in ignored:
            continue
        if key not in expected:
            partial = [g for g in expected if _partial_of(g, key)]
            if len(partial) == 1:
                key = partial[0]
        if key not in expected:
            # An acronym and its written-out name are one value, named as most of the archive's
            # documents write it; the gold writes what its article writes ("EU" for a found
            # "European Union").
            same = [
                g
                for g in gold
                if _acronym_of(g, name) or _acronym_of(name, g) or _party(g) == _party(name)
            ]
            if len(same) == 1:
                key = name_key(same[0])
        found.add(key)
    hits = found & expected
    return len(hits), len(found), len(expected), sorted(expected - hits), sorted(found - hits)


class Tally:
    def __init__(self) -> None:
        self.correct = self.predicted = self.gold = 0
        self.missed: list[str] = []
        self.extra: list[str] = []

    def add(self, result, where: str) -> None:
        correct, predicted, gold, missed, extra = result
        self.correct += correct
        self.predicted += predicted
        self.gold += gold
        self.missed += [f"{m} ({where})" for m in missed]
        self.extra += [f"{e} ({where})" for e in extra]

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.gold if self.gold else 1.0

    def as_dict(self) -> dict:
        return {
            "gold": self.gold,
            "predicted": self.predicted,
            "correct": self.correct,
            "precision": round(self.precision, 3),
            "recall": round(self.recall, 3),
            "missed": self.missed,
            "extra": self.extra,
        }


def bbc_files() -> list[Path]:
    return sorted((SHARED / "corpora/bbc/bbc").glob("*/*.txt"))


def reuters_records(count: int, gold_ids: set[str]) -> list[dict]:
    from bench.convert import reuters

    records = []
    for record in reuters(SHARED / "corpora/reuters21578/sgm-data"):
        if record["external_id"] in gold_ids or len(records) < count:
            record.pop("persons", None)  # extract, do not take the PEOPLE tags
            records.append(record)
    return records


def spacy_ceiling(files: list[Path], records: list[dict], workers: int) -> dict:
    """spaCy's own nlp.pipe rate on the texts the import reads (the BBC files and the Reuters
    records), in ``workers`` processes."""
    from archive.ingest import persons, readers
    from archive.ingest.pipeline import _extraction_text

    all_texts = [readers.read(p.name, ".txt", p.read_bytes())[0].body for p in files]
    all_texts += [_extraction_text(readers.record_to_draft("", r)) for r in records]
    started = time.monotonic()
    for _ in persons.nlp().pipe(
        (t[: persons.MAX_CHARS] for t in all_texts), batch_size=32, n_process=workers
    ):
        pass
    spent = time.monotonic() - started
    return {
        "documents": len(all_texts),
        "seconds": round(spent, 1),
        "documents_per_second": round(len(all_texts) / spent, 1),
        "n_process": workers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reuters", type=int, default=2000, help="Reuters stories to import")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, help="archive directory (default: a temp one)")
    parser.add_argument("--ceiling", action="store_true", help="also time spaCy's nlp.pipe")
    parser.add_argument(
        "--seeds-only", action="store_true", help="import and score only the two seeds (fast)"
    )
    parser.add_argument(
        "--speed-only",
        action="store_true",
        help="only the import and spaCy's nlp.pipe rate on the same texts (no scoring), to "
        "iterate on speed; with --bbc N, only the first N BBC files",
    )
    parser.add_argument("--bbc", type=int, help="with --speed-only: BBC files to import")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --data-dir holding an archive this script imported: no import, only the "
        "archive-level resolution pass again (manage.py resolve_entities --recount-words), then "
        "the scores: to "
        "iterate on resolution rules (extraction rules need a new import)",
    )
    parser.add_argument("--verbose", action="store_true", help="list missed and extra names")
    args = parser.parse_args()

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="persons-eval-"))
    os.environ["ARCHIVE_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from archive import ingest
    from archive.ingest import readers, resolution
    from archive.ingest.pipeline import _extraction_text
    from archive.models import Document, Person, content_hash

    call_command("migrate", verbosity=0)
    gold_spec = json.loads((REPO / "bench/gold/entities.json").read_text("utf-8"))["documents"]
    fresh = REPO / "bench/gold/entities_fresh.json"
    if fresh.exists():
        gold_spec += json.loads(fresh.read_text("utf-8"))["documents"]
    splits = [s for s in ("dev", "heldout", "fresh") if any(d["split"] == s for d in gold_spec)]
    gold_ids = {d["file"] for d in gold_spec if d["file"].startswith("reuters:")}
    records = reuters_records(args.reuters, gold_ids)
    jsonl = data_dir / "reuters-sample.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    files = bbc_files()
    seeds = sorted((SHARED / "seeds").glob("*.txt"))
    if args.speed_only and args.bbc is not None:
        files = files[: args.bbc]

    started = time.monotonic()
    if args.reuse:
        if args.data_dir is None or not Document.objects.exists():
            parser.error("--reuse needs --data-dir with an archive imported by this script")
        from archive.ingest import wordcase

        print(f"Words counted in {wordcase.recount():,} documents", file=sys.stderr)
        print(resolution.resolve_archive().summary(), file=sys.stderr)
        report = report_reuters = report_seeds = ingest.IngestReport()
    elif args.seeds_only:
        report = report_reuters = ingest.IngestReport()
    else:
        report = ingest.ingest(
            ingest.from_paths(
                files if args.speed_only and args.bbc is not None else [SHARED / "corpora/bbc/bbc"]
            ),
            publication="BBC News",
            workers=args.workers,
        )
        report_reuters = ingest.ingest(ingest.from_paths([jsonl]), workers=args.workers)
    if not args.reuse:
        report_seeds = ingest.ingest(ingest.from_paths(seeds), workers=1)
    elapsed = time.monotonic() - started
    documents = (
        sum(1 for r in (report, report_reuters, report_seeds) for i in r.items if i.document_id)
        or Document.objects.count()
    )
    what = "Resolved again" if args.reuse else "Imported"
    print(
        f"{what} {documents:,} documents in {elapsed:,.1f} s "
        f"({documents / elapsed:,.1f} documents/s, resolution included)",
        file=sys.stderr,
    )

    def document_for(key: str) -> Document | None:
        if key.startswith("reuters:"):
            return Document.objects.filter(external_id=key).first()
        path = SHARED / "corpora/bbc/bbc" / key
        body = readers.read(path.name, ".txt", path.read_bytes())[0].body
        return Document.objects.filter(content_hash=content_hash(body)).first()

    def entities_of(document: Document) -> dict[str, list[str]]:
        return {
            "person": [p.name for p in document.persons.all()],
            "organisation": [o.name for o in document.organisations.all()],
            "place": [p.name for p in document.places.all()],
        }

    results: dict[str, dict] = {}
    fixture = json.loads((REPO / "fixtures/seed_articles.json").read_text("utf-8"))
    seed_aliases = {
        i["fields"]["name"]: i["fields"]["person"][0]
        for i in fixture
        if i["model"] == "archive.personalias"
    }
    tally_seeds = Tally()
    for item in fixture:
        if item["model"] != "archive.document":
            continue
        stem = item["fields"]["external_id"].removeprefix("seed:")
        path = SHARED / "seeds" / f"{stem}.txt"
        body = readers.read(path.name, ".txt", path.read_bytes())[0].body
        document = Document.objects.filter(content_hash=content_hash(body)).first()
        gold = [name[0] for name in item["fields"]["persons"]]
        tally_seeds.add(score_document(entities_of(document)["person"], gold, seed_aliases), stem)
    results["seeds"] = {"person": {"ours": tally_seeds.as_dict()}}

    if args.speed_only:
        ceiling = spacy_ceiling(files, records, args.workers)
        rate = documents / elapsed
        print(f"Import: {documents:,} documents, {elapsed:,.1f} s, {rate:,.1f} documents/s")
        print(f"spaCy nlp.pipe alone: {ceiling}")
        print(f"Import rate / ceiling: {rate / ceiling['documents_per_second']:.0%}")
        return
    if args.seeds_only:
        ours = results["seeds"]["person"]["ours"]
        print(f"seeds: precision {ours['precision']:.3f}, recall {ours['recall']:.3f}")
        if args.json:
            args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        return
    # Raw spaCy, on the same texts.
    from archive.ingest import persons

    gold_docs = [(item, document_for(item["file"])) for item in gold_spec]
    texts = [
        _extraction_text(readers.record_to_draft("", {"title": d.title, "body": d.body}))
        for _, d in gold_docs
    ]
    raw = persons.raw_entities(texts)

    for split in splits:
        ours = {kind: Tally() for kind in KINDS}
        baseline = {kind: Tally() for kind in KINDS}
        for (item, document), ents in zip(gold_docs, raw, strict=True):
            if item["split"] != split:
                continue
            uncertain = [u["name"] for u in item["uncertain"]]
            found = entities_of(document)
            raw_by_kind = {
                "person": [t for t, label in ents if label == "PERSON"],
                "organisation": [t for t, label in ents if label == "ORG"],
                "place": [t for t, label in ents if label in ("GPE", "LOC")],
            }
            for kind, key in KINDS.items():
                ours[kind].add(
                    score_document(
                        found[kind], item[key], item["aliases"], uncertain, kind == "organisation"
                    ),
                    item["file"],
                )
                baseline[kind].add(
                    score_document(
                        raw_by_kind[kind],
                        item[key],
                        item["aliases"],
                        uncertain,
                        kind == "organisation",
                    ),
                    item["file"],
                )
        results[split] = {
            kind: {"ours": ours[kind].as_dict(), "raw_spacy": baseline[kind].as_dict()}
            for kind in KINDS
        }

    bbc40 = json.loads((REPO / "bench/gold/bbc_persons.json").read_text("utf-8"))
    tally40 = Tally()
    for item in bbc40["documents"]:
        document = document_for(item["file"])
        tally40.add(score_document(entities_of(document)["person"], item["persons"]), item["file"])
    results["bbc40"] = {"person": {"ours": tally40.as_dict()}}

    # Surname-only person values whose full name the archive knows unambiguously.
    evidence = resolution.Evidence.from_db()
    decisions = resolution.Decisions.from_db()
    lone = []
    for name in Person.objects.exclude(name__contains=" ").filter(documents__isnull=False):
        if full := resolution.joinable_lone_name(name.name, evidence, decisions):
            lone.append(f"{name.name} -> {full}")
    results["lone_surnames_joinable"] = sorted(set(lone))

    bbc_dates = Counter()
    for document in Document.objects.filter(publication__name="BBC News"):
        if document.published is None:
            bbc_dates["undated"] += 1
        elif not document.date_inferred:
            bbc_dates["stated"] += 1
        elif 2004 <= document.published.year <= 2005:
            bbc_dates["inferred, 2004-2005"] += 1
        else:
            bbc_dates["inferred, other years"] += 1
    results["bbc_dates"] = dict(bbc_dates)
    results["import"] = {
        "documents": documents,
        "seconds": round(elapsed, 1),
        "documents_per_second": round(documents / elapsed, 1),
        "workers": args.workers,
        "reused": args.reuse,  # True: no import, only the resolution pass was timed
    }

    if args.ceiling:
        results["spacy_ceiling"] = spacy_ceiling(files, records, args.workers)

    print("| half | kind | documents | gold | precision | recall | raw spaCy P | raw spaCy R |")
    print("|---|---|---|---|---|---|---|---|")
    for split in splits:
        n = sum(1 for item in gold_spec if item["split"] == split)
        for kind in KINDS:
            ours, base = results[split][kind]["ours"], results[split][kind]["raw_spacy"]
            print(
                f"| {split} | {kind} | {n} | {ours['gold']} | {ours['precision']:.3f} | "
                f"{ours['recall']:.3f} | {base['precision']:.3f} | {base['recall']:.3f} |"
            )
    for name, count in (("bbc40", len(bbc40["documents"])), ("seeds", 2)):
        ours = results[name]["person"]["ours"]
        print(
            f"| {name} | person | {count} | {ours['gold']} | {ours['precision']:.3f} | "
            f"{ours['recall']:.3f} | | |"
        )
    print(f"\nSurname-only values the archive could join: {len(results['lone_surnames_joinable'])}")
    print(f"BBC dates: {results['bbc_dates']}")
    print(f"Import: {results['import']}")
    if "spacy_ceiling" in results:
        ceiling = results["spacy_ceiling"]["documents_per_second"]
        print(f"spaCy nlp.pipe alone: {results['spacy_ceiling']}")
        print(f"Import rate / ceiling: {results['import']['documents_per_second'] / ceiling:.0%}")
    if args.verbose:
        for split in splits:
            for kind in KINDS:
                ours = results[split][kind]["ours"]
                print(f"\n{split} {kind} missed: {ours['missed']}")
                print(f"{split} {kind} extra: {ours['extra']}")
        print(f"\nlone surnames: {results['lone_surnames_joinable']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", "utf-8")


if __name__ == "__main__":
    main()
