import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from archive import ingest
from archive.ingest.sources import from_paths, list_files
from archive.progress import Progress


class Command(BaseCommand):
    help = (
        "Import documents from files, folders (recursively) and zips: .txt, .html/.htm, .pdf, "
        ".json and .jsonl (the archive's bulk format, see README). Re-importing the same input "
        "creates nothing new. Exits with status 1 if any file or record failed."
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
            type=int,
            metavar="N",
            help="Processes for person extraction (default: up to 2 for 200 files or more, "
            "else 1; starting a process costs about a second).",
        )
        parser.add_argument(
            "--no-persons",
            action="store_true",
            help="Skip automatic person extraction (persons given in JSON are still linked).",
        )

    def handle(self, *args, paths, publication, dry_run, no_persons, workers, **options):
        total = len(list_files(paths))  # files on disk; a zip counts once, its members add on
        if workers is None:
            workers = min(2, os.cpu_count() or 1) if total >= 200 else 1
        progress = Progress("Ingesting", total, stream=self.stderr._out)

        def on_file(report: ingest.IngestReport) -> None:
            counts = report.counts
            progress.update(
                report.files,
                note=" ".join(f"{o.value} {counts[o]:,}" for o in ingest.Outcome if counts[o]),
            )

        report = ingest.ingest(
            from_paths(paths),
            publication=publication,
            dry_run=dry_run,
            extract_persons=not no_persons,
            on_file=on_file,
            workers=max(1, workers),
        )
        elapsed = progress.finish()
        documents = sum(1 for item in report.items if item.outcome != ingest.Outcome.FAILED)
        rate = documents / elapsed if elapsed else 0.0
        for item in report.failed:
            self.stderr.write(f"FAILED {item.source}: {item.message}")
        prefix = "Dry run, nothing saved. " if dry_run else ""
        self.stdout.write(f"{prefix}{report.summary()} {elapsed:,.1f} s, {rate:,.1f} documents/s.")
        if report.failed:
            raise CommandError(f"{len(report.failed):,} files or records failed (listed above).")
