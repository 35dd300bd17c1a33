"""The cluster backend with a shard down: the site still answers, says so, and recovers.

Runs on the real test cluster (tests/conftest.py: two shards, a mirror of shard 0, a head);
skipped without searchd unless ARCHIVE_REQUIRE_SPHINX=1.
"""

from __future__ import annotations

import time

import pytest

from archive import search
from archive.search import SearchRequest

pytestmark = pytest.mark.parametrize("search_backend", ["sphinxql"], indirect=True)

PARTIAL = "Results from 1 of 2 shards"


def _corpus(make_document) -> None:
    for number in range(1, 9):
        make_document(title=f"Harbour story {number}", body=f"The harbour pilot {number}.")


def _whole_again() -> None:
    """Within seconds of the shard's return, every document again and no notice."""
    deadline = time.monotonic() + 10
    while True:
        response = search.search(SearchRequest(q="harbour"))
        if response.total == 8 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert response.total == 8
    assert not any(PARTIAL in notice for notice in response.notices)


def test_a_shard_down_gives_a_flagged_partial_answer_and_then_a_whole_one(
    search_backend, sphinx_cluster, make_document, client
):
    _corpus(make_document)
    assert search.search(SearchRequest(q="harbour")).total == 8
    sphinx_cluster.stop_process("shard1")
    try:
        statuses = set()
        for _ in range(20):
            page = client.get("/", {"q": "harbour"})
            api = client.get("/api/search", {"q": "harbour"})
            statuses |= {page.status_code, api.status_code}
            assert PARTIAL in page.content.decode()
            # Links to what would answer 503 are not offered (a new user's find).
            assert "/export.csv?" not in page.content.decode()
            assert 'type="application/atom+xml"' not in page.content.decode()
            assert "Export and feed" in page.content.decode()
            assert any(PARTIAL in notice for notice in api.json()["notices"])
            assert api.json()["total"] < 8
        assert statuses == {200}
        # A file or a feed would lose documents without a word: they wait for the whole cluster.
        for path in ("/export.csv", "/export.json", "/feeds/search"):
            response = client.get(path, {"q": "harbour"})
            assert response.status_code == 503, path
            assert "1 of 2 parts" in response.content.decode(), path
            assert response["Retry-After"] == "30"
    finally:
        sphinx_cluster.start_process("shard1")
    _whole_again()


def test_check_index_with_a_shard_down_says_so_and_repairs_nothing(
    search_backend, sphinx_cluster, make_document
):
    """A new user's find: with a shard down, ``check_index`` listed half the archive as
    "Missing from the index" and advised ``--repair``, which then failed: the index is whole,
    one of its servers is not answering."""
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    _corpus(make_document)
    sphinx_cluster.stop_process("shard1")
    try:
        for options in ((), ("--repair",)):
            out = io.StringIO()
            with pytest.raises(CommandError) as failed:
                call_command("check_index", *options, stdout=out)
            message = str(failed.value)
            assert "1 of 2 shards" in message and "shard1" in message, message
            assert "--repair" not in message and "Missing" not in out.getvalue()
    finally:
        sphinx_cluster.start_process("shard1")
    _whole_again()
    out = io.StringIO()
    call_command("check_index", stdout=out)
    assert "The index matches the database." in out.getvalue()


def test_shard_0_stays_whole_while_its_mirror_answers(
    search_backend, sphinx_cluster, make_document
):
    _corpus(make_document)
    sphinx_cluster.stop_process("shard0")
    try:
        totals = [search.search(SearchRequest(q="harbour")) for _ in range(20)]
    finally:
        sphinx_cluster.start_process("shard0")
    # The head may try the dead primary once more before it learns; the backend asks again.
    assert all(r.total == 8 for r in totals[2:]), [r.total for r in totals]
    assert all(not r.notices for r in totals[2:])


def test_every_shard_down_is_the_missing_index_503(search_backend, sphinx_cluster, seeds, client):
    stopped = ["shard0", "shard0-mirror", "shard1"]
    for name in stopped:
        sphinx_cluster.stop_process(name)
    try:
        for path in ("/", "/api/search", "/export.csv", "/feeds/search"):
            response = client.get(path, {"q": "pakistan"})
            assert response.status_code == 503, path
            assert "make cluster" in response.content.decode()
    finally:
        for name in stopped:
            sphinx_cluster.start_process(name)
    assert search.search(SearchRequest(q="pakistan")).total == 2


def test_a_shard_that_hangs_is_left_out_after_the_timeout(
    search_backend, sphinx_cluster, make_document
):
    """A shard that accepts connections but never answers (stopped, not killed): the search
    still answers, flagged partial (after the head's agent timeout, 3 s; the shard is asked
    directly with the same timeout, once); once it runs again, whole answers come back."""
    import os
    import signal

    _corpus(make_document)
    assert search.search(SearchRequest(q="harbour")).total == 8
    pid = sphinx_cluster.pid("shard1")
    os.kill(pid, signal.SIGSTOP)
    try:
        response = search.search(SearchRequest(q="harbour"))
        assert any(PARTIAL in notice for notice in response.notices)
        assert response.total < 8
    finally:
        os.kill(pid, signal.SIGCONT)
    _whole_again()


def test_edits_saved_while_a_shard_was_down_reach_it_when_it_is_back(
    search_backend, sphinx_cluster, make_document, client, monkeypatch
):
    """Saves while shard 1 is down cannot reach it and wait in the outbox; once it runs again,
    a later request applies them (once they have waited ``STALE_SECONDS``), with no other
    save."""
    from archive import indexing
    from archive.models import Document, IndexTask

    _corpus(make_document)
    indexing.connect_signals()
    client.get("/", {"q": "harbour"})  # the web process's first request
    sphinx_cluster.stop_process("shard1")
    try:
        for document in Document.objects.all():
            document.title = document.title.replace("Harbour", "Lighthouse")
            document.save()
        assert IndexTask.objects.exists()  # shard 1's documents could not be written
    finally:
        sphinx_cluster.start_process("shard1")
    monkeypatch.setattr(indexing, "STALE_SECONDS", 0.0)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        monkeypatch.setattr(indexing, "_next_retry", 0.0)
        api = client.get("/api/search", {"q": "lighthouse"}).json()
        if api["total"] == 8 and not IndexTask.objects.exists():
            break
        time.sleep(0.2)
    assert api["total"] == 8 and not api["notices"]
    assert not IndexTask.objects.exists()
