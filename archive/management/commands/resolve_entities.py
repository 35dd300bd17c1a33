from django.core.management.base import BaseCommand

from archive.ingest import resolution, wordcase
from archive.management.setup import require_migrated
from archive.progress import Progress


class Command(BaseCommand):
    help = (
        "Resolve the persons, organisations and places of every document whose entities were "
        "extracted, with the whole archive's evidence (kinds, surname joins, common words, "
        "confidence), keeping every editor's decision. Reads only the stored mentions (and, with "
        "--recount-words, every document's text once); changes reach the index through the "
        "outbox."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--recount-words",
            action="store_true",
            help="first count again, from every document's text, how the archive writes each "
            "word (lowercase or capitalised): after many edits or deletions, or for an archive "
            "imported before these counts were kept",
        )

    def handle(self, *args, **options):
        require_migrated()
        if options["recount_words"]:
            counting = Progress("Counting words", None, stream=self.stderr._out)

            def on_count(done: int, total: int) -> None:
                counting.total = total
                counting.update(done, note="documents")

            read = wordcase.recount(progress=on_count)
            self.stdout.write(f"Words counted in {read:,} documents, {counting.finish():,.1f} s.")
        progress = Progress("Resolving", None, stream=self.stderr._out)

        def on_chunk(done: int, total: int) -> None:
            progress.total = total
            progress.update(done, note="documents")

        report = resolution.resolve_archive(progress=on_chunk)
        elapsed = progress.finish()
        self.stdout.write(f"{report.summary()} {elapsed:,.1f} s.")
