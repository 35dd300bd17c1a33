"""Lists of at most ``size`` items, in order: SQL ``IN (...)`` lists stay under SQLite's
variable limit, and streams are handed on a batch at a time (``itertools.batched`` is 3.12)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def chunked(
    items: Iterable[T], size: int, ends: Callable[[T], bool] | None = None
) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last may be shorter), read lazily; a list also ends
    after an item that ``ends`` is true of (one slow to come: a scan, not held back)."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size or (ends is not None and ends(item)):
            yield batch
            batch = []
    if batch:
        yield batch
