"""The local Sphinx cluster (archive/search/sphinxql/cluster.py): configuration, processes, and
the behaviour of Sphinx 2.2.11 the SphinxQL backend relies on (docs/sphinxql-notes.md).

The cluster tests start real ``searchd`` processes on 127.0.0.1, on free ports, in the test's
temporary directory, and stop them by their own PIDs. Without Debian's ``sphinxsearch`` they are
skipped, unless ARCHIVE_REQUIRE_SPHINX=1 (then they fail).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from archive.search.analyzer import TEXT_ANALYZER
from archive.search.sphinxql import cluster as sphinx
from archive.search.sphinxql.cluster import (
    ARTICLE_SCHEMA,
    Attribute,
    Cluster,
    Layout,
    RtSchema,
    connect,
    fnv64,
    read_global_idf,
    write_global_idf,
)

REQUIRE_SPHINX = os.environ.get("ARCHIVE_REQUIRE_SPHINX") == "1"
needs_searchd = pytest.mark.skipif(
    not sphinx.searchd_available() and not REQUIRE_SPHINX,
    reason="searchd is not installed (apt-get install sphinxsearch, or make cluster); "
    "ARCHIVE_REQUIRE_SPHINX=1 makes this a failure",
)
INDEX = "articles_a"
COLUMNS = (
    "id, title, body, facts, title_text, body_text, source_url, publication, day, year, month, "
    "date_inferred, persons, organisations, places"
)
ARTICLES = [
    (1, "Floods hit Mumbai", "Heavy rains flooded Mumbai on Monday.", 1, [5, 6]),
    (2, "Mumbai attacks", "Gunmen attacked hotels in Mumbai; the attack lasted days.", 2, [5]),
    (3, "Cafe society in Paris", "A review of cafes and bars in Paris.", 1, [7]),
    (4, "Election results", "The opposition won the election in Mumbai.", 3, [6, 7]),
    (5, "Monsoon floods", "The monsoon floods Mumbai streets again.", 2, []),
    (6, "Gunmen and floods", "Floods and gunmen: a headline about Mumbai.", 3, [5]),
]


def analysed(text: str) -> str:
    return " ".join(token.text for token in TEXT_ANALYZER(text))


def make_cluster(directory: Path, layout: Layout) -> Cluster:
    processes = 1 + layout.shards + int(layout.mirror)
    return Cluster(directory, base_port=sphinx.free_base_port(processes), layout=layout)


@pytest.fixture
def running_cluster(tmp_path):
    """2 shards, a mirror of shard 0, a head; stopped (by PID) whatever the test does."""
    if not sphinx.searchd_available():
        pytest.fail("ARCHIVE_REQUIRE_SPHINX=1 but searchd is not installed")
    cluster = make_cluster(tmp_path / "cluster", Layout())
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def execute(address, sql: str, args=None) -> list[tuple]:
    connection = connect(address)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, args)
            return list(cursor.fetchall())
    finally:
        connection.close()


def search(cluster: Cluster, match: str) -> tuple[list[int], dict[str, str], int]:
    """(ids, SHOW META, warning count) for a search through the head, as one batch."""
    connection = connect(cluster.head.address)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, WEIGHT() AS w FROM {INDEX} WHERE MATCH(%s) "
                "ORDER BY w DESC, id ASC LIMIT 100 OPTION global_idf=1; SHOW META",
                (match,),
            )
            ids = [row[0] for row in cursor.fetchall()]
            # The first statement's warnings: the C client asks the connection, pymysql keeps
            # them on its result.
            count = getattr(connection, "warning_count", None)
            warnings = count() if callable(count) else connection._result.warning_count
            cursor.nextset()
            meta = dict(cursor.fetchall())
        return ids, meta, warnings
    finally:
        connection.close()


def insert_articles(cluster: Cluster, articles=ARTICLES, index: str = INDEX) -> None:
    """Each article into every replica of its shard (the head takes no INSERT)."""
    for doc_id, title, body, publication, persons in articles:
        values = (doc_id, analysed(title), analysed(body), title, body, publication)
        mva = f"({','.join(map(str, persons))})"
        for process in cluster.replicas(cluster.shard_for(doc_id)):
            execute(
                process.address,
                f"INSERT INTO {index} ({COLUMNS}) VALUES "
                f"(%s, %s, %s, 'xall', %s, %s, '', %s, 0, 0, 0, 0, {mva}, (), ())",
                values,
            )


def pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


# --- without searchd ----------------------------------------------------------------------


def test_configuration_listens_on_loopback_with_mirror_agents(tmp_path):
    cluster = Cluster(tmp_path, base_port=9406, layout=Layout(shards=2, mirror=True))
    names = [p.name for p in cluster.processes]
    assert names == ["head", "shard0", "shard1", "shard0-mirror"]
    assert [p.sql_port for p in cluster.processes] == [9406, 9408, 9410, 9412]
    head = cluster.config_text(cluster.head)
    assert "agent = 127.0.0.1:9409|127.0.0.1:9413:articles_a" in head
    assert "agent = 127.0.0.1:9411:articles_a" in head
    assert "type = distributed" in head and "ha_strategy = nodeads" in head
    shard = cluster.config_text(cluster.process("shard1"))
    assert "listen = 127.0.0.1:9410:mysql41" in shard and "listen = 127.0.0.1:9411\n" in shard
    assert "watchdog = 0" in shard and "morphology = none" in shard
    assert "rt_attr_multi_64 = persons" in shard and "rt_field = body" in shard
    assert f"global_idf = {cluster.idf_path('articles_a')}" in shard
    for process in cluster.processes:
        text = cluster.config_text(process)
        assert f"pid_file = {process.pid_path}" in text
        assert "listen = 0.0.0.0" not in text
    assert [p.name for p in cluster.replicas(0)] == ["shard0", "shard0-mirror"]
    assert cluster.shard_for(7) == 1


def test_schema_and_layout_are_checked():
    with pytest.raises(ValueError):
        RtSchema(fields=())
    with pytest.raises(ValueError):
        RtSchema(fields=("title",), attributes=(Attribute("title", "string"),))
    with pytest.raises(ValueError):
        Attribute("tags", "list")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Layout(shards=0)
    assert ARTICLE_SCHEMA.columns[:2] == ("title", "body")


def test_charset_keeps_every_analysed_token_whole():
    table = sphinx.charset_table()
    assert table.startswith("0..9, A..Z->a..z, a..z, _, .")
    # The analyser's tokens hold dots ("u." from "U.S."), digits and folded non-ASCII letters.
    assert analysed("U.S. embassy") == "u. embassi"
    assert "U+3B1" in table or "U+370..U+374" in table  # Greek letters are word characters


def test_global_idf_file_format(tmp_path):
    # indextool --buildidf's format: int64 total, then sorted (FNV-1a 64 of the word, docs).
    assert fnv64("") == 0xCBF29CE484222325
    assert fnv64("a") == 0xAF63DC4C8601EC8C  # the published FNV-1a 64 test vector
    path = tmp_path / "x.idf"
    write_global_idf(path, 10, {"flood": 3, "mumbai": 5, "gone": 0})
    total, counts = read_global_idf(path)
    assert total == 10
    assert counts == {fnv64("flood"): 3, fnv64("mumbai"): 5}
    assert path.stat().st_size == 8 + 2 * 12


# --- with searchd -------------------------------------------------------------------------


@needs_searchd
def test_start_is_idempotent_and_stop_ends_exactly_its_processes(running_cluster):
    cluster = running_cluster
    statuses = cluster.status()
    assert all(s.pid and s.answering for s in statuses), statuses
    pids = {s.name: s.pid for s in statuses}

    again = {s.name: s.pid for s in cluster.start()}
    assert again == pids  # nothing restarted

    stopped = cluster.stop()
    assert all(s.pid is None for s in stopped)
    for pid in pids.values():
        assert not pid_alive(pid)
    assert not any(p.pid_path.exists() for p in cluster.processes)


@needs_searchd
def test_a_stale_pid_file_is_cleaned(tmp_path):
    if not sphinx.searchd_available():
        pytest.fail("ARCHIVE_REQUIRE_SPHINX=1 but searchd is not installed")
    cluster = make_cluster(tmp_path / "cluster", Layout(shards=1, mirror=False))
    shard = cluster.process("shard0")
    shard.directory.mkdir(parents=True)
    shard.pid_path.write_text("999999999\n")  # no such process
    try:
        pid = cluster.start_process(shard)
        assert pid != 999999999 and pid_alive(pid)
        assert shard.pid_path.read_text().strip() == str(pid)
    finally:
        cluster.stop()
    assert not pid_alive(pid)


@needs_searchd
def test_search_through_the_head_and_a_shard_that_goes_down_and_comes_back(running_cluster):
    cluster = running_cluster
    insert_articles(cluster)
    mumbai = sorted(d[0] for d in ARTICLES if "mumbai" in analysed(d[1] + " " + d[2]))

    ids, meta, warnings = search(cluster, "mumbai")
    assert sorted(ids) == mumbai
    assert int(meta["total_found"]) == len(mumbai) and warnings == 0

    # The head takes no writes for its distributed index.
    with pytest.raises(Exception, match="no such index"):
        execute(
            cluster.head.address,
            f"INSERT INTO {INDEX} (id, title, body) VALUES (99, 'x', 'y')",
        )

    # One shard down: the head still answers, with the other shard's documents and a warning.
    down = cluster.stop_process("shard1", kill=True)
    assert down is not None and not pid_alive(down)
    started = time.monotonic()
    ids, meta, warnings = search(cluster, "mumbai")
    assert time.monotonic() - started < 2.0
    assert sorted(ids) == [i for i in mumbai if cluster.shard_for(i) == 0]
    assert warnings >= 1
    # "connect() failed", or "handshake failure" when the dying shard still took the connection.
    assert "agent 127.0.0.1:" in meta["warning"] and "fail" in meta["warning"]

    # Back again: used at once (an agent without mirrors is tried on every query).
    cluster.start_process("shard1")
    ids, meta, warnings = search(cluster, "mumbai")
    assert sorted(ids) == mumbai and warnings == 0 and "warning" not in meta

    # Every shard down: an error, not an empty answer.
    for name in ("shard0", "shard0-mirror", "shard1"):
        cluster.stop_process(name)
    with pytest.raises(Exception, match="connect"):
        search(cluster, "mumbai")


@needs_searchd
def test_facets_and_counts_through_the_head_sum_the_shards(running_cluster):
    cluster = running_cluster
    insert_articles(cluster)
    connection = connect(cluster.head.address)
    try:
        with connection.cursor() as cursor:
            # The search (with WEIGHT()), its SHOW META and the facets as one batch: FACET on a
            # distributed index fails when its select list has an expression.
            cursor.execute(
                f"SELECT id, WEIGHT() AS w FROM {INDEX} WHERE MATCH('mumbai') "
                "ORDER BY w DESC LIMIT 2; SHOW META; "
                f"SELECT id FROM {INDEX} WHERE MATCH('mumbai') LIMIT 0 "
                "FACET persons ORDER BY COUNT(*) DESC FACET publication ORDER BY COUNT(*) DESC"
            )
            assert len(cursor.fetchall()) == 2
            cursor.nextset()
            assert dict(cursor.fetchall())["total_found"] == "5"
            cursor.nextset()
            assert cursor.fetchall() == ()
            cursor.nextset()
            persons = dict(cursor.fetchall())
            cursor.nextset()
            publications = dict(cursor.fetchall())
    finally:
        connection.close()
    assert persons == {5: 3, 6: 2, 7: 1}
    assert publications == {1: 1, 2: 2, 3: 2}

    # The trap itself: the search's rows arrive, the FACET result set is an error.
    connection = connect(cluster.head.address)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, WEIGHT() AS w FROM {INDEX} WHERE MATCH('mumbai') FACET persons"
            )
            assert len(cursor.fetchall()) == 5
            with pytest.raises(Exception, match="not found in result set schema"):
                cursor.nextset()
    finally:
        connection.close()


@needs_searchd
def test_global_idf_makes_weights_independent_of_the_layout(tmp_path):
    if not sphinx.searchd_available():
        pytest.fail("ARCHIVE_REQUIRE_SPHINX=1 but searchd is not installed")
    words = "flood mumbai attack election paris monsoon gunmen hotel rain street".split()
    articles = []
    for doc_id in range(1, 41):
        # Skewed on purpose: even (shard 0) and odd (shard 1) documents use words differently.
        pool = words[:6] if doc_id % 2 == 0 else words[3:]
        chosen = [w for i, w in enumerate(pool) if (doc_id + i) % 3 != 0]
        articles.append((doc_id, chosen[0], " ".join(chosen[1:] * 2), 1, []))
    document_counts: dict[str, int] = {}
    for _, title, body, _, _ in articles:
        for word in set(analysed(title).split()) | set(analysed(body).split()):
            document_counts[word] = document_counts.get(word, 0) + 1

    two = make_cluster(tmp_path / "two", Layout(shards=2, mirror=False))
    one = make_cluster(tmp_path / "one", Layout(shards=1, mirror=False))
    try:
        weights = {}
        for cluster in (two, one):
            cluster.start()
            insert_articles(cluster, articles)
            write_global_idf(cluster.idf_path(INDEX), len(articles), document_counts)
            cluster.reload_idf()
        time.sleep(1.5)  # the shards re-read the file within a second of SIGHUP
        for name, cluster in (("two", two), ("one", one)):
            weights[name] = {
                (query, option): execute(
                    cluster.head.address,
                    f"SELECT id, WEIGHT() AS w FROM {INDEX} WHERE MATCH(%s) "
                    f"ORDER BY w DESC, id ASC LIMIT 100 {option}",
                    (query,),
                )
                for query in ("flood", "mumbai attack", "hotel | rain", '"gunmen hotel"')
                for option in ("", "OPTION global_idf=1")
            }
    finally:
        two.stop()
        one.stop()
    local_queries = [key for key in weights["one"] if not key[1]]
    global_queries = [key for key in weights["one"] if key[1]]
    assert all(weights["one"][key] for key in weights["one"])
    assert all(weights["two"][q] == weights["one"][q] for q in global_queries)
    assert any(weights["two"][q] != weights["one"][q] for q in local_queries)


def test_a_value_clause_every_match_must_meet_is_a_filter_beside_match(db):
    """The cluster's MATCH() ranks every keyword it holds, so an OR of hundreds of value tokens
    made the ranked page time out: a value clause that the whole query needs (alone, one of the
    top-level AND parts, or an OR of one field's) becomes value ids for the attribute filter."""
    from archive.search.query import parse_query
    from archive.search.sphinxql.matching import Translator, value_id

    names = {"person": ["Sam Smith", "Sue Stone", "Tony Blair"], "organisation": ["Shell"]}
    translator = Translator(
        lambda field, text, pattern: [
            n
            for n in names.get(field, [])
            if any(w.lower().startswith(text.rstrip("*").lower()) for w in n.split())
        ],
        lambda: None,
        lambda word, distance, prefix: [],
    )

    def translated(q: str):
        return translator.translate(parse_query(q, 1000).query)

    smith, stone = value_id("person", "Sam Smith"), value_id("person", "Sue Stone")
    alone = translated("person:s*")
    assert alone.filters == [("person", [smith, stone])]
    assert alone.text == "(@facts xall)"
    beside = translated("harbour person:s*")
    assert beside.filters == [("person", [smith, stone])]
    assert "p" + format(smith, "x") not in beside.text and "harbour" in beside.text
    assert translated("(person:sam OR person:sue) harbour").filters == [("person", [smith, stone])]
    # Not something every match needs, or not one field: value tokens in MATCH(), as before.
    for q in ("harbour OR person:s*", "harbour -person:s*", "person:s* OR organisation:s*"):
        assert translated(q).filters == [], q
    # A clause that names no value matches nothing, in MATCH().
    nothing = translated("person:zz* harbour")
    assert nothing.filters == [] and "xnone" in nothing.text


def test_the_engines_message_comes_without_the_drivers_wrapping():
    """A notice quoted the driver's tuple and the NUL an agent's message ends with
    ("(query timed out\\x00'))"): only the engine's words are kept."""
    import pymysql

    from archive.search.sphinxql.backend import _engine_words

    error = pymysql.err.ProgrammingError(
        1064, "index articles_a: agent 127.0.0.1:9408: query timed out\x00"
    )
    assert _engine_words(error) == "index articles_a: agent 127.0.0.1:9408: query timed out"
    assert _engine_words(RuntimeError()) == ""
