"""A local SphinxQL cluster: N real-time shards, an optional mirror of shard 0, and a head.

Every process is one ``searchd`` (Debian's ``sphinxsearch`` 2.2.11; Manticore speaks the same
SphinxQL) with a configuration file of its own, written here, under one cluster directory::

    <data dir>/cluster/
        head/searchd.conf  searchd.pid  searchd.log  query.log  binlog/  startup.log
        shard0/...         data/<index>.*   (the RT index files)
        shard1/...
        shard0-mirror/...  (a second copy of shard 0: the head treats the two as one agent)
        idf/<index>.idf    (the global IDF file every shard reads; see write_global_idf)

Each shard serves the RT indexes ``layout.indexes`` (default: two slots, ``articles_a`` and
``articles_b``, so that a rebuild can fill the idle slot while the other answers, then switch).
The head serves a distributed index of the same name over every shard's RT index. Documents are
written to the shards (the head accepts no INSERT); the writer routes a document by its story
key (:meth:`Cluster.shard_for`; every copy of a story on one shard, see the backend) and writes
it to every replica of that shard (the primary and, for
shard 0, the mirror: a mirror is not replicated by the engine).

Everything listens on 127.0.0.1 only: port ``base_port + 2*slot`` speaks SphinxQL (MySQL
protocol; ``client.py`` connects), ``base_port + 2*slot + 1`` the binary API the head uses to talk
to its agents. Slot 0 is the head, slots 1..N the shards, then the mirror. With the default base
port 9406: head 9406, shard0 9408, shard1 9410, shard0-mirror 9412 (SphinxQL). Not 9306/9312,
the engines' own defaults, so that a system Sphinx or Manticore on the same machine is left alone.

Processes run with ``watchdog = 0`` (one process per searchd, so its pid file names exactly the
process to signal) and are stopped by the PID in their own pid file, never by name.

Command line: ``python -m archive.search.sphinxql.cluster start|stop|status`` (``--help``).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

SEARCHD = "searchd"
DEFAULT_BASE_PORT = 9406
HOST = "127.0.0.1"
HEAD = "head"
MIRROR_SUFFIX = "-mirror"
# Seconds to wait for a started searchd to answer SphinxQL, and for a stopped one to exit.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0

# --- The RT index schema -----------------------------------------------------------------

AttributeType = Literal[
    "uint",  # unsigned 32-bit
    "bigint",  # signed 64-bit
    "bool",
    "float",
    "timestamp",  # unsigned 32-bit Unix time
    "string",  # stored text: returned by SELECT, usable by SNIPPET(); cannot be UPDATEd
    "multi",  # MVA: a set of unsigned 32-bit values (FACET / filter by any member)
    "multi_64",  # MVA of signed 64-bit values
    "json",
]
ATTRIBUTE_TYPES: tuple[str, ...] = AttributeType.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Attribute:
    """One RT attribute: ``rt_attr_<type> = <name>`` in the shard configuration."""

    name: str
    type: AttributeType

    def __post_init__(self) -> None:
        if self.type not in ATTRIBUTE_TYPES:
            raise ValueError(f"unknown attribute type {self.type!r}; one of {ATTRIBUTE_TYPES}")
        _check_name(self.name)


@dataclass(frozen=True)
class RtSchema:
    """Full-text fields (analysed and searchable, not stored: Sphinx 2.2 cannot return a field's
    text) and attributes (stored values: filters, sorting, FACET, SELECT, SNIPPET()). The
    document id is implicit (``id``, a positive 64-bit integer)."""

    fields: tuple[str, ...]
    attributes: tuple[Attribute, ...] = ()

    def __post_init__(self) -> None:
        if not self.fields:
            raise ValueError("an RT index needs at least one full-text field")
        names = [*self.fields, *(a.name for a in self.attributes)]
        for name in names:
            _check_name(name)
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"names used twice in the schema: {duplicates}")

    def config_lines(self) -> list[str]:
        return [f"rt_field = {name}" for name in self.fields] + [
            f"rt_attr_{attribute.type} = {attribute.name}" for attribute in self.attributes
        ]

    @property
    def columns(self) -> tuple[str, ...]:
        """Column order for ``INSERT INTO index (id, <columns>) VALUES ...``."""
        return (*self.fields, *(a.name for a in self.attributes))


def _check_name(name: str) -> None:
    if not name.isidentifier() or not name.isascii() or name.lower() != name or name == "id":
        raise ValueError(f"bad field/attribute name {name!r}: lower-case ASCII identifier, not id")


# The news article as the SphinxQL backend stores it (archive/search/sphinxql/backend.py):
# - title, body: the project's analyser output (archive/search/analyzer.py), tokens joined by
#   spaces; the engine's own morphology is off, so both backends search the same terms.
# - facts: hidden tokens every query form that is not text becomes (matching.py): "xall" in
#   every document, a facet value's token, the date's year, month and day tokens.
# - title_exact, body_exact: the same words unstemmed (analyzer.exact_terms), which quoted
#   words search (schema.EXACT_FIELDS).
# - title_text, body_text, source_url: the original text, shown and highlighted by the project's
#   own highlighter (SNIPPET() neither stems nor escapes). Never UPDATEd: a change is a REPLACE.
# - publication: the publication's value id (64-bit hash of its name; 0 = none); persons,
#   organisations, places: MVAs of value ids. Ids rather than names: FACET, GROUP BY and WHERE
#   on integers are exact and cheap; the backend's dictionary maps them back to names.
# - day: the date as YYYYMMDD (0 = undated), year and month (YYYYMM) beside it so that grouping
#   by them needs no expression; date_inferred: the date was guessed from the text.
# - title_len, body_len (and facts_len): not declared, made by index_field_lengths = 1: how
#   many terms each field holds, for BM25's length normalisation against the whole archive's
#   average (the engine's own bm25f uses each shard's average: see backend.ranker).
# - story: the story the document is a copy of, when that story has copies (0 = none);
#   story_key: what results fold by, stories are counted by and story= filters on: the story id
#   (copies or not) or, for a document in no story, 2^62 + its id (a story of its own;
#   backend.story_key). An index created without them is recreated by a rebuild.
ARTICLE_SCHEMA = RtSchema(
    fields=("title", "body", "facts", "title_exact", "body_exact"),
    attributes=(
        Attribute("title_text", "string"),
        Attribute("body_text", "string"),
        Attribute("source_url", "string"),
        Attribute("publication", "bigint"),
        Attribute("day", "uint"),
        Attribute("year", "uint"),
        Attribute("month", "uint"),
        Attribute("date_inferred", "uint"),
        Attribute("persons", "multi_64"),
        Attribute("organisations", "multi_64"),
        Attribute("places", "multi_64"),
        Attribute("story", "bigint"),
        Attribute("story_key", "bigint"),
    ),
)

# Which characters a word may hold. The project indexes its own analyser's output: tokens of
# Python's \w+(\.?\w+)* (letters and digits of any script, underscore, inner dots as in "1.5"),
# lower-cased, stemmed (Porter2 turns "U.S" into "u."), accent-folded, joined by single spaces.
# Every character of such a token must be a word character for the engine, or it would cut "u."
# or a Greek word in two; nothing may be folded or mapped again (the analyser has done that; a
# second folding would merge terms Whoosh keeps apart). So the table is the identity over 0-9,
# a-z, "_", "." and every character from U+0080 up that is a Python \w character or can come out
# of the analyser's lower-casing and folding (U+0307 from "İ".lower(), for one), computed here
# from this Python's Unicode database. Everything else (spaces, punctuation, curly quotes, dashes)
# separates words, which changes nothing for the analysed fields but makes SNIPPET() over the
# original text cut words where a reader would. A..Z are folded to a..z: the analyser's output
# has no capitals, and SNIPPET() then matches the original text case-insensitively. Limits of
# 2.2.11: tables end at U+2FFFF (higher code points, rare CJK extensions, are word characters
# anyway) and words are cut at 42 characters (SPH_MAX_WORD_LEN).
ASCII_CHARSET = "0..9, A..Z->a..z, a..z, _, ."
SPHINX_MAX_CODE = 0x30000


@functools.cache
def charset_table() -> str:
    import re

    from archive.search.analyzer import fold_accents

    word = re.compile(r"\w")
    keep: set[int] = set()
    for code in range(0x80, SPHINX_MAX_CODE):
        char = chr(code)
        if word.match(char):
            keep.add(code)
            keep.update(ord(c) for c in fold_accents(char.lower(), cache=False))
    ranges: list[tuple[int, int]] = []
    for code in sorted(c for c in keep if 0x80 <= c < SPHINX_MAX_CODE):
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    parts = [f"U+{a:X}" if a == b else f"U+{a:X}..U+{b:X}" for a, b in ranges]
    # One line per 12 ranges, joined with the config format's backslash continuation.
    lines = [ASCII_CHARSET] + [", ".join(parts[i : i + 12]) for i in range(0, len(parts), 12)]
    return ", \\\n        ".join(lines)


# --- The layout and its processes -------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """How many shards, whether shard 0 has a mirror, which RT indexes each shard serves."""

    shards: int = 2
    mirror: bool = True
    indexes: tuple[str, ...] = ("articles_a", "articles_b")
    schema: RtSchema = ARTICLE_SCHEMA
    # The head's patience with an agent, in milliseconds: a shard that is down (connection
    # refused) costs nothing; one that hangs costs at most connect + query timeout. Not less than
    # a second: on a saturated machine a live shard can take hundreds of ms to accept.
    agent_connect_timeout_ms: int = 1000
    agent_query_timeout_ms: int = 3000
    # How the head picks between shard 0 and its mirror: nodeads avoids a mirror that failed to
    # connect recently, and spreads queries over the live ones.
    ha_strategy: str = "nodeads"
    # How often the head pings each mirror (ms): a mirror that died is avoided, one that came
    # back is used again, after about this long.
    ha_ping_interval_ms: int = 250
    # RAM chunk per RT index before it is flushed to a disk chunk. Large on purpose: 2.2.11 applies
    # global_idf only to the RAM chunk; documents in a disk chunk (written when the RAM chunk
    # outgrows this limit, or by FLUSH RAMCHUNK / OPTIMIZE INDEX) are ranked with IDF 0. Memory
    # is used as documents arrive, not reserved. Check with SHOW INDEX <index> STATUS
    # (disk_chunks must stay 0); see docs/sphinxql-notes.md.
    rt_mem_limit: str = "2048M"
    # Store per-field lengths, so that BM25A()/BM25F() in ranker=expr(...) normalise by length.
    index_field_lengths: bool = True
    # Prefix search (immigr*): dict=keywords expands prefixes at query time from the dictionary.
    min_prefix_len: int = 1
    # Values one filter may list (searchd's max_filter_values): a value pattern (person:s*)
    # filters on every value it names (matching.Translator.translate).
    max_filter_values: int = 1_000_000

    def __post_init__(self) -> None:
        if self.shards < 1:
            raise ValueError("a cluster needs at least one shard")
        if not self.indexes:
            raise ValueError("a cluster needs at least one index")
        for name in self.indexes:
            _check_name(name)


@dataclass(frozen=True)
class Process:
    """One searchd of the cluster."""

    name: str  # head, shard0, shard1, ..., shard0-mirror
    role: Literal["head", "shard", "mirror"]
    shard: int | None  # which shard's data it holds (None for the head)
    sql_port: int  # SphinxQL (MySQL protocol)
    api_port: int  # the binary API (agents)
    directory: Path

    @property
    def config_path(self) -> Path:
        return self.directory / "searchd.conf"

    @property
    def pid_path(self) -> Path:
        return self.directory / "searchd.pid"

    @property
    def log_path(self) -> Path:
        return self.directory / "searchd.log"

    @property
    def address(self) -> tuple[str, int]:
        return (HOST, self.sql_port)


@dataclass
class ProcessStatus:
    name: str
    role: str
    pid: int | None
    sql_port: int
    api_port: int
    answering: bool
    config: str
    note: str = ""

    def line(self) -> str:
        state = f"running, pid {self.pid}" if self.pid else "stopped"
        answers = "answers SphinxQL" if self.answering else "no SphinxQL answer"
        if not self.pid and not self.answering:
            answers = ""
        parts = [f"{self.name:<15} {state:<20} 127.0.0.1:{self.sql_port}", answers, self.note]
        return "  ".join(part for part in parts if part)


class ClusterError(RuntimeError):
    """A process would not start or stop; the message says why (and quotes its log)."""


@dataclass
class Cluster:
    """A cluster's files and processes under ``directory`` (``<data dir>/cluster``)."""

    directory: Path
    base_port: int = DEFAULT_BASE_PORT
    layout: Layout = field(default_factory=Layout)
    searchd: str = SEARCHD

    def __post_init__(self) -> None:
        self.directory = Path(self.directory).resolve()

    # --- topology --------------------------------------------------------------------------

    @property
    def processes(self) -> list[Process]:
        """Head first, then the shards, then the mirror."""
        processes = [self._process(HEAD, "head", None, 0)]
        for shard in range(self.layout.shards):
            processes.append(self._process(f"shard{shard}", "shard", shard, 1 + shard))
        if self.layout.mirror:
            name = f"shard0{MIRROR_SUFFIX}"
            processes.append(self._process(name, "mirror", 0, 1 + self.layout.shards))
        return processes

    def _process(self, name: str, role, shard: int | None, slot: int) -> Process:
        port = self.base_port + 2 * slot
        return Process(name, role, shard, port, port + 1, self.directory / name)

    def process(self, name: str) -> Process:
        for process in self.processes:
            if process.name == name:
                return process
        names = ", ".join(p.name for p in self.processes)
        raise KeyError(f"no process {name!r} in this cluster ({names})")

    @property
    def head(self) -> Process:
        return self.processes[0]

    def replicas(self, shard: int) -> list[Process]:
        """The processes holding ``shard``'s documents: the primary, then any mirror. A write
        for the shard goes to each of them."""
        return [p for p in self.processes if p.shard == shard]

    def shard_for(self, key: int) -> int:
        """The shard for a routing key (the backend routes a document by its story key):
        ``key % shards``, stable while the shard count is."""
        if key <= 0:
            raise ValueError("Sphinx routing keys are positive")
        return key % self.layout.shards

    def idf_path(self, index: str) -> Path:
        """The global IDF file every shard's ``index`` reads (write it with
        :func:`write_global_idf`, then :meth:`reload_idf`)."""
        return self.directory / "idf" / f"{index}.idf"

    # --- configuration ---------------------------------------------------------------------

    def config_text(self, process: Process) -> str:
        lines: list[str] = [
            "# Written by archive/search/sphinxql/cluster.py; rewritten on every start.",
            "",
        ]
        if process.role == "head":
            lines += self._head_indexes()
        else:
            lines += self._shard_indexes(process)
        lines += _section(
            "searchd",
            [
                f"listen = {HOST}:{process.sql_port}:mysql41",
                f"listen = {HOST}:{process.api_port}",
                f"log = {process.log_path}",
                f"query_log = {process.directory / 'query.log'}",
                f"pid_file = {process.pid_path}",
                f"binlog_path = {process.directory / 'binlog'}",
                "workers = threads",
                # One process: its pid file names the process to stop (no watchdog to respawn it).
                "watchdog = 0",
                # Plain rotation on SIGHUP: the only way 2.2.11 re-reads changed global IDF files
                # of RT indexes (and the head's agent list) without a restart.
                "seamless_rotate = 0",
                "preopen_indexes = 0",
                "read_timeout = 5",
                "client_timeout = 300",
                # Under load (50 clients on two cores) the default backlog of 5 overflowed: the
                # head's connects to its agents were dropped and timed out, and searches failed
                # with "no shard answered" (bench/load.py, 2026-12-04).
                "listen_backlog = 256",
                "max_children = 256",
                # A value pattern in a query (person:s*) is a filter on the value ids: thousands
                # of them in a large archive (the default allows 4,096 and refused more).
                f"max_filter_values = {self.layout.max_filter_values}",
                "max_batch_queries = 32",
                "max_packet_size = 32M",
                "expansion_limit = 1000",
                "binlog_flush = 2",
                "query_log_format = sphinxql",
                # Retire a dead mirror's bad statistics quickly, and ping mirrors every second, so
                # that a mirror that comes back is used again within seconds.
                f"ha_ping_interval = {self.layout.ha_ping_interval_ms}",
                "ha_period_karma = 10",
            ],
        )
        return "\n".join(lines) + "\n"

    def _shard_indexes(self, process: Process) -> list[str]:
        layout = self.layout
        lines: list[str] = []
        for index in layout.indexes:
            lines += _section(
                f"index {index}",
                [
                    "type = rt",
                    f"path = {process.directory / 'data' / index}",
                    f"rt_mem_limit = {layout.rt_mem_limit}",
                    *layout.schema.config_lines(),
                    "dict = keywords",
                    "morphology = none",
                    "min_word_len = 1",
                    f"min_prefix_len = {layout.min_prefix_len}",
                    "index_exact_words = 0",
                    f"index_field_lengths = {int(layout.index_field_lengths)}",
                    f"charset_table = {charset_table()}",
                    "html_strip = 0",
                    f"global_idf = {self.idf_path(index)}",
                ],
            )
        return lines

    def _head_indexes(self) -> list[str]:
        layout = self.layout
        lines: list[str] = []
        for index in layout.indexes:
            agents = []
            for shard in range(layout.shards):
                mirrors = "|".join(f"{HOST}:{p.api_port}" for p in self.replicas(shard))
                agents.append(f"agent = {mirrors}:{index}")
            lines += _section(
                f"index {index}",
                [
                    "type = distributed",
                    *agents,
                    f"agent_connect_timeout = {layout.agent_connect_timeout_ms}",
                    f"agent_query_timeout = {layout.agent_query_timeout_ms}",
                    f"ha_strategy = {layout.ha_strategy}",
                ],
            )
        return lines

    def write_configs(self, processes: Iterable[Process] | None = None) -> None:
        for process in processes if processes is not None else self.processes:
            for directory in (process.directory, process.directory / "binlog"):
                directory.mkdir(parents=True, exist_ok=True)
            if process.role != "head":
                (process.directory / "data").mkdir(exist_ok=True)
            _write_atomically(process.config_path, self.config_text(process).encode())
        (self.directory / "idf").mkdir(parents=True, exist_ok=True)

    # --- processes -------------------------------------------------------------------------

    def pid(self, process: Process | str) -> int | None:
        """The PID of ``process``'s running searchd (from its pid file), or None. A pid file
        whose process is gone (or is not this searchd) is stale: it is removed."""
        process = self._resolve(process)
        try:
            pid = int(process.pid_path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if _is_our_searchd(pid, process.config_path):
            return pid
        with contextlib.suppress(FileNotFoundError):
            process.pid_path.unlink()
        return None

    def start(self) -> list[ProcessStatus]:
        """Start every process that is not running (shards before the head), wait until each
        answers SphinxQL. Running processes are left alone. Returns :meth:`status`."""
        self._require_searchd()
        for process in [*self.processes[1:], self.head]:
            self.start_process(process)
        return self.status()

    def start_process(self, process: Process | str) -> int:
        """Start one process (if it is not running) and wait until it answers; its PID."""
        process = self._resolve(process)
        pid = self.pid(process)
        if pid is not None:
            if process.config_path.read_text() != self.config_text(process):
                print(
                    f"{process.name}: running (pid {pid}) with an older configuration; stop and "
                    "start it to apply the new one (an existing RT index keeps the schema and "
                    "tokenizer settings it was created with: `destroy` to recreate it)",
                    file=sys.stderr,
                )
            return pid
        self._require_searchd()
        for port in (process.sql_port, process.api_port):
            if not _port_free(port):
                raise ClusterError(
                    f"{process.name}: port {HOST}:{port} is in use by another program; "
                    "choose other ports (--base-port / ARCHIVE_SPHINX_BASE_PORT)"
                )
        self.write_configs([process])
        if process.role != "head":
            # searchd ignores a global_idf file missing at start ("global IDF unavailable -
            # IGNORING") and never loads it later: start with an empty one (local counts count
            # until the backend writes the archive's).
            for index in self.layout.indexes:
                if not self.idf_path(index).exists():
                    write_global_idf(self.idf_path(index), 0, {})
        log_size = process.log_path.stat().st_size if process.log_path.exists() else 0
        with open(process.directory / "startup.log", "wb") as startup:
            # searchd daemonizes: this returns once the daemon is forked (or it failed).
            result = subprocess.run(
                [self.searchd, "--config", str(process.config_path)],
                cwd=process.directory,
                stdin=subprocess.DEVNULL,
                stdout=startup,
                stderr=subprocess.STDOUT,
                timeout=START_TIMEOUT,
                check=False,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            pid = self.pid(process)
            if pid is not None and answers(process.address):
                return pid
            if result.returncode != 0 and pid is None:
                break
            time.sleep(0.05)
        raise ClusterError(
            f"{process.name}: searchd did not start (exit status {result.returncode}).\n"
            + _tail(process.directory / "startup.log")
            + _tail(process.log_path, since=log_size)
        )

    def stop(self) -> list[ProcessStatus]:
        """Stop every process of the cluster (the head first), each by the PID in its own pid
        file: SIGTERM (searchd saves its RT RAM chunks), SIGKILL if it has not exited after
        STOP_TIMEOUT seconds. Returns :meth:`status`."""
        for process in self.processes:
            self.stop_process(process)
        return self.status()

    def stop_process(self, process: Process | str, *, kill: bool = False) -> int | None:
        """Stop one process; ``kill`` sends SIGKILL at once (a crash, for fault tests). Returns
        the PID it stopped, or None when it was not running."""
        process = self._resolve(process)
        pid = self.pid(process)
        if pid is None:
            return None
        os.kill(pid, signal.SIGKILL if kill else signal.SIGTERM)
        if not _wait_gone(pid, STOP_TIMEOUT):
            os.kill(pid, signal.SIGKILL)
            if not _wait_gone(pid, STOP_TIMEOUT):
                raise ClusterError(f"{process.name}: pid {pid} did not exit after SIGKILL")
        with contextlib.suppress(FileNotFoundError):
            process.pid_path.unlink()
        return pid

    def destroy(self) -> None:
        """Stop every process and delete the cluster directory (indexes, logs, configs): the way
        to apply a changed schema or charset table, which an existing RT index keeps from the
        day it was created."""
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def reload(self, process: Process | str) -> bool:
        """SIGHUP one process: it re-reads its configuration (a head picks up a changed agent
        list) and any global IDF file whose modification time changed. False if not running."""
        pid = self.pid(self._resolve(process))
        if pid is None:
            return False
        os.kill(pid, signal.SIGHUP)
        return True

    def reload_idf(self, wait: float = 5.0) -> None:
        """Make every running shard re-read its global IDF files (after
        :func:`write_global_idf`), and wait (at most ``wait`` seconds) until each has: its log
        says "rotating finished" once more. Until then a shard ranks with the old counts."""
        signalled = []
        for process in self.processes[1:]:
            before = _count_in_log(process.log_path, ROTATED)
            if self.reload(process):
                signalled.append((process, before))
        deadline = time.monotonic() + wait
        for process, before in signalled:
            while _count_in_log(process.log_path, ROTATED) <= before:
                if time.monotonic() >= deadline:
                    return
                time.sleep(0.01)

    def status(self) -> list[ProcessStatus]:
        statuses = []
        for process in self.processes:
            pid = self.pid(process)
            note = ""
            if pid is None and not _port_free(process.sql_port):
                note = "port in use by another program"
            statuses.append(
                ProcessStatus(
                    name=process.name,
                    role=process.role,
                    pid=pid,
                    sql_port=process.sql_port,
                    api_port=process.api_port,
                    answering=pid is not None and answers(process.address),
                    config=str(process.config_path),
                    note=note,
                )
            )
        return statuses

    def _resolve(self, process: Process | str) -> Process:
        return self.process(process) if isinstance(process, str) else process

    def _require_searchd(self) -> None:
        if shutil.which(self.searchd) is None:
            raise ClusterError(
                f"{self.searchd!r} is not installed: `apt-get install sphinxsearch` "
                "(or `make cluster`, which installs it)"
            )


def searchd_available(searchd: str = SEARCHD) -> bool:
    return shutil.which(searchd) is not None


def connect(address: tuple[str, int], *, timeout: float = 5.0, **kwargs):
    """A connection to a searchd (``client.py``: the C client when installed, else pymysql):
    autocommit on (with autocommit off, Sphinx holds RT writes in a transaction until COMMIT),
    multi-statement batches allowed (the search, SHOW META and FACET queries go as one batch),
    UTF-8."""
    from archive.search.sphinxql import client

    host, port = address
    return client.connect(host, port, timeout, **kwargs)


def answers(address: tuple[str, int], timeout: float = 1.0) -> bool:
    """Whether a searchd answers SphinxQL at ``address``."""
    try:
        connection = connect(address, timeout=timeout)
    except Exception:
        return False
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW STATUS LIKE 'uptime'")
            cursor.fetchall()
        return True
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            connection.close()


# --- Global IDF ---------------------------------------------------------------------------


def fnv64(word: str) -> int:
    """Sphinx's 64-bit FNV-1a hash of a keyword's UTF-8 bytes: the key of a .idf entry."""
    value = 0xCBF29CE484222325
    for byte in word.encode("utf-8"):
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def write_global_idf(path: Path, total_documents: int, document_counts: Mapping[str, int]) -> None:
    """Write a global IDF file, the format ``indextool --buildidf`` writes (Sphinx 2.2.11): the
    total document count (int64), then (FNV64(keyword) uint64, documents uint32) entries sorted
    by hash, little-endian, packed. ``document_counts``: for each keyword (as the engine stores
    it: the analyser's token), how many documents of the whole archive hold it.

    Written to a temporary file and renamed into place (see :func:`_write_atomically`).
    """
    pairs = [(fnv64(word), docs) for word, docs in document_counts.items() if docs > 0]
    write_global_idf_hashed(path, total_documents, [h for h, _ in pairs], [d for _, d in pairs])


def write_global_idf_hashed(
    path: Path, total_documents: int, hashes: Sequence[int], documents: Sequence[int]
) -> None:
    """:func:`write_global_idf` from keyword hashes already computed (the backend keeps them
    with its term counts: hashing every word again on each write was most of a save's time)."""
    import numpy as np

    entries = np.zeros(len(hashes), dtype=[("hash", "<u8"), ("docs", "<u4")])
    entries["hash"] = np.asarray(hashes, dtype=np.uint64)
    entries["docs"] = np.minimum(np.asarray(documents, dtype=np.int64), 0xFFFFFFFF)
    entries = entries[entries["docs"] > 0]
    entries.sort(order="hash")
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, struct.pack("<q", total_documents) + entries.tobytes())


def read_global_idf(path: Path) -> tuple[int, dict[int, int]]:
    """(total documents, {keyword hash: documents}) from a .idf file."""
    data = path.read_bytes()
    (total,) = struct.unpack_from("<q", data)
    counts = {}
    for offset in range(8, len(data) - 11, 12):
        word_id, docs = struct.unpack_from("<QI", data, offset)
        counts[word_id] = docs
    return total, counts


# --- helpers ------------------------------------------------------------------------------


def _section(header: str, lines: Sequence[str]) -> list[str]:
    return [header, "{", *(f"    {line}" for line in lines), "}", ""]


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``; its modification time always moves on by at least a
    second (searchd compares whole seconds: two rewrites in one second would look unchanged)."""
    previous = path.stat().st_mtime if path.exists() else 0.0
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    stamp = max(time.time(), int(previous) + 1.0)
    os.utime(temporary, (stamp, stamp))
    os.replace(temporary, path)


ROTATED = b"rotating finished"


def _count_in_log(path: Path, marker: bytes) -> int:
    try:
        return path.read_bytes().count(marker)
    except FileNotFoundError:
        return 0


def _is_our_searchd(pid: int, config_path: Path) -> bool:
    """Whether ``pid`` is a live searchd started with ``config_path`` (not a zombie, not a
    recycled PID of another program)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, PermissionError, IndexError):
        return False
    if state in ("Z", "X") or not cmdline or not cmdline[0]:
        return False
    return Path(cmdline[0].decode()).name == SEARCHD and str(config_path).encode() in cmdline


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return True
        if state in ("Z", "X"):
            # A zombie (our child, when a test started it without daemonizing): reap it.
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)
            return True
        time.sleep(0.05)
    return False


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _tail(path: Path, since: int = 0, lines: int = 20) -> str:
    try:
        with open(path, "rb") as file:
            file.seek(since)
            text = file.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""
    kept = text.strip().splitlines()[-lines:]
    return f"--- {path} ---\n" + "\n".join(kept) + "\n" if kept else ""


