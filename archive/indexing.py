"""Keeps the search index in step with the database.

Any change to a document, to the persons it mentions, or to a person's or publication's name
schedules the affected document ids; after the transaction commits, those documents are read back
from the database and written to the index (or removed from it). Reading back, rather than
indexing the object in hand, means the index always gets the committed state, persons included,
whatever order a fixture or a form saved things in.

Bulk changes that bypass model signals (``QuerySet.update``, raw SQL) are not seen: run
``manage.py rebuild_index`` after those.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

from archive import search
from archive.models import Document, Person, Publication

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


def to_indexed(document: Document) -> search.IndexedDocument:
    """The index's view of a document (persons and publication by name)."""
    return search.IndexedDocument(
        id=document.pk,
        title=document.title,
        body=document.body,
        published=document.published,
        date_inferred=document.date_inferred,
        publication=document.publication.name if document.publication_id else None,
        persons=tuple(person.name for person in document.persons.all()),
        source_url=document.source_url,
    )


def documents_for_index(queryset=None) -> Iterator[search.IndexedDocument]:
    """Every document of ``queryset`` (default: all) as index documents, read in batches."""
    queryset = (queryset if queryset is not None else Document.objects.all()).order_by("pk")
    queryset = queryset.select_related("publication").prefetch_related("persons")
    for document in queryset.iterator(chunk_size=BATCH_SIZE):
        yield to_indexed(document)


def reindex(document_ids: Iterable[int]) -> None:
    """Write the committed state of these documents to the index; ids no longer in the
    database are removed from it."""
    ids = sorted(set(document_ids))
    for start in range(0, len(ids), BATCH_SIZE):
        batch = ids[start : start + BATCH_SIZE]
        docs = list(documents_for_index(Document.objects.filter(pk__in=batch)))
        found = {doc.id for doc in docs}
        search.update_documents(docs, delete_ids=[i for i in batch if i not in found])


# --- Scheduling after commit -----------------------------------------------------------------

_pending = threading.local()


def schedule(document_ids: Iterable[int]) -> None:
    """Reindex these documents once the current transaction commits (at once outside one)."""
    ids = getattr(_pending, "ids", None)
    if ids is None:
        ids = _pending.ids = set()
    ids.update(document_ids)
    # One callback per call is cheap; the first to run takes every pending id and the rest find
    # nothing to do. Ids left by a rolled-back transaction are harmlessly reindexed next time.
    transaction.on_commit(_flush)


def _flush() -> None:
    ids = getattr(_pending, "ids", None)
    if not ids:
        return
    _pending.ids = set()
    try:
        reindex(ids)
    except Exception:
        # The database change is committed; only the index lags. Say how to repair it.
        logger.exception(
            "Could not update the search index for documents %s; run `%s`.",
            sorted(ids)[:20],
            search.REPAIR_COMMAND,
        )


@contextmanager
def atomic_with_index() -> Iterator[None]:
    """A transaction whose documents are written to the index before it commits.

    Used by ingest, where "saved but not searchable" is not acceptable: if the index write fails,
    the transaction rolls back and nothing was saved. If instead the database commit fails after
    the index write, the index is put back to the committed state.
    """
    written: list[int] = []
    try:
        with transaction.atomic():
            yield
            ids = getattr(_pending, "ids", None) or set()
            _pending.ids = set()
            reindex(ids)  # reads this connection's uncommitted rows
            written = sorted(ids)
    except BaseException:
        if written:
            try:
                reindex(written)
            except Exception:
                logger.exception("Could not restore the index; run `%s`.", search.REPAIR_COMMAND)
        raise


# --- Signal handlers -------------------------------------------------------------------------


def _document_saved(sender, instance: Document, **kwargs) -> None:
    schedule([instance.pk])


def _document_deleted(sender, instance: Document, **kwargs) -> None:
    schedule([instance.pk])


def _persons_changed(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    if action not in ("post_add", "post_remove", "post_clear", "pre_clear"):
        return
    if not reverse:
        schedule([instance.pk])
    elif action == "pre_clear":
        # person.documents.clear(): pk_set is None, so note the documents before they go.
        schedule(instance.documents.values_list("pk", flat=True))
    elif pk_set:
        schedule(pk_set)


def _person_saved(sender, instance: Person, created: bool, **kwargs) -> None:
    if not created:
        schedule(instance.documents.values_list("pk", flat=True))


def _person_deleting(sender, instance: Person, **kwargs) -> None:
    schedule(instance.documents.values_list("pk", flat=True))


def _publication_saved(sender, instance: Publication, created: bool, **kwargs) -> None:
    if not created:
        schedule(instance.documents.values_list("pk", flat=True))


def _publication_deleting(sender, instance: Publication, **kwargs) -> None:
    schedule(instance.documents.values_list("pk", flat=True))


def connect_signals() -> None:
    uid = "archive.indexing"
    post_save.connect(_document_saved, sender=Document, dispatch_uid=f"{uid}.doc_saved")
    post_delete.connect(_document_deleted, sender=Document, dispatch_uid=f"{uid}.doc_deleted")
    m2m_changed.connect(
        _persons_changed, sender=Document.persons.through, dispatch_uid=f"{uid}.persons"
    )
    post_save.connect(_person_saved, sender=Person, dispatch_uid=f"{uid}.person_saved")
    pre_delete.connect(_person_deleting, sender=Person, dispatch_uid=f"{uid}.person_deleting")
    post_save.connect(_publication_saved, sender=Publication, dispatch_uid=f"{uid}.pub_saved")
    pre_delete.connect(
        _publication_deleting, sender=Publication, dispatch_uid=f"{uid}.pub_deleting"
    )
