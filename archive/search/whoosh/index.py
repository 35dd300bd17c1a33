"""Opening, writing and rebuilding the Whoosh index, and handing out searchers.

The index location comes from ``settings.ARCHIVE_INDEX_DIR`` on every call, so tests (and a
changed setting) get their own index without restarting anything. After the first rebuild that
path is a symlink to ``<name>-<timestamp>-<ns>-<pid>``: a rebuild writes a new directory beside it
and swaps the symlink with one atomic ``os.replace``, so searches see the old index or the new one,
never a half-built one, and a rebuild killed half-way leaves the old one serving.

Every write to the index (applying the outbox, a rebuild) holds :func:`write_lock`, a lock on
``<name>.lock`` beside the index, so there is one writer at a time across all processes and
Whoosh's own lock is never contended.
"""

from __future__ import annotations

import ctypes
import heapq
import logging
import marshal
import os
import pickle
import re
import shutil
import signal
import struct
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from django.conf import settings
from whoosh import index as whoosh_index
from whoosh import query as whoosh_query
from whoosh import writing as whoosh_writing
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, STORED_COLUMN, _lenfield
from whoosh.filedb.filetables import FileFormatError
from whoosh.index import LockError
from whoosh.searching import Searcher

from archive.search.locking import file_lock
from archive.search.schema import (
    EXACT_FIELDS,
    TEXT_FIELDS,
    IndexedDocument,
    document_digest,
    from_stored,
    to_fields,
)
from archive.search.types import REPAIR_COMMAND, IndexUnavailable
from archive.search.whoosh.codec import GroupedCodec, TermGroups
from archive.search.whoosh.schema import SCHEMA
from archive.search.whoosh.schema import outdated_analysis as _outdated_schema

logger = logging.getLogger(__name__)

# How long a writer waits for another process's write lock before giving up.
WRITE_LOCK_TIMEOUT = 60.0
# Processes for a full rebuild (never more than the machine's cores).
MAX_BUILD_PROCS = int(os.environ.get("ARCHIVE_INDEX_BUILD_PROCS", "2"))
# Memory for sorting postings, per build process (MB; unset: a quarter of the machine's memory
# shared by the processes, 128 to 384 MB each; see build_memory_mb).
BUILD_MB = os.environ.get("ARCHIVE_INDEX_BUILD_MB", "")


def index_root() -> Path:
    """The configured index path (``ARCHIVE_INDEX_DIR``): a directory, or a symlink to one."""
    return Path(settings.ARCHIVE_INDEX_DIR)


def index_dir() -> Path:
    """The directory that holds the current index: the configured path with its symlink resolved.

    Caches key on this path, so a rebuilt (swapped) index is a new key for them.
    """
    return Path(os.path.realpath(index_root()))


# --- One writer at a time --------------------------------------------------------------------


def _lock_path() -> Path:
    root = index_root()
    return root.parent / f"{root.name}.lock"


def write_lock(timeout: float | None = None) -> AbstractContextManager[bool]:
    """Hold the index's write lock (see ``locking.file_lock``); yields False if it stayed busy
    for ``timeout`` seconds."""
    return file_lock(_lock_path(), timeout)


def index_exists() -> bool:
    path = index_dir()
    return path.is_dir() and whoosh_index.exists_in(str(path))


def create_index_if_missing() -> bool:
    """Create an empty index unless one exists. Returns True when it created one."""
    if index_exists():
        return False
    path = index_dir()
    path.mkdir(parents=True, exist_ok=True)
    whoosh_index.create_in(str(path), SCHEMA)
    return True


def _open_index():
    if not index_exists():
        raise IndexUnavailable(
            f"The search index is missing ({index_dir()}). Build it with `{REPAIR_COMMAND}`."
        )
    try:
        return whoosh_index.open_dir(str(index_dir()))
    except Exception as exc:  # Whoosh raises many kinds of errors for a damaged index.
        raise IndexUnavailable(
            f"The search index cannot be read ({exc}). Rebuild it with `{REPAIR_COMMAND}`."
        ) from exc


