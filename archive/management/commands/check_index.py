from django.core.management.base import BaseCommand, CommandError

from archive import indexing, search
from archive.management.setup import require_migrated

SHOW = 10  # ids listed per kind of drift


class Command(BaseCommand):
    help = (
        "Compare the search index with the database: documents missing from the index, extra in "
        "it, or indexed with other content (a hash of every indexed field). Exits 1 when they "
        "differ; with --repair, reindexes exactly those documents (or rebuilds a missing, "
        "unreadable or outdated index) and exits 0."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair", action="store_true", help="Fix what differs instead of only reporting it."
        )

    def handle(self, *args, repair: bool = False, **options):
        require_migrated()
        try:
            drift, after = indexing.check(repair=repair)
        except search.IndexUnavailable as exc:
            raise CommandError(str(exc)) from exc
        self._report(drift)
        if drift.ok:
            self.stdout.write(self.style.SUCCESS("The index matches the database."))
            return
        if after is None:
            if drift.needs_rebuild:
                raise CommandError(
                    "The index differs from the database and must be built again: "
                    "`python manage.py check_index --repair` builds it, as `rebuild_index` does."
                )
            raise CommandError(
                "The index differs from the database. Fix it with "
                "`python manage.py check_index --repair`."
            )
        if drift.needs_rebuild:
            self.stdout.write(f"Rebuilt the index: {after.indexed:,} documents.")
        else:
            count = len(drift.ids)
            self.stdout.write(f"Reindexed {count:,} document{'s' if count != 1 else ''}.")
        if not after.ok:
            self._report(after)
            raise CommandError("The index still differs after the repair (see above).")
        self.stdout.write(self.style.SUCCESS("Repaired: the index matches the database."))

    def _report(self, drift: indexing.Drift) -> None:
        self.stdout.write(f"Engine: {search.describe_backend()}.")
        self.stdout.write(f"Database: {drift.database:,} documents. Index: {drift.indexed:,}.")
        if drift.applied:
            self.stdout.write(
                f"Applied first {drift.applied:,} changes that waited in the outbox (an index "
                "that could not take them when they were saved)."
            )
        if drift.waiting:
            self.stdout.write(f"Changes still waiting in the outbox: {drift.waiting:,}.")
        if drift.unavailable:
            self.stdout.write(f"Index unavailable: {drift.unavailable}")
        if drift.outdated:
            self.stdout.write(f"Index built by an older version: {drift.outdated}")
        for label, ids in (
            ("Missing from the index", drift.missing),
            ("Extra in the index", drift.extra),
            ("Stale in the index", drift.stale),
        ):
            if ids:
                shown = ", ".join(str(i) for i in ids[:SHOW]) + (" …" if len(ids) > SHOW else "")
                self.stdout.write(f"{label}: {len(ids):,} ({shown})")
