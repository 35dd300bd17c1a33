"""The benchmark corpora (bench/convert.py, bench/scale.py) are in the archive's JSONL format,
or a benchmark would measure failed imports: the converters run on the real corpora in
../shared and a small derived corpus is built, all into a temporary directory."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from archive.ingest.readers import record_to_draft
from bench import convert, scale

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
CORPORA = SHARED / "corpora"

pytestmark = pytest.mark.skipif(
    not CORPORA.is_dir(), reason=f"{CORPORA} is not present: the converters read real corpora"
)

FIELDS = {"title", "body", "published", "publication", "url", "persons", "external_id"}


def read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def check_format(records: list[dict], prefix: str) -> None:
    """Every record is valid bulk format, and the archive's own reader takes it as it is."""
    assert records
    ids = [r["external_id"] for r in records]
    assert len(set(ids)) == len(ids), "external_ids are not unique"
    for record in records:
        assert set(record) <= FIELDS, record.keys()
        assert isinstance(record["title"], str) and record["title"].strip(), record
        assert isinstance(record["body"], str) and record["body"].strip(), record
        assert record["external_id"].startswith(prefix)
        if "published" in record:
            assert len(record["published"]) == 10
            dt.date.fromisoformat(record["published"])
        if "publication" in record:
            assert isinstance(record["publication"], str) and record["publication"]
        if "url" in record:
            assert record["url"].startswith(("http://", "https://"))
        if "persons" in record:
            persons = record["persons"]
            assert isinstance(persons, list) and all(isinstance(p, str) and p for p in persons)
        draft = record_to_draft(record["external_id"], record)
        assert not draft.warnings, draft.warnings


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> Path:
    """All four corpora converted; Reuters from one of its 22 files, to stay quick."""
    out = tmp_path_factory.mktemp("converted")
    for name in convert.NAMES:
        convert.convert(name, out, CORPORA, reuters_files="reut2-000.sgm")
    return out


def test_reuters(converted):
    records = read(converted / "reuters.jsonl")
    check_format(records, "reuters:")
    assert len(records) == 1000  # reut2-000.sgm holds NEWID 1..1000
    first = records[0]
    assert first["title"] == "BAHIA COCOA REVIEW"
    assert first["published"] == "1987-02-26"
    assert first["publication"] == "Reuters"
    assert first["body"].startswith("SALVADOR, Feb 26 - Showers continued throughout the week in")
    assert "\n\nThe dry period means the temporao will be late this year." in first["body"]
    assert all(r["published"].startswith("1987-") for r in records)
    # The wire's control characters, entities and "Reuter" sign-off are gone.
    for record in records:
        text = record["title"] + record["body"]
        assert "&#" not in text and "&lt;" not in text
        assert all(ch in "\n" or " " <= ch <= "~" for ch in text), record["external_id"]
        assert not record["body"].rstrip(". ").lower().endswith("\nreuter")
    by_id = {r["external_id"]: r for r in records}
    assert by_id["reuters:348"]["persons"] == ["Brodersohn", "James Baker", "Volcker", "Camdessus"]
    assert by_id["reuters:248"]["persons"] == ["Hisham Nazer"]
    assert "persons" not in first  # no PEOPLE tag: the archive extracts names
    # BRIEF items (headline only, "Blah blah blah." in the corpus) keep the headline as body.
    briefs = [r for r in records if r["body"] == r["title"]]
    assert briefs and not any("Blah blah" in r["body"] for r in records)


