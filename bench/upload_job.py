"""An admin upload of a large zip as a user makes it: how long the request takes, how long the
background job takes, and whether it ends with the same documents as a synchronous import.

    python bench/upload_job.py                      # 2,000 BBC articles in one zip
    python bench/upload_job.py --files 500 --json bench/results/upload-job.json

What it does, in two fresh archives (temporary data directories):
1. zips the first ``--files`` BBC articles (corpus order) in a temporary directory;
2. archive A: ``migrate``, a superuser, ``runserver`` and ``manage.py worker`` started as a user
   would (``make run`` does the same); logs in to the admin over HTTP, posts the zip to the
   upload form (timed: the request must answer at once with the job's page), then polls the job's
   progress partial until the job is done (timed);
3. archive B: ``manage.py ingest`` of the same zip (the synchronous import, timed);
4. compares the two archives' documents: title, body hash, publication, persons, organisations,
   places, date.

The data from ../shared stays in temporary directories; nothing is written to the repository
except the report given with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import zipfile
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.request import HTTPCookieProcessor, Request, build_opener

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
KINDS = ("person", "organisation", "place")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "ARCHIVE_DATA_DIR": str(data_dir),
        "PYTHONUNBUFFERED": "1",
    }


def manage(data_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *args],
        cwd=REPO,
        env=environment(data_dir),
        capture_output=True,
        text=True,
        check=False,
    )
    if check and result.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def make_zip(target: Path, files: int) -> list[Path]:
    articles = sorted((SHARED / "corpora" / "bbc").rglob("*.txt"))[:files]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in articles:
            bundle.write(path, f"bbc/{path.parent.name}/{path.name}")
    return articles


def documents(database: Path) -> list[tuple]:
    """Every document as comparable facts, sorted."""
    with sqlite3.connect(database) as db:
        rows = db.execute(
            """
            SELECT d.id, d.title, d.content_hash, COALESCE(p.name, ''), COALESCE(d.published, '')
            FROM archive_document d LEFT JOIN archive_publication p ON p.id = d.publication_id
            """
        ).fetchall()
        facts = {}
        for table, entity in (
            ("archive_document_persons", "person"),
            ("archive_document_organisations", "organisation"),
            ("archive_document_places", "place"),
        ):
            for document_id, name in db.execute(
                f"SELECT t.document_id, e.name FROM {table} t "
                f"JOIN archive_{entity} e ON e.id = t.{entity}_id"
            ):
                facts.setdefault((document_id, entity), []).append(name)
    return sorted(
        (
            title,
            digest,
            publication,
            published,
            *(tuple(sorted(facts.get((pk, kind), []))) for kind in KINDS),
        )
        for pk, title, digest, publication, published in rows
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not (SHARED / "corpora" / "bbc").is_dir():
        sys.exit(f"needs {SHARED / 'corpora' / 'bbc'}")
    report: dict = {"files": args.files}
    with tempfile.TemporaryDirectory(prefix="upload-job-") as temp:
        temp = Path(temp)
        bundle = temp / "bbc.zip"
        make_zip(bundle, args.files)
        report["zip_bytes"] = bundle.stat().st_size

        # A: the admin upload, through HTTP, with a worker beside the server.
        a = temp / "a"
        manage(a, "migrate", "--noinput")
        manage(
            a,
            "shell",
            "-c",
            "from django.contrib.auth.models import User; "
            "User.objects.create_superuser('bench', 'b@example.com', 'bench-password-1')",
        )
        port = free_port()
        env = environment(a)
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--no-reload", "--no-startup-delay"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            jar = CookieJar()
            browser = build_opener(HTTPCookieProcessor(jar))
            for _ in range(100):
                try:
                    login_page = browser.open(f"{base}/admin/login/").read().decode()
                    break
                except OSError:
                    time.sleep(0.2)
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)
            browser.open(
                Request(
                    f"{base}/admin/login/?next=/admin/",
                    data=urllib.parse.urlencode(
                        {
                            "csrfmiddlewaretoken": token,
                            "username": "bench",
                            "password": "bench-password-1",
                        }
                    ).encode(),
                    headers={"Referer": f"{base}/admin/login/"},
                )
            )
            form = browser.open(f"{base}/admin/archive/document/upload/").read().decode()
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
            boundary = "----bench-upload-boundary"
            parts = [
                f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"'
                f"\r\n\r\n{token}\r\n".encode(),
                f'--{boundary}\r\nContent-Disposition: form-data; name="publication"'
                f"\r\n\r\nBBC News\r\n".encode(),
                f'--{boundary}\r\nContent-Disposition: form-data; name="extract_persons"'
                f"\r\n\r\non\r\n".encode(),
                f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                f'filename="bbc.zip"\r\nContent-Type: application/zip\r\n\r\n'.encode()
                + bundle.read_bytes()
                + b"\r\n",
                f"--{boundary}--\r\n".encode(),
            ]
            started = time.perf_counter()
            response = browser.open(
                Request(
                    f"{base}/admin/archive/document/upload/",
                    data=b"".join(parts),
                    headers={
                        "Content-Type": f"multipart/form-data; boundary={boundary}",
                        "Referer": f"{base}/admin/archive/document/upload/",
                    },
                )
            )
            job_page = response.read().decode()
            report["upload_request_seconds"] = round(time.perf_counter() - started, 3)
            job_url = response.geturl()
            report["answered_with"] = urllib.parse.urlparse(job_url).path
            assert "/admin/archive/ingestjob/" in job_url, job_url
            assert "job-progress" in job_page
            progress_url = job_url.replace("/change/", "/progress/")
            job_started = time.perf_counter()
            polls = 0
            while True:
                partial = browser.open(progress_url).read().decode()
                polls += 1
                if "hx-trigger" not in partial:
                    break
                time.sleep(1)
            report["job_seconds"] = round(time.perf_counter() - job_started, 1)
            report["polls"] = polls
            summary = re.search(r"<strong>(.*?)</strong>:\s*(.*?)\.</p>", partial, re.S)
            report["job_summary"] = " ".join(" ".join(summary.groups()).split()) if summary else ""
        finally:
            for process in (worker, server):
                process.terminate()
                process.wait(timeout=30)

        # B: the synchronous import of the same zip.
        b = temp / "b"
        manage(b, "migrate", "--noinput")
        started = time.perf_counter()
        print(json.dumps(report), flush=True)  # the job's figures, before the comparison
        result = manage(
            b, "ingest", str(bundle), "--publication", "BBC News", "--workers", "1", check=False
        )
        report["sync_ingest_seconds"] = round(time.perf_counter() - started, 1)
        report["sync_summary"] = (result.stdout.strip().splitlines() or [""])[-1]

        docs_a, docs_b = documents(a / "db.sqlite3"), documents(b / "db.sqlite3")
        report["documents_job"], report["documents_sync"] = len(docs_a), len(docs_b)
        report["same_documents"] = docs_a == docs_b
        if docs_a != docs_b:
            only_a, only_b = set(docs_a) - set(docs_b), set(docs_b) - set(docs_a)
            report["differences"] = {
                "only_job": [list(map(str, d))[:4] for d in sorted(only_a)[:5]],
                "only_sync": [list(map(str, d))[:4] for d in sorted(only_b)[:5]],
                "count": [len(only_a), len(only_b)],
            }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