class _PostingPool(whoosh_writing.PostingPool):
    """Whoosh's posting pool, grouped by term instead of sorted posting by posting.

    Whoosh keeps every posting of a segment as a tuple ``(field, term, docnum, weight, value)``,
    sorts them all when the segment ends and, past ``limitmb``, writes sorted runs to temporary
    files and merges them posting by posting. In a profile of a 30,000-document import that
    sort, and writing, reading and merging its runs, were some 50 s of the build processes'
    180 s of CPU. Postings reach the pool in document order (a writer numbers documents as they
    come), so a term's postings are already sorted: here each term keeps a flat list of its
    postings, only the terms are sorted, and a run is a file of whole terms (chunks of
    :data:`RUN_POSTINGS` postings, one ``marshal`` call each), merged term by term. Memory stays
    bounded by ``limitmb`` (and, in the merge, a chunk per run) as before. Installed as
    ``whoosh.writing.PostingPool``, which Whoosh's writers (and the build's sub-processes,
    forked) create. :meth:`items` hands the terms on as a :class:`~.codec.TermGroups`,
    which the writers' codec (``GroupedCodec``) writes a term at a time.
    """

    RUN_POSTINGS = 8192
    # Bytes a posting and a new term hold beyond the value's and the term's own bytes (CPython
    # 3.11, 64-bit: three list slots, a float and a bytes object's header; a dict entry, a key
    # tuple and a list): with these the estimate matched tracemalloc's count within 3 % on
    # 3,000 documents (594,669 postings, 42,514 terms, 63 MB).
    POSTING_BYTES = 80
    TERM_BYTES = 200

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._terms: dict[tuple[str, bytes], list] = {}

    def add(self, item):
        fieldname, tbytes, docnum, weight, vbytes = item
        key = (fieldname, tbytes)
        postings = self._terms.get(key)
        if postings is None:
            postings = self._terms[key] = []
            self.fieldnames.add(fieldname)
            self.currentsize += self.TERM_BYTES + len(tbytes)
        postings += (docnum, weight, vbytes)
        self.currentsize += self.POSTING_BYTES + (len(vbytes) if vbytes else 0)
        if self.currentsize > self.limit:
            self.save()

    def save(self):
        if self._terms:
            path, f = self._new_run()
            self._write_groups(f, self._sorted_groups())
            self._add_run(path)
        self._terms = {}
        self.currentsize = 0

    def _sorted_groups(self) -> Iterator[tuple[str, bytes, list]]:
        terms = self._terms
        for key in sorted(terms):
            yield key[0], key[1], terms[key]

    def _write_groups(self, f, groups: Iterable[tuple[str, bytes, list]]) -> None:
        try:
            chunk, size = [], 0
            for group in groups:
                chunk.append(group)
                size += len(group[2])
                if size >= 3 * self.RUN_POSTINGS:
                    marshal.dump(chunk, f, 2)
                    chunk, size = [], 0
            if chunk:
                marshal.dump(chunk, f, 2)
        finally:
            f.close()

    def _read_groups(self, path) -> Iterator[tuple[str, bytes, list]]:
        f = self._open_run(path)
        try:
            while True:
                try:
                    chunk = marshal.load(f)
                except EOFError:
                    return
                yield from chunk
        finally:
            f.close()
            self._remove_run(path)

    def _merged_groups(self, paths) -> Iterator[tuple[str, bytes, list]]:
        """The runs' terms in order; a term in several runs comes once from each, oldest run
        first (``heapq.merge`` keeps the order of its inputs among equal keys), so its
        documents stay in order and memory holds one chunk per run, never a whole term."""
        runs = [self._read_groups(path) for path in paths]
        return heapq.merge(*runs, key=lambda group: (group[0], group[1]))

    def _read_run(self, path):
        # What Whoosh's multi-process merge (not used here: builds are multisegment) reads.
        return iter(TermGroups(self._read_groups(path)))

    def reduce_to(self, target, k):
        # The oldest runs first, merged into one that takes their place: runs stay in
        # document order.
        while len(self.runs) > target:
            merging, self.runs = self.runs[:k], self.runs[k:]
            path, f = self._new_run()
            self._write_groups(f, self._merged_groups(merging))
            self.runs.insert(0, path)

    def items(self, maxfiles=128):
        if not self.runs:
            groups = list(self._sorted_groups())
            self._terms = {}
            return TermGroups(groups)
        self.save()
        if len(self.runs) > maxfiles:
            self.reduce_to(maxfiles, maxfiles)
        runs, self.runs = self.runs, []
        return TermGroups(self._merged_groups(runs))


