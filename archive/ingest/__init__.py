"""Turning files into documents: the one pipeline behind ``manage.py ingest`` and the admin upload.

- ``sources``: files, folders and zips, read defensively;
- ``readers``: one reader per format (txt, html, pdf, json, jsonl) -> drafts;
- ``ocr``: scans and image-only PDFs read with Tesseract;
- ``text``, ``dates`` and ``drafts``: decoding, page chrome, titles, stated and inferred dates;
- ``entities``: where names are extracted (one spaCy pass per document: persons,
  organisations, places, and the evidence against them), with ``persons`` (the model, loaded
  once, and the per-document person rules);
- ``resolution``: where the whole archive's evidence decides which mentions become facet
  values, of which kind and under which name (with ``wordcase`` and ``gazetteer``);
- ``copies``: where a document joins a story (its copies across the archive);
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
