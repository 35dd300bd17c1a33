"""Bulk files are streams of records: a JSONL or JSON export larger than the per-file limit
imports (from disk, from a zip, from an admin upload), the limit applies to each record, memory
stays flat, and progress counts records and bytes, printing its final line once in a log.

Real SQLite, real Whoosh index; files are written to a temporary folder."""

from __future__ import annotations

import io
import json
import re
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from archive import ingest, search
from archive.ingest import readers
from archive.ingest.sources import from_paths
from archive.models import Document
from archive.progress import Progress
from tests.test_admin import staff_client, upload_and_import  # noqa: F401  (fixture, helper)

LIMIT = 20_000  # ARCHIVE_INGEST_MAX_FILE_BYTES in these tests


@pytest.fixture
def small_limit(settings):
    settings.ARCHIVE_INGEST_MAX_FILE_BYTES = LIMIT
    return LIMIT


def record(i: int, words: int = 20) -> dict:
    return {
        "title": f"Harbour report {i}",
        "body": f"Report {i}: " + " ".join(f"ferry{i % 7} pier" for _ in range(words)),
        "external_id": f"r-{i}",
        "persons": [],
    }


def jsonl(records: list[dict]) -> str:
    return "\n".join(json.dumps(r) for r in records) + "\n"


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, "utf-8")
    else:
        path.write_bytes(content)
    return path


def run(*paths: Path, **options) -> ingest.IngestReport:
    return ingest.ingest(from_paths(list(paths)), extract_persons=False, **options)


def outcomes(report: ingest.IngestReport) -> dict[str, int]:
    return {o.value: n for o, n in report.counts.items()}


# --- Larger than the per-file limit ------------------------------------------------------------


def test_a_jsonl_larger_than_the_file_limit_imports(transactional_db, tmp_path, small_limit):
    path = write(tmp_path / "export.jsonl", jsonl([record(i) for i in range(300)]))
    assert path.stat().st_size > 4 * small_limit
    report = run(path)
    assert outcomes(report) == {"created": 300}
    assert Document.objects.count() == 300
    assert search.search(search.SearchRequest(q="harbour")).total == 300
    # A single-document file keeps the per-file limit.
    big = write(tmp_path / "big.txt", "Big\n\n" + "word " * LIMIT)
    (item,) = run(big).items
    assert item.outcome == ingest.Outcome.FAILED and "over the" in item.message


def test_a_record_over_the_limit_fails_alone(transactional_db, tmp_path, small_limit):
    huge = record(2, words=2_000)
    assert len(json.dumps(huge)) > small_limit
    path = write(tmp_path / "export.jsonl", jsonl([record(1), huge, record(3)]))
    report = run(path)
    by_source = {item.source: item for item in report.items}
    failed = by_source[f"{path} line 2"]
    assert failed.outcome == ingest.Outcome.FAILED
    assert "Line 2 is 24 KB, over the limit of 20 KB for one record" in failed.message
    assert "ARCHIVE_INGEST_MAX_FILE_BYTES" in failed.message
    assert outcomes(report) == {"created": 2, "failed": 1}
    assert sorted(Document.objects.values_list("external_id", flat=True)) == ["r-1", "r-3"]


def test_a_json_list_is_streamed_item_by_item(transactional_db, tmp_path, small_limit):
    items = [record(i) for i in range(200)]
    text = json.dumps(items, indent=2)
    # Item 5 malformed (brackets still balanced), item 7 over the limit: each fails alone.
    text = text.replace('"title": "Harbour report 4"', '"title" "Harbour report 4"', 1)
    text = text.replace('"Harbour report 6"', '"Harbour report 6", "x": "' + "y" * LIMIT + '"')
    assert len(text) > 4 * small_limit
    path = write(tmp_path / "export.json", text)
    report = run(path)
    failed = {item.source: item.message for item in report.failed}
    assert set(failed) == {f"{path} item 5", f"{path} item 7"}
    broken_line = text[: text.index('"title" "Harbour report 4"')].count("\n") + 1
    assert failed[f"{path} item 5"] == (
        f"Not valid JSON (Expecting ':' delimiter, line {broken_line})."
    )
    assert "over the limit of 20 KB for one record" in failed[f"{path} item 7"]
    assert outcomes(report) == {"created": 198, "failed": 2}


