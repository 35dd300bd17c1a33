"""The one ingest pipeline: sources -> readers -> persons -> store, in batches.

``manage.py ingest`` and the admin upload both call ``ingest()``. Each batch of documents is saved
in one transaction together with its index outbox tasks (``atomic_with_index``), and each document
in its own savepoint: a document that fails is rolled back alone. Right after the commit the
outbox is applied to the index; if the process dies first, or another process holds the index,
the tasks wait and the next writer applies them, so a document reported as created always
reaches the index.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

from archive import indexing, search
from archive.chunks import chunked
from archive.indexing import atomic_with_index
from archive.ingest import dates, entities, readers, resolution
from archive.ingest.drafts import Draft, ReadError
from archive.ingest.persons import NameBook
from archive.ingest.sources import STREAM_ERRORS, SourceFile, max_file_bytes
from archive.ingest.store import (
    ItemResult,
    Outcome,
    create_new_in_bulk,
    entity_ids,
    failure_reason,
    find_existing,
    known_persons,
    match_key,
    remove_unlinked,
    save_draft,
    stored_copy,
    stored_keys,
)
from archive.models import Document, content_hash
from archive.storedtext import stored_text

logger = logging.getLogger(__name__)

BATCH_SIZE = 256
# Outcomes whose document now holds the draft's text.
WRITTEN = frozenset({Outcome.CREATED, Outcome.UPDATED})


class ItemList(list):
    """A report's items: every item added is counted as it comes (``counts`` costs nothing, so
    progress can show it after each record), and with ``failures_only`` only failed items are
    kept."""

    def __init__(self, items: Iterable[ItemResult] = (), failures_only: bool = False) -> None:
        super().__init__()
        self.counts: Counter = Counter()
        self.failures_only = failures_only
        self.extend(items)

    def append(self, item: ItemResult) -> None:
        self.counts[item.outcome] += 1
        if not self.failures_only or item.outcome == Outcome.FAILED:
            super().append(item)

    def extend(self, items: Iterable[ItemResult]) -> None:
        for item in items:
            self.append(item)

    def __iadd__(self, items: Iterable[ItemResult]) -> ItemList:
        self.extend(items)
        return self

    def insert(self, index, item: ItemResult) -> None:
        self.counts[item.outcome] += 1
        if not self.failures_only or item.outcome == Outcome.FAILED:
            super().insert(index, item)


LEFT_OUT_SHOWN = 10  # left-out files named in a report's summary
WARNINGS_SHOWN = 20  # warnings quoted in a report


@dataclass
class IngestReport:
    items: list[ItemResult] = field(default_factory=ItemList)
    files: int = 0
    dry_run: bool = False
    resolution: resolution.ResolutionReport | None = None
    index_deferred: bool = False  # the index was written in one pass at the end
    # With ingest(resolve=False): what the pass at the end would have looked at again, for the
    # caller to resolve once after several imports (:func:`resolve_pending`).
    pending_documents: set[int] = field(default_factory=set)
    pending_names: set[str] = field(default_factory=set)
    pending_created: int = 0  # of the pending documents, those created
    # Bytes of the input read so far (on disk: a zip member counts its compressed size).
    bytes_read: int = 0
    # Bytes of the input whose documents reached the saving step or failed: what a progress
    # bar over the input's total size shows as done. Reading runs ahead of name extraction (up
    # to a thousand documents in flight), so the bytes read would reach the end long before the
    # import does.
    bytes_done: int = 0
    # READMEs and licences found beside the articles in a folder or zip, not read (sources.py).
    left_out: list[str] = field(default_factory=list)
    # What was imported with a warning (a date in the future left out, unknown fields): the
    # first WARNINGS_SHOWN documents' warnings, as "source: warnings", and how many had any.
    warnings: list[str] = field(default_factory=list)
    warned: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.items, ItemList):
            self.items = ItemList(self.items)

    @property
    def counts(self) -> Counter:
        """Outcomes of every document and record so far (kept or not, see ``keep_items``)."""
        return Counter(self.items.counts)

    @property
    def records(self) -> int:
        """Documents and records done so far, whatever their outcome."""
        return sum(self.items.counts.values())

    @property
    def failed(self) -> list[ItemResult]:
        return [item for item in self.items if item.outcome == Outcome.FAILED]

    def summary(self) -> str:
        counts = self.counts
        verb = "would be " if self.dry_run else ""
        parts = [f"{counts[o]:,} {verb}{o.value}" for o in Outcome if o != Outcome.FAILED]
        parts.append(f"{counts[Outcome.FAILED]:,} failed")
        files = f"{self.files:,} file" + ("" if self.files == 1 else "s")
        return f"{files}: " + ", ".join(parts) + "."

    def add_warnings(self, draft: Draft, result: ItemResult) -> None:
        """A document saved (or that a dry run would save) with what its reader warned about:
        in its result's message, and in the report (what a long import prints at its end)."""
        if not draft.warnings or result.outcome not in (Outcome.CREATED, Outcome.UPDATED):
            return
        said = " ".join(draft.warnings)
        result.message = " ".join(filter(None, [result.message, said]))
        self.warned += 1
        if len(self.warnings) < WARNINGS_SHOWN:
            self.warnings.append(f"{draft.source}: {said}")

    def warnings_note(self) -> str:
        if not self.warned:
            return ""
        what = "document" if self.warned == 1 else "documents"
        done = "would be imported" if self.dry_run else "imported"
        lines = [f"{self.warned:,} {what} {done} with a warning:"]
        lines += [f"  {warning}" for warning in self.warnings]
        if self.warned > len(self.warnings):
            lines.append(f"  … and more ({self.warned:,} documents in all).")
        return "\n".join(lines)

    def left_out_note(self) -> str:
        """What was left out, by name: an archivist checks that nothing was missed."""
        if not self.left_out:
            return ""
        shown = ", ".join(self.left_out[:LEFT_OUT_SHOWN])
        more = len(self.left_out) - LEFT_OUT_SHOWN
        return (
            f"Left out as a README or licence, not an article: {shown}"
            + (f" and {more:,} more" if more > 0 else "")
            + " (name such a file on its own to import it)."
        )


