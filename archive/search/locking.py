"""One writer at a time: a file lock that also works between threads, for any backend."""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


@contextmanager
def file_lock(path: Path, timeout: float | None = None) -> Iterator[bool]:
    """Hold the lock at ``path``; yields False (holding nothing) if it stayed busy for
    ``timeout`` seconds (0: do not wait; None: wait as long as it takes).

    Between processes it is a POSIX record lock (``lockf``): the kernel releases it when its
    process dies, even by ``kill -9``, and unlike ``flock`` it is not inherited by the processes a
    multi-process rebuild forks, so orphans of a killed rebuild cannot keep the index locked.
    Record locks do not exclude threads of one process, so a thread lock comes first.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with _process_locks_guard:
        local = _process_locks.setdefault(str(path), threading.Lock())
    deadline = None if timeout is None else time.monotonic() + timeout
    if not local.acquire(timeout=-1 if timeout is None else max(timeout, 0)):
        yield False
        return
    try:
        with open(path, "a") as handle:
            while True:
                try:
                    fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError:  # EACCES or EAGAIN: another process holds it
                    if deadline is not None and time.monotonic() >= deadline:
                        yield False
                        return
                    time.sleep(0.02)
            try:
                yield True
            finally:
                fcntl.lockf(handle, fcntl.LOCK_UN)
    finally:
        local.release()
