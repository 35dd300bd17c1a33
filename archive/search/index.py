"""Opening, writing and rebuilding the Whoosh index, and handing out searchers.

The index directory comes from ``settings.ARCHIVE_INDEX_DIR`` on every call, so tests (and a
changed setting) get their own index without restarting anything.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterable
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
    try:
        return ix.writer(timeout=WRITE_LOCK_TIMEOUT, delay=0.05, **kwargs)
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


class _SearcherCache(threading.local):
    """Whoosh searchers are not safe to share between threads: one per thread, reused."""

    signature: tuple | None = None
    searcher: Searcher | None = None


_local = _SearcherCache()


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


def get_searcher() -> Searcher:
    """A searcher on the latest committed generation of the index, reused between requests."""
    path = index_dir()
    signature = _toc_signature(path)
    if _local.searcher is not None and signature is not None and signature == _local.signature:
        return _local.searcher
    if _local.searcher is not None:
        _close_quietly(_local.searcher)
        _local.searcher = _local.signature = None
    try:
        searcher = _open_index().searcher()
    except IndexUnavailable:
        raise
    except Exception as exc:
        raise IndexUnavailable(
            f"The search index cannot be read ({exc}). Rebuild it with `{REPAIR_COMMAND}`."
        ) from exc
    # The signature was read before opening: if a commit slipped in between, the next request sees
    # a newer signature and reopens, which is harmless; the other order could serve stale results.
    _local.signature, _local.searcher = signature, searcher
    return searcher


def _close_quietly(searcher: Searcher) -> None:
    try:
        searcher.close()
    except Exception:
        logger.debug("searcher was already closed", exc_info=True)
