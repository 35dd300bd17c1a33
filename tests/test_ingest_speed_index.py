"""A large import writes its one index pass while it saves, from the documents in hand: the
index it swaps in matches the database (check_index is clean), changes made meanwhile by others
or by the resolution pass still reach it, and a pass that fails falls back to a rebuild. Records
that give their persons never load the model."""

from __future__ import annotations

import json

import pytest

from archive import indexing, ingest, search
from archive.ingest import entities, pipeline
from archive.models import Document, IndexTask, Person, Publication


def jsonl(items, name="export.jsonl"):
    data = "".join(json.dumps(item) + "\n" for item in items).encode()
    return ingest.SourceFile(name, data)


def records(n, start=0, **extra):
    return [
        {
            "title": f"Harbour report {i}",
            "body": f"Report {i} on harbour cranes, tonnage {i} and the  night shift.",
            "external_id": f"harbour-{i}",
            "publication": ["Lloyd's  List", "  Port Gazette", "zeta Weekly"][i % 3],
            "persons": [["Paul  Volcker", "Émile Zola", "anna Karenina"], [], [" Bob Roe "]][i % 3],
            "published": f"2001-02-{1 + i % 28:02d}",
            **extra,
        }
        for i in range(start, start + n)
    ]


def assert_index_matches_database():
    drift, _ = indexing.check()
    assert drift.ok, drift
    assert not IndexTask.objects.exists()


def _needs_streaming() -> None:
    from archive.indexing import StreamedRebuild

    if not StreamedRebuild.available():
        pytest.skip("the index pass is written while saving on SQLite only (StreamedRebuild)")


@pytest.mark.django_db(transaction=True)
def test_a_large_import_feeds_its_index_pass_as_it_saves(monkeypatch):
    _needs_streaming()
    monkeypatch.setattr(pipeline, "DEFER_INDEX_AFTER", 10)
    # Before the import: documents the pass must cover from the database.
    first = ingest.ingest([jsonl(records(5, start=1000))], batch_size=10)
    assert not first.index_deferred
    fed: list[int] = []
    add = indexing.StreamedRebuild.add

    def spy(self, docs, *args):
        fed.extend(doc.id for doc in docs)
        return add(self, docs, *args)

    monkeypatch.setattr(indexing.StreamedRebuild, "add", spy)
    items = [
        *records(45),
        {"title": "Bad link", "body": "A body.", "url": "https://", "external_id": "bad"},
        records(1, start=3)[0],  # a repeat within the file
        {**records(1, start=1001)[0], "title": "Harbour report, revised"},  # an update
    ]
    report = ingest.ingest([jsonl(items)], batch_size=10)
    assert report.index_deferred
    assert report.counts[ingest.Outcome.CREATED] == 45
    assert report.counts[ingest.Outcome.UPDATED] >= 1  # the repeat too (publication spelling)
    assert len(fed) >= 30  # the batches after the switch came from memory, not the database
    assert_index_matches_database()
    assert search.search(search.SearchRequest(q="cranes", copies="all")).total == 50
    assert search.search(search.SearchRequest(q="revised", copies="all")).total == 1
    volcker = search.search(search.SearchRequest(persons=("Paul Volcker",), copies="all"))
    assert volcker.total == Person.objects.get(name="Paul Volcker").documents.count() > 10
    assert Publication.objects.filter(name="Port Gazette").exists()


@pytest.mark.django_db(transaction=True)
def test_changes_made_while_the_pass_is_written_reach_the_new_index(monkeypatch):
    """Another writer's save (waiting in the outbox while the import holds the write lock),
    made after the document was fed, is applied to the index that is swapped in."""
    _needs_streaming()
    monkeypatch.setattr(pipeline, "DEFER_INDEX_AFTER", 10)
    add = indexing.StreamedRebuild.add
    calls = []

    def edit_after_feeding(self, docs, *args):
        add(self, docs, *args)
        calls.append(len(docs))
        if len(calls) == 2:
            document = Document.objects.get(pk=docs[0].id)
            document.title = "Edited while the index was written"
            document.save()
            Document.objects.get(pk=docs[1].id).delete()

    monkeypatch.setattr(indexing.StreamedRebuild, "add", edit_after_feeding)
    ingest.ingest([jsonl(records(40))], batch_size=10)
    assert_index_matches_database()
    assert search.search(search.SearchRequest(q="edited", copies="all")).total == 1
    assert search.search(search.SearchRequest(q="cranes", copies="all")).total == 39


