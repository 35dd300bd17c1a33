"""Keeps the search index in step with the database, through an outbox.

Any change to a document, to the persons it mentions, or to a person's or publication's name
writes an :class:`~archive.models.IndexTask` row per affected document **in the same database
transaction** (the signal handlers below). After the commit, :func:`apply_pending` takes the
index's write lock, reads the pending tasks in order, writes the committed state of those
documents to the index (or removes them) and deletes exactly the tasks it applied. So:

- a crash between the commit and the index write loses nothing: the tasks stay and are applied by
  the next writer (the next save, ``manage.py apply_index_tasks``, the web process's first
  request, ``check_index --repair``); so does an index that could not be written (a cluster's
  shard down): the web process retries tasks left waiting ``STALE_SECONDS``;
- when another process holds the lock, a save does not wait or fail: its tasks stay in the outbox
  and the lock holder, which looks again for tasks after releasing the lock, applies them;
- a rebuild holds the lock for its whole run, then applies the tasks that arrived meanwhile to the
  new index.

Reading back from the database, rather than indexing the object in hand, means the index always
gets the committed state, and applying a task twice does no harm.

Bulk changes that bypass model signals (``QuerySet.update``, raw SQL) are not seen: run
``manage.py check_index --repair`` (or ``rebuild_index``) after those.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field

from django.core.signals import request_started
from django.db import DatabaseError, connection, transaction
from django.db.models import Count
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.utils import timezone

from archive import search
from archive.models import (
    ENTITY_MODELS,
    Document,
    IndexTask,
    NamedEntity,
    Publication,
    normalise_name,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


def indexed_story(document: Document) -> int | None:
    """The story the index is told of (None: not clustered yet): every story, so a search for
    the copies of one (``story=``) finds a document alone in its story too."""
    return document.story_id


def indexed_story_shared(document: Document) -> bool:
    """Whether the document's story has other copies. ``story_shared`` is annotated by
    :func:`documents_for_index` and set by ``copies.assign``; otherwise it is asked."""
    if document.story_id is None:
        return False
    shared = getattr(document, "story_shared", None)
    if shared is None:
        shared = (
            Document.objects.filter(story_id=document.story_id).exclude(pk=document.pk).exists()
        )
    return bool(shared)


def to_indexed(document: Document) -> search.IndexedDocument:
    """The index's view of a document (persons and publication by name)."""
    return search.IndexedDocument(
        id=document.pk,
        title=document.title,
        body=document.body,
        published=document.published,
        date_inferred=document.date_inferred,
        publication=document.publication.name if document.publication_id else None,
        persons=tuple(person.name for person in document.persons.all()),
        source_url=document.source_url,
        organisations=tuple(o.name for o in document.organisations.all()),
        places=tuple(place.name for place in document.places.all()),
        story=indexed_story(document),
        story_shared=indexed_story_shared(document),
    )


def indexed_from_memory(
    document: Document,
    publication: str | None,
    persons: Iterable[str] = (),
    organisations: Iterable[str] = (),
    places: Iterable[str] = (),
    story: int | None = None,
) -> search.IndexedDocument:
    """What :func:`to_indexed` reads back for a document just saved, from the values in hand:
    ``publication`` and the entity names as given to the save (normalised and ordered by name
    as they are stored and read), and ``story`` as :func:`indexed_story` gives it, so a large
    import need not read its documents back."""

    def names(values: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted({normalise_name(n) for n in values if n.strip()} - {""}))

    return search.IndexedDocument(
        id=document.pk,
        title=document.title,
        body=document.body,
        published=document.published,
        date_inferred=document.date_inferred,
        publication=normalise_name(publication) if publication else None,
        persons=names(persons),
        source_url=document.source_url,
        organisations=names(organisations),
        places=names(places),
        story=story,
        story_shared=indexed_story_shared(document) if story is not None else False,
    )


def documents_for_index(queryset=None) -> Iterator[search.IndexedDocument]:
    """Every document of ``queryset`` (default: all) as index documents, read in batches.

    Read as plain rows, a few queries a batch (the documents, each relation's names in name
    order, which of their stories have copies), not as model instances: a rebuild reads the
    whole archive, and building instances with prefetched relations was most of its reading
    time. Gives what :func:`to_indexed` gives for each document."""
    queryset = queryset if queryset is not None else Document.objects.all()
    # The ids first (a few MB for a million documents): no cursor stays open across batches.
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH_SIZE):
        yield from _indexed_rows(ids[start : start + BATCH_SIZE])


