from django.core.management.base import BaseCommand, CommandError

from archive import indexing, search
from archive.management.setup import require_migrated


class Command(BaseCommand):
    help = (
        "Apply the index outbox: write to the search index every change saved but not yet "
        "indexed (after a crash, or while the index was busy). Safe to run at any time, by "
        "several processes at once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--wait",
            type=float,
            default=None,
            metavar="SECONDS",
            help="Wait at most this long for another writer (default: as long as it takes).",
        )

    def handle(self, *args, wait: float | None = None, **options):
        require_migrated()
        before = indexing.pending_count()
        try:
            result = indexing.apply_pending(wait=wait)
        except search.IndexUnavailable as exc:
            raise CommandError(str(exc)) from exc
        if result.missing_index:
            raise CommandError(
                f"The search index cannot be read; {indexing.pending_count():,} changes wait. "
                f"Rebuild it with `{search.REPAIR_COMMAND}`."
            )
        if result.built is not None:
            self.stdout.write(
                f"There was no search index: built it from the database ({result.built:,} "
                "documents)."
            )
        if result.busy:
            self.stdout.write(
                f"Another process is writing the index; it applies the {before:,} pending changes."
            )
            return
        self.stdout.write(f"Applied {result.applied:,} pending index changes.")
