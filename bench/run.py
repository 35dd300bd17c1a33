"""The archive's search benchmark: one command, one report.

    python bench/run.py --docs 100000            # derived corpus of 100k real-text documents
    python bench/run.py --docs 1000 --quick      # the smoke run `make test` does (no timings kept)

Steps, all in one run so the figures are comparable:

1. corpus: ``var/bench/derived-<N>.jsonl`` (built by bench/scale.py from ../shared/corpora if
   missing), or ``--corpus FILE``;
2. load it into a fresh archive (its own data directory) with a bulk loader, then build the index
   with the site's own ``manage.py rebuild_index`` in a child process: docs/s, peak RSS, size;
3. the fixed query set (bench/queries.py: rare word, common word, two words, phrase, prefix,
   person filter, two publications + year, browse) through the site's search code and through
   the HTTP API of a running server: p50/p95 of the full response (hits + 3 facets + 10
   snippets), the first (cold) run reported apart;
4. how long an admin-style save takes to become searchable through the API, and the server's RSS;
5. the same corpus and queries through (a) the straightforward Whoosh way, (b) SQLite FTS5 and
   (c) tantivy (bench/alternatives.py), each as a ratio to ours.

With ``--backend sphinxql`` (or ``both``) steps 2-4 also run through the cluster backend: a
local cluster (2 shards, a mirror, a head) is started under the run's data directory on free
ports, built with the same ``rebuild_index``, and searched by the same code and HTTP API; the
report puts the two engines side by side (and the searchd processes' RSS).

The report is written as JSON and Markdown to bench/results/ (``latest-<N>.md`` too).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO))

from bench.queries import BenchQuery, choose, gather  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def timings(samples: list[float]) -> dict[str, float]:
    """Milliseconds: the first (cold) run apart, then p50/p95 of the rest."""
    cold, warm = samples[0], samples[1:] or samples
    return {
        "cold_ms": round(cold * 1000, 2),
        "p50_ms": round(statistics.median(warm) * 1000, 2),
        "p95_ms": round(percentile(warm, 0.95) * 1000, 2),
        "runs": len(samples),
    }


def corpus_path(docs: int, given: Path | None) -> Path:
    if given:
        return given
    out = REPO / "var" / "bench"
    path = out / f"derived-{docs}.jsonl"
    if not path.exists():
        if not (SHARED / "corpora").is_dir():
            raise SystemExit("No corpus: pass --corpus FILE, or put ../shared beside the repo.")
        subprocess.run(
            [sys.executable, str(REPO / "bench" / "scale.py"), "--docs", str(docs), "--out", out],
            check=True,
        )
    return path


# --- Loading -------------------------------------------------------------------------------------


def bulk_load(path: Path, chunk: int = 5000) -> tuple[int, float]:
    """Insert the corpus with bulk SQL (no per-document signals: the index is built after)."""
    from django.db import transaction

    from archive.models import Document, Person, Publication, content_hash

    publications: dict[str, int] = {}
    persons: dict[str, int] = {}
    started = time.monotonic()
    count = 0

    def ids_for(model, cache: dict[str, int], names: set[str]) -> None:
        missing = [n for n in names if n not in cache]
        if missing:
            model.objects.bulk_create([model(name=n) for n in missing], ignore_conflicts=True)
            cache.update(model.objects.filter(name__in=missing).values_list("name", "pk"))

    def flush(records: list[dict]) -> None:
        with transaction.atomic():
            ids_for(
                Publication,
                publications,
                {r["publication"] for r in records if r.get("publication")},
            )
            ids_for(Person, persons, {p for r in records for p in r.get("persons") or ()})
            documents = [
                Document(
                    title=r["title"][:500],
                    body=r["body"],
                    published=dt.date.fromisoformat(r["published"]) if r.get("published") else None,
                    publication_id=publications.get(r.get("publication") or ""),
                    external_id=r.get("external_id"),
                    content_hash=content_hash(r["body"]),
                )
                for r in records
            ]
            Document.objects.bulk_create(documents)
            through = Document.persons.through
            through.objects.bulk_create(
                [
                    through(document_id=d.pk, person_id=persons[p])
                    for d, r in zip(documents, records, strict=True)
                    for p in dict.fromkeys(r.get("persons") or ())
                ]
            )

    batch: list[dict] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            batch.append(json.loads(line))
            if len(batch) >= chunk:
                flush(batch)
                count += len(batch)
                batch = []
                print(f"\rloaded {count:,}", end="", file=sys.stderr, flush=True)
    if batch:
        flush(batch)
        count += len(batch)
    print(file=sys.stderr)
    return count, time.monotonic() - started


def cluster_copies() -> dict:
    """Find the bulk-loaded documents' copies (``manage.py cluster_copies``'s work, before the
    index is built, which then carries each document's story): searches fold copies."""
    from archive import indexing
    from archive.ingest import copies

    started = time.monotonic()
    with indexing.deferred():  # the rebuild that follows writes every story
        summary = copies.recluster()
    seconds = time.monotonic() - started
    return {
        "seconds": round(seconds, 1),
        "ms_per_document": round(1000 * seconds / max(summary.documents, 1), 3),
        "documents": summary.documents,
        "stories": summary.stories,
    }


