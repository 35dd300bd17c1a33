"""check_index finds drift between the database and the index and repairs exactly that; a missing
or damaged index gives clear 503 answers (never a 500) and never stops an editor's save."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from archive import indexing, search
from archive.models import Document, IndexTask
from archive.search.whoosh import index as search_index
from archive.search.whoosh import schema

pytestmark = pytest.mark.usefixtures("search_backend")


def check(*args: str) -> str:
    out = io.StringIO()
    call_command("check_index", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def check_fails(*args: str) -> str:
    out = io.StringIO()
    with pytest.raises(CommandError, match="differs"):
        call_command("check_index", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_an_index_in_step_passes(seeds):
    assert "The index matches the database." in check()


def test_missing_extra_and_stale_documents_are_reported_and_repaired(seeds, make_document):
    kept = make_document(title="Kept", body="Kept text.")
    # Bulk changes that send no signals are exactly what drifts.
    Document.objects.filter(pk=kept.pk).update(title="Renamed behind the index's back")
    (missing,) = Document.objects.bulk_create([Document(title="Bulk", body="Bulk inserted.")])
    search.update_documents([search.IndexedDocument(id=999_999, title="Ghost", body="Gone.")])
    report = check_fails()
    assert "Database: 4 documents. Index: 4." in report
    # Which engine answered: the embedded index or the cluster, and where.
    assert f"Engine: {search.describe_backend()}." in report
    assert ("embedded Whoosh index" in report) != ("SphinxQL cluster" in report)
    assert f"Missing from the index: 1 ({missing.pk})" in report
    assert "Extra in the index: 1 (999999)" in report
    assert f"Stale in the index: 1 ({kept.pk})" in report

    repaired = check("--repair")
    assert "Reindexed 3 documents." in repaired
    assert "Repaired: the index matches the database." in repaired
    assert "The index matches the database." in check()
    assert [h.title for h in search.search(search.SearchRequest(q="renamed")).hits] == [
        "Renamed behind the index's back"
    ]
    assert search.search(search.SearchRequest(q="ghost")).total == 0
    assert search.search(search.SearchRequest(q="bulk")).total == 1


def test_a_deleted_index_is_reported_and_rebuilt(seeds, index_dir):
    shutil.rmtree(search_index.index_dir())
    # Checking is not writing: check_index reports the missing index and builds nothing.
    report = check_fails()
    assert not search_index.index_exists()
    assert "Index unavailable" in report and "rebuild_index" in report
    assert "Rebuilt the index: 2 documents." in check("--repair")
    assert search.search(search.SearchRequest()).total == 2


def _segment_files(index_dir: Path) -> list[Path]:
    real = Path(search_index.index_dir())
    return sorted(p for p in real.iterdir() if p.suffix in {".trm", ".pst", ".sto", ".seg"})


def _damage(index_dir: Path, how: str) -> None:
    if how == "deleted":
        shutil.rmtree(search_index.index_dir())
        return
    files = _segment_files(index_dir)
    assert files, list(Path(search_index.index_dir()).iterdir())
    for path in files:
        if how == "truncated":
            with open(path, "r+b") as handle:
                handle.truncate(max(1, path.stat().st_size // 3))
        else:
            path.write_bytes(b"garbage" * 50)


@pytest.fixture
def staff_client(client, transactional_db):
    user = User.objects.create_superuser("editor", "editor@example.com", "a-long-password-1")
    client.force_login(user)
    return client


@pytest.mark.parametrize("how", ["deleted", "truncated", "garbage"])
def test_a_broken_index_gives_503_pages_and_saves_still_work(staff_client, seeds, index_dir, how):
    document = seeds[0]
    # Searches before the damage leave pooled searchers; they must not hide the damage.
    assert staff_client.get(reverse("archive:search"), {"q": "Murree"}).status_code == 200
    _damage(index_dir, how)

    page = staff_client.get(reverse("archive:search"), {"q": "Murree"})
    assert page.status_code == 503
    assert "python manage.py rebuild_index" in page.content.decode()
    api = staff_client.get(reverse("archive:api-search"), {"q": "Murree"})
    assert api.status_code == 503
    assert "rebuild_index" in api.json()["error"]
    # The document page comes from the database: it still shows the text, without marks.
    detail = staff_client.get(document.get_absolute_url(), {"q": "Murree"})
    assert detail.status_code == 200
    assert document.title.split()[0] in detail.content.decode()

    # An editor's save succeeds; the change waits in the outbox for the repaired index.
    url = reverse("admin:archive_document_change", args=[document.pk])
    response = staff_client.post(
        url,
        {
            "title": "Saved while the index was broken",
            "body": document.body,
            "published": "",
            "publication": "",
            "persons": [],
            "source_url": "",
            "external_id": document.external_id,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Document.objects.get(pk=document.pk).title == "Saved while the index was broken"

    if how == "deleted":
        # A missing index is built from the whole database by the next write (this save): both
        # documents are back, the edit included, and nothing waits in the outbox.
        assert not IndexTask.objects.exists()
        assert "The index matches the database." in check()
        assert search.search(search.SearchRequest()).total == len(seeds)
    else:
        # A damaged index is never silently replaced: searches stay 503 until the repair.
        assert staff_client.get(reverse("archive:search"), {"q": "broken"}).status_code == 503
        assert "Repaired: the index matches the database." in check("--repair")
    assert not IndexTask.objects.exists()
    hits = search.search(search.SearchRequest(q="broken")).hits
    assert [h.title for h in hits] == ["Saved while the index was broken"]
    assert staff_client.get(reverse("archive:search"), {"q": "broken"}).status_code == 200


def test_apply_index_tasks_applies_what_a_crash_left(seeds):
    document = seeds[0]
    with search.write_lock(timeout=0):
        document.title = "Changed while another writer held the lock"
        document.save()
    # The save could not write the index; its task waits (as after a crash).
    assert IndexTask.objects.filter(document_id=document.pk).exists()
    assert search.search(search.SearchRequest(q="writer")).total == 0
    out = io.StringIO()
    call_command("apply_index_tasks", stdout=out)
    assert "Applied 1 pending index changes." in out.getvalue()
    assert search.search(search.SearchRequest(q="writer")).total == 1
    assert indexing.pending_count() == 0


def test_check_index_says_what_had_waited_in_the_outbox(seeds):
    """A change the index could not take when it was saved (here: another writer held the
    lock; on a cluster, a shard down) is applied before comparing, and the report says so,
    rather than a bare "matches" that hides it."""
    document = seeds[0]
    with search.write_lock(timeout=0):
        document.title = "Changed while another writer held the lock"
        document.save()
    report = check()
    assert "Applied first 1 changes that waited in the outbox" in report
    assert "Changes still waiting" not in report
    assert "The index matches the database." in report
    assert "Applied first" not in check()


def test_rebuild_if_needed_rebuilds_an_unreadable_index(seeds, index_dir):
    _damage(index_dir, "garbage")
    out = io.StringIO()
    call_command("rebuild_index", if_needed=True, stdout=out, stderr=io.StringIO())
    assert "cannot be read" in out.getvalue()
    assert "Indexed 2 documents" in out.getvalue()
    assert search.search(search.SearchRequest()).total == 2


def keep_words(word: str) -> str:
    """A stemmer that stems nothing: stands in for the analyzer of an older version of the site
    (module level, because an index stores its analyzer by reference)."""
    return word


@pytest.mark.whoosh_only
def test_an_index_built_with_another_stemmer_is_rebuilt(make_document, monkeypatch):
    """Words are stemmed with Snowball English, which undoubles consonants ("planned" is "plan";
    Whoosh's own Porter made it "plann"). An index built by a version that stemmed otherwise is
    reported by check_index and rebuilt by `check_index --repair` and `rebuild_index --if-needed`
    (which `make run` and `make serve` call)."""
    make_document(title="Harbour works", body="They planned the harbour and stopped the ferries.")
    make_document(title="A plan", body="The plan stops at the port.")
    ask = search.SearchRequest
    assert search.search(ask(q="plan")).total == 2
    assert search.search(ask(q="stop")).total == 2
    assert search.outdated_analysis() == ""

    monkeypatch.setattr(search_index, "SCHEMA", schema.build_schema(stem=keep_words))
    indexing.rebuild()
    monkeypatch.undo()
    reason = search.outdated_analysis()
    assert "test_check_index.keep_words" in reason and "analyzer.english_stem" in reason
    # Queries are stemmed by this version ("stop"), the index holds "stopped", "stops": a miss.
    assert search.search(ask(q="stopped")).total == 0

    report = check_fails()
    assert f"Index built by an older version: {reason}" in report
    repaired = check("--repair")
    assert "Rebuilt the index: 2 documents." in repaired
    assert search.outdated_analysis() == ""
    assert search.search(ask(q="stopped")).total == 2

    monkeypatch.setattr(search_index, "SCHEMA", schema.build_schema(stem=keep_words))
    indexing.rebuild()
    monkeypatch.undo()
    out = io.StringIO()
    call_command("rebuild_index", if_needed=True, stdout=out, stderr=io.StringIO())
    assert "The index was built by an older version" in out.getvalue()
    assert search.outdated_analysis() == ""
    out = io.StringIO()
    call_command("rebuild_index", if_needed=True, stdout=out, stderr=io.StringIO())
    assert "The index holds every document (2)" in out.getvalue()
