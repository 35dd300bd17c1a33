"""The index follows the database: fixtures, saves, deletes, renames, and the rebuild command."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import transaction

from archive import search
from archive.models import Document, Person, Publication

pytestmark = pytest.mark.usefixtures("search_backend")


def titles(**request) -> list[str]:
    """Every matching document's title (copies of one text included)."""
    request = {"copies": "all", "page_size": 100, **request}
    return [hit.title for hit in search.search(search.SearchRequest(**request)).hits]


def test_loaddata_alone_makes_the_seeds_searchable_with_facets(seeds):
    response = search.search(search.SearchRequest(q="Murree"))
    assert response.total == 1
    assert response.hits[0].title.startswith("Inside Story!")
    people = {v.value: v.count for v in response.facets["person"].values}
    assert people["Madhukar Gupta"] == 1
    years = {v.value: v.count for v in response.facets["year"].values}
    assert years == {"2025": 1}
    publications = response.facets["publication"].values
    assert [(v.value, v.label, v.count) for v in publications] == [("", "Unknown publication", 1)]


def test_saving_a_document_indexes_it_after_commit(transactional_db):
    with transaction.atomic():
        Document.objects.create(title="Harbour report", body="The ferry reached Colaba.")
        # Not yet committed: the index must not have it.
        assert search.search(search.SearchRequest(q="Colaba")).total == 0
    assert titles(q="Colaba") == ["Harbour report"]


def test_a_rolled_back_document_never_reaches_the_index(transactional_db):
    with pytest.raises(RuntimeError), transaction.atomic():
        Document.objects.create(title="Ghost", body="A phantom zeppelin.")
        raise RuntimeError("abort")
    assert search.search(search.SearchRequest(q="zeppelin")).total == 0
    assert not Document.objects.exists()


def test_editing_a_document_replaces_its_index_entry(make_document):
    document = make_document(title="Old headline", body="About tigers.")
    document.title = "New headline"
    document.body = "About leopards."
    document.save()
    assert titles(q="leopards") == ["New headline"]
    assert titles(q="tigers") == []
    assert search.search(search.SearchRequest()).total == 1


def test_deleting_a_document_removes_it(make_document):
    document = make_document(title="Short-lived", body="Ephemeral news.")
    assert titles(q="ephemeral") == ["Short-lived"]
    document.delete()
    assert titles(q="ephemeral") == []


def test_changing_persons_updates_the_person_facet(make_document):
    document = make_document(title="Talks", body="Bilateral talks.", persons=("Madhukar Gupta",))
    document.persons.add(Person.objects.create(name="M L Kumawat"))
    facet = search.search(search.SearchRequest(q="talks")).facets["person"]
    assert {v.value for v in facet.values} == {"Madhukar Gupta", "M L Kumawat"}
    document.persons.clear()
    facet = search.search(search.SearchRequest(q="talks")).facets["person"]
    assert facet.values == []


def test_renaming_a_person_updates_every_document_that_mentions_them(make_document):
    make_document(title="One", body="First story.", persons=("Babur",))
    make_document(title="Two", body="Second story.", persons=("Babur",))
    person = Person.objects.get(name="Babur")
    person.name = "Farhatullah Babar"
    person.save()
    assert titles(persons=("Farhatullah Babar",)) == ["Two", "One"]
    assert titles(persons=("Babur",)) == []


def test_deleting_a_person_removes_them_from_the_facet(make_document):
    make_document(title="One", body="Story.", persons=("Someone Else", "Kept Person"))
    Person.objects.get(name="Someone Else").delete()
    facet = search.search(search.SearchRequest()).facets["person"]
    assert [v.value for v in facet.values] == ["Kept Person"]


def test_removing_a_document_from_a_person_reverse_side(make_document):
    document = make_document(title="One", body="Story.", persons=("Reverse Side",))
    Person.objects.get(name="Reverse Side").documents.remove(document)
    assert search.search(search.SearchRequest()).facets["person"].values == []


def test_renaming_and_deleting_a_publication(make_document):
    make_document(title="Wire story", body="Markets fell.", publication="Reuters")
    publication = Publication.objects.get(name="Reuters")
    publication.name = "Reuters News"
    publication.save()
    assert titles(publications=("Reuters News",)) == ["Wire story"]
    publication.delete()
    assert Document.objects.get().publication is None
    assert titles(publications=("",)) == ["Wire story"]


