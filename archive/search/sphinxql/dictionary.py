"""What the cluster backend knows beside the engine: per index slot, the facet values' names and
every term's document count over the whole archive; and which slot answers.

Sphinx returns a facet value as the number it is stored under (an MVA member), so the names are
kept here by number. Each shard knows only its own documents' term counts, so a rank computed
on a shard would depend on which documents fell on it: the whole archive's counts kept here are
written as the shards' global IDF file (``cluster.write_global_idf``), and the same counts serve
prefix expansion for highlighting and "more like this".

One SQLite file (``<cluster dir>/dictionary.sqlite3``), written only by the writer that holds the
backend's write lock, read by every web process. A cluster on several machines keeps it on
storage every web process reads (see docs/scaling.md).
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from archive.search.sphinxql.cluster import fnv64
from archive.search.sphinxql.matching import within_distance

SLOTS = ("a", "b")
# Before a term of the exact fields (title_exact, body_exact): "=federer" is the word "federer"
# as written, counted apart from the stems (a word may be both: "bush"). Its hash, as the
# engine's keyword, is the word's. No stem starts with it, so prefix and spelling look-ups,
# which read ranges of letters, never see these terms.
EXACT = "="

_SCHEMA = """
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS terms (slot TEXT, term TEXT, docs INTEGER NOT NULL,
    hash INTEGER NOT NULL, PRIMARY KEY (slot, term)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS facet_values (slot TEXT, id INTEGER, field TEXT NOT NULL,
    value TEXT NOT NULL, PRIMARY KEY (slot, id)) WITHOUT ROWID;
"""


class Dictionary:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._names: dict[tuple[str, int], tuple[str, dict[int, tuple[str, str]]]] = {}
        self._value_counts: dict[str, tuple[dict, Counter]] = {}
        self._lock = threading.Lock()

    @property
    def connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.executescript(_SCHEMA)
            self._local.connection = connection
        return connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        connection = self.connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    # --- state -------------------------------------------------------------------------------

    def get(self, key: str, default: str = "") -> str:
        row = self.connection.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def put(self, connection: sqlite3.Connection, key: str, value: str) -> None:
        connection.execute(
            "INSERT INTO state (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def active_slot(self) -> str:
        """The slot searches read ("" when no index was ever built)."""
        return self.get("active_slot")

    # --- terms -------------------------------------------------------------------------------

    def add_terms(self, connection: sqlite3.Connection, slot: str, delta: Counter) -> None:
        """Change document counts by ``delta`` (term -> +n / -n documents)."""
        connection.executemany(
            "INSERT INTO terms (slot, term, docs, hash) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (slot, term) DO UPDATE SET docs = docs + excluded.docs",
            (
                (slot, term, n, _signed(fnv64(term.removeprefix(EXACT))))
                for term, n in delta.items()
                if n
            ),
        )
        connection.execute("DELETE FROM terms WHERE slot = ? AND docs <= 0", (slot,))

    def hashed_counts(self, slot: str) -> tuple[list[int], list[int]]:
        """(FNV64 hashes, document counts) of every indexed word (the global IDF file's
        entries), the bookkeeping rows (a control character first) left out."""
        rows = self.connection.execute(
            "SELECT hash, docs, term >= ? AND term < ? FROM terms WHERE slot = ? AND term >= ' '",
            (EXACT, chr(ord(EXACT) + 1), slot),
        ).fetchall()
        # A word that is a stem and an exact term ("bush") is one keyword to the engine: the
        # file states it once, with the stem's count (the embedded engine's exact fields count
        # it apart, so a quoted word's weight may differ a little between the engines).
        stems = {h for h, _, exact in rows if not exact}
        rows = [(h, d) for h, d, exact in rows if not exact or h not in stems]
        return [h & 0xFFFFFFFFFFFFFFFF for h, _ in rows], [d for _, d in rows]

    def term_counts(self, slot: str) -> dict[str, int]:
        rows = self.connection.execute("SELECT term, docs FROM terms WHERE slot = ?", (slot,))
        return dict(rows)

    def document_frequency(self, slot: str, terms: Iterable[str]) -> dict[str, int]:
        terms = list(dict.fromkeys(terms))
        found: dict[str, int] = {}
        for start in range(0, len(terms), 500):
            chunk = terms[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.connection.execute(
                f"SELECT term, docs FROM terms WHERE slot = ? AND term IN ({marks})",
                (slot, *chunk),
            )
            found.update(rows)
        return found

    def with_prefix(self, slot: str, prefix: str, limit: int = 1000) -> list[str]:
        """Indexed terms starting with ``prefix`` (what the engine's ``prefix*`` matches)."""
        rows = self.connection.execute(
            "SELECT term FROM terms WHERE slot = ? AND term >= ? AND term < ? "
            "ORDER BY term LIMIT ?",
            (slot, prefix, prefix + "\U0010ffff", limit),
        )
        return [row[0] for row in rows]

    def near(self, slot: str, word: str, distance: int, prefix_length: int) -> list[str]:
        """Indexed terms within ``distance`` edits of ``word`` that share its first
        ``prefix_length`` characters (Whoosh's FuzzyTerm over the whole archive's terms)."""
        prefix = word[:prefix_length]
        rows = self.connection.execute(
            "SELECT term FROM terms WHERE slot = ? AND term >= ? AND term < ? "
            "AND length(term) BETWEEN ? AND ?",
            (slot, prefix, prefix + "\U0010ffff", len(word) - distance, len(word) + distance),
        )
        return [
            term
            for (term,) in rows
            if not term.startswith(EXACT) and within_distance(word, term, distance)
        ]

    def alphabetic_terms(self, slot: str, letter: str) -> list[str]:
        """Indexed terms of two or more letters starting with ``letter`` (spelling candidates)."""
        rows = self.connection.execute(
            "SELECT term FROM terms WHERE slot = ? AND term >= ? AND term < ?",
            (slot, letter, letter + "\U0010ffff"),
        )
        return [term for (term,) in rows if len(term) > 1 and term.isalpha()]

    def clear(self, connection: sqlite3.Connection, slot: str) -> None:
        connection.execute("DELETE FROM terms WHERE slot = ?", (slot,))
        connection.execute("DELETE FROM facet_values WHERE slot = ?", (slot,))

    # --- facet values ----------------------------------------------------------------------------

    def add_values(
        self, connection: sqlite3.Connection, slot: str, values: Iterable[tuple[int, str, str]]
    ) -> None:
        connection.executemany(
            "INSERT OR IGNORE INTO facet_values (slot, id, field, value) VALUES (?, ?, ?, ?)",
            ((slot, value_id, field, value) for value_id, field, value in values),
        )
        self.put(connection, f"values_version_{slot}", str(self._version(slot) + 1))

    def _version(self, slot: str) -> int:
        return int(self.get(f"values_version_{slot}", "0") or 0)

    def names(self, slot: str) -> dict[int, tuple[str, str]]:
        """id -> (field, value) of every facet value written to ``slot`` (cached per process
        until a writer adds values)."""
        version = str(self._version(slot))
        cached = self._names.get((slot, 0))
        if cached is not None and cached[0] == version:
            return cached[1]
        rows = self.connection.execute(
            "SELECT id, field, value FROM facet_values WHERE slot = ?", (slot,)
        )
        names = {row[0]: (row[1], row[2]) for row in rows}
        with self._lock:
            self._names[(slot, 0)] = (version, names)
        return names

    def value_counts(self, slot: str) -> Counter:
        """How many values each field has in ``slot``: counted once per version of
        :meth:`names` (a search asks on every request)."""
        names = self.names(slot)
        cached = self._value_counts.get(slot)
        if cached is not None and cached[0] is names:
            return cached[1]
        counts = Counter(field for field, _ in names.values())
        with self._lock:
            self._value_counts[slot] = (names, counts)
        return counts


def _signed(value: int) -> int:
    """A 64-bit unsigned hash as SQLite's signed INTEGER."""
    return value - (1 << 64) if value >= 1 << 63 else value
