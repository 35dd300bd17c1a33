"""A bounded load test of the production server: many readers and one editor at the same time.

    python bench/load.py --data-dir /tmp/b100k/data            # starts gunicorn on that archive
    python bench/load.py --url http://127.0.0.1:8000 --data-dir var   # a running `make serve`

Starts the production server (gunicorn, gthread, ``--workers`` processes; DEBUG off, whitenoise)
on loopback against an archive's data directory, unless ``--url`` names a running one. Then
``--clients`` threads (default 50) send requests for ``--duration`` seconds (default 60), a mix of
what people do on the site:

* ``query``: the search page for a word or two (a full page);
* ``facet``: a click on a person or publication facet (an htmx partial);
* ``htmx``: the next page or another sort of a search (an htmx partial);
* ``document``: a document page, with the query's words marked;

while one editor thread saves documents through the ORM (what the admin does: the index is
updated on commit) about once a second (``--edit-interval``). Needs ``--data-dir`` (or
``DATABASE_URL``) to reach the same database; ``--no-editor`` leaves it out.

The search engine is the site's own setting: ``ARCHIVE_SEARCH_BACKEND=sphinxql`` (with the
cluster started, e.g. ``python -m archive.search.sphinxql.cluster start --data-dir D``) loads
the cluster backend; the report names the engine.

Reports requests/s, p50/p95/max per kind and every error (any status other than 200, any
connection failure): there must be none. Markdown and JSON go to ``--out``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KINDS = ("query", "facet", "htmx", "document")
MIX = {"query": 35, "facet": 25, "htmx": 20, "document": 20}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


@dataclass
class Tally:
    """What the threads measured; one lock, appends only."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: list[str] = field(default_factory=list)
    saves: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float, error: str | None) -> None:
        with self.lock:
            if error:
                self.errors.append(f"{kind}: {error}")
            else:
                self.latencies[kind].append(seconds)


@dataclass
class Vocabulary:
    """Words, persons, publications and document ids taken from the archive itself."""

    words: list[str]
    persons: list[str]
    publications: list[str]
    document_ids: list[int]
    document_paths: list[str]  # the canonical /documents/<id>/<slug>/ (the short form redirects)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(data_dir: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env.update(
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        # Plain HTTP on loopback: no redirect to HTTPS (a real deployment sits behind a proxy).
        DJANGO_SECURE_SSL_REDIRECT="0",
        ARCHIVE_DATA_DIR=str(data_dir),
    )
    return env


