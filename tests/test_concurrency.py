"""Real processes at once against one archive: two editors saving in a loop, an ingest and a
rebuild, all writing the same SQLite database (WAL) and the same index, while a gunicorn site with
two workers is searched over HTTP. Every search must answer 200; afterwards the outbox is drained
and ``check_index`` compares database and index (ids and a hash of every indexed field): they must
be equal, both workers must serve the new index, and no process may have failed or printed a
Whoosh lock error.

The helpers here (``Archive``) are shared with ``test_durability.py``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# What must never reach a user or an operator: the index being busy is not an error.
FORBIDDEN = ("LockError", "writer is closed", "Traceback", "database is locked")


class Archive:
    """A throwaway archive (database, index) in a temporary data directory, driven through
    ``manage.py`` in subprocesses, as an operator would."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "ARCHIVE_DATA_DIR": str(data_dir),
            "ARCHIVE_INDEX_DIR": str(data_dir / "index"),
            # One process per rebuild: the machine is shared, and kill -9 tests kill one process.
            "ARCHIVE_INDEX_BUILD_PROCS": "1",
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("DATABASE_URL", None)

    def command(self, *args: str) -> list[str]:
        return [sys.executable, str(REPO / "manage.py"), *args]

    def start(self, *args: str, **env: str) -> subprocess.Popen:
        return subprocess.Popen(
            self.command(*args),
            cwd=REPO,
            env={**self.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            self.command(*args),
            cwd=REPO,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{args} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def shell(self, code: str, **env: str) -> str:
        return self.run("shell", "-v", "0", "-c", textwrap.dedent(code), **env).stdout

    def editor(self, seed: int, rounds: int) -> subprocess.Popen:
        return self.start(
            "shell", "-v", "0", "-c", EDITOR, EDITOR_SEED=str(seed), EDITOR_ROUNDS=str(rounds)
        )

    def migrate(self) -> None:
        self.run("migrate", "--noinput", "-v", "0")

    def seed(self, count: int, words: int = 60) -> None:
        """``count`` documents inserted in bulk (no signals, so no index work), for a rebuild."""
        self.shell(
            f"""
            from archive.models import Document
            filler = " ".join(f"word{{i % 97}} harbour ferry council" for i in range({words}))
            Document.objects.bulk_create(
                [Document(title=f"Seed {{i}}", body=f"Seed body {{i}}. " + filler)
                 for i in range({count})],
                batch_size=500,
            )
            """
        )

    def search_total(self, q: str = "") -> int:
        out = self.shell(
            f"""
            from archive import search
            print("TOTAL", search.search(search.SearchRequest(q={q!r})).total)
            """
        )
        return int(out.split("TOTAL")[1].split()[0])

    def check_index(self) -> subprocess.CompletedProcess:
        return self.run("check_index", check=False)


class Searcher(threading.Thread):
    """Searches the site over HTTP in a loop (two gunicorn workers) and records every status."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.statuses: list[int] = []
        self.stop = threading.Event()

    def total(self, q: str = "") -> int:
        with urllib.request.urlopen(f"{self.base}/api/search?q={q}", timeout=30) as response:
            return json.load(response)["total_documents"]  # documents, copies included

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with urllib.request.urlopen(f"{self.base}/api/search?q=harbour", timeout=30) as r:
                    self.statuses.append(r.status)
            except urllib.error.HTTPError as exc:
                self.statuses.append(exc.code)
            time.sleep(0.1)


def start_gunicorn(archive: Archive) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
        ],
        cwd=REPO,
        env=archive.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/search?q=x", timeout=5).close()
            return server, base
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                log = server.communicate()[0]
                raise AssertionError("gunicorn did not start:\n" + log) from None
            time.sleep(0.2)


def finish(process: subprocess.Popen, timeout: float = 120) -> tuple[int, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out + err


def assert_clean(name: str, code: int, output: str) -> None:
    assert code == 0, f"{name} exited {code}:\n{output}"
    for text in FORBIDDEN:
        assert text not in output, f"{name} printed {text!r}:\n{output}"


# An editor saving through the ORM as the admin does (one transaction per save): new documents
# with persons, edits, person renames and deletes.
EDITOR = """
import os, random
from django.db import transaction
from archive.models import Document, Person

seed = int(os.environ["EDITOR_SEED"])
rounds = int(os.environ["EDITOR_ROUNDS"])
rnd = random.Random(seed)
people = [Person.objects.get_or_create(name=f"Editor {seed} person {k}")[0] for k in range(4)]
for i in range(rounds):
    with transaction.atomic():
        ids = list(Document.objects.order_by("?").values_list("pk", flat=True)[:20])
        op = rnd.random()
        if op < 0.45 or not ids:
            doc = Document.objects.create(
                title=f"Editor {seed} story {i}", body=f"Editor {seed} wrote story {i} on ferries."
            )
            doc.persons.set(rnd.sample(people, 2))
        elif op < 0.8:
            doc = Document.objects.filter(pk=rnd.choice(ids)).first()
            if doc is not None:
                doc.title = f"Edited by {seed} in round {i}"
                doc.body += f" Correction {i}."
                doc.save()
                doc.persons.add(rnd.choice(people))
        elif op < 0.9:
            person = rnd.choice(people)
            person.name = f"Editor {seed} person renamed {i}"
            person.save()
        else:
            for doc in Document.objects.filter(pk=rnd.choice(ids)):
                doc.delete()
print("EDITOR DONE", seed)
"""


def write_txt_files(folder: Path, count: int, tag: str = "") -> None:
    """``count`` small articles; a different ``tag`` makes different texts (not duplicates)."""
    folder.mkdir(parents=True)
    for i in range(count):
        (folder / f"wire-{i:05d}.txt").write_text(
            f"Wire report {tag}{i}\n\nThe council met on the harbour front, item {tag}{i}. " * 3,
            encoding="utf-8",
        )


def test_editors_ingest_and_rebuild_at_once_leave_database_and_index_equal(tmp_path):
    archive = Archive(tmp_path / "data")
    archive.migrate()
    archive.seed(300)
    archive.run("rebuild_index")
    write_txt_files(tmp_path / "incoming", 300)

    server, base = start_gunicorn(archive)
    searcher = Searcher(base)
    searcher.start()
    started = time.monotonic()
    processes = {
        "editor 1": archive.editor(seed=1, rounds=60),
        "editor 2": archive.editor(seed=2, rounds=60),
        "ingest": archive.start("ingest", str(tmp_path / "incoming"), "--no-persons"),
    }
    time.sleep(1.5)  # the rebuild starts while the others are saving and indexing
    processes["rebuild"] = archive.start("rebuild_index")
    try:
        results = {name: finish(process) for name, process in processes.items()}
        elapsed = time.monotonic() - started
        searcher.stop.set()
        searcher.join()
        # Every search while editors, an ingest and a rebuild wrote: answered, never a 5xx.
        assert searcher.statuses and set(searcher.statuses) == {200}, searcher.statuses
        archive.run("apply_index_tasks")
        # Both workers see the swapped-in, caught-up index (each request may hit either).
        web_totals = {searcher.total() for _ in range(6)}
    finally:
        for process in processes.values():
            if process.poll() is None:  # only after a failure above
                process.kill()
                process.communicate()
        server.terminate()
        server_log = server.communicate(timeout=30)[0]
    assert "Traceback" not in server_log, server_log
    print(f"concurrent phase: {elapsed:.1f} s, {len(searcher.statuses)} searches over HTTP")
    for name, (code, output) in results.items():
        assert_clean(name, code, output)
    assert "EDITOR DONE 1" in results["editor 1"][1]
    assert "300 created" in results["ingest"][1]
    assert "Indexed" in results["rebuild"][1]

    # Whatever a busy index left in the outbox was applied above; now nothing may differ.
    check = archive.check_index()
    assert check.returncode == 0, check.stdout + check.stderr
    assert "The index matches the database." in check.stdout
    out = archive.shell(
        """
        from archive import search
        from archive.models import Document
        print(Document.objects.count(), search.search(search.SearchRequest()).documents,
              search.search(search.SearchRequest(q="council harbour")).documents)
        """
    )
    database, indexed, found = (int(n) for n in out.split()[-3:])
    assert database > 600 and indexed == database
    assert web_totals == {database}
    assert found >= 300
    # Only the swapped-in index directory is left beside the index path.
    siblings = sorted(p.name for p in (tmp_path / "data").iterdir() if p.name.startswith("index"))
    assert len([name for name in siblings if name.startswith("index-")]) == 1, siblings
    assert elapsed < 120, f"the concurrent run took {elapsed:.0f} s"
