"""How the readers date documents: stated dates, inferred dates, and how many inferred dates are
plausible.

    python bench/dates_eval.py ../shared/corpora/bbc/bbc --expect 2004-2005
    python bench/dates_eval.py ../shared/corpora/bbc/bbc/{sport,tech} --expect 2004-2005 --show
    python bench/dates_eval.py ../shared/seeds
    python bench/dates_eval.py --reuters 'reut2-*.sgm' --expect 1987-1987 [--strip-dateline-date]
    python bench/dates_eval.py --jsonl ../shared/corpora/scifact/corpus.jsonl

Every ``.txt``, ``.html``, ``.htm`` and ``.pdf`` file under the given folders (or the given files)
goes through the project's reader (``archive.ingest.readers.read``), exactly as ``manage.py
ingest`` reads it. Each document is counted as *stated* (the source gives its date), *inferred*
(read from the text, shown as "inferred") or *undated*; with ``--expect FIRST-LAST`` the inferred
dates are checked against the years the corpus is known to be published in. ``--show`` lists the
inferred dates (``--show-all`` also those within the range) with the text around them.

``--reuters GLOB`` reads Reuters-21578 SGML files (through ``bench/convert.py``) instead: each story
becomes a plain-text file (title, blank line, body opening with its dateline, "SALVADOR, Feb 26
-") and goes through the same reader; ``--strip-dateline-date`` removes the day from the dateline
("SALVADOR -"). The corpus gives each story's true date, so inferred dates are also compared with
it (exact, within a week, later than the truth). ``--jsonl FILE`` reads records of the archive's
bulk format or a BEIR corpus (``title`` and ``body`` or ``text``) as plain text the same way: a
corpus with no publication dates in its texts (SciFact abstracts) should stay undated.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

EXTENSIONS = (".txt", ".html", ".htm", ".pdf")
REUTERS = SHARED / "corpora" / "reuters21578" / "sgm-data"
_DATELINE_DAY = re.compile(
    r"\A(?P<place>[^\n]{1,60}?),\s+[A-Z][a-z]{2,8}\.?\s+\d{1,2}\s*-", re.MULTILINE
)


@dataclass
class Item:
    name: str
    body: str = ""
    published: dt.date | None = None
    inferred: bool = False
    truth: dt.date | None = None
    failed: str = ""


@dataclass
class Tally:
    documents: int = 0
    duplicates: int = 0
    failed: int = 0
    stated: int = 0
    inferred: int = 0
    undated: int = 0
    in_range: int = 0
    exact: int = 0
    within_week: int = 0
    after_truth: int = 0
    with_truth: int = 0
    shown: list[Item] = field(default_factory=list)


def files(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            # A corpus's README (the BBC folder has one) is no article.
            found = path.rglob("*")
            yield from sorted(
                p
                for p in found
                if p.suffix.lower() in EXTENSIONS and not p.name.upper().startswith("README")
            )
        else:
            yield path


def read_files(paths: list[Path]) -> Iterator[Item]:
    from archive.ingest import readers
    from archive.ingest.drafts import ReadError

    for path in files(paths):
        name = f"{path.parent.name}/{path.name}"
        try:
            results = readers.read(name, path.suffix.lower(), path.read_bytes())
        except ReadError as exc:
            yield Item(name, failed=str(exc))
            continue
        for result in results:
            if isinstance(result, ReadError):
                yield Item(name, failed=str(result))
            else:
                yield Item(name, result.body, result.published, result.date_inferred)


def read_reuters(pattern: str, strip_day: bool, limit: int | None) -> Iterator[Item]:
    from archive.ingest import readers
    from archive.ingest.drafts import ReadError
    from bench import convert

    for number, record in enumerate(convert.reuters(REUTERS, pattern)):
        if limit is not None and number >= limit:
            return
        body = record["body"]
        if strip_day:
            body = _DATELINE_DAY.sub(r"\g<place> -", body, count=1)
        truth = dt.date.fromisoformat(record["published"]) if "published" in record else None
        name = record["external_id"]
        try:
            draft = readers.from_plain_text(name, f"{record['title']}\n\n{body}")
        except ReadError as exc:
            yield Item(name, failed=str(exc), truth=truth)
            continue
        yield Item(name, draft.body, draft.published, draft.date_inferred, truth)


def read_jsonl(path: Path) -> Iterator[Item]:
    import json

    from archive.ingest import readers
    from archive.ingest.drafts import ReadError

    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            record = json.loads(line)
            name = f"{path.name} line {number}"
            raw = f"{record.get('title') or ''}\n\n{record.get('body') or record.get('text') or ''}"
            published = record.get("published")
            truth = dt.date.fromisoformat(published[:10]) if published else None
            try:
                draft = readers.from_plain_text(name, raw)
            except ReadError as exc:
                yield Item(name, failed=str(exc), truth=truth)
                continue
            yield Item(name, draft.body, draft.published, draft.date_inferred, truth)


def tally(
    items: Iterator[Item], expect: tuple[int, int] | None, show: str, keep_duplicates: bool = False
) -> Tally:
    counts = Tally()
    seen: set[str] = set()
    for item in items:
        # As ``manage.py ingest`` does, a text already read (case and spacing aside) is counted
        # once: the BBC corpus has 98 exact duplicates.
        key = " ".join(item.body.lower().split())
        if item.body and not keep_duplicates and key in seen:
            counts.duplicates += 1
            continue
        seen.add(key)
        counts.documents += 1
        if item.failed:
            counts.failed += 1
        elif item.published is None:
            counts.undated += 1
        elif not item.inferred:
            counts.stated += 1
        else:
            counts.inferred += 1
            plausible = expect is None or expect[0] <= item.published.year <= expect[1]
            counts.in_range += plausible
            if item.truth is not None:
                counts.with_truth += 1
                counts.exact += item.published == item.truth
                counts.within_week += abs((item.published - item.truth).days) <= 7
                counts.after_truth += item.published > item.truth
            if show == "all" or (show == "wrong" and not plausible):
                counts.shown.append(item)
    return counts


def _context(item: Item) -> str:
    from archive.ingest import dates

    spots = [p for p, d in dates.full_dates(item.body) if d == item.published]
    at = spots[0] if spots else 0
    return " ".join(item.body[max(0, at - 100) : at + 60].split())


def report(label: str, counts: Tally, expect: tuple[int, int] | None) -> None:
    print(
        f"{label}: {counts.documents:,} documents ({counts.failed} unreadable, "
        f"{counts.duplicates} duplicates left out)"
    )
    print(f"  stated dates    {counts.stated:>6,}")
    print(f"  inferred dates  {counts.inferred:>6,}")
    print(f"  undated         {counts.undated:>6,}")
    if expect is not None:
        share = f"{counts.in_range / counts.inferred:.1%}" if counts.inferred else "n/a"
        span = f"{expect[0]}-{expect[1]}"
        print(f"  inferred within {span}: {counts.in_range:,} of {counts.inferred:,} ({share})")
    if counts.with_truth:
        n = counts.with_truth
        print(
            f"  against the true date: {counts.exact} exact, {counts.within_week} within 7 days, "
            f"{counts.after_truth} later than the truth (of {n} inferred)"
        )
    for item in counts.shown:
        truth = f" (true {item.truth})" if item.truth else ""
        print(f"    {item.name}: {item.published}{truth}  …{_context(item)}…")


def parse_range(value: str) -> tuple[int, int]:
    first, _, last = value.partition("-")
    return int(first), int(last or first)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="folders or files to read")
    parser.add_argument("--expect", type=parse_range, help="years the corpus is published in")
    parser.add_argument("--show", action="store_true", help="list inferred dates out of range")
    parser.add_argument("--show-all", action="store_true", help="list every inferred date")
    parser.add_argument("--reuters", metavar="GLOB", help="Reuters-21578 SGML files to read")
    parser.add_argument("--strip-dateline-date", action="store_true")
    parser.add_argument("--limit", type=int, help="at most this many Reuters stories")
    parser.add_argument("--keep-duplicates", action="store_true", help="count every copy")
    parser.add_argument("--jsonl", type=Path, help="a JSONL file of title/body (or text) records")
    args = parser.parse_args(argv)
    if not args.paths and not args.reuters and not args.jsonl:
        parser.error("give folders or files, --reuters GLOB or --jsonl FILE")

    import django

    django.setup()
    show = "all" if args.show_all else "wrong" if args.show else ""
    if args.reuters:
        items = read_reuters(args.reuters, args.strip_dateline_date, args.limit)
        report(
            f"reuters {args.reuters}",
            tally(items, args.expect, show, args.keep_duplicates),
            args.expect,
        )
    if args.jsonl:
        report(
            str(args.jsonl),
            tally(read_jsonl(args.jsonl), args.expect, show, args.keep_duplicates),
            args.expect,
        )
    if args.paths:
        label = " ".join(str(p) for p in args.paths)
        report(
            label,
            tally(read_files(args.paths), args.expect, show, args.keep_duplicates),
            args.expect,
        )


if __name__ == "__main__":
    main()