def start_server(
    data_dir: Path, workers: int, threads: int, base_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str]:
    """collectstatic, then gunicorn exactly as `make serve` runs it; waits until it answers.
    ``base_env``: the environment to start from (default: this process's)."""
    env = server_env(data_dir, base_env)
    manage = [sys.executable, str(REPO / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, check=True, cwd=REPO)
    subprocess.run(
        [*manage, "collectstatic", "--noinput", "--verbosity", "0"], env=env, check=True, cwd=REPO
    )
    port = free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    log = open(data_dir / "load-gunicorn.log", "w")  # noqa: SIM115 (lives as long as the server)
    server = subprocess.Popen(
        [
            str(gunicorn),
            "config.wsgi:application",
            "--worker-class=gthread",
            f"--workers={workers}",
            f"--threads={threads}",
            f"--bind=127.0.0.1:{port}",
            "--timeout=120",
            "--no-control-socket",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            status, _ = fetch(http.client.HTTPConnection("127.0.0.1", port, timeout=60), "/")
            if status == 200:
                return server, url
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"gunicorn did not start; see {data_dir / 'load-gunicorn.log'}")
        time.sleep(0.5)


def fetch(
    conn: http.client.HTTPConnection, path: str, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    return response.status, response.read()


def vocabulary(base: str) -> Vocabulary:
    """Facet values and title words of the newest documents, through the JSON API."""
    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    status, body = fetch(conn, "/api/search?sort=newest&page_size=100")
    if status != 200:
        raise SystemExit(f"/api/search answered {status}")
    data = json.loads(body)
    words: set[str] = set()
    for hit in data["results"]:
        words.update(w.strip(".,:;!?\"'()").lower() for w in hit["title"].split())
    words = {w for w in words if len(w) > 3 and w.isalpha()}
    persons = [v["value"] for v in data["facets"].get("person", [])]
    publications = [v["value"] for v in data["facets"].get("publication", []) if v["value"]]
    ids = [hit["id"] for hit in data["results"]]
    paths = [urllib.parse.urlsplit(hit["url"]).path for hit in data["results"]]
    if not words or not ids:
        raise SystemExit("The archive looks empty: nothing to load-test with.")
    return Vocabulary(sorted(words), persons, publications, ids, paths)


def request_for(kind: str, vocab: Vocabulary, rng: random.Random) -> tuple[str, dict[str, str]]:
    """A path and headers for one request of the given kind."""
    htmx = {"HX-Request": "true", "HX-Current-URL": "http://127.0.0.1/"}
    q = " ".join(rng.sample(vocab.words, k=rng.choice([1, 1, 2])))
    if kind == "query":
        return "/?" + urllib.parse.urlencode({"q": q}), {}
    if kind == "facet":
        params = [("q", q)]
        if vocab.persons and (rng.random() < 0.6 or not vocab.publications):
            params.append(("person", rng.choice(vocab.persons)))
        elif vocab.publications:
            params.append(("publication", rng.choice(vocab.publications)))
        return "/?" + urllib.parse.urlencode(params), htmx
    if kind == "htmx":
        params = [("q", q), rng.choice([("page", "2"), ("sort", "newest"), ("sort", "oldest")])]
        return "/?" + urllib.parse.urlencode(params), htmx
    return rng.choice(vocab.document_paths) + "?" + urllib.parse.urlencode({"q": q}), {}


def reader(base: str, vocab: Vocabulary, stop: float, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    kinds, weights = list(MIX), list(MIX.values())
    while time.monotonic() < stop:
        kind = rng.choices(kinds, weights)[0]
        path, headers = request_for(kind, vocab, rng)
        started = time.perf_counter()
        error = None
        try:
            status, body = fetch(conn, path, headers)
            if status != 200:
                error = f"{status} for {path}: {body[:200]!r}"
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__} {exc} for {path}"
            conn.close()
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        tally.record(kind, time.perf_counter() - started, error)
    conn.close()


def editor(vocab: Vocabulary, stop: float, interval: float, tally: Tally) -> None:
    """Save documents as the admin does (Document.save(): the index follows on commit)."""
    from django.db import connection

    from archive.models import Document

    rng = random.Random(7)
    try:
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                document = Document.objects.get(pk=rng.choice(vocab.document_ids))
                marker = " [edited under load]"
                document.body = document.body.removesuffix(marker) + marker
                document.save()
                with tally.lock:
                    tally.saves.append(time.perf_counter() - started)
            except Exception as exc:  # every failure is a finding: count it, keep going
                with tally.lock:
                    tally.errors.append(f"editor save: {type(exc).__name__}: {exc}")
            time.sleep(interval)
    finally:
        connection.close()


def summary(tally: Tally, seconds: float) -> dict:
    kinds = {}
    for kind, values in tally.latencies.items():
        kinds[kind] = {
            "requests": len(values),
            "p50_ms": round(statistics.median(values) * 1000, 1) if values else None,
            "p95_ms": round(percentile(values, 0.95) * 1000, 1) if values else None,
            "max_ms": round(max(values) * 1000, 1) if values else None,
        }
    total = sum(len(v) for v in tally.latencies.values())
    every = [x for values in tally.latencies.values() for x in values]
    return {
        "requests": total,
        "requests_per_s": round(total / seconds, 1),
        "p50_ms": round(statistics.median(every) * 1000, 1) if every else None,
        "p95_ms": round(percentile(every, 0.95) * 1000, 1) if every else None,
        "kinds": kinds,
        "editor_saves": len(tally.saves),
        "editor_save_p50_ms": round(statistics.median(tally.saves) * 1000, 1)
        if tally.saves
        else None,
        "errors": len(tally.errors),
        "error_samples": tally.errors[:20],
    }


def markdown(report: dict) -> str:
    s, c = report["summary"], report["config"]
    lines = [
        f"# Load test, {report['date']}",
        "",
        f"{c['clients']} clients for {c['duration_s']} s against {c['server']}, search engine "
        f"{c.get('engine', 'whoosh')} "
        f"({c['documents']:,} documents in the archive; editor: "
        f"{'on' if c['editor'] else 'off'}; machine: {c['cpus']} CPUs).",
        "",
        f"**{s['requests_per_s']} requests/s**, {s['requests']:,} requests, "
        f"p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms, **errors: {s['errors']}**.",
        "",
        "| kind | requests | p50 ms | p95 ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for kind, k in s["kinds"].items():
        lines.append(
            f"| {kind} | {k['requests']} | {k['p50_ms']} | {k['p95_ms']} | {k['max_ms']} |"
        )
    lines += [
        "",
        f"Editor: {s['editor_saves']} saves, p50 {s['editor_save_p50_ms']} ms.",
    ]
    if s["error_samples"]:
        lines += ["", "Errors (first 20):", ""] + [f"- `{e}`" for e in s["error_samples"]]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, help="the archive's data directory")
    parser.add_argument("--url", help="a running server instead of starting gunicorn")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument("--edit-interval", type=float, default=1.0, help="seconds between saves")
    parser.add_argument("--no-editor", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args()
    if not args.url and not args.data_dir:
        parser.error("give --data-dir (to start gunicorn on it) or --url")

    if args.data_dir:
        args.data_dir = args.data_dir.resolve()
        os.environ["ARCHIVE_DATA_DIR"] = str(args.data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    server = None
    if args.url:
        base = args.url.rstrip("/")
    else:
        server, base = start_server(args.data_dir, args.workers, args.threads)
    editing = not args.no_editor and bool(args.data_dir or os.environ.get("DATABASE_URL"))
    documents = None
    if editing or args.data_dir:
        sys.path.insert(0, str(REPO))
        import django

        django.setup()
        from archive.models import Document

        documents = Document.objects.count()
    try:
        vocab = vocabulary(base)
        tally = Tally()
        stop = time.monotonic() + args.duration
        threads = [
            threading.Thread(target=reader, args=(base, vocab, stop, tally, n), daemon=True)
            for n in range(args.clients)
        ]
        if editing:
            threads.append(
                threading.Thread(
                    target=editor, args=(vocab, stop, args.edit_interval, tally), daemon=True
                )
            )
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=args.duration + 300)
        elapsed = time.monotonic() - started
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)

    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "config": {
            "engine": os.environ.get("ARCHIVE_SEARCH_BACKEND") or "whoosh",
            "clients": args.clients,
            "duration_s": args.duration,
            "server": base if args.url else f"gunicorn gthread {args.workers}x{args.threads}",
            "documents": documents if documents is not None else -1,
            "editor": editing,
            "cpus": os.cpu_count(),
        },
        "summary": summary(tally, elapsed),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"load-{documents or 'n'}-{report['config']['engine']}"
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n")
    text = markdown(report)
    (args.out / f"{stem}.md").write_text(text)
    print(text)
    print(f"Written to {args.out / stem}.md and .json")
    return 1 if report["summary"]["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
