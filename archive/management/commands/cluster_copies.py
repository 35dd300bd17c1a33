from django.core.management.base import BaseCommand

from archive import indexing
from archive.ingest import copies
from archive.management.setup import require_migrated
from archive.progress import Progress


class Command(BaseCommand):
    help = (
        "Find the copies of every document again (syndicated, re-sent, edited printings of one "
        "story) from the stored signatures, computing the missing ones, and regroup the "
        "archive's stories. Documents an editor placed in a story stay there. Changes reach "
        "the index through the outbox."
    )

    def handle(self, *args, **options):
        require_migrated()
        progress = Progress("Clustering", None, stream=self.stderr._out)

        def on_step(done: int, total: int) -> None:
            progress.total = total
            progress.update(done, note="steps")

        summary = copies.recluster(progress=on_step)
        applied = indexing.apply_pending(wait=indexing.REBUILD_WAIT)
        elapsed = progress.finish()
        folded = summary.documents - summary.stories
        self.stdout.write(
            f"{summary.documents:,} documents in {summary.stories:,} stories ({folded:,} copies "
            f"folded); {summary.signatures_computed:,} signatures computed; "
            f"{len(summary.moved):,} documents changed story, {applied.applied:,} index entries "
            f"rewritten. {elapsed:,.1f} s."
        )
