"""The one ingest pipeline: sources -> readers -> persons -> store, in batches.

``manage.py ingest`` and the admin upload both call ``ingest()``. Each batch of documents is saved
in one transaction together with its index outbox tasks (``atomic_with_index``), and each document
in its own savepoint: a document that fails is rolled back alone. Right after the commit the
outbox is applied to the index; if the process dies first, or another process holds the index,
the tasks wait and the next writer applies them, so a document reported as created always
reaches the index.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from archive.indexing import atomic_with_index
from archive.ingest import persons as person_extraction
from archive.ingest import readers
from archive.ingest.drafts import Draft, ReadError
from archive.ingest.sources import SourceFile
from archive.ingest.store import ItemResult, Outcome, find_existing, known_persons, save_draft
from archive.models import content_hash

logger = logging.getLogger(__name__)

BATCH_SIZE = 256


@dataclass
class IngestReport:
    items: list[ItemResult] = field(default_factory=list)
    files: int = 0
    dry_run: bool = False

    @property
    def counts(self) -> Counter:
        return Counter(item.outcome for item in self.items)

    @property
    def failed(self) -> list[ItemResult]:
        return [item for item in self.items if item.outcome == Outcome.FAILED]

    def summary(self) -> str:
        counts = self.counts
        verb = "would be " if self.dry_run else ""
        parts = [f"{counts[o]:,} {verb}{o.value}" for o in Outcome if o != Outcome.FAILED]
        parts.append(f"{counts[Outcome.FAILED]:,} failed")
        return f"{self.files:,} files: " + ", ".join(parts) + "."


def ingest(
    sources: Iterable[SourceFile],
    *,
    publication: str | None = None,
    dry_run: bool = False,
    extract_persons: bool = True,
    on_file: Callable[[IngestReport], None] | None = None,
    batch_size: int = BATCH_SIZE,
    workers: int = 1,
) -> IngestReport:
    """Read every source and save its documents; never raises for bad input.

    Files are read lazily and flow through person extraction (in ``workers`` processes) into
    batches that are saved as they fill, so memory stays flat however large the input.
    """
    report = IngestReport(dry_run=dry_run)
    known = known_persons()
    seen: set[str] = set()  # dry run: keys of drafts already counted
    drafts = _read(sources, report, on_file)
    if extract_persons:
        items = ((d.body if d.persons is None else "", d.title, d) for d in drafts)
        pairs = person_extraction.extract_stream(items, known, workers=workers)
    else:
        pairs = ((d, []) for d in drafts)
    batch: list[tuple[Draft, list[str]]] = []
    try:
        for draft, extracted in pairs:
            names = extracted
            if draft.persons is not None:
                names = list(dict.fromkeys(known(p) or " ".join(p.split()) for p in draft.persons))
            batch.append((draft, names))
            if len(batch) >= batch_size:
                _save_batch(batch, report, known, publication, dry_run, seen)
                batch = []
    except Exception as exc:  # the model failed: keep what is saved, report the rest
        logger.exception("Person extraction failed")
        report.items.extend(
            ItemResult(d.source, Outcome.FAILED, f"Person extraction failed: {exc}")
            for d, _ in batch
        )
        report.items.append(
            ItemResult("(remaining files)", Outcome.FAILED, f"Import stopped: {exc}")
        )
        batch = []
    if batch:
        _save_batch(batch, report, known, publication, dry_run, seen)
    if on_file is not None:
        on_file(report)
    return report


def _read(
    sources: Iterable[SourceFile],
    report: IngestReport,
    on_file: Callable[[IngestReport], None] | None,
) -> Iterator[Draft]:
    """The drafts of every source; unreadable files and records go to the report."""
    for source in sources:
        report.files += 1
        results: list = []
        if source.error:
            report.items.append(ItemResult(source.name, Outcome.FAILED, source.error))
        else:
            try:
                results = readers.read(source.name, source.extension, source.data)
            except ReadError as exc:
                results = [exc]
            except Exception as exc:  # a reader bug must not stop the other files
                logger.exception("Reading %s failed", source.name)
                results = [ReadError(f"Unexpected error while reading: {exc}")]
        for result in results:
            if isinstance(result, ReadError):
                label = result.source or source.name
                report.items.append(ItemResult(label, Outcome.FAILED, str(result)))
            else:
                yield result
        if on_file is not None:
            on_file(report)


def _dry_run_outcome(draft: Draft, seen: set[str]) -> ItemResult:
    if draft.external_id:
        key = f"id:{draft.external_id}"
    elif draft.source_url:
        key = f"url:{draft.source_url}"
    else:
        key = f"text:{content_hash(draft.body)}"
    existing, matched_by = find_existing(draft)
    if existing is not None:
        outcome = Outcome.DUPLICATE if matched_by == "same text" else Outcome.UPDATED
        return ItemResult(draft.source, outcome, f"Matches by {matched_by}.", existing.pk)
    if key in seen:
        return ItemResult(draft.source, Outcome.DUPLICATE, "Repeats an earlier file of this run.")
    seen.add(key)
    return ItemResult(draft.source, Outcome.CREATED, "", None, draft.title)


def _save_batch(batch, report, known, default_publication, dry_run, seen) -> None:
    if dry_run:
        for draft, persons in batch:
            result = _dry_run_outcome(draft, seen)
            result.title, result.persons = draft.title, tuple(persons)
            report.items.append(result)
        return

    results: list[ItemResult] = []
    try:
        with atomic_with_index():
            for draft, persons in batch:
                publication = draft.publication or default_publication
                try:
                    with transaction.atomic():
                        results.append(save_draft(draft, persons, publication))
                except (ValidationError, DatabaseError, ValueError) as exc:
                    results.append(ItemResult(draft.source, Outcome.FAILED, _reason(exc)))
    except DatabaseError as exc:
        message = f"Not saved: the database refused the batch ({exc})."
        results = [ItemResult(d.source, Outcome.FAILED, message) for d, _ in batch]
    for result in results:
        for name in result.persons:
            known.add(name)
    report.items.extend(results)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError) and hasattr(exc, "message_dict"):
        return "Invalid: " + "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items()
        )
    return f"Not saved: {exc}"