def test_rebuild_index_restores_a_lost_index(make_document, index_dir):
    make_document(title="Durable", body="Survives a rebuild.", published=dt.date(2001, 2, 3))
    make_document(title="Also durable", body="Survives too.")
    # Simulate an index that fell behind (e.g. after a bulk SQL update).
    Document.objects.filter(title="Durable").update(title="Durable, renamed")
    assert titles(q="rebuild") == ["Durable"]
    out = io.StringIO()
    call_command("rebuild_index", stdout=out, stderr=io.StringIO())
    assert "Indexed 2 documents" in out.getvalue()
    assert titles(q="rebuild") == ["Durable, renamed"]
    assert search.search(search.SearchRequest()).total == 2


def test_rebuild_if_needed_skips_an_index_in_step(seeds):
    out = io.StringIO()
    call_command("rebuild_index", if_needed=True, stdout=out, stderr=io.StringIO())
    assert "holds every document (2)" in out.getvalue()


def test_init_archive_loads_fixtures_once_and_keeps_edits(transactional_db, index_dir):
    call_command("init_archive", stdout=io.StringIO(), stderr=io.StringIO())
    assert Document.objects.count() == 2
    edited = Document.objects.get(external_id="seed:002_ec692635d6c359ed")
    edited.title = "Edited by an editor"
    edited.save()
    out = io.StringIO()
    call_command("init_archive", stdout=out, stderr=io.StringIO())
    assert "fixtures not reloaded" in out.getvalue()
    assert Document.objects.count() == 2
    assert Document.objects.get(pk=edited.pk).title == "Edited by an editor"
    assert titles(q="editor") == ["Edited by an editor"]


def test_loading_the_fixture_twice_creates_nothing_new(seeds):
    call_command("loaddata", "fixtures/seed_articles.json", verbosity=0)
    assert Document.objects.count() == 2
    assert Person.objects.count() == 13
    assert search.search(search.SearchRequest()).total == 2


def test_a_deleted_and_rebuilt_index_is_served_fresh(make_document, index_dir):
    """A searcher opened before the index directory was deleted must not keep serving (or crash on)
    the vanished segments once the index is rebuilt, even at the same generation number."""
    import shutil

    from archive.search.whoosh.index import borrowed_searcher

    document = make_document(title="Before", body="Harbour pilots.", publication="Old Gazette")
    first = search.search(search.SearchRequest(q="harbour"))
    assert [hit.title for hit in first.hits] == ["Before"]
    with borrowed_searcher() as searcher:
        generation = searcher.reader().generation()
    shutil.rmtree(index_dir)
    # A queryset update sends no signals: only the rebuild brings the change to the index.
    Document.objects.filter(pk=document.pk).update(
        title="After", publication=Publication.objects.create(name="New Herald")
    )
    call_command("rebuild_index", stdout=io.StringIO(), stderr=io.StringIO())
    after = search.search(search.SearchRequest(q="harbour"))
    with borrowed_searcher() as searcher:
        assert searcher.reader().generation() == generation
    assert [hit.title for hit in after.hits] == ["After"]
    assert [value.value for value in after.facets["publication"].values] == ["New Herald"]


def test_a_searcher_keeps_reading_after_a_commit_merges_its_segments_away(index_dir):
    """Whoosh deletes the files of segments merged by a commit at once. A searcher opened before
    that commit must still read stored fields and lengths of every document (it did not: stored
    fields are opened on first use, and a server under load gave 500s)."""
    from archive.search.whoosh import index as search_index

    def doc(n: int) -> search.IndexedDocument:
        return search.IndexedDocument(id=n, title=f"Harbour {n}", body=f"Harbour report {n}.")

    for n in range(1, 4):
        search.update_documents([doc(n)])  # three small segments
    before = set(p.name for p in index_dir.resolve().iterdir())
    with search_index.borrowed_searcher() as searcher:
        for n in range(4, 30):
            search.update_documents([doc(n)])  # commits that merge the small segments
        after = set(p.name for p in index_dir.resolve().iterdir())
        assert before - after, "no segment file was deleted: the test proves nothing"
        stored = [searcher.stored_fields(docnum)["title"] for docnum in range(searcher.doc_count())]
    assert sorted(stored) == sorted(f"Harbour {n}" for n in range(1, 4))
    assert search.search(search.SearchRequest(q="harbour")).total == 29


# --- A missing index is built by the next write ---------------------------------------------------