@contextlib.contextmanager
def sql_not_recorded() -> Iterator[None]:
    """While DEBUG is on (the development default), Django records every SQL statement: its
    text, its time and, on SQLite, its parameters quoted by one more query each. An import sends
    hundreds of thousands of statements that nobody reads. `manage.py ingest derived-30k.jsonl`
    (30,000 records with their persons, 2026-12-05): DEBUG on 65.2 s and 425 MB peak, off 62.1 s
    and 277 MB; DEBUG on with this 64.3 s and 278 MB (the memory is the sure gain, the time is
    within run-to-run noise). Off for this thread's connection while the block runs, except
    while something counts queries on purpose (``force_debug_cursor``: assertNumQueries,
    CaptureQueriesContext), checked at every cursor. Transactions' BEGIN and COMMIT are still
    recorded (Django notes them apart from cursors)."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    if "make_debug_cursor" in vars(wrapper):
        yield  # already off (a nested import), or replaced by someone else: leave it be
        return
    recording = type(wrapper).make_debug_cursor

    def cursor_unless_counted(cursor):
        if wrapper.force_debug_cursor:
            return recording(wrapper, cursor)
        return wrapper.make_cursor(cursor)

    wrapper.make_debug_cursor = cursor_unless_counted  # what _prepare_cursor calls
    try:
        yield
    finally:
        del wrapper.make_debug_cursor


@sql_not_recorded()  # a context manager as a decorator: entered anew at every call
def ingest(
    sources: Iterable[SourceFile],
    *,
    publication: str | None = None,
    dry_run: bool = False,
    extract_persons: bool = True,
    on_file: Callable[[IngestReport], None] | None = None,
    batch_size: int = BATCH_SIZE,
    workers: int = 1,
    keep_items: bool = True,
    index_progress: Callable[[int], None] | None = None,
    resolve: bool = True,
    known: NameBook | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> IngestReport:
    """Read every source and save its documents; never raises for bad input.

    ``on_stage`` hears a sentence as each closing step begins (the resolution pass, finishing
    the index): after the last document is saved they take seconds to minutes with nothing
    else to show.

    ``resolve=False`` leaves out the archive-level resolution pass that ends an import: the
    report says what it would have looked at (``pending_documents``, ``pending_names``), and
    the caller runs :func:`resolve_pending` once after several imports (a background job,
    which imports its files in chunks).

    ``keep_items=False`` keeps every count but only the failed items, so the report on an import
    of millions of records stays small (``manage.py ingest`` prints counts and failures; the
    admin, which links every document, keeps everything).

    An import that has added ``DEFER_INDEX_AFTER`` documents and more than the archive held
    when it began stops writing the index batch by batch and ends with one rebuild
    (``index_progress`` follows it): the index is then written once, in parallel, instead of
    being updated and merged hundreds of times.

    Files are read lazily and flow through person extraction (in ``workers`` processes) into
    batches that are saved as they fill, so memory stays flat however large the input.
    """
    report = IngestReport(dry_run=dry_run, items=ItemList(failures_only=not keep_items))

    def _stage(sentence: str) -> None:
        if on_file is not None:
            on_file(report)  # the progress shown beside the sentence is the documents' last
        if on_stage is not None:
            on_stage(sentence)

    known = known if known is not None else known_persons()
    seen: set[str] = set()  # dry run: keys of drafts already counted
    drafts = _read(sources, report, on_file)
    archive = _Archive(known, resolution.Evidence.from_db(), resolution.Decisions.from_db())
    if extract_persons:
        if not dry_run:
            drafts = _not_stored_yet(drafts, report, publication)
        # A record that gives its persons needs no model (None: nothing to read).
        items = ((_extraction_text(d) if d.persons is None else None, d.title, d) for d in drafts)
        pairs = entities.extract_stream(items, workers=workers)
    else:
        pairs = ((d, None) for d in drafts)
    # The index takes the import's changes in larger steps than its batches (one rebuild
    # instead, for a large import: see below).
    with indexing.coalesced():
        batch: list[tuple[Draft, list[entities.NameMention] | None]] = []
        stored_before = Document.objects.count()
        build: indexing.StreamedRebuild | None = None  # the one index pass of a large import
        try:
            # Left however the import ends, so the process never stays in deferred mode.
            with contextlib.ExitStack() as defer:
                try:
                    scans = 0  # in the batch
                    told = time.monotonic()
                    for draft, mentions in pairs:
                        batch.append((draft, mentions if draft.persons is None else None))
                        if on_file is not None and time.monotonic() - told >= PROGRESS_SECONDS:
                            on_file(report)  # progress as documents come, not only as read
                            told = time.monotonic()
                        scans += draft.original is not None
                        if len(batch) >= batch_size or scans >= SCAN_BATCH_SIZE:
                            if not report.index_deferred and _fills_an_empty_archive(
                                report, stored_before, dry_run, len(batch) >= batch_size
                            ):
                                search.create_index_if_missing()  # searches answer meanwhile
                                # Only if the index is free now: else the usual way.
                                build = _one_index_pass(defer, report, index_progress, wait=0.0)
                            _save_batch(batch, report, archive, publication, dry_run, seen, build)
                            _done(report, batch)
                            batch, scans = [], 0
                            if not report.index_deferred and _large(report, stored_before, dry_run):
                                build = _one_index_pass(defer, report, index_progress)
                except Exception as exc:  # the model failed: keep what is saved, report the rest
                    logger.exception("Person extraction failed")
                    report.items.extend(
                        ItemResult(d.source, Outcome.FAILED, f"Person extraction failed: {exc}")
                        for d, _ in batch
                    )
                    report.items.append(
                        ItemResult("(remaining files)", Outcome.FAILED, f"Import stopped: {exc}")
                    )
                    _done(report, batch)
                    batch = []
                if batch:
                    _save_batch(batch, report, archive, publication, dry_run, seen, build)
                    _done(report, batch)
            counts = report.counts
            created = counts[Outcome.CREATED] or counts[Outcome.UPDATED]
            if extract_persons and not dry_run and created and not resolve:
                # A background job imports in chunks and resolves once at its end.
                report.pending_documents = set(archive.documents)
                report.pending_names = archive.affected_names()
                report.pending_created = archive.created
            elif extract_persons and not dry_run and created:
                # Documents read early were resolved with less evidence than the archive has now.
                # Only the documents this import can have changed: its own, and those that mention
                # a name whose resolution it changed (a whole-archive pass is `manage.py
                # resolve_entities`). Its changes reach the index after the import's pass.
                affected = _last_pass_documents(
                    archive.documents, archive.affected_names(), archive.created
                )
                if affected is None:
                    whole = _documents(archive.evidence.documents)
                    # Those whose names were extracted: a fixture's are given, not resolved.
                    _stage(f"Resolving names across the whole archive ({whole} with names)…")
                elif affected:
                    _stage(f"Resolving names across {_documents(len(affected))}…")
                with indexing.deferred() if report.index_deferred else contextlib.nullcontext():
                    report.resolution = resolution.resolve_archive(document_ids=affected)
            if build is not None:
                _stage("Finishing the index…")
                build.finish()
                build = None
            elif report.index_deferred:
                indexing.rebuild(progress=index_progress)
        except BaseException:
            if build is not None:  # the old index keeps serving; the outbox keeps every task
                build.abandon()  # (also after a finish that failed: it is safe to repeat)
            raise
    if on_file is not None:
        on_file(report)
    return report


def _documents(count: int) -> str:
    return f"{count:,} document" + ("" if count == 1 else "s")


# A batch is saved once it holds this many scans: each took seconds of OCR, so saving them
# sooner costs little, shows them in search sooner and loses less work to an interrupted import.
SCAN_BATCH_SIZE = 16


def resolve_pending(
    documents: Iterable[int], names: Iterable[str], created: int = 0
) -> resolution.ResolutionReport:
    """The pass that ends an import, for imports run with ``resolve=False``: their documents,
    and those that mention a name whose resolution they changed (or the whole archive: see
    :func:`_last_pass_documents`); ``created``: how many of the documents they created."""
    affected = _last_pass_documents(set(documents), set(names), created)
    return resolution.resolve_archive(document_ids=affected)


# An import of at least this share of the documents the archive had (with names extracted) ends
# with a pass over the whole archive instead of over the names it changed.
WHOLE_PASS_SHARE = 0.25


def _last_pass_documents(imported: set[int], names: set[str], created: int) -> set[int] | None:
    """The documents the pass that ends an import resolves again (None: all of them), given
    the documents it created or updated with names extracted, ``created`` of them new.

    The import's own, and those that mention a name whose resolution it changed, by name. That
    misses what changes through the archive's counts rather than a name: the archive growing
    past a size rule (a second import of 1,000 documents into 772 changed 149 links of 112
    documents it never mentioned, places like "Cluedo" dropped at 1,000 documents), and words
    whose counts cross a rule's minimum ("Group" becoming a generic organisation word). So an
    import whose new documents take the archive past a size rule, or are many beside it
    (WHOLE_PASS_SHARE), ends with the whole-archive pass (``manage.py resolve_entities``): at
    most (1 + 1/share) times the documents it created for the share, once in an archive's life
    for each size rule, read at hundreds a second. A small import into a large archive keeps
    the pass by name (every form of each name it wrote: :func:`_probes`), and a flip it misses
    waits for the next large one or ``resolve_entities``."""
    if created:
        now = Document.objects.filter(entities_extracted=True).count()
        before = max(0, now - created)
        if resolution.crosses_a_size_rule(before, now) or created >= WHOLE_PASS_SHARE * before:
            return None
    return imported | resolution.documents_mentioning(names)


# An import switches to one index pass at its end after this many documents (see ingest()).
DEFER_INDEX_AFTER = 1000


def _one_index_pass(
    defer: contextlib.ExitStack,
    report: IngestReport,
    progress: Callable[[int], None] | None,
    wait: float | None = None,
) -> indexing.StreamedRebuild | None:
    """Stop writing the index batch by batch (``defer`` holds that until the import ends) and
    return the pass written while the import saves (None: one rebuild at its end). With a
    ``wait`` and the index busy that long, nothing changes: the batches go on as before."""
    build = _start_build(progress, wait)
    if build is not None or wait is None:
        defer.enter_context(indexing.deferred())
        report.index_deferred = True
    return build


def _start_build(
    progress: Callable[[int], None] | None, wait: float | None = None
) -> indexing.StreamedRebuild | None:
    """The index pass of a large import, written while it saves (None: one rebuild from the
    database at its end, as on databases other than SQLite or when the index is busy).
    ``wait``: how long to wait for the index's write lock (default ``REBUILD_WAIT``)."""
    if not indexing.StreamedRebuild.available():
        return None
    try:
        return indexing.StreamedRebuild(progress=progress).start(wait)
    except search.IndexUnavailable as exc:
        if wait is None:
            logger.warning("The index is busy; it is rebuilt at the end of the import. %s", exc)
        return None