def test_reuters_cli_broken_bytes_and_persons_empty(tmp_path):
    """reut2-017.sgm has the one byte above 0x7F, beside control characters: it is dropped."""
    done = subprocess.run(
        [
            sys.executable,
            "bench/convert.py",
            "reuters",
            "--out",
            str(tmp_path),
            "--reuters-files",
            "reut2-017.sgm",
            "--persons-empty",
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    assert "reuters" in done.stdout and "records" in done.stdout
    records = read(tmp_path / "reuters.jsonl")
    check_format(records, "reuters:")
    assert len(records) == 1000
    assert all(isinstance(r["persons"], list) for r in records)
    assert all(r["body"].isascii() and r["title"].isascii() for r in records)
    [lawson] = [r for r in records if "Louvre agreement by the Group of Seven" in r["body"]]
    assert "growth.side measures" in lawson["body"]


def test_bbc(converted):
    records = read(converted / "bbc.jsonl")
    check_format(records, "bbc:")
    assert len(records) == 2225
    assert not any("published" in r or "persons" in r for r in records)
    assert {r["publication"] for r in records} == {"BBC News"}
    by_id = {r["external_id"]: r for r in records}
    first = by_id["bbc:business/001"]
    assert first["title"] == "Ad sales boost Time Warner profit"
    assert first["body"].startswith("Quarterly profits at US media giant TimeWarner jumped 76%")
    assert "\n\nThe firm, which is now one of the biggest investors in Google" in first["body"]
    assert "£15.8m" in by_id["bbc:sport/199"]["body"]  # the one latin-1 file


def test_bbc_persons_empty(tmp_path):
    counts = convert.convert("bbc", tmp_path, CORPORA, persons_empty=True)
    assert counts.records == 2225
    records = read(tmp_path / "bbc.jsonl")
    assert all(r["persons"] == [] for r in records)
    assert list(records[0]) == ["title", "body", "publication", "persons", "external_id"]


def test_headlines(converted):
    records = read(converted / "headlines.jsonl")
    check_format(records, "headlines:")
    assert len(records) == 10037
    assert all(r["body"] == r["title"] and r["url"] and r["publication"] for r in records)
    assert records[0]["external_id"] == "headlines:0"
    assert records[0]["published"] == "2022-07-11"  # timestamp 1657513103, as a UTC day
    assert records[0]["publication"] == "techcrunch.com"
    days = sorted(r["published"] for r in records)
    assert "2021-11-16" <= days[0] <= days[-1] <= "2022-07-12"


def test_scifact(converted):
    records = read(converted / "scifact.jsonl")
    check_format(records, "scifact:")
    assert len(records) == 5183
    assert {r["publication"] for r in records} == {"SciFact"}
    assert not any("published" in r for r in records)


@pytest.fixture(scope="module")
def derived(converted) -> Path:
    scale.build(500, converted, seed=1)
    return converted


def test_scale_small(derived):
    records = read(derived / "derived-500.jsonl")
    check_format(records, "derived:")
    assert [r["external_id"] for r in records] == [f"derived:{n}" for n in range(500)]
    for record in records:
        assert "1980-01-01" <= record["published"] <= "2025-12-31"
        assert len(record["persons"]) <= 5 and len(set(record["persons"])) == len(record["persons"])
        assert 3 <= len(record["body"].split("\n\n")) <= 8
        assert "[derived]" not in record["title"] + record["body"]
    # About 350 words with all of Reuters; more here, where Reuters is one file in 22.
    words = sum(len(r["body"].split()) for r in records) / len(records)
    assert words > 250
    assert len({r["publication"] for r in records}) > 50  # long tail
    assert sum(bool(r["persons"]) for r in records) > 300
    meta = json.loads((derived / "derived-500.meta.json").read_text())
    assert meta["derived"] is True and meta["documents"] == 500 and meta["seed"] == 1
    assert meta["output"]["body_words_mean"] == round(words, 1)
    assert set(meta["sources"]) == set(convert.NAMES)
    common = meta["most_common_words"]["document_frequency"]
    assert len(common) == 5 and max(common.values()) > 0.3
    top = max(common, key=common.get)
    share = sum(top in f"{r['title']} {r['body']}".lower() for r in records) / len(records)
    assert share >= common[top]  # substring matches are a superset of word matches


def test_scale_is_deterministic(derived, tmp_path):
    for name in convert.NAMES:
        shutil.copy(derived / f"{name}.jsonl", tmp_path)
    again = scale.build(500, tmp_path, seed=1)
    assert again.read_bytes() == (derived / "derived-500.jsonl").read_bytes()
    other = scale.build(500, tmp_path, seed=2)
    assert other.read_bytes() != (derived / "derived-500.jsonl").read_bytes()
