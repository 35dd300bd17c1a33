"""What every archive command checks before it starts."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor


def require_migrated(using: str = DEFAULT_DB_ALIAS) -> None:
    """Stop with what to do when the database is not set up yet, instead of a traceback
    ("no such table: archive_document") from the first query: a new data directory
    (``ARCHIVE_DATA_DIR``) or a database named in ``DATABASE_URL`` needs ``migrate`` first,
    and an upgrade needs it for its new migrations."""
    executor = MigrationExecutor(connections[using])
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        raise CommandError(
            f"The archive's database is not set up: {len(pending)} migration"
            f"{'' if len(pending) == 1 else 's'} not applied (data directory "
            f"{settings.DATA_DIR}). Run `python manage.py migrate` first."
        )