def _fills_an_empty_archive(
    report: IngestReport, stored_before: int, dry_run: bool, full_batch: bool
) -> bool:
    """Whether the import's first batch is full and the archive held nothing: it will be large
    against what the archive held (see :func:`_large`), so its one index pass starts now. Begun
    after ``DEFER_INDEX_AFTER`` documents instead, the pass would index those documents a
    second time: the first batch's save builds the missing index from the database, and each
    batch after it updates that index, before the pass reads them all again (5 s of the BBC
    corpus's 89 s import, 2026-12-06)."""
    nothing_saved = not (report.counts[Outcome.CREATED] or report.counts[Outcome.UPDATED])
    return not dry_run and full_batch and stored_before == 0 and nothing_saved


def _large(report: IngestReport, stored_before: int, dry_run: bool) -> bool:
    added = report.counts[Outcome.CREATED] + report.counts[Outcome.UPDATED]
    return not dry_run and added >= DEFER_INDEX_AFTER and added > stored_before


@dataclass
class _Archive:
    """What resolution knows while an import runs: the names in the archive, the evidence of
    every mention so far (this import's included), and editors' decisions."""

    known: NameBook
    evidence: resolution.Evidence
    decisions: resolution.Decisions
    # What a pass at the end must look at again: each name this import mentioned, in each form
    # it came in (label, written where a place stands, titled, said more than once), with what
    # the archive made of that form (resolved on its own) when the import first saw it; its
    # lone-word person names and the initials of its full ones ("C Hodgson" for "Charlie
    # Hodgson"); and the documents it saved. One form is not enough: "Liverpool" in a dateline
    # stays a place whatever the archive says, while "Liverpool" tagged an organisation and not
    # placed follows the archive's majority, which the import may flip; and which form came
    # first depends on the workers' timing, so two imports of the same files ended with
    # different values.
    first_seen: dict[tuple, tuple[entities.NameMention, tuple[tuple[str, str], ...]]] = field(
        default_factory=dict
    )
    lone_persons: set[str] = field(default_factory=set)
    documents: set[int] = field(default_factory=set)
    created: int = 0  # of ``documents``, those the import created (not updated)

    def note(self, mentions: list[entities.NameMention]) -> None:
        for mention in mentions:
            key = (
                resolution.fold(mention.name),
                mention.label,
                mention.located,
                mention.titled,
                mention.count >= 2,  # a lone word said twice is a name (resolution)
            )
            if key not in self.first_seen:
                self.first_seen[key] = (mention, self._verdict(mention))
            # The name's other forms, which documents before the import may have written: a
            # form the import never wrote flips too ("Export Enhancement Program" tagged a law
            # twice more: an earlier document's organisation is no value now).
            kinds = self.evidence.labels.get(resolution.fold(mention.name), ())
            for probe in _probes(mention, kinds):
                probe_key = (resolution.fold(probe.name), probe.label, probe.located, False, False)
                if probe_key not in self.first_seen:
                    self.first_seen[probe_key] = (probe, self._verdict(probe))
            if mention.label == entities.PERSON:
                # A lone word may now join a full name; a new full name may take the lone
                # mentions of its surname, or its initial, that earlier imports left apart.
                words = mention.name.split()
                self.lone_persons.add(words[-1])
                if len(words) > 1 and len(words[0]) > 1 and words[0][0].isalpha():
                    initial = words[0][0]
                    self.lone_persons |= {f"{initial} {words[-1]}", f"{initial}. {words[-1]}"}

    def _verdict(self, mention: entities.NameMention) -> tuple[tuple[str, str], ...]:
        """What the archive's evidence makes of the mention on its own: its values (kind and
        name), or none. Every rule that weighs the archive (the majority kind, the spelling, a
        place with too little evidence, a work's title, a generic organisation's words, a
        name shaped like a person's or a firm's...) shows in it, so that a change of any of
        them sends the name's documents to the pass at the end."""
        values = resolution.resolve_document([mention], self.evidence, self.decisions)
        return tuple((value.kind, value.name) for value in values)

    def affected_names(self) -> set[str]:
        """Names whose documents may resolve differently now: lone-word persons (their full
        name may have come in since) and names that the archive's evidence, as this import
        changed it, resolves otherwise than when the import first saw them ("Sizzla" a place
        in a third document, "the film Vera Drake" in a second, "Bank" after the fiftieth
        "... Bank")."""
        changed: set[str] = set()
        for mention, verdict in self.first_seen.values():
            now = self._verdict(mention)
            if now != verdict:
                # And the values' names before and after: "NA" written more now renames the
                # value of the documents that write "N.A.".
                changed |= {mention.name} | {name for _, name in verdict + now}
        # Every spelling the archive has of them: the documents that wrote "ClearView" too.
        changed |= {
            written
            for name in changed
            for written in self.evidence.spellings.get(resolution.fold(name), ())
        }
        # Names that begin with a word the import made common, or no longer common.
        changed |= resolution.names_beginning_with(self.evidence.words.flipped())
        return changed | self.lone_persons

    def values(self, draft: Draft, mentions, dry_run: bool) -> dict[str, list[str]]:
        """The document's persons, organisations and places by kind."""
        if mentions is None:  # persons given by the source, or extraction skipped
            given = draft.persons or []
            persons = [self.known(p) or " ".join(p.split()) for p in given]
            return {"person": list(dict.fromkeys(persons)), "organisation": [], "place": []}
        named = {m.name for m in mentions}
        # Names the archive knows that the model missed ("Musharraf's" tagged as a product).
        mentions.extend(
            entities.NameMention(name, entities.PERSON, 1, True)
            for name in self.known.find(_extraction_text(draft))
            if name not in named
        )
        year = draft.published.year if draft.published else None
        if not dry_run:
            self.note(mentions)
            self.evidence.add(mentions, year=year)
        self.evidence.words.load(resolution.name_words(mentions))
        values = resolution.resolve_document(mentions, self.evidence, self.decisions, year)
        return {kind: [v.name for v in values if v.kind == kind] for kind in resolution.KINDS}