def _indexed_rows(ids: list[int]) -> Iterator[search.IndexedDocument]:
    rows = list(
        Document.objects.filter(pk__in=ids)
        .order_by("pk")
        .values_list(
            "pk",
            "title",
            "body",
            "published",
            "date_inferred",
            "publication__name",
            "source_url",
            "story_id",
        )
    )
    names: dict[str, dict[int, list[str]]] = {}
    for relation, target in (
        ("persons", "person"),
        ("organisations", "organisation"),
        ("places", "place"),
    ):
        through = getattr(Document, relation).through
        by_document: dict[int, list[str]] = {}
        linked = (
            through.objects.filter(document_id__in=ids)
            .order_by(f"{target}__name")
            .values_list("document_id", f"{target}__name")
        )
        for doc_id, name in linked:
            by_document.setdefault(doc_id, []).append(name)
        names[relation] = by_document
    stories = {row[7] for row in rows if row[7] is not None}
    shared = set(
        Document.objects.filter(story_id__in=stories)
        .values("story_id")
        .annotate(members=Count("pk"))
        .filter(members__gt=1)
        .values_list("story_id", flat=True)
    )
    for pk, title, body, published, inferred, publication, url, story in rows:
        yield search.IndexedDocument(
            id=pk,
            title=title,
            body=body,
            published=published,
            date_inferred=inferred,
            publication=publication,
            persons=tuple(names["persons"].get(pk, ())),
            source_url=url,
            organisations=tuple(names["organisations"].get(pk, ())),
            places=tuple(names["places"].get(pk, ())),
            story=story,
            story_shared=story in shared,
        )


def reindex(document_ids: Iterable[int]) -> None:
    """Write the committed state of these documents to the index; ids no longer in the
    database are removed from it. The caller holds the write lock."""
    ids = sorted(set(document_ids))
    for start in range(0, len(ids), BATCH_SIZE):
        batch = ids[start : start + BATCH_SIZE]
        docs = list(documents_for_index(Document.objects.filter(pk__in=batch)))
        found = {doc.id for doc in docs}
        search.update_documents(docs, delete_ids=[i for i in batch if i not in found])


# --- The outbox ------------------------------------------------------------------------------

# How long a save waits for another writer before leaving its tasks to it (seconds). Waiting is
# never needed for correctness (the lock holder applies what it finds after releasing).
APPLY_WAIT = 0.0
# How long a rebuild waits for the lock (appliers hold it for a batch at a time).
REBUILD_WAIT = 600.0


@dataclass
class ApplyResult:
    applied: int = 0  # tasks applied and deleted
    busy: bool = False  # another process held the lock; it applies what is left
    missing_index: bool = False  # no index to write to, none built: tasks kept for `rebuild_index`
    built: int | None = None  # the index was missing: built from the database, with this many


def schedule(document_ids: Iterable[int]) -> None:
    """Record that these documents must be reindexed, in the current transaction, and apply the
    outbox once it commits (at once outside a transaction)."""
    ids = sorted(set(document_ids))
    if not ids:
        return
    created = connection.ops.adapt_datetimefield_value(timezone.now())
    insert_rows(IndexTask, ("document_id", "created"), [(i, created) for i in ids])
    _local.dirty = True
    _local.waiting = getattr(_local, "waiting", 0) + len(ids)
    # One callback per call (a savepoint that rolls back discards its own callbacks); the first
    # to run applies everything pending and the rest return at once.
    transaction.on_commit(_after_commit)


def insert_rows(model, fieldnames: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert plain rows (link rows, mentions, outbox tasks) in one ``executemany``: for rows
    that need no model instance, no signal and no pk back, ``bulk_create`` spends most of a bulk
    import's database time building and compiling objects. Values must be ready for the
    database (what ``get_db_prep_save`` would give: ints, strings, bools)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fieldnames)
    marks = ", ".join(["%s"] * len(fieldnames))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 2000):
            cursor.executemany(sql, rows[start : start + 2000])