@pytest.mark.django_db(transaction=True)
def test_a_pass_that_fails_falls_back_to_a_rebuild(monkeypatch):
    _needs_streaming()
    monkeypatch.setattr(pipeline, "DEFER_INDEX_AFTER", 10)
    rebuild_index = search.rebuild_index
    attempts = []

    def fail_once(docs, progress=None):
        attempts.append(1)
        if len(attempts) == 1:
            for _ in docs:
                raise OSError("disk full")
        return rebuild_index(docs, progress=progress)

    monkeypatch.setattr(search, "rebuild_index", fail_once)
    report = ingest.ingest([jsonl(records(40))], batch_size=10)
    assert report.counts[ingest.Outcome.CREATED] == 40
    assert len(attempts) == 2
    assert_index_matches_database()
    assert search.search(search.SearchRequest(q="cranes", copies="all")).total == 40


@pytest.mark.django_db(transaction=True)
def test_a_large_extracting_import_matches_the_database(monkeypatch):
    """Documents whose entities are extracted (one at a time, with mentions), then resolved
    again at the end of the import: the pass and the resolution's changes are both indexed."""
    monkeypatch.setattr(pipeline, "DEFER_INDEX_AFTER", 4)
    texts = [
        {
            "title": f"Talks {i}",
            "body": f"Tony Blair met Gordon Brown in London on day {i}. Blair said the "
            f"European Union and the Bank of England agreed. Mr Brown left for Paris.",
            "external_id": f"talks-{i}",
        }
        for i in range(12)
    ]
    report = ingest.ingest([jsonl(texts)], batch_size=4, workers=1)
    assert report.index_deferred
    assert report.counts[ingest.Outcome.CREATED] == 12
    assert_index_matches_database()
    assert search.search(search.SearchRequest(persons=("Tony Blair",), copies="all")).total == 12


@pytest.mark.django_db(transaction=True)
def test_records_that_give_their_persons_never_load_the_model(monkeypatch):
    def no_model():
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(entities.persons, "nlp", no_model)
    report = ingest.ingest([jsonl(records(30))], batch_size=10, workers=2)
    assert report.counts[ingest.Outcome.CREATED] == 30
    assert not report.failed


def test_the_stream_keeps_its_order_when_some_items_need_no_model(monkeypatch):
    calls = []

    def mentions_of(texts):
        calls.append(len(texts))
        return [[entities.NameMention(text, entities.PERSON)] for text, _ in texts]

    monkeypatch.setattr(entities, "_mentions_of", mentions_of)
    items = [(None if i % 3 else f"text {i}", None, i) for i in range(20)]
    out = list(entities.extract_stream(items, workers=1, chunk=4))
    assert [context for context, _ in out] == list(range(20))
    for context, found in out:
        if context % 3:
            assert found is None
        else:
            assert found == [entities.NameMention(f"text {context}", entities.PERSON)]
    assert sum(calls) == 7
    assert list(entities.extract_stream([(None, None, "a")] * 5, workers=2)) == [("a", None)] * 5


@pytest.mark.django_db(transaction=True)
def test_an_import_into_a_larger_archive_writes_the_index_in_larger_steps(monkeypatch):
    """Not one rebuild (the archive holds more than the import adds), and not one index commit
    per batch: the outbox is applied once it holds COALESCE_TASKS documents' tasks, and at the
    end; every document is then in the index."""
    ingest.ingest([jsonl(records(30, start=500))], batch_size=10)
    monkeypatch.setattr(indexing, "COALESCE_TASKS", 12)
    steps: list[int] = []
    update = search.update_documents

    def counted(docs, *args, **kwargs):
        steps.append(len(docs))
        return update(docs, *args, **kwargs)

    monkeypatch.setattr(search, "update_documents", counted)
    report = ingest.ingest([jsonl(records(25))], batch_size=5)
    assert report.counts[ingest.Outcome.CREATED] == 25 and not report.index_deferred
    # Five batches of five: applied after the third (15 tasks waiting), then at the end (10).
    assert steps == [15, 10]
    assert_index_matches_database()
    assert search.search(search.SearchRequest(q="harbour")).total == 55
