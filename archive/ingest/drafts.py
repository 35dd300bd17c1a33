"""What a reader makes of a file: draft documents, or a reason it could not read it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


class ReadError(Exception):
    """A file (or one record in it) cannot become a document; the message says why, for people.

    ``source`` names the record ("export.jsonl line 7") when it is not the whole file.
    """

    def __init__(self, message: str, source: str | None = None) -> None:
        super().__init__(message)
        self.source = source


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