_local = threading.local()


@contextmanager
def deferred() -> Iterator[None]:
    """Changes committed inside wait in the outbox instead of reaching the index batch by batch:
    a bulk import that adds more than the archive holds ends with one rebuild (one index pass,
    in parallel), which then applies them. Nothing is lost if the process dies meanwhile: the
    tasks are committed with the documents and the next writer applies them."""
    previous = getattr(_local, "deferred", False)
    _local.deferred = True
    try:
        yield
    finally:
        _local.deferred = previous


# Inside coalesced(): the outbox is applied once it holds this many documents' tasks, or this
# many seconds after it was last applied, and when the block ends.
COALESCE_TASKS = 2000
COALESCE_SECONDS = 30.0


@contextmanager
def coalesced(tasks: int | None = None, seconds: float | None = None) -> Iterator[None]:
    """Changes committed inside reach the index in larger steps: when ``tasks`` documents wait,
    when ``seconds`` have passed since the last step (by default ``COALESCE_TASKS`` and
    ``COALESCE_SECONDS``), and when the block ends. An import of thousands of documents into an
    archive larger than itself (so not one rebuild, see :func:`deferred`) would otherwise write,
    commit and merge a small index segment after each batch of 256: most of the time its main
    process spent outside the model. As with :func:`deferred`, nothing waits anywhere but in
    the committed outbox."""
    previous = getattr(_local, "coalesce", None)
    _local.coalesce = (tasks or COALESCE_TASKS, seconds or COALESCE_SECONDS)
    _local.waiting, _local.applied_at = 0, time.monotonic()
    completed = False
    try:
        yield
        completed = True
    finally:
        _local.coalesce = previous
        # A block left by an exception (an interrupted import) leaves its tasks to the next
        # writer, as a process that dies does.
        if completed and previous is None and _local.waiting:
            _local.waiting = 0
            _local.dirty = True
            if connection.in_atomic_block:
                transaction.on_commit(_after_commit)
            else:
                _after_commit()


def _after_commit() -> None:
    if not getattr(_local, "dirty", False) or getattr(_local, "deferred", False):
        return
    coalesce = getattr(_local, "coalesce", None)
    if coalesce is not None:
        tasks, seconds = coalesce
        if _local.waiting < tasks and time.monotonic() - _local.applied_at < seconds:
            return  # applied later: the block's end, or a later commit past a threshold
        _local.waiting, _local.applied_at = 0, time.monotonic()
    _local.dirty = False
    try:
        apply_pending(wait=APPLY_WAIT)
    except search.IndexUnavailable as exc:
        # The change is committed and its tasks are in the outbox; only the index lags.
        logger.warning("The search index is unavailable; changes wait in the outbox. %s", exc)
    except Exception:
        logger.exception(
            "Could not update the search index now; the changes wait in the outbox and are "
            "applied by the next writer or `python manage.py apply_index_tasks`."
        )


def pending_count() -> int:
    return IndexTask.objects.count()


def _index_absent() -> bool:
    """No index at all: nothing at the index path (or a dangling symlink), or an empty directory.

    Only this is built afresh. A directory that holds files but no readable table of contents is a
    damaged index, not a missing one: rebuilding it silently could hide what damaged it, so it
    stays a 503 naming the repair command (``check_index --repair`` or ``rebuild_index``).
    """
    return search.index_absent()


def _build_missing_locked() -> tuple[int, int]:
    """Build the missing index from the whole database; the caller holds the write lock.

    Not an empty index with only the outbox applied: documents already in the database but not in
    the outbox (the index was deleted, or the documents were loaded while it was missing) would be
    silently absent from search. The build goes to a new directory swapped in at the end, so a
    build that is killed leaves no partial index behind and the next write starts again.
    The tasks visible before the build are covered by it (it reads the state they committed) and
    are deleted; tasks that arrive meanwhile are applied after it by the usual drain. Returns the
    documents written and the tasks the build covered.
    """
    logger.info("No search index: building it from the database.")
    return _rebuild_locked()