def test_a_json_file_cut_off_keeps_the_records_before_and_says_so(transactional_db, tmp_path):
    text = json.dumps([record(i) for i in range(10)])
    path = write(tmp_path / "cut.json", text[: text.index('"Harbour report 7"')])
    report = run(path)
    assert outcomes(report) == {"created": 7, "failed": 1}
    (failed,) = report.failed
    assert failed.source == str(path)
    assert "the file ends inside a record" in failed.message
    assert "The 7 records before this point were read." in failed.message


def test_bad_bulk_files_still_fail_clearly(transactional_db, tmp_path, small_limit):
    write(tmp_path / "in/binary.jsonl", bytes(range(256)) * 100)
    write(tmp_path / "in/empty.jsonl", "\n \n")
    write(tmp_path / "in/binary.json", bytes(range(256)) * 100)
    write(tmp_path / "in/scalar.json", "42")
    write(tmp_path / "in/empty.json", "[]")
    latin = jsonl([{"title": "Café crème", "body": "Un café à Genève, déjà."}])
    write(tmp_path / "in/latin1.jsonl", latin.encode("latin-1"))
    report = run(tmp_path / "in")
    messages = {Path(item.source).name: item.message for item in report.failed}
    assert messages == {
        "binary.jsonl": "The file is binary, not text.",
        "empty.jsonl": "The file is empty.",
        "binary.json": "The file is binary, not text.",
        "scalar.json": "Expected a JSON list of documents.",
        "empty.json": "The file has no records.",
    }
    assert Document.objects.get().body == "Un café à Genève, déjà."


# --- From a zip, from an upload ----------------------------------------------------------------


def test_a_large_jsonl_inside_a_zip_is_streamed(transactional_db, tmp_path, small_limit):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("export/all.jsonl", jsonl([record(i) for i in range(150)]))
        archive.writestr("export/one.txt", "A text\n\nSmall, read whole.")
        archive.writestr("export/huge.txt", "Huge\n\n" + "word " * LIMIT)
    path = write(tmp_path / "bundle.zip", buffer.getvalue())
    assert path.stat().st_size > 5 * small_limit  # the zip itself is over the per-file limit
    seen: list[int] = []
    report = run(path, on_file=lambda r: seen.append(r.bytes_read))
    assert outcomes(report) == {"created": 151, "failed": 1}
    (failed,) = report.failed
    assert failed.source == f"{path}/export/huge.txt" and "over the" in failed.message
    assert seen == sorted(seen) and seen[-1] == path.stat().st_size


DONE_120 = (
    "1 of 1 files read</strong>: 120 documents created, 0 updated, 0 duplicates; "
    "0 files or records failed"
)


def test_a_large_jsonl_upload_in_the_admin_is_streamed(staff_client, settings):  # noqa: F811
    settings.ARCHIVE_INGEST_MAX_FILE_BYTES = LIMIT
    content = jsonl([record(i) for i in range(120)]).encode()
    assert len(content) > 1.5 * LIMIT
    response = upload_and_import(staff_client, ("export.jsonl", content))
    html = " ".join(response.content.decode().split())
    assert DONE_120 in html
    assert search.search(search.SearchRequest(q="harbour")).total == 120
    # The same inside an uploaded zip: the member is streamed after the listing is done.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("more.jsonl", jsonl([record(i) for i in range(120, 240)]))
    assert archive.getinfo("more.jsonl").file_size > LIMIT
    response = upload_and_import(staff_client, ("bundle.zip", buffer.getvalue()))
    html = " ".join(response.content.decode().split())
    assert DONE_120 in html
    assert search.search(search.SearchRequest(q="harbour")).total == 240


# --- Flat memory -------------------------------------------------------------------------------