def build_index(env: dict[str, str]) -> dict:
    """The site's own rebuild, in a child process so its peak memory is its own."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    subprocess.run(
        [sys.executable, str(REPO / "manage.py"), "rebuild_index"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    elapsed = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": round(elapsed, 2), "peak_rss_mb": round(max(peak, before) / 1024, 1)}


# --- Our search, in process and over HTTP --------------------------------------------------------


def run_ours(queries: list[BenchQuery], repeat: int) -> dict:
    from archive import search

    results = {}
    for query in queries:
        request = search.SearchRequest(
            q=query.q,
            persons=query.persons,
            publications=query.publications,
            year=query.year,
            page_size=10,
        )
        samples = []
        for _ in range(repeat + 1):
            started = time.perf_counter()
            response = search.search(request)
            samples.append(time.perf_counter() - started)
        snippets = sum(1 for hit in response.hits if any("<mark" in s for s in hit.snippets))
        results[query.name] = {
            **timings(samples),
            # Documents found (what the alternatives count), and the stories they fold into.
            "total": response.documents,
            "stories": response.total,
            "hits_with_marks": snippets,
        }
    return results


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api_url(base: str, query: BenchQuery) -> str:
    params = [("q", query.q), ("page_size", "10")]
    params += [("person", p) for p in query.persons]
    params += [("publication", p) for p in query.publications]
    if query.year:
        params.append(("year", str(query.year)))
    return f"{base}/api/search?{urllib.parse.urlencode(params)}"


def rss_mb(pid: int) -> dict[str, float]:
    """Resident memory of a process: all of it, and the private (anonymous) part. The rest is
    the memory-mapped index files: page cache, shared by every worker on the machine."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            values[key] = round(int(rest.split()[0]) / 1024, 1)
    return values


def start_web(env: dict[str, str], server: str) -> tuple[subprocess.Popen, str, int]:
    """The site on a free port: (process, base URL, pid of the process that answers).

    ``gunicorn``: as `make serve` runs it (production settings, gthread; one worker process
    with 4 threads), what users reach. ``runserver``: Django's development server, which starts
    a thread per request, so every request opens its own connections to the search engine
    (the figures of the runs before 2026-12-05 06:40 UTC)."""
    if server == "gunicorn":
        from bench.load import start_server

        process, base = start_server(Path(env["ARCHIVE_DATA_DIR"]), 1, 4, base_env=env)
        return process, base, _children(process.pid)[0]
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(REPO / "manage.py"), "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, f"http://127.0.0.1:{port}", process.pid


