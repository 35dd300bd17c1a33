from django.core.management.base import BaseCommand

from archive.ingest import resolution
from archive.progress import Progress


class Command(BaseCommand):
    help = (
        "Resolve the persons, organisations and places of every document whose entities were "
        "extracted, with the whole archive's evidence (kinds, surname joins, confidence), "
        "keeping every editor's decision. Reads only the stored mentions; changes reach the "
        "index through the outbox."
    )

    def handle(self, *args, **options):
        progress = Progress("Resolving", None, stream=self.stderr._out)

        def on_chunk(done: int, total: int) -> None:
            progress.total = total
            progress.update(done, note="documents")

        report = resolution.resolve_archive(progress=on_chunk)
        elapsed = progress.finish()
        self.stdout.write(f"{report.summary()} {elapsed:,.1f} s.")
