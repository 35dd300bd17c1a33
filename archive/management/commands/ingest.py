import argparse
import os
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from archive import ingest, jobs
from archive.ingest.sources import from_paths, list_files
from archive.management.setup import require_migrated
from archive.models import Document
from archive.progress import Progress, logs_above

# Person extraction runs in 2 processes from this much input on (about 200 articles' worth of
# text, or one bulk file of that size); below it, starting a process costs more than it saves.
PARALLEL_FILES = 200
PARALLEL_BYTES = 1_000_000


def _size_on_disk(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reading it reports the problem


def _positive(value: str) -> int:
    """A count of at least 1, for --workers."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {value!r}")
    return number


def progress_note(report: ingest.IngestReport, elapsed: float) -> str:
    """What the progress line says was done: documents (records) by outcome, and their rate."""
    counts = report.counts
    done = report.records
    saved = done - counts[ingest.Outcome.FAILED]
    outcomes = ", ".join(f"{counts[o]:,} {o.value}" for o in ingest.Outcome if counts[o])
    rate = saved / elapsed if elapsed > 0 else 0.0
    details = f" ({outcomes})" if outcomes else ""
    return f"{done:,} document{'' if done == 1 else 's'}{details}, {rate:,.0f} documents/s"


class Command(BaseCommand):
    help = (
        "Import documents from files, folders (recursively) and zips: .txt, .html/.htm, .pdf, "
        "page images (.png, .jpg, .tif: read by OCR, as PDFs without text), .json and .jsonl "
        "(the archive's bulk format, see README). Re-importing the same input creates nothing "
        "new. Exits with status 1 if any file or record failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
        parser.add_argument(
            "--publication",
            metavar="NAME",
            help="Publication for documents whose file does not name one.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Read and check everything, report what would happen, save nothing.",
        )
        parser.add_argument(
            "--workers",
            type=_positive,
            metavar="N",
            help="Processes for person extraction (default: up to 2 for 200 files or 1 MB of "
            "input or more, else 1; starting a process costs about a second).",
        )
        parser.add_argument(
            "--background",
            action="store_true",
            help="Queue the import as a background job and return at once; a worker "
            "(`manage.py worker`, started by `make run`) imports it. The files are read where "
            "they are: keep them until the job is done. Its page: /admin/archive/ingestjob/.",
        )
        parser.add_argument(
            "--no-persons",
            action="store_true",
            help="Skip automatic person extraction (persons given in JSON are still linked).",
        )

    def handle(
        self, *args, paths, publication, dry_run, no_persons, workers, background, **options
    ):
        require_migrated()
        if background:
            if dry_run:
                raise CommandError("--background and --dry-run do not go together.")
            missing = [str(p) for p in paths if not p.exists()]
            if missing:
                raise CommandError(f"Not found: {', '.join(missing)}")
            _something_to_import(paths)
            job = jobs.queue_paths(
                paths, publication=publication or "", extract_persons=not no_persons
            )
            self.stdout.write(
                f"Queued as upload job {job.pk}; a worker imports it (`manage.py worker`). "
                f"Progress: /admin/archive/ingestjob/{job.pk}/change/"
            )
            return
        # Progress is by bytes of the input on disk (a zip counts its size) whose documents are
        # done, so the bar moves within one large JSONL export as well as across many small
        # files, and reaches its end with the import, not with the reading.
        found = _something_to_import(paths)
        total = sum(_size_on_disk(path) for path, _ in found)
        if workers is None:
            many = len(found) >= PARALLEL_FILES or total >= PARALLEL_BYTES
            workers = min(2, os.cpu_count() or 1) if many else 1
        progress = Progress("Ingesting", total, stream=self.stderr._out, unit="bytes")

        def on_file(report: ingest.IngestReport) -> None:
            elapsed = time.monotonic() - progress.started
            progress.update(report.bytes_done, note=progress_note(report, elapsed))

        indexing_bar: list[Progress] = []

        def on_index(count: int) -> None:
            if not indexing_bar:
                progress.say("Writing the index in one pass (a large import)…")
                indexing_bar.append(
                    Progress("Indexing", Document.objects.count(), stream=self.stderr._out)
                )
            indexing_bar[0].update(count)

        # Only failures are kept item by item: a report on millions of records stays small.
        with logs_above(progress):
            report = ingest.ingest(
                from_paths(paths),
                publication=publication,
                dry_run=dry_run,
                extract_persons=not no_persons,
                on_file=on_file,
                workers=max(1, workers),
                keep_items=False,
                index_progress=on_index,
                on_stage=progress.say,
            )
        if indexing_bar:
            indexing_bar[0].finish()
        elapsed = progress.finish()
        documents = report.records - report.counts[ingest.Outcome.FAILED]
        rate = documents / elapsed if elapsed else 0.0
        for item in report.failed:
            self.stderr.write(f"FAILED {item.source}: {item.message}")
        prefix = "Dry run, nothing saved. " if dry_run else ""
        self.stdout.write(f"{prefix}{report.summary()} {elapsed:,.1f} s, {rate:,.1f} documents/s.")
        if report.left_out:
            self.stdout.write(report.left_out_note())
        if report.warned:
            self.stdout.write(report.warnings_note())
        if report.failed:
            failed = len(report.failed)
            what = "file or record" if failed == 1 else "files or records"
            raise CommandError(f"{failed:,} {what} failed (listed above).")


def _something_to_import(paths: list[Path]) -> list[tuple[Path, Path | None]]:
    """The files the paths hold; an empty folder (or one of hidden files only) is most likely
    the wrong one: say so, as for an empty zip, instead of importing nothing in silence."""
    found = list_files(paths)
    if not found:
        where = ", ".join(str(p) for p in paths)
        raise CommandError(f"No files to import in {where} (hidden files and folders are skipped).")
    return found
