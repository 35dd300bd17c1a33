"""A small progress reporter for long management commands (rebuild, ingest).

On a terminal it redraws one line with a bar, counts and rate; elsewhere (CI, logs) it prints a
plain line every few seconds, so logs stay readable.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, label: str, total: int | None, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.count = 0
        self.note = ""

    def update(self, count: int, note: str = "") -> None:
        self.count = count
        self.note = note
        now = time.monotonic()
        interval = 0.1 if self.tty else 5.0
        if now - self.last_draw >= interval or count == self.total:
            self.last_draw = now
            self._draw(now)

    def _line(self, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        rate = self.count / elapsed
        if self.total:
            share = min(self.count / self.total, 1.0)
            filled = int(share * 30)
            bar = "█" * filled + "░" * (30 - filled)
            return (
                f"{self.label} {bar} {self.count:,}/{self.total:,} "
                f"({share:4.0%}) {rate:,.0f}/s {elapsed:,.1f}s {self.note}"
            ).rstrip()
        return f"{self.label} {self.count:,} {rate:,.0f}/s {elapsed:,.1f}s {self.note}".rstrip()

    def _draw(self, now: float) -> None:
        line = self._line(now)
        if self.tty:
            self.stream.write("\r\033[K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self) -> float:
        """Draw the final state; returns the elapsed seconds."""
        now = time.monotonic()
        self._draw(now)
        if self.tty:
            self.stream.write("\n")
        return now - self.started