@pytest.mark.parametrize("extension", [".jsonl", ".json"])
def test_reading_a_record_over_the_limit_holds_none_of_it(tmp_path, extension):
    """A 6 MB record with a 100 KB limit: the reader skips it in chunks, never holding it."""
    records = [record(1), {"title": "Huge", "body": "x" * 6_000_000}, record(3)]
    content = jsonl(records) if extension == ".jsonl" else json.dumps(records)
    path = write(tmp_path / f"export{extension}", content)
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            results = list(readers.read_records(path.name, extension, stream, 100_000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [type(r).__name__ for r in results] == ["Draft", "ReadError", "Draft"]
    assert peak < 1_000_000, f"peak {peak:,} bytes"


def test_the_command_keeps_only_failures_item_by_item(transactional_db, tmp_path):
    path = write(tmp_path / "export.jsonl", jsonl([record(i) for i in range(50)]) + "{broken\n")
    report = run(path, keep_items=False)
    assert outcomes(report) == {"created": 50, "failed": 1}
    assert report.records == 51
    assert [item.source for item in report.items] == [f"{path} line 51"]
    assert "51 files" not in report.summary() and "50 created" in report.summary()


# --- Progress ----------------------------------------------------------------------------------


def test_progress_follows_records_and_bytes_within_one_file(transactional_db, tmp_path):
    path = write(tmp_path / "export.jsonl", jsonl([record(i) for i in range(400)]))
    calls: list[tuple[int, int]] = []
    run(path, batch_size=40, on_file=lambda r: calls.append((r.bytes_read, r.records)))
    assert len(calls) >= 8, calls  # not one call at the end of the file
    read = [b for b, _ in calls]
    assert read == sorted(read) and 0 < read[0] < read[-1] == path.stat().st_size
    done = [n for _, n in calls]
    assert done == sorted(done) and done[-1] == 400
    assert any(0 < n < 400 for n in done), "no progress in records before the end"


def test_progress_counts_bytes_done_not_bytes_read_ahead(transactional_db, tmp_path, monkeypatch):
    """Reading runs ahead of name extraction (many documents in flight), so the bar follows the
    bytes whose documents are saved: it ends with the import, not the reading."""
    folder = tmp_path / "texts"
    folder.mkdir()
    for i in range(60):
        write(folder / f"{i:03d}.txt", f"Report {i}\n\nMaria Lopez met officials in Lima, day {i}.")
    total = sum(path.stat().st_size for path in folder.iterdir())
    (folder / "broken.txt").write_bytes(b"")  # a failed file (0 bytes) is done at once
    monkeypatch.setattr("archive.ingest.pipeline.PROGRESS_SECONDS", 0)  # every document
    calls: list[tuple[int, int, int]] = []
    saved: list[tuple[int, int, int]] = []
    report = ingest.ingest(
        from_paths([folder]),
        batch_size=10,
        on_file=lambda r: (
            calls.append((r.bytes_read, r.bytes_done, r.records)),
            saved.append((r.bytes_read, r.bytes_done, r.counts[ingest.Outcome.CREATED])),
        ),
    )
    assert outcomes(report) == {"created": 60, "failed": 1}
    done = [d for _, d, _ in calls]
    assert done == sorted(done) and done[-1] == total
    assert all(d <= r for r, d, _ in calls)
    # While documents were still in extraction, the bytes read were ahead of those done.
    assert any(d < r for r, d, _ in calls)
    # And the bytes done are those of the documents saved, no more (a new user saw "0.3/2.3 MB
    # (14%) ... 0 documents"): here, whole batches of ten.
    largest = max(path.stat().st_size for path in folder.iterdir())
    assert all(d <= n * largest for _, d, n in saved), saved
    assert {n for _, _, n in saved} <= {0, 10, 20, 30, 40, 50, 60}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_command_shows_records_by_outcome_on_a_terminal(transactional_db, tmp_path):
    path = write(tmp_path / "export.jsonl", jsonl([record(i) for i in range(120)]) + "{x\n")
    err = Terminal()
    with pytest.raises(CommandError, match="1 file or record failed"):
        call_command("ingest", str(path), "--no-persons", stdout=io.StringIO(), stderr=err)
    final = err.getvalue().split("\r\033[K")[-1].splitlines()[0]
    size = path.stat().st_size
    assert size < 1e6  # a small export: its bytes in KB
    kb = f"{size / 1e3:.1f}"
    assert final.startswith(f"Ingesting {'█' * 30} {kb}/{kb} KB (100%)"), final
    assert "121 documents (120 created, 1 failed), " in final
    assert final.endswith(" documents/s")


def test_progress_in_bytes_says_kb_under_a_megabyte_and_mb_above():
    lines = []
    for total, done in ((5_600, 5_600), (24_600_000, 12_300_000)):
        out = io.StringIO()
        progress = Progress("Ingesting", total, stream=out, unit="bytes")
        progress.update(done)
        progress.finish()
        lines.append(out.getvalue())
    assert " 5.6/5.6 KB (100%) " in lines[0]
    assert " 12.3/24.6 MB ( 50%) " in lines[1]


def test_the_final_progress_line_is_printed_once_in_a_log(transactional_db, tmp_path):
    for n in range(3):
        write(tmp_path / f"in/{n}.txt", f"Story {n}\n\nText of story {n}.")
    write(tmp_path / "in/export.jsonl", jsonl([record(i) for i in range(60)]))
    out, err = io.StringIO(), io.StringIO()
    call_command("ingest", str(tmp_path / "in"), "--no-persons", stdout=out, stderr=err)
    lines = err.getvalue().splitlines()
    progress = [line for line in lines if line.startswith("Ingesting")]
    assert len(progress) == 1, lines
    assert "(100%)" in progress[0] and "63 documents (63 created)" in progress[0]
    assert "\r" not in err.getvalue() and "\033" not in err.getvalue()
    assert re.search(r"4 files: 63 created, .* documents/s\.", out.getvalue())


def test_a_single_document_file_is_read_whole_and_held_to_the_limit(small_limit):
    """A text file is read in one read of its own size, not of the limit; a stream that turns
    out longer than its stated size is still read to the limit and refused past it."""
    from archive.ingest.sources import from_stream

    text = b"Harbour report: ferries resume. " * 100
    [whole] = from_stream("a.txt", io.BytesIO(text), size=len(text))
    assert whole.data == text and whole.error is None
    [grown] = from_stream("b.txt", io.BytesIO(text), size=10)
    assert grown.data == text  # more than it said, under the limit: all of it
    [over] = from_stream("c.txt", io.BytesIO(b"x" * (LIMIT + 5)), size=10)
    assert over.error and "limit" in over.error and not over.data
    [unknown] = from_stream("d.txt", io.BytesIO(text))
    assert unknown.data == text


def test_the_check_before_the_model_holds_back_no_scan():
    """Drafts go on to the model in chunks whose stored duplicates are asked together; a scan
    (seconds of OCR each) ends its chunk, so it is not held back for sixty more to be read."""
    from archive.chunks import chunked
    from archive.ingest.drafts import Draft, Original
    from archive.ingest.pipeline import DUPLICATE_CHECK_CHUNK

    def draft(n: int, scan: bool = False) -> Draft:
        original = Original(f"{n}.pdf", b"%PDF-1.4") if scan else None
        return Draft(source=f"{n}", title=f"T{n}", body=f"Body {n}.", original=original)

    drafts = [draft(0), draft(1, scan=True), *(draft(n) for n in range(2, 2 + 2 * 64))]
    scan_ends = lambda d: d.original is not None  # noqa: E731 (as the pipeline asks)
    sizes = [len(chunk) for chunk in chunked(iter(drafts), DUPLICATE_CHECK_CHUNK, scan_ends)]
    assert sizes[0] == 2  # the scan ends the first chunk
    assert max(sizes) == DUPLICATE_CHECK_CHUNK and sum(sizes) == len(drafts)
