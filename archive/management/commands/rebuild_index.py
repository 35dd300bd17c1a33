from django.core.management.base import BaseCommand, CommandError

from archive import indexing, search
from archive.management.setup import require_migrated
from archive.models import Document
from archive.progress import Progress


class Command(BaseCommand):
    help = (
        "Rebuild the search index from the database into a new directory and swap it in "
        "atomically: the old index keeps answering searches until then, a rebuild that is killed "
        "leaves it in place, and changes saved meanwhile are applied to the new index."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-needed",
            action="store_true",
            help=(
                "Only rebuild when the index is missing, unreadable, built by an older version "
                "(another analyzer) or holds a different number of documents."
            ),
        )

    def handle(self, *args, if_needed: bool = False, **options):
        require_migrated()
        total = Document.objects.count()
        if if_needed and search.index_exists():
            try:
                indexing.apply_pending(wait=None)
                indexed = search.indexed_count()
                outdated = search.outdated_analysis()
            except search.IndexUnavailable as exc:
                self.stdout.write(f"The index cannot be read ({exc}); rebuilding it.")
            else:
                if outdated:
                    self.stdout.write(f"The index was built by an older version ({outdated}).")
                elif indexed == total:
                    self.stdout.write(
                        f"The index holds every document ({indexed:,}); "
                        "`manage.py check_index` compares their contents."
                    )
                    return
                else:
                    self.stdout.write(
                        f"The index holds {indexed:,} documents, the database {total:,}."
                    )
        progress = Progress("Indexing", total, stream=self.stderr._out)
        try:
            written = indexing.rebuild(progress=progress.update)
        except search.IndexUnavailable as exc:
            raise CommandError(str(exc)) from exc
        elapsed = progress.finish()
        rate = written / elapsed if elapsed else 0
        self.stdout.write(
            self.style.SUCCESS(
                f"Indexed {written:,} documents in {elapsed:,.1f} s ({rate:,.0f} documents/s)."
            )
        )