@pytest.mark.whoosh_only
def test_a_deleted_index_is_rebuilt_from_the_whole_database_by_the_next_save(make_document):
    """Not an empty index holding only the outbox: a document that is in the database but not in
    the outbox (here inserted in bulk, without signals) must be in the index the save builds."""
    import shutil

    from archive import indexing
    from archive.models import IndexTask
    from archive.search.whoosh import index as search_index

    kept = make_document(title="Kept", body="Indexed before the loss.")
    edited = make_document(title="Edited", body="Indexed before the loss too.")
    call_command("rebuild_index", stdout=io.StringIO(), stderr=io.StringIO())
    # The index is now a symlink to its build; deleting the build leaves a dangling symlink.
    shutil.rmtree(search_index.index_dir())
    assert not search.index_exists()
    (bulk,) = Document.objects.bulk_create([Document(title="Bulk", body="Never in the outbox.")])
    edited.title = "Edited after the loss"
    edited.save()
    assert search.index_exists()
    assert not IndexTask.objects.exists()
    assert sorted(titles()) == sorted(["Kept", "Edited after the loss", "Bulk"])
    drift, _ = indexing.check()
    assert drift.ok, drift
    every = search.search(search.SearchRequest(copies="all")).hits  # the two texts are copies
    assert sorted(every, key=lambda h: h.id)[0].id == kept.pk
    assert titles(q="outbox") == [bulk.title]


def test_apply_index_tasks_builds_a_missing_index(make_document, index_dir):
    import shutil

    make_document(title="Before", body="In the database.")
    shutil.rmtree(index_dir)
    index_dir.mkdir()  # an empty directory is no index either
    out = io.StringIO()
    call_command("apply_index_tasks", stdout=out)
    assert "There was no search index: built it from the database (1 documents)." in out.getvalue()
    assert titles() == ["Before"]


def test_a_damaged_index_is_not_replaced_by_a_save(make_document, index_dir):
    """An index directory whose table of contents is gone but whose segments are there is damaged,
    not missing: the save succeeds, its change waits, nothing is deleted, and the repair command
    is the way out."""
    from archive import indexing
    from archive.models import IndexTask
    from archive.search.whoosh import index as search_index

    document = make_document(title="Before", body="Some text.")
    real = search_index.index_dir()
    for toc in real.glob("*.toc"):
        toc.unlink()
    files = sorted(p.name for p in real.iterdir())
    assert files and not search.index_exists()
    document.title = "After"
    document.save()
    assert IndexTask.objects.filter(document_id=document.pk).exists()
    assert sorted(p.name for p in real.iterdir()) == files
    assert indexing.apply_pending().missing_index
    with pytest.raises(search.IndexUnavailable, match="rebuild_index"):
        search.search(search.SearchRequest())
    call_command("check_index", "--repair", stdout=io.StringIO(), stderr=io.StringIO())
    assert titles() == ["After"]


def test_the_rebuild_reads_each_document_as_a_save_writes_it(make_entity_document):
    """``documents_for_index`` (plain rows, a few queries a batch) gives for every document
    exactly what ``to_indexed`` gives from its model instance: names in name order, the
    publication, the date, the story and whether it has copies."""
    from archive import indexing
    from tests.stories_data import article, cut_last

    text = article(4, topic="harbour")
    make_entity_document(
        title="Wire",
        body=text,
        publication="Reuters",
        published=dt.date(2008, 11, 27),
        persons=("Zed Person", "Anna Person"),
        organisations=("United Nations",),
        places=("Mumbai", "Karachi"),
    )
    make_entity_document(title="Reprint", body=cut_last(text), publication="Dawn")
    make_entity_document(title="Alone", body=article(5, topic="harbour"), date_inferred=True)
    read = list(indexing.documents_for_index())
    expected = [indexing.to_indexed(d) for d in Document.objects.order_by("pk")]
    assert read == expected
    shared = [d.story_shared for d in read]
    assert shared == [d.story_shared for d in expected] == [True, True, False]
    assert read[0].persons == ("Anna Person", "Zed Person")
    assert read[0].places == ("Karachi", "Mumbai")
    assert len(list(indexing.documents_for_index(Document.objects.filter(title="Alone")))) == 1