whoosh_writing.PostingPool = _PostingPool


def _writer(ix, **kwargs):
    # compound=False: Whoosh reads a compound segment file by copying each part (the whole
    # posting file included) into a private BytesIO per searcher, hundreds of MB per worker at
    # 100k documents; separate files are read from the page cache, shared by all workers.
    # GroupedCodec: the pool's postings are written a term at a time (same bytes as Whoosh's).
    try:
        return ix.writer(
            timeout=WRITE_LOCK_TIMEOUT,
            delay=0.05,
            compound=False,
            codec=GroupedCodec(),
            **kwargs,
        )
    except LockError as exc:
        raise IndexUnavailable(
            f"The search index stayed locked by another writer for {WRITE_LOCK_TIMEOUT:.0f} s."
        ) from exc


def _writable(doc: IndexedDocument, known: frozenset[str]) -> dict[str, object]:
    """The document's fields that the index being written has. An index built before a field
    existed (reported by ``outdated_analysis``) keeps taking saves until it is rebuilt: the
    fields it does not know are left out rather than failing every write."""
    values = {name: value for name, value in to_fields(doc).items() if name in known}
    for fieldname, exact in EXACT_FIELDS.items():
        if exact in known:
            values[exact] = values.get(fieldname, "")
    return values


def update_documents(docs: Iterable[IndexedDocument], delete_ids: Iterable[int] = ()) -> None:
    """Add or replace ``docs`` and remove ``delete_ids`` in one commit."""
    create_index_if_missing()
    ix = _open_index()
    known = frozenset(ix.schema.names())
    docs = list(docs)
    writer = _writer(ix)
    try:
        # One deletion query for the whole batch, then plain adds: update_document would open
        # a searcher per document to delete its old version (a third of a batch's time).
        ids = [str(doc_id) for doc_id in delete_ids] + [str(doc.id) for doc in docs]
        if ids:
            writer.delete_by_query(whoosh_query.Or([whoosh_query.Term("id", i) for i in ids]))
        for doc in docs:
            writer.add_document(**_writable(doc, known))
    except BaseException as exc:
        writer.cancel()
        if isinstance(exc, Exception) and _is_damage(exc):
            raise IndexUnavailable(
                f"The search index is damaged ({type(exc).__name__}: {exc}). "
                f"Rebuild it with `{REPAIR_COMMAND}`."
            ) from exc
        raise
    writer.commit()