# One form of a name for each kind the model may give it: a person, an organisation and a
# place written in prose, and a label that is none of these.
_PROBE_LABELS = {
    "person": (entities.PERSON, None),
    "organisation": ("ORG", False),
    "place": ("GPE", False),
    resolution.OTHER: ("NORP", None),
}


def _probes(mention: entities.NameMention, kinds: Iterable[str]) -> list[entities.NameMention]:
    """The forms of ``mention``'s name that other documents may have written, whose verdicts
    the import watches besides its own (:meth:`_Archive.note`): one in prose for each kind the
    archive has given the name (``kinds``; none for a name it has not seen, whose forms are
    all this import's own)."""
    if mention.label in (entities.WORK, entities.PARTY, entities.COMMON, entities.ROLE):
        return []
    return [
        entities.NameMention(mention.name, label, 1, False, located)
        for label, located in (_PROBE_LABELS[kind] for kind in kinds if kind in _PROBE_LABELS)
    ]


def _extraction_text(draft: Draft) -> str:
    return extraction_text_of(draft.title, draft.body)


def extraction_text_of(title: str, body: str) -> str:
    """The text names are extracted from: the headline and the body (a bulk record's body does
    not repeat its headline). A headline in capitals is left out: the model reads nonsense into
    it ("COCOA BUFFER STOCK COMPROMISE GAINING"), and its names recur in the body."""
    if body.startswith(title) or title.isupper():
        return body
    return f"{title}\n\n{body}"


