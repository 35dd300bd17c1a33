"""A small progress reporter for long management commands (rebuild, ingest).

On a terminal it redraws one line with a bar, counts and rate; elsewhere (CI, logs) it prints a
plain line every few seconds and the final state once, so logs stay readable.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class Progress:
    """``unit="bytes"``: the count and total are bytes, shown in KB or MB (the bar then follows the
    input read, whatever the files hold; the caller's note says what was done with it)."""

    def __init__(
        self, label: str, total: int | None, stream: TextIO | None = None, unit: str = ""
    ) -> None:
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.unit = unit
        self.started = time.monotonic()
        # A log gets its first line after one interval, so a short run prints one line in all.
        self.last_draw = 0.0 if self.tty else self.started
        self.count = 0
        self.note = ""
        self.drawn: tuple[int, str] | None = None  # the state last drawn

    def update(self, count: int, note: str = "") -> None:
        self.count = count
        self.note = note
        now = time.monotonic()
        if self.tty:
            due = now - self.last_draw >= 0.1 or count == self.total
        else:
            due = now - self.last_draw >= 5.0  # the final state is left to finish(), once
        if due:
            self.last_draw = now
            self._draw(now)

    def _scale(self) -> tuple[float, str]:
        """Bytes in KB while the input is under a megabyte (a few files: "5.6/5.6 KB", not
        "0.0/0.0 MB"), else in MB."""
        reference = self.total or self.count
        return (1e3, " KB") if reference < 1e6 else (1e6, " MB")

    def _amount(self, value: float) -> str:
        return f"{value / self._scale()[0]:,.1f}" if self.unit == "bytes" else f"{value:,.0f}"

    def _rate(self, per_second: float) -> str:
        if self.unit != "bytes":
            return f"{per_second:,.0f}/s"
        if per_second < 1e6:
            return f"{per_second / 1e3:,.0f} KB/s"
        return f"{per_second / 1e6:,.1f} MB/s"

    def _line(self, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        rate = self._rate(self.count / elapsed)
        unit = self._scale()[1] if self.unit == "bytes" else ""
        if self.total:
            share = min(self.count / self.total, 1.0)
            filled = int(share * 30)
            bar = "█" * filled + "░" * (30 - filled)
            return (
                f"{self.label} {bar} {self._amount(self.count)}/{self._amount(self.total)}{unit} "
                f"({share:4.0%}) {rate} {elapsed:,.1f}s {self.note}"
            ).rstrip()
        return (
            f"{self.label} {self._amount(self.count)}{unit} {rate} {elapsed:,.1f}s {self.note}"
        ).rstrip()

    def _draw(self, now: float) -> None:
        line = self._line(now)
        if self.tty:
            self.stream.write("\r\033[K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self.drawn = (self.count, self.note)

    def say(self, sentence: str) -> None:
        """A line about what the work is doing now ("Finishing the index…"), above the bar on a
        terminal (the bar is drawn again below it), as a line of its own in a log."""
        if self.tty:
            self.stream.write("\r\033[K" + sentence + "\n")
            self._draw(time.monotonic())
        else:
            self.stream.write(sentence + "\n")
            self.stream.flush()

    def finish(self) -> float:
        """Draw the final state (in a log, unless the last line printed already showed it);
        returns the elapsed seconds."""
        now = time.monotonic()
        if self.tty or self.drawn != (self.count, self.note):
            self._draw(now)
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
        return now - self.started


class _AboveTheBar(logging.Handler):
    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.progress.say(self.format(record))
        except Exception:  # a log line must never stop the work
            self.handleError(record)


@contextmanager
def logs_above(progress: Progress, logger_name: str = "archive") -> Iterator[None]:
    """While ``progress`` is drawn, the site's log lines ("No search index: building it from
    the database.") go above the bar (:meth:`Progress.say`) instead of onto its line."""
    logger = logging.getLogger(logger_name)
    saved = logger.handlers[:]
    logger.handlers = [_AboveTheBar(progress)]
    try:
        yield
    finally:
        logger.handlers = saved
