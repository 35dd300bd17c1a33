"""The embedded index needs no setup step: on a fresh archive (``migrate`` and nothing else),
``loaddata`` or ``ingest`` makes the documents searchable, and ``runserver`` finds them at once.

Real ``manage.py`` processes on a temporary data directory, searched over HTTP, as a user does it
(issue 12: every search answered 503 "The search index is missing" until ``rebuild_index``)."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.test_concurrency import Archive


@contextmanager
def runserver(archive: Archive) -> Iterator[str]:
    """``manage.py runserver`` on a free loopback port; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = archive.start("runserver", "--noreload", f"127.0.0.1:{port}")
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/search?q=x", timeout=5).close()
                break
            except urllib.error.HTTPError:
                break  # it answers; the test looks at what
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    server.kill()
                    out, err = server.communicate()
                    raise AssertionError(f"runserver did not start:\n{out}\n{err}") from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.communicate(timeout=30)


def api(base: str, q: str) -> tuple[int, dict]:
    url = f"{base}/api/search?" + urllib.parse.urlencode({"q": q})
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def fresh(tmp_path: Path) -> Archive:
    archive = Archive(tmp_path / "data")
    archive.migrate()
    assert not (archive.data_dir / "index").exists(), "migrate is not where the index is made"
    return archive


def test_migrate_loaddata_runserver_finds_the_seeds(tmp_path):
    archive = fresh(tmp_path)
    # Two build processes, the default outside the test helpers.
    loaded = archive.run("loaddata", "fixtures/seed_articles.json", ARCHIVE_INDEX_BUILD_PROCS="2")
    assert "Traceback" not in loaded.stderr, loaded.stderr
    with runserver(archive) as base:
        status, found = api(base, "Murree")
        assert status == 200, found
        assert found["total"] == 1
        assert found["results"][0]["title"].startswith("Inside Story!")
        assert api(base, "")[1]["total"] == 2
    assert archive.check_index().returncode == 0
    assert "Applied 0 pending" in archive.run("apply_index_tasks").stdout


def test_migrate_ingest_runserver_finds_the_text_file(tmp_path):
    archive = fresh(tmp_path)
    story = tmp_path / "story.txt"
    story.write_text("Ferry returns to Murree road\n\nThe ferry came back on Tuesday.", "utf-8")
    result = archive.run("ingest", str(story), "--no-persons")
    assert "1 created" in result.stdout, result.stdout + result.stderr
    assert "missing" not in result.stderr, result.stderr
    with runserver(archive) as base:
        status, found = api(base, "ferry")
        assert status == 200, found
        assert [hit["title"] for hit in found["results"]] == ["Ferry returns to Murree road"]
    assert archive.check_index().returncode == 0


def test_a_command_before_migrate_says_to_migrate_first(tmp_path):
    """A new user's find: every archive command on a data directory never migrated stopped
    with a traceback ("no such table: archive_document")."""
    archive = Archive(tmp_path / "data")
    for command in (
        ("check_index",),
        ("rebuild_index",),
        ("ingest", str(tmp_path)),
        ("resolve_entities",),
        ("cluster_copies",),
        ("apply_index_tasks",),
        ("init_archive",),
    ):
        result = archive.run(*command, check=False)
        assert result.returncode == 1, command
        assert "Traceback" not in result.stderr, command
        assert "Run `python manage.py migrate` first." in result.stderr, command
    archive.migrate()
    after = archive.run("check_index", check=False)
    assert "not set up" not in after.stderr and "Traceback" not in after.stderr
