"""What a reader makes of a file: draft documents, or a reason it could not read it."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO


class ReadError(Exception):
    """A file (or one record in it) cannot become a document; the message says why, for people.

    ``source`` names the record ("export.jsonl line 7") when it is not the whole file.
    """

    def __init__(self, message: str, source: str | None = None) -> None:
        super().__init__(message)
        self.source = source


class Original:
    """The file a scan's text was read from, kept with its document (``Document.original_file``).

    Its bytes wait in a temporary file, not in memory: drafts are held in batches (for person
    extraction and saving) and a batch of scans would otherwise hold hundreds of megabytes. The
    file is deleted when this object is dropped (saved or not), or at the latest when the process
    exits.
    """

    def __init__(self, name: str, data: bytes) -> None:
        self.name = Path(name.replace("\\", "/")).name or "scan"
        self.size = len(data)
        handle, path = tempfile.mkstemp(prefix="archive-original-", suffix=Path(self.name).suffix)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        self.path = Path(path)
        # Forked workers (person extraction) inherit this object: only the creator deletes.
        self._finalizer = weakref.finalize(self, _remove, self.path, os.getpid())

    def open(self) -> BinaryIO:
        return self.path.open("rb")

    def discard(self) -> None:
        """Delete the temporary file now."""
        self._finalizer()

    def __repr__(self) -> str:
        return f"Original({self.name!r}, {self.size:,} bytes)"


def _remove(path: Path, owner: int) -> None:
    if os.getpid() == owner:
        path.unlink(missing_ok=True)


@dataclass
class Draft:
    """One document as read from a source, before persons are resolved and it is saved."""

    source: str  # where it came from, for the report: "bbc/tech/001.txt", "export.jsonl line 3"
    title: str
    body: str
    published: dt.date | None = None
    date_inferred: bool = False
    publication: str | None = None
    source_url: str = ""
    external_id: str | None = None
    # None: extract them from the text; a list (even empty) was given by the source.
    persons: list[str] | None = None
    warnings: list[str] = field(default_factory=list)
    # A scan: the mean word confidence (0-100) of the OCR that read the text, and the file it
    # was read from, kept with the document.
    ocr_confidence: float | None = None
    original: Original | None = field(default=None, repr=False, compare=False)
    # The bytes of the input on disk this draft stands for (a whole file's for its last draft,
    # a record's share of a bulk file): what the import's progress counts as done once the draft
    # reaches the saving step (reading runs ahead of name extraction by many documents).
    disk_bytes: int = field(default=0, repr=False, compare=False)
