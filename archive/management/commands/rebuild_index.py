from django.core.management.base import BaseCommand, CommandError

from archive import search
from archive.indexing import documents_for_index
from archive.models import Document
from archive.progress import Progress


class Command(BaseCommand):
    help = (
        "Rebuild the search index from the database. The old index keeps answering searches "
        "until the new one is committed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-needed",
            action="store_true",
            help="Only rebuild when the index is missing or holds a different number of documents.",
        )

    def handle(self, *args, if_needed: bool = False, **options):
        total = Document.objects.count()
        if if_needed and search.index_exists():
            indexed = search.indexed_count()
            if indexed == total:
                self.stdout.write(f"The index is up to date ({indexed:,} documents).")
                return
            self.stdout.write(f"The index holds {indexed:,} documents, the database {total:,}.")
        progress = Progress("Indexing", total, stream=self.stderr._out)
        try:
            written = search.rebuild_index(documents_for_index(), progress=progress.update)
        except search.IndexUnavailable as exc:
            raise CommandError(str(exc)) from exc
        elapsed = progress.finish()
        rate = written / elapsed if elapsed else 0
        self.stdout.write(
            self.style.SUCCESS(
                f"Indexed {written:,} documents in {elapsed:,.1f} s ({rate:,.0f} documents/s)."
            )
        )