def test_the_build_sorts_in_a_quarter_of_memory_unless_told(monkeypatch):
    """A build's postings are sorted in memory up to a limit per process: a quarter of the
    machine's (or container's) memory shared by the processes, bounded, or the setting."""
    from archive.search.whoosh import index

    total = index._memory_bytes()
    assert total is not None and total > 0
    for procs in (1, 2, 4):
        expected = min(384, max(128, total // 4 // procs // 2**20))
        assert index.build_memory_mb(procs) == expected
    monkeypatch.setattr(index, "BUILD_MB", "300")
    assert index.build_memory_mb(2) == 300


@pytest.mark.whoosh_only
def test_a_build_that_sorts_on_disk_finds_what_one_in_memory_finds(index_dir, monkeypatch):
    """Past its memory limit a build writes its terms to sorted runs and merges them; the
    merged index must hold every posting of every document (counts for many words, phrases)."""
    import random

    from archive.search.whoosh import index as search_index

    runs = []
    write_groups = search_index._PostingPool._write_groups

    def counted(self, f, groups):
        runs.append(1)
        return write_groups(self, f, groups)

    monkeypatch.setattr(search_index._PostingPool, "_write_groups", counted)
    monkeypatch.setattr(search_index, "MAX_BUILD_PROCS", 1)  # runs written in this process
    monkeypatch.setattr(search_index, "BUILD_MB", "16")
    rng = random.Random(7)
    vocabulary = [f"harbour{n:04d}x" for n in range(1000)]
    docs = [
        search.IndexedDocument(
            id=n, title=f"Report {n}", body=" ".join(rng.choice(vocabulary) for _ in range(500))
        )
        for n in range(1, 801)
    ]
    assert search.rebuild_index(iter(docs)) == 800
    assert len(runs) >= 2, "the build never sorted on disk: the test proves nothing"
    words_of = [set(doc.body.split()) for doc in docs]
    for word in vocabulary:
        expected = sum(1 for words in words_of if word in words)
        assert search.search(search.SearchRequest(q=word)).total == expected, word
    words = docs[123].body.split()
    phrase = f'"{words[10]} {words[11]} {words[12]}"'
    assert 124 in [hit.id for hit in search.search(search.SearchRequest(q=phrase)).hits]


@pytest.mark.whoosh_only
@pytest.mark.parametrize("memory_mb", [None, 0.05], ids=["in-memory", "sorted-on-disk"])
def test_postings_written_a_term_at_a_time_are_whooshs_own(
    index_dir, settings, monkeypatch, memory_mb
):
    """The index's writers take the pool's postings a term at a time (``GroupedCodec``): a
    build, and an update that merges its segments, write the same term infos, postings and
    files as Whoosh's own field writer, posting by posting (words in more documents than a
    block holds, in one, in a title or not; exact fields; a pool that sorts on disk)."""
    import filecmp
    import random

    from archive.search.whoosh import codec as grouped
    from archive.search.whoosh import index as search_index

    monkeypatch.setattr(search_index, "MAX_BUILD_PROCS", 1)  # one segment per commit
    if memory_mb is not None:
        monkeypatch.setattr(search_index, "build_memory_mb", lambda procs: memory_mb)
    rng = random.Random(5)
    common = ["harbour", "ferry", "report", "minister", "karachi"]
    vocabulary = [f"word{n:03d}x" for n in range(400)]
    docs = [
        search.IndexedDocument(
            id=n,
            title=" ".join(rng.sample(common, 2)) if n % 7 else "",
            body=" ".join(rng.choice(common + vocabulary) for _ in range(rng.randint(0, 80))),
            published=dt.date(2008, 1 + n % 12, 1 + n % 28),
            publication=f"Paper {n % 3}",
            persons=tuple(f"Person {k}" for k in range(n % 4)),
            story=n // 2 or None,
        )
        for n in range(1, 361)
    ]
    changed = [
        search.IndexedDocument(id=d.id, title="Changed ferry", body=d.body[::-1]) for d in docs[:9]
    ]
    built = []
    for name, codec in (("whoosh", grouped.PlainCodec), ("grouped", search_index.GroupedCodec)):
        settings.ARCHIVE_INDEX_DIR = index_dir.parent / name
        monkeypatch.setattr(search_index, "GroupedCodec", codec)
        # Segment names are random: the same ones for both builds, so the files can match.
        with grouped.seeded_segment_names(11):
            assert search.rebuild_index(iter(docs)) == len(docs)
            search.update_documents(changed, delete_ids=[20, 21])  # merges the segments
        built.append(search_index.index_dir())
    whoosh_dir, grouped_dir = built
    expected = grouped.index_contents(whoosh_dir)
    assert sum(len(postings) > 128 for _, postings in expected.values()) >= 3  # several blocks
    assert grouped.index_contents(grouped_dir) == expected
    names = sorted(p.name for p in whoosh_dir.iterdir())
    assert names == sorted(p.name for p in grouped_dir.iterdir())
    same, _, _ = filecmp.cmpfiles(whoosh_dir, grouped_dir, names, shallow=False)
    assert same == names  # byte for byte