# Drafts whose stored duplicates are looked up together, before name extraction.
DUPLICATE_CHECK_CHUNK = 64
# A bulk file reports progress (``on_file``) every this many records, not only at its end.
PROGRESS_EVERY = 50
# ``on_file`` also hears at least this often (seconds) while documents come from extraction.
PROGRESS_SECONDS = 1.0


def _read(
    sources: Iterable[SourceFile],
    report: IngestReport,
    on_file: Callable[[IngestReport], None] | None,
) -> Iterator[Draft]:
    """The drafts of every source; unreadable files and records go to the report.

    ``on_file`` hears after each file, and every ``PROGRESS_EVERY`` records within a bulk file,
    with ``report.bytes_read`` moving as the file is read, so one large export shows progress.
    Each draft carries the bytes it stands for (``Draft.disk_bytes``), which count as done
    (``report.bytes_done``) when it reaches the saving step; what fails to read is done at once.
    """
    for source in sources:
        if source.left_out:  # a README or licence beside the articles: named, not read
            report.left_out.append(source.name)
            report.bytes_read += source.disk_bytes
            report.bytes_done += source.disk_bytes
            if on_file is not None:
                on_file(report)
            continue
        report.files += 1
        bytes_before = report.bytes_read
        results: list = []
        if source.error:
            report.items.append(ItemResult(source.name, Outcome.FAILED, source.error, lasting=True))
        elif source.streamed:
            yield from _read_records(source, report, on_file)
        else:
            try:
                results = readers.read(source.name, source.extension, source.data)
            except ReadError as exc:
                results = [exc]
            except Exception as exc:  # a reader bug must not stop the other files
                logger.exception("Reading %s failed", source.name)
                results = [ReadError(f"Unexpected error while reading: {exc}")]
        drafts = [result for result in results if not isinstance(result, ReadError)]
        if source.streamed and not source.error:  # its records carried their shares
            report.bytes_done += bytes_before + source.disk_bytes - report.bytes_read
        elif drafts:
            drafts[-1].disk_bytes = source.disk_bytes  # done when its last document is
        else:
            report.bytes_done += source.disk_bytes
        for result in results:
            if isinstance(result, ReadError):
                label = result.source or source.name
                report.items.append(ItemResult(label, Outcome.FAILED, str(result), lasting=True))
            else:
                yield _prepared(result)
        report.bytes_read = bytes_before + source.disk_bytes
        if on_file is not None:
            on_file(report)