def rebuild_index(
    docs: Iterable[IndexedDocument], progress: Callable[[int], None] | None = None
) -> int:
    """Build a complete new index from ``docs`` beside the current one and swap it in; returns
    how many documents were written.

    The caller holds :func:`write_lock` (``archive.indexing.rebuild`` does), so no update is
    written to the old index while the new one is built: updates wait in the outbox and are
    applied to the new index after the swap. A rebuild that dies leaves a ``.new`` directory
    that the next rebuild deletes.
    """
    root = index_root()
    root.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers()
    now = time.time_ns()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 10**9)) + f"-{now % 10**9:09d}"
    final = root.parent / f"{root.name}-{stamp}-{os.getpid()}"
    building = final.with_name(final.name + ".new")
    building.mkdir()
    ix = whoosh_index.create_in(str(building), SCHEMA)
    procs = min(os.cpu_count() or 1, MAX_BUILD_PROCS)
    if procs > 1:
        # Analysis (tokenising, stemming) is most of the cost and pure Python: spread it over
        # processes, each writing its own segment (memory stays bounded by limitmb each).
        _die_with_parent()
        writer = _writer(ix, procs=procs, limitmb=build_memory_mb(procs), multisegment=True)
    else:
        writer = _writer(ix, limitmb=build_memory_mb(1))
    count = 0
    known = frozenset(ix.schema.names())
    try:
        for doc in docs:
            writer.add_document(**_writable(doc, known))
            count += 1
            if progress is not None:
                progress(count)
    except BaseException:
        writer.cancel()
        shutil.rmtree(building, ignore_errors=True)
        raise
    writer.commit()
    os.rename(building, final)
    _swap_to(final)
    remove_leftovers()
    return count


