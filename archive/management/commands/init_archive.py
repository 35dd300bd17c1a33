from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from archive.ingest import copies
from archive.management.setup import require_migrated
from archive.models import Document


class Command(BaseCommand):
    help = (
        "Prepare the archive after `migrate`: load the fixtures into an empty archive, find the "
        "copies of documents saved before copy detection, and build the search index if it is "
        "missing, outdated or holds another number of documents. Safe to run again: an archive "
        "that already has documents keeps them as they are."
    )

    def handle(self, *args, **options):
        require_migrated()
        fixtures = sorted(Path(settings.ARCHIVE_FIXTURE_DIR).glob("*.json"))
        if Document.objects.exists():
            self.stdout.write(
                f"The archive holds {Document.objects.count():,} documents; fixtures not reloaded."
            )
        elif fixtures:
            for fixture in fixtures:
                self.stdout.write(f"Loading {fixture.name} …")
                call_command("loaddata", str(fixture), verbosity=1, stdout=self.stdout)
        if copies.outdated_signatures():
            # An archive from before copy detection, or a change of its parameters: find every
            # document's copies once (new documents find theirs as they are saved).
            self.stdout.write("Finding the copies of documents saved before copy detection …")
            call_command("cluster_copies", stdout=self.stdout, stderr=self.stderr)
        call_command("rebuild_index", if_needed=True, stdout=self.stdout, stderr=self.stderr)
