"""The benchmark's 1,000-document smoke run, so bench/ cannot rot. No timing assertions: only that
every step runs, every query class is measured, and the engines agree on what they found."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO, SHARED

pytestmark = pytest.mark.skipif(
    not (SHARED / "corpora").is_dir(), reason="../shared/corpora is not present"
)

QUERY_CLASSES = {
    "rare word",
    "common word",
    "two words",
    "phrase",
    "prefix",
    "person filter",
    "two publications + year",
    "browse",
}


def test_benchmark_smoke_run(tmp_path):
    corpus_dir = tmp_path / "corpus"
    subprocess.run(
        [sys.executable, "bench/scale.py", "--docs", "1000", "--out", str(corpus_dir)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    out = tmp_path / "results"
    subprocess.run(
        [
            sys.executable,
            "bench/run.py",
            "--docs",
            "1000",
            "--corpus",
            str(corpus_dir / "derived-1000.jsonl"),
            "--repeat",
            "2",
            "--out",
            str(out),
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    [report_file] = out.glob("1000-*.json")
    report = json.loads(report_file.read_text())
    assert report["documents"] == 1000
    assert set(report["ours"]) == QUERY_CLASSES
    for name, ours in report["ours"].items():
        assert report["http"]["queries"][name]["total"] == ours["total"], name
        # The straightforward Whoosh way analyses text as the site does: the same hits exactly.
        naive = report["alternatives"]["whoosh-naive"]["queries"][name]["total"]
        assert naive == ours["total"], name
        # FTS5 (Porter) and tantivy (Snowball, as the site but with other tokens) differ a
        # little: they find about the same.
        for engine in ("sqlite-fts5", "tantivy"):
            theirs = report["alternatives"][engine]["queries"][name]["total"]
            assert (theirs > 0) == (ours["total"] > 0), (engine, name, theirs, ours["total"])
    assert report["ours"]["browse"]["total"] == 1000
    assert report["ours"]["common word"]["total"] > 300
    assert report["http"]["save_to_searchable_ms"] > 0
    assert report["http"]["server"] == "gunicorn"  # as `make serve` runs it
    assert (out / "latest-1000.md").read_text().startswith("# Search benchmark: 1,000 documents")