def build_memory_mb(procs: int) -> int:
    """How much memory each build process may fill with postings before it sorts them on disk.

    Whoosh keeps a segment's postings in memory up to this limit and sorts them there; past it,
    it writes sorted runs to temporary files and merges them at the end (:class:`_PostingPool`).
    A build whose postings fit skips that: 30,000 documents (15,000 a process) rebuilt in 33 s
    with 640 MB, 39 s with 128 MB. A process's memory is about 1.2 times this plus 100 MB, so
    the default, a quarter of the machine's (or container's) memory shared by the processes,
    at least 128 MB and at most 384 MB each, keeps a rebuild of any size under 2 GB in all;
    ``ARCHIVE_INDEX_BUILD_MB`` sets another amount per process (a 100,000-document rebuild with
    3,000: 106 s instead of 147 s, 5 GB).
    """
    if BUILD_MB:
        return max(16, int(BUILD_MB))
    total = _memory_bytes()
    if total is None:
        return 128
    return int(min(384, max(128, total // 4 // max(1, procs) // 2**20)))


def _memory_bytes() -> int | None:
    """The machine's memory, or the container's limit when that is lower (cgroup v2 or v1)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            limit = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if limit.isdigit():
            total = min(total, int(limit))
    return total


_PR_SET_PDEATHSIG = 1
_die_with_parent_registered = False


def _die_with_parent() -> None:
    """Make the processes a multi-process build forks die with this one (Linux).

    Whoosh's sub-writers wait on a queue for work; if the rebuild is killed (``kill -9``) they
    would wait forever as orphans, each holding its memory. A child whose parent died before
    it could ask for the signal (a kill right at the fork) sees its new parent and exits.
    """
    global _die_with_parent_registered
    if _die_with_parent_registered or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return

    forking = [0]  # the pid of the process that forks, read in the child

    def before() -> None:
        forking[0] = os.getpid()

    def in_child() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != forking[0]:
            # Killed between the fork and the line above: no signal will come, so go now.
            os._exit(1)

    os.register_at_fork(before=before, after_in_child=in_child)
    _die_with_parent_registered = True


def _swap_to(target: Path) -> None:
    """Point the index path at ``target`` with one atomic rename of a symlink."""
    root = index_root()
    link = root.parent / f"{root.name}.swap"
    if link.is_symlink() or link.exists():
        link.unlink()
    os.symlink(target.name, link)  # relative: the data directory may move
    if root.is_dir() and not root.is_symlink():
        # An index made before swaps existed (or by create_index_if_missing) is a plain directory;
        # a directory cannot be replaced by a symlink atomically, so move it aside first. This
        # happens once; a search in the instant between sees no index (503), nothing worse.
        os.rename(root, root.parent / f"{root.name}-legacy-{time.time_ns()}")
    os.replace(link, root)


def remove_leftovers() -> list[Path]:
    """Delete index directories beside the current one: old ones after a swap, half-built ones
    from a rebuild that was killed. Returns what was removed. Call with :func:`write_lock` held."""
    root = index_root()
    if not root.parent.is_dir():
        return []
    current = index_dir()
    pattern = re.compile(re.escape(root.name) + r"-(\d{8}T\d{6}-\d{9}-\d+(\.new)?|legacy-\d+)")
    removed = []
    for entry in root.parent.iterdir():
        name_matches = pattern.fullmatch(entry.name) and not entry.is_symlink()
        if name_matches and entry.is_dir() and entry.resolve() != current:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def index_digests() -> dict[int, list[str]]:
    """Every live document in the index: id -> digests (more than one if an id is duplicated).

    Computed from the stored fields (every indexed field is stored), so no schema change and no
    extra field to keep in step. Raises ``IndexUnavailable`` for a missing or unreadable index.
    """
    digests: dict[int, list[str]] = {}
    try:
        with _open_index().searcher() as searcher:
            for stored in searcher.reader().all_stored_fields():
                doc = from_stored(stored)
                digests.setdefault(doc.id, []).append(document_digest(doc))
    except IndexUnavailable:
        raise
    except Exception as exc:  # a damaged segment fails in many ways
        raise IndexUnavailable(
            f"The search index cannot be read ({exc}). Rebuild it with `{REPAIR_COMMAND}`."
        ) from exc
    return digests


# Opening a searcher is retried this many times when a commit removes files meanwhile.
OPEN_ATTEMPTS = 4


def _open_searcher() -> Searcher:
    """A new searcher with every file it will read already open; ``IndexUnavailable`` when the
    index is missing or cannot be read.

    Whoosh opens a segment's column files (stored fields, field lengths) on first use, and a
    commit that merges segments deletes the merged segments' files at once. A searcher opened
    just before such a commit then failed in the middle of a request (the 100k load test, one
    editor saving every second: a 500 "'NoneType' object is not subscriptable" from the stored
    fields, and 503s "No such file or directory" while opening). So the column files are opened
    here (an open file stays readable after it is deleted), and an open that loses that race is
    retried on the newer commit.
    """
    last_error: Exception | None = None
    for attempt in range(OPEN_ATTEMPTS):
        if attempt:
            time.sleep(0.02 * attempt)
        try:
            searcher = _open_index().searcher()
        except IndexUnavailable:
            raise
        except Exception as exc:
            last_error = exc
            continue
        try:
            _open_column_files(searcher)
        except Exception as exc:
            _close_quietly(searcher)
            last_error = exc
            continue
        return searcher
    raise IndexUnavailable(
        f"The search index cannot be read ({last_error}). Rebuild it with `{REPAIR_COMMAND}`."
    ) from last_error


def _open_column_files(searcher: Searcher) -> None:
    for segreader, _ in searcher.reader().leaf_readers():
        perdoc = getattr(segreader, "_perdoc", None)
        if perdoc is None or not segreader.doc_count_all():
            continue
        if perdoc._cached_reader("_stored", STORED_COLUMN) is None:
            raise FileNotFoundError(f"stored fields of segment {segreader.segment().segment_id()}")
        for fieldname in TEXT_FIELDS:
            perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)


def indexed_count() -> int:
    """Live documents in the index; ``IndexUnavailable`` when it is missing or unreadable."""
    with _open_searcher() as searcher:
        return searcher.doc_count()


def outdated_analysis() -> str:
    """Why the index analyses text differently from this version of the site, e.g. an index
    built before the stemmer changed ("" when it matches); ``IndexUnavailable`` as for
    :func:`indexed_count`. Such an index still answers, but words whose stem changed miss: it
    needs ``rebuild_index`` (``rebuild_index --if-needed`` and ``check_index --repair`` do it)."""
    return _outdated_schema(_open_index().schema)


# Searchers are expensive to open (every segment's files and term tables) and a Whoosh searcher
# must not be used by two threads at once. So open searchers wait in a small pool: a request
# borrows one, searches, and gives it back. The pool is shared by all threads, which matters for
# threaded servers (runserver, gthread workers) that use a new thread for each request.
MAX_POOLED_SEARCHERS = 4
_pool: list[tuple[tuple, Searcher]] = []
_pool_lock = threading.Lock()


def _toc_signature(root: Path) -> tuple | None:
    """Identifies the newest committed table of contents of the index at ``root``.

    Whoosh's own ``Searcher.refresh`` compares generation numbers only, so an index that was deleted
    and rebuilt up to the same generation would keep being served from the old, vanished segments.
    The TOC file's inode and modification time change with every commit and every re-creation, and
    the resolved directory changes with every rebuild (swap). The first element is the configured
    path, so searchers of a swapped-out directory are recognised as stale and closed.
    """
    path = os.path.realpath(root)
    try:
        tocs = [entry for entry in os.scandir(path) if _TOC_NAME.fullmatch(entry.name)]
    except OSError:
        return None
    if not tocs:
        return None
    newest = max(tocs, key=lambda entry: int(_TOC_NAME.fullmatch(entry.name).group(1)))
    try:
        stat = newest.stat()
    except OSError:
        return None
    return (str(root), path, newest.name, stat.st_ino, stat.st_mtime_ns, stat.st_size)


_TOC_NAME = re.compile(r"_MAIN_(\d+)\.toc")


@contextmanager
def borrowed_searcher() -> Iterator[Searcher]:
    """A searcher on the latest committed state of the index, for one request.

    The signature is read before opening: if a commit slips in between, the searcher is one
    commit behind and is not pooled again, so the next request opens a fresh one.
    """
    path = index_root()
    signature = _toc_signature(path)
    searcher = None
    stale: list[Searcher] = []
    with _pool_lock:
        for position in range(len(_pool) - 1, -1, -1):
            pooled_signature, pooled = _pool[position]
            if pooled_signature == signature and searcher is None:
                searcher = pooled
                del _pool[position]
            elif pooled_signature[0] == str(path) and pooled_signature != signature:
                stale.append(pooled)
                del _pool[position]
    for old in stale:
        _close_quietly(old)
    if searcher is None:
        searcher = _open_searcher()
    damaged = False
    try:
        yield searcher
    except Exception as exc:
        if not _is_damage(exc):
            raise
        damaged = True
        raise IndexUnavailable(
            f"The search index is damaged ({type(exc).__name__}: {exc}). "
            f"Rebuild it with `{REPAIR_COMMAND}`."
        ) from exc
    finally:
        keep = not damaged and signature is not None and _toc_signature(path) == signature
        with _pool_lock:
            if keep and len(_pool) < MAX_POOLED_SEARCHERS:
                _pool.append((signature, searcher))
                searcher = None
        if searcher is not None:
            _close_quietly(searcher)


# What reading a truncated or overwritten segment file raises from inside Whoosh.
_DAMAGE_ERRORS = (
    struct.error,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    IndexError,
    KeyError,
    pickle.UnpicklingError,
    FileFormatError,
    whoosh_index.IndexError,  # EmptyIndexError, IndexVersionError
)


def _is_damage(exc: BaseException) -> bool:
    """True when ``exc`` came out of Whoosh reading index files, as a damaged segment makes it;
    the same error types raised by our own code are bugs and stay errors."""
    if isinstance(exc, IndexUnavailable) or not isinstance(exc, _DAMAGE_ERRORS):
        return False
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    return last is not None and f"{os.sep}whoosh{os.sep}" in last.tb_frame.f_code.co_filename


def _close_quietly(searcher: Searcher) -> None:
    try:
        searcher.close()
    except Exception:
        logger.debug("searcher was already closed", exc_info=True)
