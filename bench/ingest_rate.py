"""How fast a bulk export comes in, beside how fast the index is rebuilt from the same archive.

    python bench/scale.py --docs 100000 --out var/bench          # records that carry persons
    python bench/ingest_rate.py var/bench/derived-100000.jsonl    # -> bench/results/ingest-*.md

Runs, as a user would, in a fresh data directory: ``manage.py migrate``, ``manage.py ingest
FILE`` (timed: reading, saving and indexing, to the end of the command), then ``manage.py
rebuild_index`` on the archive it made (timed), and ``manage.py check_index`` (must be clean).
Reports documents/s of both and their ratio. Each command runs as its own process, so the times
include start-up, as a user's would.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"


def run(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="a JSONL export")
    parser.add_argument("--workdir", type=Path, help="data directory (default: a temp one)")
    args = parser.parse_args()
    records = sum(1 for line in args.path.open("rb") if line.strip())
    data_dir = args.workdir or Path(tempfile.mkdtemp(prefix="ingest-rate-"))
    env = {**os.environ, "ARCHIVE_DATA_DIR": str(data_dir), "ARCHIVE_WARM_UP": "0"}
    run(["migrate", "--noinput", "-v0"], env)
    ingest_seconds, ingest_line = run(["ingest", str(args.path)], env)
    rebuild_seconds, rebuild_line = run(["rebuild_index"], env)
    _, check_line = run(["check_index"], env)
    figures = {
        "file": args.path.name,
        "records": records,
        "ingest_seconds": round(ingest_seconds, 1),
        "ingest_documents_per_second": round(records / ingest_seconds, 1),
        "rebuild_seconds": round(rebuild_seconds, 1),
        "rebuild_documents_per_second": round(records / rebuild_seconds, 1),
        "ingest_over_rebuild": round(rebuild_seconds / ingest_seconds, 2),
        "ingest_output": ingest_line,
        "rebuild_output": rebuild_line,
        "check_index": check_line,
        "date": dt.date.today().isoformat(),
        "cpus": os.cpu_count(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / f"ingest-{records}-{figures['date']}"
    stem.with_suffix(".json").write_text(json.dumps(figures, indent=2) + "\n", "utf-8")
    table = (
        f"# Bulk import vs index rebuild, {records:,} records ({args.path.name})\n\n"
        f"`python bench/ingest_rate.py {args.path}` on {figures['date']}, "
        f"{figures['cpus']} CPUs.\n\n"
        "| command | seconds | documents/s |\n|---|---|---|\n"
        f"| `manage.py ingest` (records carry their persons) | {ingest_seconds:,.1f} | "
        f"{records / ingest_seconds:,.1f} |\n"
        f"| `manage.py rebuild_index` (same archive) | {rebuild_seconds:,.1f} | "
        f"{records / rebuild_seconds:,.1f} |\n\n"
        f"Import rate / rebuild rate: {rebuild_seconds / ingest_seconds:.2f}. "
        f"check_index after: {check_line}\n"
    )
    stem.with_suffix(".md").write_text(table, "utf-8")
    print(table)


if __name__ == "__main__":
    main()
