from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "archive"
    verbose_name = "News archive"

    def ready(self) -> None:
        # Connects the signal handlers that keep the search index in step with the database.
        from archive import indexing, search
        from archive.ingest import copies
        from archive.models import alias_targets

        # Finds each saved document's copies (its story) in the same transaction; connected
        # first, so that outside a transaction (where the index is written at once) the index
        # already reads the document's story.
        copies.connect_signals()
        indexing.connect_signals()

        # The query language takes aliases as the filters do: person:"Ajmal Kasab" searches the
        # person it is an alias of (the search layer knows no models; it is given this).
        search.set_name_resolver(alias_targets)