# --- command line -------------------------------------------------------------------------


def free_base_port(processes: int = 4) -> int:
    """A base port with 2 * ``processes`` free loopback ports above it (SphinxQL + API per
    process): for a throwaway cluster (tests, benchmarks)."""
    import random

    for _ in range(200):
        base = random.randrange(20000, 60000, 2)
        if all(_port_free(base + offset) for offset in range(2 * processes)):
            return base
    raise ClusterError("no free ports for a cluster")


def default_data_dir() -> Path:
    """The project's data directory: Django's settings.DATA_DIR when Django is configured
    (DJANGO_SETTINGS_MODULE), else ARCHIVE_DATA_DIR, else var/ beside manage.py -- the same
    rule config/settings.py applies."""
    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        try:
            from django.conf import settings

            return Path(settings.DATA_DIR)
        except Exception:  # settings that do not import: fall back to the same rule
            pass
    base = Path(__file__).resolve().parents[3]
    return Path(os.environ.get("ARCHIVE_DATA_DIR") or base / "var").resolve()


def default_base_port() -> int:
    return int(os.environ.get("ARCHIVE_SPHINX_BASE_PORT") or DEFAULT_BASE_PORT)


def local_cluster(
    data_dir: Path | None = None, base_port: int | None = None, layout: Layout | None = None
) -> Cluster:
    """The cluster ``make cluster`` runs: under ``<data dir>/cluster``, ports from
    ARCHIVE_SPHINX_BASE_PORT (default 9406), the default layout."""
    return Cluster(
        directory=(data_dir or default_data_dir()) / "cluster",
        base_port=base_port if base_port is not None else default_base_port(),
        layout=layout or Layout(),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m archive.search.sphinxql.cluster",
        description="Start, stop or report the local Sphinx cluster (2 shards, a mirror of "
        "shard 0, a head) under <data dir>/cluster, listening on 127.0.0.1.",
    )
    parser.add_argument(
        "command",
        choices=("start", "stop", "status", "config", "destroy"),
        help="config: print the configuration files; destroy: stop and delete the cluster "
        "directory with its indexes",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="the archive's data directory (default: Django's DATA_DIR, ARCHIVE_DATA_DIR, var/)",
    )
    parser.add_argument(
        "--base-port",
        type=int,
        default=None,
        help=f"first port (default ARCHIVE_SPHINX_BASE_PORT or {DEFAULT_BASE_PORT}); each "
        "process takes two: SphinxQL and the agent API",
    )
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--no-mirror", action="store_true", help="no mirror of shard 0")
    parser.add_argument(
        "--process", help="start/stop only this process (head, shard0, shard0-mirror...)"
    )
    parser.add_argument("--json", action="store_true", help="status as JSON")
    options = parser.parse_args(argv)

    cluster = local_cluster(
        options.data_dir.resolve() if options.data_dir else None,
        options.base_port,
        Layout(shards=options.shards, mirror=not options.no_mirror),
    )
    try:
        if options.command == "config":
            for process in cluster.processes:
                print(f"# ===== {process.config_path}\n{cluster.config_text(process)}")
            return 0
        if options.command == "destroy":
            cluster.destroy()
            print(f"Sphinx cluster in {cluster.directory}: stopped and deleted")
            return 0
        if options.process:
            if options.command == "start":
                cluster.start_process(options.process)
            elif options.command == "stop":
                cluster.stop_process(options.process)
            statuses = [s for s in cluster.status() if s.name == options.process]
        elif options.command == "start":
            statuses = cluster.start()
        elif options.command == "stop":
            statuses = cluster.stop()
        else:
            statuses = cluster.status()
    except (ClusterError, KeyError) as error:
        print(f"cluster {options.command}: {error}", file=sys.stderr)
        return 1
    if options.json:
        print(json.dumps([asdict(s) for s in statuses], indent=2))
    else:
        print(f"Sphinx cluster in {cluster.directory}")
        for status in statuses:
            print("  " + status.line())
    if options.command == "status" and not options.process:
        return 0 if all(s.answering for s in statuses) else 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
