from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "archive"
    verbose_name = "News archive"

    def ready(self) -> None:
        # Connects the signal handlers that keep the search index in step with the database.
        from archive import indexing
        from archive.ingest import copies

        indexing.connect_signals()
        # Finds each saved document's copies (its story) in the same transaction.
        copies.connect_signals()