def _children(pid: int) -> list[int]:
    """A process's children (gunicorn's master and its worker)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] or [pid]


def run_http(
    queries: list[BenchQuery],
    repeat: int,
    env: dict[str, str],
    rebuild_check: bool = True,
    server_kind: str = "gunicorn",
) -> dict:
    server, base, worker = start_web(env, server_kind)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/api/search?q=", timeout=30).read()
                break
            except OSError:
                time.sleep(0.1)
        results = {}
        for query in queries:
            samples = []
            for _ in range(repeat + 1):
                started = time.perf_counter()
                body = urllib.request.urlopen(api_url(base, query), timeout=120).read()
                samples.append(time.perf_counter() - started)
            results[query.name] = {
                **timings(samples),
                "total": json.loads(body)["total_documents"],
            }
        return {
            "queries": results,
            "save_to_searchable_ms": save_to_searchable(base),
            "server": server_kind,
            "server_rss_mb": rss_mb(worker),
            "during_rebuild": serve_during_rebuild(base, env) if rebuild_check else None,
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def serve_during_rebuild(base: str, env: dict[str, str]) -> dict:
    """Search through the API while `manage.py rebuild_index` runs: the old index must keep
    answering, with the same number of documents, until the new one is committed."""
    from archive.models import Document

    expected = Document.objects.count()
    rebuild = subprocess.Popen(
        [sys.executable, str(REPO / "manage.py"), "rebuild_index"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    answers, failures, wrong, samples = 0, 0, 0, []
    while rebuild.poll() is None:
        started = time.perf_counter()
        try:
            body = urllib.request.urlopen(f"{base}/api/search?q=", timeout=60).read()
            answers += 1
            wrong += json.loads(body)["total_documents"] != expected
        except OSError:
            failures += 1
        samples.append(time.perf_counter() - started)
        time.sleep(0.2)
    return {
        "queries": answers + failures,
        "failed": failures,
        "wrong_total": wrong,
        "p95_ms": round(percentile(samples, 0.95) * 1000, 1),
        "rebuild_exit": rebuild.returncode,
    }


def save_to_searchable(base: str) -> float:
    """Edit a document the way the admin does (model save in a transaction), then poll the API
    until the new word is found."""
    from django.db import transaction

    from archive.models import Document

    word = f"zq{int(time.time() * 1000) % 10**9:x}marker"
    document = Document.objects.order_by("pk").first()
    started = time.perf_counter()
    with transaction.atomic():
        document.body += f" {word}"
        document.save()
    deadline = started + 30
    while time.perf_counter() < deadline:
        found = json.loads(urllib.request.urlopen(f"{base}/api/search?q={word}").read())["total"]
        if found:
            return round((time.perf_counter() - started) * 1000, 1)
        time.sleep(0.005)
    return float("nan")


# --- The cluster backend --------------------------------------------------------------------------


def run_cluster(
    queries: list[BenchQuery],
    repeat: int,
    env: dict[str, str],
    loaded: int,
    rebuild_check: bool = True,
    server_kind: str = "gunicorn",
) -> dict:
    """Steps 2-4 through a local SphinxQL cluster started for this run, then stopped."""
    from django.conf import settings

    from archive.search.sphinxql.cluster import Cluster, free_base_port
    from bench.alternatives import disk_bytes

    cluster = Cluster(Path(env["ARCHIVE_DATA_DIR"]) / "cluster", base_port=free_base_port())
    cluster.start()
    cluster_env = {
        **env,
        "ARCHIVE_SEARCH_BACKEND": "sphinxql",
        "ARCHIVE_SPHINX_BASE_PORT": str(cluster.base_port),
    }
    previous = (settings.ARCHIVE_SEARCH_BACKEND, settings.ARCHIVE_SPHINX_BASE_PORT)
    settings.ARCHIVE_SEARCH_BACKEND = "sphinxql"
    settings.ARCHIVE_SPHINX_BASE_PORT = cluster.base_port
    try:
        index = build_index(cluster_env)
        result = {
            "build": {
                "cluster_index_seconds": index["seconds"],
                "cluster_index_docs_per_s": round(loaded / index["seconds"], 1),
                "cluster_index_peak_rss_mb": index["peak_rss_mb"],
            },
            "ours": run_ours(queries, repeat),
            "http": run_http(queries, repeat, cluster_env, rebuild_check, server_kind),
            "index_mb": round(disk_bytes(cluster.directory) / 1e6, 1),
            "searchd_rss_mb": {
                p.name: rss_mb(cluster.pid(p))["VmRSS"] for p in cluster.processes if cluster.pid(p)
            },
        }
    finally:
        settings.ARCHIVE_SEARCH_BACKEND, settings.ARCHIVE_SPHINX_BASE_PORT = previous
        cluster.stop()
    return result


def side_by_side(report: dict) -> str:
    """The embedded engine and the cluster on the same archive and queries."""
    cluster = report["sphinxql"]
    lines = [
        "",
        "## Embedded (Whoosh) vs cluster (SphinxQL: 2 shards, a mirror, a head)",
        "",
        "Full response through the HTTP API, ms (p50 / p95 of warm runs), and totals.",
        "",
        "| query | Whoosh p50 | Whoosh p95 | cluster p50 | cluster p95 | Whoosh hits | "
        "cluster hits |",
        "|---|---|---|---|---|---|---|",
    ]
    whoosh = report.get("http", {}).get("queries", {}) if "ours" in report else {}
    for name, figures in cluster["http"]["queries"].items():
        ours = whoosh.get(name, {})
        lines.append(
            f"| {name} | {ours.get('p50_ms', float('nan')):.1f} | "
            f"{ours.get('p95_ms', float('nan')):.1f} | {figures['p50_ms']:.1f} | "
            f"{figures['p95_ms']:.1f} | {ours.get('total', '')} | {figures['total']} |"
        )
    build = cluster["build"]
    http = cluster["http"]
    during = http["during_rebuild"] or {}
    lines += [
        "",
        "| cluster measure | value |",
        "|---|---|",
        f"| index build (`manage.py rebuild_index`) | {build['cluster_index_docs_per_s']:,.0f} "
        f"docs/s ({build['cluster_index_seconds']:,.1f} s) |",
        f"| admin-style save → searchable via the API | {http['save_to_searchable_ms']:,.0f} ms |",
        f"| web worker RSS | {http['server_rss_mb']['VmRSS']:,.0f} MB |",
        "| searchd RSS | "
        + ", ".join(f"{k} {v:,.0f} MB" for k, v in cluster["searchd_rss_mb"].items())
        + " |",
    ]
    if during:
        lines.append(
            f"| searching while `rebuild_index` runs | {during.get('queries')} queries, "
            f"{during.get('failed')} failed, {during.get('wrong_total')} with a wrong total |"
        )
    return "\n".join(lines) + "\n"


# --- The alternatives -----------------------------------------------------------------------------


def run_alternatives(
    path: Path, queries: list[BenchQuery], repeat: int, workdir: Path, names: set[str] | None
) -> dict:
    from bench import alternatives

    results = {}
    for engine in alternatives.engines():
        if names is not None and engine.name not in names:
            continue
        build = engine.build(path, workdir / engine.name)
        per_query = {}
        for query in queries:
            samples = []
            for _ in range(max(1, repeat if engine.name != "whoosh-naive" else min(repeat, 5)) + 1):
                started = time.perf_counter()
                result = engine.search(query)
                samples.append(time.perf_counter() - started)
            per_query[query.name] = {**timings(samples), "total": result.total}
        results[engine.name] = {"build": build, "queries": per_query}
    return results


# --- Report ---------------------------------------------------------------------------------


def _server_name(kind: str) -> str:
    if kind == "gunicorn":
        return (
            "gunicorn as `make serve` runs it (production settings, gthread, 1 worker x 4 threads)"
        )
    return "Django's development server (`runserver`: a thread and new connections per request)"


def markdown(report: dict) -> str:
    ours = report["ours"]
    http = report["http"]["queries"]
    alt = report.get("alternatives", {})
    names = list(alt)
    lines = [
        f"# Search benchmark: {report['documents']:,} documents",
        "",
        f"`{report['command']}` on {report['machine']}, {report['date']}. "
        f"Corpus: `{report['corpus']}`. Engine: {report.get('engine', 'embedded (Whoosh)')}.",
        "",
        "Full search response (hits + person/publication/year facets + 10 snippets), ms. "
        "p50/p95 over warm runs; the first (cold) run apart. Ratios are the alternative's p50 "
        "divided by ours (higher = we are faster). HTTP: through "
        + _server_name(report["http"].get("server", "runserver"))
        + ".",
        "",
        "| query | ours p50 | ours p95 | cold | HTTP p50 | HTTP p95 | hits | "
        + " | ".join(f"{n} p50 (x)" for n in names)
        + " |",
        "|---|---|---|---|---|---|---|" + "---|" * len(names),
    ]
    for name, figures in ours.items():
        row = [
            name,
            f"{figures['p50_ms']:.1f}",
            f"{figures['p95_ms']:.1f}",
            f"{figures['cold_ms']:.1f}",
            f"{http[name]['p50_ms']:.1f}",
            f"{http[name]['p95_ms']:.1f}",
            f"{figures['total']:,}",
        ]
        for engine in names:
            theirs = alt[engine]["queries"][name]
            ratio = theirs["p50_ms"] / figures["p50_ms"] if figures["p50_ms"] else float("nan")
            row.append(f"{theirs['p50_ms']:.1f} ({ratio:.1f}x)")
        lines.append("| " + " | ".join(row) + " |")
    build = report["build"]
    lines += [
        "",
        "| measure | value |",
        "|---|---|",
        f"| bulk load into SQLite | {build['load_docs_per_s']:,.0f} docs/s |",
        f"| copy detection over the loaded archive (`cluster_copies`) | "
        f"{report['copies']['ms_per_document']:.2f} ms/document; "
        f"{report['copies']['stories']:,} stories |",
        f"| index build (`manage.py rebuild_index`) | {build['index_docs_per_s']:,.0f} docs/s "
        f"({build['index_seconds']:,.1f} s) |",
        f"| index build peak RSS | {build['index_peak_rss_mb']:,.0f} MB |",
        f"| index size on disk | {build['index_mb']:,.1f} MB |",
        f"| admin-style save → searchable via the API | "
        f"{report['http']['save_to_searchable_ms']:,.0f} ms |",
        f"| web worker RSS after the queries | {report['http']['server_rss_mb']['VmRSS']:,.0f} MB "
        f"(private {report['http']['server_rss_mb']['RssAnon']:,.0f} MB, mapped index files "
        f"{report['http']['server_rss_mb']['RssFile']:,.0f} MB) |",
    ]
    if "sphinxql" in report and report.get("engine", "").startswith("cluster"):
        lines.append(
            "| searchd RSS | "
            + ", ".join(f"{k} {v:,.0f} MB" for k, v in report["sphinxql"]["searchd_rss_mb"].items())
            + " |"
        )
    during = report["http"]["during_rebuild"]
    if during:
        lines.append(
            f"| searching while `rebuild_index` runs | {during['queries']} queries, "
            f"{during['failed']} failed, {during['wrong_total']} with a wrong total, "
            f"p95 {during['p95_ms']:,.0f} ms |"
        )
    for engine in names:
        b = alt[engine]["build"]
        lines.append(
            f"| {engine}: build | {b['docs'] / b['seconds']:,.0f} docs/s, "
            f"{b['bytes_on_disk'] / 1e6:,.1f} MB |"
        )
    lines += ["", "Queries:", ""]
    for query in report["queries"]:
        extra = []
        if query["persons"]:
            extra.append(f"person={', '.join(query['persons'])}")
        if query["publications"]:
            extra.append(f"publication={', '.join(query['publications'])}")
        if query["year"]:
            extra.append(f"year={query['year']}")
        note = f" ({query['notes']})" if query["notes"] else ""
        lines.append(f"- {query['name']}: `{query['q']}` {' '.join(extra)}{note}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="Search benchmark (see the module docstring).")
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--corpus", type=Path, help="a JSONL corpus instead of derived-<docs>")
    parser.add_argument("--repeat", type=int, default=20, help="warm runs per query")
    parser.add_argument("--no-alternatives", action="store_true")
    parser.add_argument(
        "--alternatives",
        help="comma-separated engines to compare (whoosh-naive,sqlite-fts5,tantivy; default all)",
    )
    parser.add_argument(
        "--no-rebuild-check",
        action="store_true",
        help="skip searching during a second full rebuild (it takes as long as the build)",
    )
    parser.add_argument(
        "--backend",
        choices=("whoosh", "sphinxql", "both"),
        default="whoosh",
        help="which search engine(s) to measure (both: side by side in one run)",
    )
    parser.add_argument(
        "--server",
        choices=("gunicorn", "runserver"),
        default="gunicorn",
        help="the web server the HTTP figures go through (gunicorn: as `make serve` runs it)",
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    parser.add_argument("--workdir", type=Path, help="keep the archive here (default: temporary)")
    args = parser.parse_args()

    corpus = corpus_path(args.docs, args.corpus)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="archive-bench-"))
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    env = {
        **os.environ,
        "ARCHIVE_DATA_DIR": str(workdir / "data"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # As in production: no per-query SQL log (it grows with every bulk insert).
        "DJANGO_DEBUG": "0",
        # DEBUG off needs a key; this archive is thrown away after the run.
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    loaded, load_seconds = bulk_load(corpus)
    copies_report = cluster_copies()
    index = build_index(env) if args.backend != "sphinxql" else {"seconds": 1, "peak_rss_mb": 0}
    from django.conf import settings

    from bench.alternatives import disk_bytes

    stats = gather(corpus, sample_every=max(1, loaded // 20000))
    queries = choose(stats)

    report = {
        "documents": loaded,
        "corpus": str(corpus.relative_to(REPO) if corpus.is_relative_to(REPO) else corpus),
        "command": "python bench/run.py " + " ".join(sys.argv[1:]),
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "queries": [q.as_dict() for q in queries],
        "build": {
            "load_docs_per_s": round(loaded / load_seconds, 1),
            "index_seconds": index["seconds"],
            "index_docs_per_s": round(loaded / index["seconds"], 1),
            "index_peak_rss_mb": index["peak_rss_mb"],
            "index_mb": round(disk_bytes(Path(settings.ARCHIVE_INDEX_DIR)) / 1e6, 1),
        },
        "copies": copies_report,
    }
    if args.backend in ("whoosh", "both"):
        report["ours"] = run_ours(queries, args.repeat)
        report["http"] = run_http(queries, args.repeat, env, not args.no_rebuild_check, args.server)
    if args.backend in ("sphinxql", "both"):
        report["sphinxql"] = run_cluster(
            queries, args.repeat, env, loaded, not args.no_rebuild_check, args.server
        )
        if args.backend == "sphinxql":  # the report's one engine is the cluster
            cluster = report["sphinxql"]
            report["ours"], report["http"] = cluster["ours"], cluster["http"]
            report["build"].update(
                index_seconds=cluster["build"]["cluster_index_seconds"],
                index_docs_per_s=cluster["build"]["cluster_index_docs_per_s"],
                index_peak_rss_mb=cluster["build"]["cluster_index_peak_rss_mb"],
                index_mb=cluster["index_mb"],
            )
    report["engine"] = {"whoosh": "embedded (Whoosh)", "sphinxql": "cluster (SphinxQL)"}.get(
        args.backend, "embedded (Whoosh), then the cluster"
    )
    if not args.no_alternatives:
        names = set(args.alternatives.split(",")) if args.alternatives else None
        report["alternatives"] = run_alternatives(
            corpus, queries, args.repeat, workdir / "alt", names
        )
    report["bench_peak_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )

    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"{loaded}-{dt.date.today().isoformat()}"
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    text = markdown(report) + (side_by_side(report) if args.backend == "both" else "")
    (args.out / f"{stem}.md").write_text(text, "utf-8")
    (args.out / f"latest-{loaded}.md").write_text(text, "utf-8")
    print(text)
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