def _prepared(draft: Draft) -> Draft:
    """A draft as the archive will store it, whichever reader made it: its title and text
    cleaned as a save cleans them (so that the same record imported again is the same, not an
    update), and a date in the future left out (with a warning)."""
    draft.title, draft.body = stored_text(draft.title), stored_text(draft.body)
    dates.undated_if_ahead(draft)
    return draft


class _CountingReader:
    """A binary stream that counts the bytes read through it (progress within one file)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.consumed = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.consumed += len(data)
        return data


def _read_records(
    source: SourceFile,
    report: IngestReport,
    on_file: Callable[[IngestReport], None] | None,
) -> Iterator[Draft]:
    """The records of a bulk file, read from a stream one at a time, so memory stays flat
    however large the file: a record that is malformed or over the size limit is one failed
    item and the next is read. A file that breaks off (malformed structure, a damaged zip, a
    read error) keeps the records read before and says so."""
    start = report.bytes_read
    scale = source.disk_bytes / source.size if source.size else 0.0
    records = 0
    failure, lasting = "", False
    try:
        with source.open() as raw:
            stream = _CountingReader(raw)
            results = readers.read_records(source.name, source.extension, stream, max_file_bytes())
            for result in results:
                records += 1
                read_before = report.bytes_read
                report.bytes_read = start + min(int(stream.consumed * scale), source.disk_bytes)
                if isinstance(result, ReadError):
                    label = result.source or source.name
                    report.items.append(
                        ItemResult(label, Outcome.FAILED, str(result), lasting=True)
                    )
                    report.bytes_done += report.bytes_read - read_before
                else:
                    result.disk_bytes = report.bytes_read - read_before
                    yield _prepared(result)
                if on_file is not None and records % PROGRESS_EVERY == 0:
                    on_file(report)
    except ReadError as exc:
        failure, lasting = str(exc), True
    except STREAM_ERRORS as exc:
        failure = f"The file cannot be read to its end ({type(exc).__name__}: {exc})."
    except Exception as exc:  # a reader bug must not stop the other files
        logger.exception("Reading %s failed", source.name)
        failure = f"Unexpected error while reading: {exc}"
    if failure:
        if records:
            failure += f" The {records:,} records before this point were read."
        report.items.append(ItemResult(source.name, Outcome.FAILED, failure, lasting=lasting))


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


def _not_stored_yet(
    drafts: Iterable[Draft], report: IngestReport, publication: str | None
) -> Iterator[Draft]:
    """The drafts, less those of texts the archive holds unchanged: they are duplicates
    whatever their names, so they skip the model (importing a folder of 401 files again took
    as long as the first time, 30.7 s). Asked a chunk at a time, in a few ``IN`` queries; a
    draft whose key an earlier draft of this import had goes on to be saved in its turn (that
    one may change the stored document first: the last version of a record wins)."""
    earlier: set[int] = set()  # hashes of the keys met so far (a collision only costs a check)
    # A chunk ends early at a scan: it took seconds of OCR, and is not held back for more.
    for chunk in chunked(drafts, DUPLICATE_CHECK_CHUNK, ends=lambda d: d.original is not None):
        keys = [match_key(draft) for draft in chunk]
        candidates = [key for draft, key in zip(chunk, keys, strict=True) if draft.persons is None]
        stored = stored_keys(candidates) if candidates else set()
        for draft, key in zip(chunk, keys, strict=True):
            repeated = hash(key) in earlier
            earlier.add(hash(key))
            if draft.persons is None and key in stored and not repeated:
                duplicate = stored_copy(draft, draft.publication or publication)
                if duplicate is not None:
                    report.items.append(duplicate)
                    report.bytes_done += draft.disk_bytes
                    continue
            yield draft


def _done(report: IngestReport, batch) -> None:
    """The batch's bytes count as done once its documents are: the bar and the documents the
    progress line counts move together (bytes queued for saving read 14 % beside "0
    documents")."""
    report.bytes_done += sum(draft.disk_bytes for draft, _ in batch)


def _save_batch(
    batch, report, archive: _Archive, default_publication, dry_run, seen, build=None
) -> None:
    """Save one batch in one transaction; with a ``build`` (a large import's index pass), feed
    it the documents saved, as committed, with the outbox tasks they wrote."""
    if dry_run:
        for draft, mentions in batch:
            values = archive.values(draft, mentions, dry_run=True)
            result = _dry_run_outcome(draft, seen)
            result.title, result.persons = draft.title, tuple(values["person"])
            result.organisations = tuple(values["organisation"])
            result.places = tuple(values["place"])
            report.add_warnings(draft, result)
            report.items.append(result)
        return

    # Results with the position of their draft in the batch, so they are reported in its order.
    order = {id(draft): position for position, (draft, _) in enumerate(batch)}
    placed: list[tuple[int, ItemResult]] = []
    extracted = {draft.source for draft, mentions in batch if mentions is not None}
    saved: list | None = [] if build is not None else None
    try:
        with atomic_with_index():
            tasks_before = build.task_mark() if build is not None else 0
            rest = _save_given_in_bulk(batch, placed, order, archive, default_publication, saved)
            # The word counts resolution asks about, read for the whole batch in a few queries
            # (per document, they were a query each).
            archive.evidence.words.load(
                resolution.name_words(m for _, mentions in rest if mentions for m in mentions)
            )
            resolved = [(d, m, archive.values(d, m, dry_run=False)) for d, m in rest]
            names: dict[str, set[str]] = {kind: set() for kind in resolution.KINDS}
            for _, _, values in resolved:
                for kind in resolution.KINDS:
                    names[kind].update(values[kind])
            created: dict[str, set[int]] = {}
            known_ids = entity_ids(names, created)
            one_by_one = _save_extracted_in_bulk(
                resolved, placed, order, default_publication, saved
            )
            left = {id(draft) for draft, _, _ in one_by_one}
            # The texts of the documents saved with extracted names: the archive's word case.
            texts = [
                _extraction_text(d) for d, m, _ in resolved if m is not None and id(d) not in left
            ]
            for draft, mentions, values in one_by_one:
                publication = draft.publication or default_publication
                one: list | None = [] if saved is not None else None
                try:
                    with transaction.atomic():
                        result = save_draft(
                            draft,
                            values["person"],
                            publication,
                            values["organisation"],
                            values["place"],
                            mentions,
                            known_ids,
                            saved=one,
                        )
                except (ValidationError, DatabaseError, ValueError) as exc:
                    result = ItemResult(draft.source, Outcome.FAILED, failure_reason(exc))
                    placed.append((order[id(draft)], result))
                else:
                    placed.append((order[id(draft)], result))
                    if one:
                        saved.extend(one)
                    if mentions is not None and result.outcome in WRITTEN:
                        texts.append(_extraction_text(draft))
            archive.evidence.words.add(texts)
            remove_unlinked(created)
            tasks_after = build.task_mark() if build is not None else 0
        results = [result for _, result in sorted(placed, key=lambda p: p[0])]
    except DatabaseError as exc:
        message = f"Not saved: the database refused the batch ({exc})."
        results = [ItemResult(d.source, Outcome.FAILED, message) for d, _ in batch]
        placed = []  # rolled back: nothing was saved, with or without a warning
    else:
        if build is not None:
            build.add(saved, tasks_before, tasks_after)
    for position, result in placed:
        report.add_warnings(batch[position][0], result)
    for result in results:
        kept = result.document_id is not None and result.outcome != Outcome.DUPLICATE
        if kept and result.source in extracted:
            archive.documents.add(result.document_id)
            # The archive's size, as the rules that need a large archive count it.
            archive.evidence.documents += result.outcome == Outcome.CREATED
            archive.created += result.outcome == Outcome.CREATED
    report.items.extend(results)


def _save_given_in_bulk(
    batch, placed: list, order: dict, archive: _Archive, default_publication, saved=None
):
    """Create the new documents whose persons the source gave (or that skip extraction) in bulk,
    adding their results; returns the rest of the batch, for one save at a time. A batch the
    database refuses in bulk falls back to saving one at a time, so one bad record fails alone."""
    given = [
        (
            draft,
            archive.values(draft, None, dry_run=False)["person"],
            draft.publication or default_publication,
        )
        for draft, mentions in batch
        if mentions is None
    ]
    if len(given) < 2:
        return batch
    fed: list | None = [] if saved is not None else None
    try:
        with transaction.atomic():
            created, later = create_new_in_bulk(given, saved=fed)
    except (DatabaseError, ValueError):
        logger.warning("A bulk insert was refused; saving the batch one document at a time.")
        return batch
    left = {id(draft) for draft, _, _ in later}
    done = [draft for draft, _, _ in given if id(draft) not in left]
    placed.extend((order[id(d)], r) for d, r in zip(done, created, strict=True))
    if fed:
        saved.extend(fed)
    return [
        (draft, mentions) for draft, mentions in batch if mentions is not None or id(draft) in left
    ]


def _save_extracted_in_bulk(resolved, placed: list, order: dict, default_publication, saved=None):
    """Create in bulk the new documents whose entities were extracted (``resolved``: draft,
    mentions, values), adding their results; returns the rest, for one save at a time. As
    :func:`_save_given_in_bulk`, a refused bulk insert leaves the whole batch to that."""
    items = [
        (
            draft,
            values["person"],
            draft.publication or default_publication,
            (values["organisation"], values["place"], mentions),
        )
        for draft, mentions, values in resolved
        if mentions is not None
    ]
    if len(items) < 2:
        return resolved
    fed: list | None = [] if saved is not None else None
    try:
        with transaction.atomic():
            created, later = create_new_in_bulk(items, saved=fed)
    except (DatabaseError, ValueError):
        logger.warning("A bulk insert was refused; saving the batch one document at a time.")
        return resolved
    left = {id(item[0]) for item in later}
    done = [item[0] for item in items if id(item[0]) not in left]
    placed.extend((order[id(d)], r) for d, r in zip(done, created, strict=True))
    if fed:
        saved.extend(fed)
    return [(d, m, v) for d, m, v in resolved if m is None or id(d) in left]
