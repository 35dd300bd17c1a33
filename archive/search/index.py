"""Opening, writing and rebuilding the Whoosh index, and handing out searchers.

The index directory comes from ``settings.ARCHIVE_INDEX_DIR`` on every call, so tests (and a
changed setting) get their own index without restarting anything.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from whoosh import index as whoosh_index
from whoosh.index import LockError
from whoosh.searching import Searcher
from whoosh.writing import CLEAR

from archive.search.schema import SCHEMA, IndexedDocument, to_fields

logger = logging.getLogger(__name__)

# How long a writer waits for another process's write lock before giving up.
WRITE_LOCK_TIMEOUT = 60.0
REPAIR_COMMAND = "python manage.py rebuild_index"
# Processes for a full rebuild (never more than the machine's cores).
MAX_BUILD_PROCS = int(os.environ.get("ARCHIVE_INDEX_BUILD_PROCS", "2"))


class IndexUnavailable(Exception):
    """The index is missing or cannot be read; the message says how to repair it."""


def index_dir() -> Path:
    return Path(settings.ARCHIVE_INDEX_DIR)


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


def _writer(ix, **kwargs):
    # compound=False: Whoosh reads a compound segment file by copying each part (the whole
    # posting file included) into a private BytesIO per searcher, hundreds of MB per worker at
    # 100k documents; separate files are read from the page cache, shared by all workers.
    try:
        return ix.writer(timeout=WRITE_LOCK_TIMEOUT, delay=0.05, compound=False, **kwargs)
    except LockError as exc:
        raise IndexUnavailable(
            f"The search index stayed locked by another writer for {WRITE_LOCK_TIMEOUT:.0f} s."
        ) from exc


def update_documents(docs: Iterable[IndexedDocument], delete_ids: Iterable[int] = ()) -> None:
    """Add or replace ``docs`` and remove ``delete_ids`` in one commit."""
    create_index_if_missing()
    writer = _writer(_open_index())
    try:
        for doc_id in delete_ids:
            writer.delete_by_term("id", str(doc_id))
        for doc in docs:
            writer.update_document(**to_fields(doc))
    except BaseException:
        writer.cancel()
        raise
    writer.commit()


def rebuild_index(
    docs: Iterable[IndexedDocument], progress: Callable[[int], None] | None = None
) -> int:
    """Replace the whole index with ``docs``; returns how many were written.

    The new documents go into new segments and the old ones are dropped in the same commit
    (``mergetype=CLEAR``), so searchers keep serving the old index until the rebuild is done, and a
    rebuild that dies half-way leaves the old index in place.
    """
    create_index_if_missing()
    procs = min(os.cpu_count() or 1, MAX_BUILD_PROCS)
    if procs > 1:
        # Analysis (tokenising, stemming) is most of the cost and pure Python: spread it over
        # processes, each writing its own segment (memory stays bounded by limitmb each).
        writer = _writer(_open_index(), procs=procs, limitmb=128, multisegment=True)
    else:
        writer = _writer(_open_index(), limitmb=256)
    count = 0
    try:
        for doc in docs:
            writer.add_document(**to_fields(doc))
            count += 1
            if progress is not None:
                progress(count)
    except BaseException:
        writer.cancel()
        raise
    writer.commit(mergetype=CLEAR)
    return count


def indexed_count() -> int:
    with _open_index().searcher() as searcher:
        return searcher.doc_count()


# Searchers are expensive to open (every segment's files and term tables) and a Whoosh searcher
# must not be used by two threads at once. So open searchers wait in a small pool: a request
# borrows one, searches, and gives it back. The pool is shared by all threads, which matters for
# threaded servers (runserver, gthread workers) that use a new thread for each request.
MAX_POOLED_SEARCHERS = 4
_pool: list[tuple[tuple, Searcher]] = []
_pool_lock = threading.Lock()


def _toc_signature(path: Path) -> tuple | None:
    """Identifies the newest committed table of contents of the index in ``path``.

    Whoosh's own ``Searcher.refresh`` compares generation numbers only, so an index that was deleted
    and rebuilt up to the same generation would keep being served from the old, vanished segments.
    The TOC file's inode and modification time change with every commit and every re-creation.
    """
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
    return (str(path), newest.name, stat.st_ino, stat.st_mtime_ns, stat.st_size)


_TOC_NAME = re.compile(r"_MAIN_(\d+)\.toc")


@contextmanager
def borrowed_searcher() -> Iterator[Searcher]:
    """A searcher on the latest committed state of the index, for one request.

    The signature is read before opening: if a commit slips in between, the searcher is one
    commit behind and is not pooled again, so the next request opens a fresh one.
    """
    path = index_dir()
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
        try:
            searcher = _open_index().searcher()
        except IndexUnavailable:
            raise
        except Exception as exc:
            raise IndexUnavailable(
                f"The search index cannot be read ({exc}). Rebuild it with `{REPAIR_COMMAND}`."
            ) from exc
    try:
        yield searcher
    finally:
        keep = signature is not None and _toc_signature(path) == signature
        with _pool_lock:
            if keep and len(_pool) < MAX_POOLED_SEARCHERS:
                _pool.append((signature, searcher))
                searcher = None
        if searcher is not None:
            _close_quietly(searcher)


def _close_quietly(searcher: Searcher) -> None:
    try:
        searcher.close()
    except Exception:
        logger.debug("searcher was already closed", exc_info=True)
