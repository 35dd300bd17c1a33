"""Turning files into documents: the one pipeline behind ``manage.py ingest`` and the admin upload.

- ``sources``: files, folders and zips, read defensively;
- ``readers``: one reader per format (txt, html, pdf, json, jsonl) -> drafts;
- ``text`` and ``dates``: decoding, page chrome, titles, stated and inferred dates;
- ``persons``: where person names are extracted (spaCy) and resolved;
- ``store``: duplicates, updates, saving;
- ``pipeline``: the batches and transactions that tie them together.
"""

from archive.ingest.pipeline import IngestReport, ingest, resolve_pending
from archive.ingest.sources import SourceFile, from_paths, from_stream
from archive.ingest.store import ItemResult, Outcome, known_persons

__all__ = [
    "IngestReport",
    "ItemResult",
    "Outcome",
    "SourceFile",
    "from_paths",
    "from_stream",
    "ingest",
    "known_persons",
    "resolve_pending",
]