def _rebuild_locked(progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Build a new index from the whole database and swap it in; the caller holds the write lock.

    The outbox tasks visible before the build are covered by it (it reads the state they
    committed) and are deleted, not applied again; tasks that arrive meanwhile have higher ids
    and are applied after it. Returns the documents written and the tasks covered.
    """
    last = IndexTask.objects.order_by("-id").values_list("id", flat=True).first() or 0
    written = search.rebuild_index(documents_for_index(), progress=progress)
    covered, _ = IndexTask.objects.filter(id__lte=last).delete()
    return written, covered


def _drain_locked(limit: int | None = None, build_missing: bool = True) -> ApplyResult:
    """Apply pending tasks in id order; the caller holds the write lock.

    With no index at all (``build_missing``), first build it from the whole database: the
    embedded index needs no setup step, so the first write (``loaddata``, ``ingest``, a save)
    makes every document searchable.
    """
    result = ApplyResult()
    if not search.index_exists():
        if not (build_missing and _index_absent()):
            result.missing_index = True
            logger.warning(
                "No readable search index: %s changes wait in the outbox; run `%s`.",
                pending_count(),
                search.REPAIR_COMMAND,
            )
            return result
        result.built, result.applied = _build_missing_locked()
    while limit is None or result.applied < limit:
        size = BATCH_SIZE if limit is None else min(BATCH_SIZE, limit - result.applied)
        rows = list(IndexTask.objects.order_by("id").values_list("id", "document_id")[:size])
        if not rows:
            break
        reindex(document_id for _, document_id in rows)
        # Only the tasks read above: a task written meanwhile (a newer change) stays for later.
        IndexTask.objects.filter(id__in=[task_id for task_id, _ in rows]).delete()
        result.applied += len(rows)
    return result


def apply_pending(wait: float | None = APPLY_WAIT, build_missing: bool = True) -> ApplyResult:
    """Apply the outbox to the index, unless another writer holds the lock for ``wait`` seconds
    (``None``: wait for it), in which case that writer applies it. A missing index is first
    built from the whole database (``build_missing``; see ``_drain_locked``).

    After releasing the lock, looks once more: a save whose attempt failed while we held the lock
    committed before trying, so its tasks are visible now, and they are applied here.
    """
    total = ApplyResult()
    while True:
        with search.write_lock(timeout=wait) as acquired:
            if not acquired:
                total.busy = True
                return total
            result = _drain_locked(build_missing=build_missing)
        total.applied += result.applied
        if result.built is not None:
            total.built = result.built
        if result.missing_index:
            total.missing_index = True
            return total
        if not IndexTask.objects.exists():
            return total
        wait = 0.0


def rebuild(progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the index from the database (into a new directory, swapped in), then apply the
    changes that arrived while it ran. Returns how many documents the new index holds."""
    with search.write_lock(timeout=REBUILD_WAIT) as acquired:
        if not acquired:
            raise search.IndexUnavailable(
                f"Another process held the index's write lock for {REBUILD_WAIT:.0f} s."
            )
        written, _ = _rebuild_locked(progress)
        _drain_locked()
    apply_pending(wait=0.0)
    return written


class StreamedRebuild:
    """A rebuild that a large import feeds as it saves: the new index is written from the
    documents in hand, in a thread (its build processes on the other cores), while the import
    goes on, instead of reading the whole archive back once it ends.

    :meth:`start` takes the write lock (held to :meth:`finish`, as a rebuild holds it: other
    writers' changes wait in the outbox meanwhile), feeds what the database holds then, and
    starts the build. :meth:`add` feeds a committed batch with the outbox tasks it wrote, which
    the new index covers. :meth:`finish` commits the build, swaps it in, deletes exactly the
    tasks it covered and applies the rest (changes by others, or made after the batch was fed,
    e.g. by the resolution pass). A build that fails or is abandoned leaves every task in the
    outbox and the old index serving, as a killed rebuild does; ``finish`` then falls back to
    :func:`rebuild`.
    """

    # Batches waiting for the build thread: the import runs at most this far ahead of it.
    QUEUE_BATCHES = 4

    def __init__(self, progress: Callable[[int], None] | None = None) -> None:
        self.progress = progress
        self._queue: queue.Queue = queue.Queue(self.QUEUE_BATCHES)
        self._stack = ExitStack()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._written = 0
        self._fed = 0
        self._last_task = 0  # tasks up to this id are covered by the database read at start
        self._covered: list[tuple[int, int, list[int]]] = []  # (after id, up to id, documents)

    @staticmethod
    def available() -> bool:
        """Documents are fed as saved, with names ordered as SQLite reads them back (by code
        point); other databases collate otherwise, so they rebuild from the database at the end."""
        from django.db import connection

        return connection.vendor == "sqlite"

    def start(self, wait: float | None = None) -> StreamedRebuild:
        """Take the write lock (waiting up to ``wait`` seconds, by default ``REBUILD_WAIT``),
        feed what the database holds, and start the build."""
        wait = REBUILD_WAIT if wait is None else wait
        acquired = self._stack.enter_context(search.write_lock(timeout=wait))
        if not acquired:
            self._stack.close()
            raise search.IndexUnavailable(
                f"Another process held the index's write lock for {wait:.0f} s."
            )
        try:
            self._last_task = (
                IndexTask.objects.order_by("-id").values_list("id", flat=True).first() or 0
            )
            self._thread = threading.Thread(target=self._build, name="index-build", daemon=True)
            self._thread.start()
            batch: list[search.IndexedDocument] = []
            for doc in documents_for_index():
                batch.append(doc)
                if len(batch) >= BATCH_SIZE:
                    self._put(batch)
                    batch = []
            if batch:
                self._put(batch)
        except BaseException:
            self.abandon()
            raise
        return self

    @staticmethod
    def task_mark() -> int:
        """The newest outbox task's id; read inside a batch's transaction before and after it
        writes, these bound the tasks the batch wrote (a SQLite transaction here is IMMEDIATE:
        nobody else writes in between)."""
        return IndexTask.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def add(self, docs: list[search.IndexedDocument], tasks_after: int, tasks_upto: int) -> None:
        """Feed documents created by a committed batch, as committed (a document is fed once:
        one the pass may hold already is left to its outbox task); the outbox tasks of these
        documents with ids in (``tasks_after``, ``tasks_upto``] were written with them."""
        if not docs:
            return
        self._covered.append((tasks_after, tasks_upto, [doc.id for doc in docs]))
        self._put(docs)

    def _put(self, docs: list[search.IndexedDocument]) -> None:
        while self._error is None:
            try:
                self._queue.put(docs, timeout=0.5)
            except queue.Full:
                continue
            self._fed += len(docs)
            return
        # The build failed: stop feeding it; finish() rebuilds from the database.

    def _documents(self) -> Iterator[search.IndexedDocument]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if item is _ABANDON:
                raise _Abandoned
            yield from item

    def _build(self) -> None:
        try:
            self._written = search.rebuild_index(self._documents())
        except BaseException as exc:  # reported by finish(); the outbox keeps every task
            self._error = exc
            with suppress(queue.Empty):  # unblock a feeder waiting for room
                while True:
                    self._queue.get_nowait()

    def _send(self, item) -> None:
        while self._thread is not None and self._thread.is_alive():
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def finish(self) -> int:
        """Commit and swap in the new index, then apply what it does not cover; returns how
        many documents it holds."""
        try:
            if self.progress is not None:
                self.progress(self._fed)
            self._send(_END)
            self._thread.join()
            if self._error is not None:
                if not isinstance(self._error, Exception):
                    raise self._error
                logger.warning(
                    "Writing the index during the import failed (%s); rebuilding it from the "
                    "database.",
                    self._error,
                )
            else:
                IndexTask.objects.filter(id__lte=self._last_task).delete()
                for after, upto, ids in self._covered:
                    IndexTask.objects.filter(
                        id__gt=after, id__lte=upto, document_id__in=ids
                    ).delete()
                _drain_locked()
        finally:
            self._stack.close()
        if self._error is not None:
            return rebuild(progress=self.progress)
        apply_pending(wait=0.0)
        return self._written

    def abandon(self) -> None:
        """Stop the build and leave the old index (the outbox keeps every task); releases the
        lock."""
        try:
            if self._thread is not None:
                self._send(_ABANDON)
                self._thread.join()
        finally:
            self._stack.close()


class _Abandoned(Exception):
    """An import that fed a streamed rebuild stopped: the build is cancelled."""


_END = object()
_ABANDON = object()


@dataclass
class Drift:
    """How the index differs from the database (ids sorted)."""

    database: int = 0
    indexed: int = 0
    missing: list[int] = field(default_factory=list)  # in the database, not in the index
    extra: list[int] = field(default_factory=list)  # in the index, not in the database
    stale: list[int] = field(default_factory=list)  # in both, but the index holds other content
    unavailable: str = ""  # the index is missing or unreadable: only a rebuild helps
    outdated: str = ""  # built by an older version (another analyzer): only a rebuild helps
    # Changes that waited in the outbox, applied before comparing (a save while a cluster's
    # shard was down, a process that died); and those that still wait (the index refused them).
    applied: int = 0
    waiting: int = 0

    @property
    def ok(self) -> bool:
        return not (
            self.missing
            or self.extra
            or self.stale
            or self.unavailable
            or self.outdated
            or self.waiting
        )

    @property
    def needs_rebuild(self) -> bool:
        return bool(self.unavailable or self.outdated)

    @property
    def ids(self) -> list[int]:
        return sorted({*self.missing, *self.extra, *self.stale})


def _compare_locked() -> Drift:
    drift = Drift()
    try:
        indexed = search.index_digests()
        drift.outdated = search.outdated_analysis()
    except search.EngineDown:
        raise  # servers down, not the index: nothing to compare, nothing to repair
    except search.IndexUnavailable as exc:
        drift.unavailable = str(exc)
        drift.database = Document.objects.count()
        return drift
    drift.indexed = sum(len(digests) for digests in indexed.values())
    for doc in documents_for_index():
        drift.database += 1
        digests = indexed.pop(doc.id, None)
        if digests is None:
            drift.missing.append(doc.id)
        elif digests != [search.document_digest(doc)]:
            drift.stale.append(doc.id)  # other content, or the id indexed twice
    drift.extra = sorted(indexed)
    return drift


def check(repair: bool = False) -> tuple[Drift, Drift | None]:
    """Compare the index with the database (after applying the outbox, so changes in flight are
    not reported); with ``repair``, reindex exactly the documents that differ, or rebuild an
    index that is missing, unreadable or built by an older version. Returns the drift found
    and, after a repair, the drift left (which should be none)."""
    with search.write_lock(timeout=REBUILD_WAIT) as acquired:
        if not acquired:
            raise search.IndexUnavailable("Another process held the index's write lock too long.")
        applied = 0
        if search.index_exists():
            with suppress(search.IndexUnavailable):  # unreadable: the comparison says so
                applied = _drain_locked().applied
        drift = _compare_locked()
        drift.applied, drift.waiting = applied, pending_count()
        if not repair or drift.ok:
            return drift, None
        if not drift.needs_rebuild:
            reindex(drift.ids)
            return drift, _compare_locked()
    rebuild()
    with search.write_lock(timeout=REBUILD_WAIT):
        return drift, _compare_locked()


@contextmanager
def atomic_with_index() -> Iterator[None]:
    """A transaction whose documents reach the index right after it commits.

    Used by ingest: the documents and their outbox tasks commit together, so a document that was
    saved (and reported as created) is in the index once the outbox is applied, by this process
    just after the commit or, if it dies first, by the next writer.
    """
    with transaction.atomic():
        yield


# A change that could not reach the index when it was saved (a cluster's shard or mirror was
# down, a process died before applying it) waits in the outbox. The web process looks for tasks
# older than STALE_SECONDS (longer than an import's own coalesced step, COALESCE_SECONDS, which
# the import applies itself) at most every RETRY_SECONDS, and applies the outbox in a thread of
# its own (a shard that hangs must not hold a request): a shard that comes back gets the edits
# it missed without waiting for another save.
RETRY_SECONDS = 10.0
STALE_SECONDS = COALESCE_SECONDS + RETRY_SECONDS
_retry = threading.Lock()
_next_retry = 0.0


def _drain_at_first_request(**kwargs) -> None:
    """The web process applies what an earlier process left in the outbox (a crash, a busy
    index) at its first request, then, at later requests, the tasks left waiting longer than
    ``STALE_SECONDS`` (:func:`_retry_waiting`). A request is not a write: it does not build a
    missing index (that would hold the request, and fork build processes from a threaded web
    worker); the 503 page names the command, and the next save builds it."""
    global _next_retry
    request_started.disconnect(_drain_at_first_request, dispatch_uid=_FIRST_REQUEST_UID)
    request_started.connect(_retry_waiting, dispatch_uid=_RETRY_UID)
    _next_retry = time.monotonic() + RETRY_SECONDS
    try:
        apply_pending(wait=0.0, build_missing=False)
    except (DatabaseError, search.IndexUnavailable):
        logger.warning("Could not apply the index outbox at start-up.", exc_info=True)


def _retry_waiting(**kwargs) -> None:
    """At most every ``RETRY_SECONDS``, start one thread that applies the outbox if a task has
    waited ``STALE_SECONDS`` (the request goes on at once; no second thread while one runs)."""
    global _next_retry
    if time.monotonic() < _next_retry or not _retry.acquire(blocking=False):
        return
    _next_retry = time.monotonic() + RETRY_SECONDS
    threading.Thread(target=_apply_stale, name="index-outbox-retry", daemon=True).start()


def _apply_stale() -> None:
    try:
        cutoff = timezone.now() - dt.timedelta(seconds=STALE_SECONDS)
        if IndexTask.objects.filter(created__lte=cutoff).exists():
            result = apply_pending(wait=0.0, build_missing=False)
            if result.applied:
                logger.info("Applied %s index changes that had waited.", result.applied)
    except (DatabaseError, search.IndexUnavailable) as exc:
        logger.warning("Changes still wait in the index outbox: %s", exc)
    except Exception:
        logger.exception("Could not apply the index outbox; its changes wait for the next try.")
    finally:
        connection.close()  # this thread's own connection
        _retry.release()


_FIRST_REQUEST_UID = "archive.indexing.first_request"
_RETRY_UID = "archive.indexing.retry"


# --- Signal handlers -------------------------------------------------------------------------


def _document_saved(sender, instance: Document, **kwargs) -> None:
    schedule([instance.pk])


def _document_deleted(sender, instance: Document, **kwargs) -> None:
    schedule([instance.pk])


def _entities_changed(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    if action not in ("post_add", "post_remove", "post_clear", "pre_clear"):
        return
    if not reverse:
        schedule([instance.pk])
    elif action == "pre_clear":
        # person.documents.clear(): pk_set is None, so note the documents before they go.
        schedule(instance.documents.values_list("pk", flat=True))
    elif pk_set:
        schedule(pk_set)


def _entity_saved(sender, instance: NamedEntity, created: bool, **kwargs) -> None:
    if not created:
        schedule(instance.documents.values_list("pk", flat=True))


def _entity_deleting(sender, instance: NamedEntity, **kwargs) -> None:
    schedule(instance.documents.values_list("pk", flat=True))


def _publication_saved(sender, instance: Publication, created: bool, **kwargs) -> None:
    if not created:
        schedule(instance.documents.values_list("pk", flat=True))


def _publication_deleting(sender, instance: Publication, **kwargs) -> None:
    schedule(instance.documents.values_list("pk", flat=True))


def connect_signals() -> None:
    uid = "archive.indexing"
    post_save.connect(_document_saved, sender=Document, dispatch_uid=f"{uid}.doc_saved")
    post_delete.connect(_document_deleted, sender=Document, dispatch_uid=f"{uid}.doc_deleted")
    for kind, model in ENTITY_MODELS.items():
        # "persons", "organisations", "places": the document's side of each entity kind.
        through = getattr(Document, model._meta.get_field("documents").remote_field.name).through
        m2m_changed.connect(_entities_changed, sender=through, dispatch_uid=f"{uid}.{kind}s")
        post_save.connect(_entity_saved, sender=model, dispatch_uid=f"{uid}.{kind}_saved")
        pre_delete.connect(_entity_deleting, sender=model, dispatch_uid=f"{uid}.{kind}_deleting")
    post_save.connect(_publication_saved, sender=Publication, dispatch_uid=f"{uid}.pub_saved")
    pre_delete.connect(
        _publication_deleting, sender=Publication, dispatch_uid=f"{uid}.pub_deleting"
    )
    request_started.connect(_drain_at_first_request, dispatch_uid=_FIRST_REQUEST_UID)
