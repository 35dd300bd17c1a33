"""Bulk files whose records carry their persons: created in bulk, and a large import writes the
index in one pass at its end, losing nothing."""

from __future__ import annotations

import json

import pytest

from archive import indexing, ingest, search
from archive.ingest import pipeline
from archive.models import Document, IndexTask, Person


def records(n, start=0, **extra):
    return [
        {
            "title": f"Wire story {i}",
            "body": f"Story number {i} about harbour cranes and tonnage {i}.",
            "external_id": f"wire-{i}",
            "persons": ["Paul Volcker"] if i % 2 else [],
            **extra,
        }
        for i in range(start, start + n)
    ]


def jsonl(items, name="export.jsonl"):
    data = "".join(json.dumps(item) + "\n" for item in items).encode()
    return ingest.SourceFile(name, data)


@pytest.mark.django_db(transaction=True)
def test_records_with_persons_are_created_in_bulk_and_searchable():
    items = [
        *records(20),
        {"title": "Bad link", "body": "A body.", "url": "https://", "external_id": "bad"},
        records(1, start=3)[0],  # the same record again within the file
    ]
    report = ingest.ingest([jsonl(items)], batch_size=50)
    assert report.counts[ingest.Outcome.CREATED] == 20
    assert report.counts[ingest.Outcome.DUPLICATE] == 1
    assert report.counts[ingest.Outcome.FAILED] == 1
    assert Document.objects.count() == 20
    volcker = Person.objects.get(name="Paul Volcker")
    assert volcker.documents.count() == 10
    assert search.search(search.SearchRequest(q="cranes")).total == 20
    assert search.search(search.SearchRequest(persons=("Paul Volcker",))).total == 10
    assert not IndexTask.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_large_import_writes_the_index_once_at_the_end(monkeypatch):
    monkeypatch.setattr(pipeline, "DEFER_INDEX_AFTER", 10)
    stages: list[str] = []
    report = ingest.ingest([jsonl(records(60))], batch_size=10, on_stage=stages.append)
    assert report.index_deferred
    # The closing step says what it does (manage.py ingest prints it above its bar); the
    # records named their persons, so there were no names to resolve.
    if indexing.StreamedRebuild.available():
        assert stages == ["Finishing the index…"]
    assert search.search(search.SearchRequest(q="cranes")).total == 60
    assert not IndexTask.objects.exists()
    drift, _ = indexing.check()
    assert drift.ok, drift
    # A small import into the same archive updates the index batch by batch again.
    second = ingest.ingest([jsonl(records(5, start=100))], batch_size=10)
    assert not second.index_deferred
    assert search.search(search.SearchRequest(q="cranes")).total == 65


@pytest.mark.django_db(transaction=True)
def test_an_import_into_an_empty_archive_writes_its_index_once_from_the_first_batch():
    """A full first batch into an empty archive: the one index pass starts before it is saved,
    instead of after DEFER_INDEX_AFTER documents that the index would then take twice."""
    assert not Document.objects.exists()
    report = ingest.ingest([jsonl(records(30))], batch_size=10)
    assert report.index_deferred == indexing.StreamedRebuild.available()
    assert search.search(search.SearchRequest(q="cranes")).total == 30
    assert not IndexTask.objects.exists()
    drift, _ = indexing.check()
    assert drift.ok, drift
    # A first batch that is not full (a small import) is indexed as it is saved.
    Document.objects.all().delete()
    indexing.apply_pending()
    assert not ingest.ingest([jsonl(records(5, start=100))], batch_size=10).index_deferred


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("streamed", [True, False])
def test_a_deferred_import_that_dies_leaves_its_documents_in_the_outbox(monkeypatch, streamed):
    """Killed before its one index pass is swapped in (written as it saves, or at its end on
    other databases): every document created is still owed to the index by a committed outbox
    task, which the next writer applies."""
    from archive.indexing import StreamedRebuild

    if streamed and not StreamedRebuild.available():
        pytest.skip("the index pass is written while saving on SQLite only (StreamedRebuild)")
    monkeypatch.setattr(pipeline, "DEFER_INDEX_AFTER", 10)

    def die(*args, **kwargs):
        raise KeyboardInterrupt

    if streamed:
        monkeypatch.setattr(indexing.StreamedRebuild, "finish", die)
    else:
        monkeypatch.setattr(indexing.StreamedRebuild, "available", staticmethod(lambda: False))
        monkeypatch.setattr(indexing, "rebuild", die)
    with pytest.raises(KeyboardInterrupt):
        ingest.ingest([jsonl(records(40))], batch_size=10)
    created = Document.objects.count()
    assert created == 40
    assert IndexTask.objects.count() >= 30  # those after the switch, at least
    indexing.apply_pending(wait=None)  # the lock was released
    assert search.search(search.SearchRequest(q="cranes")).total == 40
