"""Nothing is lost when a process dies: ``kill -9`` during a rebuild leaves the old index serving
and the next rebuild succeeds; ``kill -9`` during an ingest leaves every committed document in
the outbox, and the next writer brings it to the index. A swapped-in index is picked up by the
next search in a running process, and changes saved during a rebuild reach the new index."""

from __future__ import annotations

import datetime as dt
import fcntl
import io
import os
import signal
import sqlite3
import time
from pathlib import Path

from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from archive import indexing, search
from archive.models import Document, IndexTask, Publication
from archive.search.whoosh import index as search_index
from tests.test_concurrency import Archive, write_txt_files


def wait_for(condition, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def index_siblings(data_dir: Path) -> list[str]:
    return sorted(p.name for p in data_dir.iterdir() if p.name.startswith("index-"))


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _describe(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[:2]
    except OSError:
        return f"{pid}: gone"
    return f"{pid} (state {state[0]}, parent {state[1]}): {command.strip()}"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_kill_9_during_rebuild_keeps_the_old_index_and_the_next_rebuild_succeeds(tmp_path):
    data = tmp_path / "data"
    archive = Archive(data)
    archive.migrate()
    archive.seed(50)
    archive.run("rebuild_index")
    old_dir = os.path.realpath(data / "index")
    archive.seed(2500)  # in bulk: not indexed until the next rebuild

    # Two build processes, as in production: the forked sub-writers must die with the rebuild.
    rebuild = archive.start("rebuild_index", ARCHIVE_INDEX_BUILD_PROCS="2")
    wait_for(lambda: any(n.endswith(".new") for n in index_siblings(data)), what="a build dir")
    # The build processes start with the first full batch of documents, which on a loaded
    # machine can be seconds after the build directory appears: wait for them, not a fixed time.
    wait_for(
        lambda: _children(rebuild.pid) or rebuild.poll() is not None,
        timeout=30,
        what="the build processes",
    )
    assert rebuild.poll() is None, "the rebuild finished before it could be killed"
    children = _children(rebuild.pid)
    assert children, "the rebuild started no build processes"
    rebuild.send_signal(signal.SIGKILL)
    rebuild.wait()
    survivors = [pid for pid in children if _alive(pid)]
    deadline = time.monotonic() + 10
    while survivors and time.monotonic() < deadline:
        time.sleep(0.05)
        survivors = [pid for pid in survivors if _alive(pid)]
    if survivors:  # say what they are, and do not leave them running
        described = [_describe(pid) for pid in survivors]
        for pid in survivors:
            os.kill(pid, signal.SIGKILL)
        raise AssertionError(f"orphans of the killed rebuild still alive: {described}")

    # The half-built directory is left behind; the index path still points at the old index.
    assert any(name.endswith(".new") for name in index_siblings(data))
    assert os.path.realpath(data / "index") == old_dir
    assert archive.search_total() == 50
    assert archive.search_total("harbour") == 50

    result = archive.run("rebuild_index")
    assert "Indexed 2,550 documents" in result.stdout
    assert archive.search_total() == 2550
    # The next run cleaned up: the new index only, no build directory, no old index.
    assert os.path.realpath(data / "index") != old_dir
    assert index_siblings(data) == [Path(os.path.realpath(data / "index")).name]
    assert archive.check_index().returncode == 0


def _count(db: Path, table: str) -> int:
    with sqlite3.connect(db, timeout=10) as connection:
        return connection.execute(f"select count(*) from {table}").fetchone()[0]


def _kill_ingest_midway(archive: Archive, folder: Path, db: Path) -> int:
    at_least = _count(db, "archive_document") + 300
    ingest = archive.start("ingest", str(folder), "--no-persons")
    # Kill once the first batches have committed, long before the last one.
    wait_for(lambda: _count(db, "archive_document") >= at_least, what="committed batches")
    assert ingest.poll() is None, "the ingest finished before it could be killed"
    ingest.send_signal(signal.SIGKILL)
    ingest.wait()
    return _count(db, "archive_document")


def test_kill_9_during_ingest_loses_no_committed_document(tmp_path):
    data = tmp_path / "data"
    archive = Archive(data)
    archive.migrate()
    archive.run("rebuild_index")
    write_txt_files(tmp_path / "incoming", 2000)
    db = data / "db.sqlite3"

    # Another writer holds the index for the whole ingest, so the ingest can apply nothing:
    # every document it commits is, at the kill, in the database and only in the outbox. This is
    # the crash between commit and index write, made certain.
    with open(data / "index.lock", "a") as lock:
        fcntl.lockf(lock, fcntl.LOCK_EX)  # as archive.search.whoosh.index.write_lock takes it
        saved = _kill_ingest_midway(archive, tmp_path / "incoming", db)
        assert 300 <= saved < 2000
        assert _count(db, "archive_indextask") >= saved
        assert archive.search_total() == 0
    # The restart: the next writer applies the outbox.
    assert f"Applied {saved:,} pending" in archive.run("apply_index_tasks").stdout
    assert archive.search_total() == saved
    assert archive.check_index().returncode == 0

    # And killed while it indexes as it goes: whatever it committed is in the index after a drain.
    write_txt_files(tmp_path / "more", 2000, tag="more-")
    before = saved
    saved = _kill_ingest_midway(archive, tmp_path / "more", db)
    assert before + 300 <= saved < before + 2000
    archive.run("apply_index_tasks")
    assert archive.search_total() == saved
    check = archive.check_index()
    assert check.returncode == 0, check.stdout + check.stderr


# --- In one process ------------------------------------------------------------------------------


def titles(**request) -> list[str]:
    """Every matching document's title (copies of one text included)."""
    request = {"copies": "all", "page_size": 100, **request}
    return [hit.title for hit in search.search(search.SearchRequest(**request)).hits]


def test_a_swapped_index_is_picked_up_by_the_next_search(make_document, index_dir):
    make_document(title="Before", body="Harbour pilots.", publication="Old Gazette")
    # Fill the searcher pool and the facet caches with the old directory.
    for _ in range(3):
        assert [
            v.value for v in search.search(search.SearchRequest()).facets["publication"].values
        ] == ["Old Gazette"]
    old = search_index.index_dir()
    Document.objects.update(
        title="After", publication=Publication.objects.create(name="New Herald")
    )
    call_command("rebuild_index", stdout=io.StringIO(), stderr=io.StringIO())
    new = search_index.index_dir()
    # The plain directory became a symlink to the new build; the old contents are gone.
    assert new != old and index_dir.is_symlink() and new.parent == index_dir.parent
    response = search.search(search.SearchRequest(q="harbour"))
    assert [hit.title for hit in response.hits] == ["After"]
    assert [v.value for v in response.facets["publication"].values] == ["New Herald"]
    # A second swap too (symlink replaced by symlink).
    Document.objects.update(title="Again")
    call_command("rebuild_index", stdout=io.StringIO(), stderr=io.StringIO())
    assert titles(q="harbour") == ["Again"]
    assert not new.exists()
    assert index_siblings(index_dir.parent) == [search_index.index_dir().name]


def test_changes_saved_during_a_rebuild_reach_the_new_index(make_document):
    first = make_document(title="First", body="Original text.")
    for i in range(5):
        make_document(title=f"Filler {i}", body="Filler text.")
    saved: list[Document] = []

    def meanwhile(count: int) -> None:
        # Runs while the rebuild holds the write lock and has read part of the database: these
        # saves cannot write the index (it is locked) and the rebuild's reading may miss them.
        if count == 1 and not saved:
            saved.append(make_document(title="Born during the rebuild", body="Newcomer text."))
            Document.objects.filter(pk=first.pk).first().delete()
            edited = Document.objects.get(title="Filler 4")
            edited.title = "Edited during the rebuild"
            edited.save()

    written = indexing.rebuild(progress=meanwhile)
    assert written == 6
    assert not IndexTask.objects.exists()
    assert titles(q="newcomer") == ["Born during the rebuild"]
    assert titles(q="original") == []
    assert "Edited during the rebuild" in titles(q="filler")
    drift, _ = indexing.check()
    assert drift.ok, drift


def test_a_rebuild_removes_build_directories_left_by_a_killed_one(make_document, index_dir):
    make_document(title="Kept", body="Text.", published=dt.date(2020, 1, 1))
    leftover = index_dir.parent / "index-20200101T000000-000000000-123.new"
    leftover.mkdir()
    (leftover / "_MAIN_1.toc").write_text("half written")
    unrelated = index_dir.parent / "index-notes"
    unrelated.mkdir()
    call_command("rebuild_index", stdout=io.StringIO(), stderr=io.StringIO())
    assert not leftover.exists()
    assert unrelated.exists()  # only directories the rebuild itself names are removed
    assert titles(q="text") == ["Kept"]


def test_the_web_process_applies_leftover_tasks_at_its_first_request(client, make_document):
    make_document(title="Indexed", body="Ordinary text.")
    # What a crash between commit and index write leaves: the row and its task, no index entry.
    (left,) = Document.objects.bulk_create([Document(title="Left over", body="Orphaned change.")])
    IndexTask.objects.create(document_id=left.pk)
    assert titles(q="orphaned") == []
    indexing.connect_signals()  # arms the first-request hook, as in a freshly started process
    response = client.get(reverse("archive:search"), {"q": "orphaned"})
    assert response.status_code == 200
    assert "Left over" in response.content.decode()
    assert not IndexTask.objects.exists()


def test_later_requests_apply_tasks_left_waiting_and_leave_fresh_ones(
    client, make_document, monkeypatch
):
    """A change the index could not take when it was saved (a cluster's shard was down) waits
    in the outbox; once it has waited ``STALE_SECONDS``, a later request starts a thread that
    applies it, without another save. A task younger than that (an import's coalesced step) is
    left to its writer."""
    make_document(title="Indexed", body="Ordinary text.")
    indexing.connect_signals()
    assert client.get(reverse("archive:search"), {"q": "ordinary"}).status_code == 200
    (stale, fresh) = Document.objects.bulk_create(
        [Document(title="Waited", body="Stale change."), Document(title="Just now", body="Fresh.")]
    )
    long_ago = timezone.now() - dt.timedelta(seconds=indexing.STALE_SECONDS + 5)
    IndexTask.objects.create(document_id=stale.pk, created=long_ago)
    IndexTask.objects.create(document_id=fresh.pk)
    monkeypatch.setattr(indexing, "_next_retry", 0.0)
    assert client.get(reverse("archive:search"), {"q": "stale"}).status_code == 200
    # The request took the lock for the thread it started: it is free again when the thread ends.
    assert indexing._retry.acquire(timeout=10), "the retry thread did not end"
    indexing._retry.release()
    # The whole outbox was applied once one task had waited: the fresh one went along.
    assert not IndexTask.objects.exists()
    assert titles(q="stale") == ["Waited"]

    (later,) = Document.objects.bulk_create([Document(title="Later", body="Young change.")])
    IndexTask.objects.create(document_id=later.pk)
    monkeypatch.setattr(indexing, "_next_retry", 0.0)
    client.get(reverse("archive:search"), {"q": "young"})
    with indexing._retry:  # the thread, if one started, has ended
        pass
    assert titles(q="young") == []
    assert IndexTask.objects.filter(document_id=later.pk).exists()
