"""Background ingest jobs: an upload is stored and queued at once; a worker imports it.

Why: a 2,000-file zip held the admin's request for minutes, and a proxy cuts a request at 60 s.
Now the admin upload (and ``manage.py ingest --background``) stores the files under
``MEDIA_ROOT/jobs/<id>/``, creates an :class:`~archive.models.IngestJob` and enqueues
:func:`run_ingest_job` through Django's Tasks API (the ``django-tasks`` backport, database
backend: the database is the queue, no broker). ``manage.py db_worker`` runs it
(``make run`` and ``make serve`` start one).

The job works through its files in chunks, each through the one ingest pipeline
(:func:`archive.ingest.ingest`), and records every file's result in its own row
(:class:`~archive.models.IngestJobFile`) once the chunk is saved. So a worker killed mid-job
loses nothing:

- a running job whose heartbeat stopped (its worker died) is claimed again by the next worker
  that starts (``manage.py db_worker`` through :func:`requeue_stalled`) or by the job page's poll;
- it resumes with the files not yet recorded; a document that the dead worker had saved but not
  recorded comes back as a duplicate of itself, and is counted as created, since it was created
  after this job first began that file (``IngestJobFile.first_attempt``): never twice;
- every document reported as created was committed with its index tasks (the outbox), so it is
  searchable.

Cancelling takes effect between chunks; retrying queues the failed files again.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django_tasks import task

from archive import ingest
from archive.ingest import Outcome, SourceFile
from archive.models import Document, IngestJob, IngestJobFile

if TYPE_CHECKING:
    from archive.ingest.persons import NameBook

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0


def chunk_files() -> int:
    """Files per chunk: the unit that is saved and then recorded (and redone after a crash)."""
    return max(1, int(settings.ARCHIVE_JOB_CHUNK_FILES))


def stalled_after() -> timedelta:
    """A running job whose heartbeat is older than this has lost its worker."""
    return timedelta(seconds=float(settings.ARCHIVE_JOB_STALLED_SECONDS))


COUNTERS = ("created", "updated", "duplicate", "failed")


def jobs_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "jobs"


# --- Queueing ---------------------------------------------------------------------------------


def queue_uploads(
    uploads: Iterable,
    *,
    publication: str = "",
    extract_persons: bool = True,
    user=None,
) -> IngestJob:
    """Store uploaded files (Django ``UploadedFile``) in a new job and queue it. Fast: the files
    are only copied to the job's directory; nothing is read or parsed here."""
    with transaction.atomic():  # a job whose files could not all be stored is not kept
        job = IngestJob.objects.create(
            created_by=user if getattr(user, "is_authenticated", False) else None,
            publication=publication or "",
            extract_persons=extract_persons,
        )
        directory = jobs_dir() / str(job.pk)
        directory.mkdir(parents=True, exist_ok=True)
        stored = []
        try:
            for number, upload in enumerate(uploads):
                name = PurePosixPath(upload.name.replace("\\", "/")).name or f"upload-{number}"
                target = directory / f"{number:04d}-{name}"
                with target.open("wb") as out:
                    for chunk in upload.chunks():
                        out.write(chunk)
                stored.append({"name": name, "path": str(target), "size": target.stat().st_size})
        except BaseException:
            delete_files(job)
            raise
        job.uploads = stored
        job.save(update_fields=["uploads"])
        _enqueue(job)
    return job


def queue_paths(
    paths: Iterable[Path], *, publication: str = "", extract_persons: bool = True
) -> IngestJob:
    """A job for files and folders on this machine (``manage.py ingest --background``): they are
    read where they are, not copied, so they must stay until the job is done."""
    uploads = [
        {"name": str(path), "path": str(Path(path).resolve()), "size": None, "in_place": True}
        for path in paths
    ]
    job = IngestJob.objects.create(
        publication=publication or "", extract_persons=extract_persons, uploads=uploads
    )
    _enqueue(job)
    return job


def _enqueue(job: IngestJob) -> None:
    def send() -> None:
        result = run_ingest_job.enqueue(job.pk)
        IngestJob.objects.filter(pk=job.pk).update(task_id=str(result.id))

    transaction.on_commit(send)


def cancel(job: IngestJob) -> None:
    """Ask the job to stop: a queued job stops at once, a running one after its current chunk."""
    IngestJob.objects.filter(pk=job.pk).update(cancel_requested=True)
    stopped = IngestJob.objects.filter(pk=job.pk, status=IngestJob.Status.QUEUED).update(
        status=IngestJob.Status.CANCELLED, finished=timezone.now()
    )
    if stopped:
        job.files.filter(status=IngestJobFile.Status.PENDING).update(
            status=IngestJobFile.Status.CANCELLED
        )


def retryable(job: IngestJob) -> list[int]:
    """The job's files worth importing again: those it did not reach (cancelled), and failed
    ones whose failure may not recur (the database refused a batch, a worker's error), not a
    file that cannot be read (empty, binary, malformed, too large: ``ItemResult.lasting``)."""
    cancelled = job.files.filter(status=IngestJobFile.Status.CANCELLED)
    failed = job.files.filter(status=IngestJobFile.Status.FAILED).only("pk", "results")
    return [
        *cancelled.values_list("pk", flat=True),
        *(
            row.pk
            for row in failed.iterator(chunk_size=500)
            if any(r.get("outcome") == "failed" and not r.get("lasting") for r in row.results)
            or not row.results
        ),
    ]


def retry_failed(job: IngestJob) -> int:
    """Queue the job's cancelled files and its failed ones that may import now again; the
    number of files queued."""
    if job.active:
        return 0
    again = job.files.filter(pk__in=retryable(job))
    count = again.update(
        status=IngestJobFile.Status.PENDING,
        first_attempt=None,
        created_count=0,
        updated_count=0,
        duplicate_count=0,
        failed_count=0,
        results=[],
    )
    if count:
        _refresh_counts(job.pk)
        IngestJob.objects.filter(pk=job.pk).update(
            status=IngestJob.Status.QUEUED, cancel_requested=False, finished=None, message=""
        )
        IngestJob.objects.filter(pk=job.pk).update(
            files_read=job.files.filter(status=IngestJobFile.Status.DONE).count()
        )
        _enqueue(job)
    return count


def requeue_stalled() -> list[int]:
    """Queue again every running job whose worker stopped beating (killed, machine restarted):
    called when a worker starts and when a job page polls. Returns the jobs queued."""
    stalled = IngestJob.objects.filter(
        status=IngestJob.Status.RUNNING, heartbeat__lt=timezone.now() - stalled_after()
    )
    queued = []
    for job in stalled:
        # One of several pollers wins: the update is conditional on the stale heartbeat.
        won = IngestJob.objects.filter(
            pk=job.pk, status=IngestJob.Status.RUNNING, heartbeat=job.heartbeat
        ).update(status=IngestJob.Status.QUEUED)
        if won:
            _enqueue(job)
            queued.append(job.pk)
    return queued


# --- Running ----------------------------------------------------------------------------------


@task()
def run_ingest_job(job_id: int) -> str:
    """The task a worker runs: import one job's pending files (see the module docstring)."""
    return run_job(job_id)


def run_job(job_id: int) -> str:
    """Import the job's pending files; safe to call twice (the second claim fails)."""
    if not _claim(job_id):
        return "not claimed (done, cancelled, or running elsewhere)"
    job = IngestJob.objects.get(pk=job_id)
    with _heartbeat(job_id):
        try:
            _list_files(job)
            # The names the archive knew when the job began, for every chunk: each file gets
            # what one `manage.py ingest` of the whole upload would give it.
            known = ingest.known_persons()
            pending = {
                row.position: row for row in job.files.filter(status=IngestJobFile.Status.PENDING)
            }
            chunk: list[tuple[IngestJobFile, SourceFile]] = []
            # One pass over the files, in chunks: memory stays flat however large the upload.
            for position, source in enumerate(_sources(job)):
                if position in pending:
                    chunk.append((pending[position], source))
                if len(chunk) >= chunk_files():
                    if _cancelled(job):
                        return "cancelled"
                    _run_chunk(job, chunk, known)
                    chunk = []
            if chunk:
                if _cancelled(job):
                    return "cancelled"
                _run_chunk(job, chunk, known)
        except Exception as exc:  # recorded on the job page; the files done stay done
            logger.exception("Ingest job %s failed", job_id)
            IngestJob.objects.filter(pk=job_id).update(
                status=IngestJob.Status.FAILED,
                finished=timezone.now(),
                message=f"The job stopped: {type(exc).__name__}: {exc}",
            )
            return "failed"
    _finish(job, IngestJob.Status.DONE)
    return "done"


def _cancelled(job: IngestJob) -> bool:
    job.refresh_from_db(fields=["cancel_requested"])
    if job.cancel_requested:
        _finish(job, IngestJob.Status.CANCELLED)
    return job.cancel_requested


def _claim(job_id: int) -> bool:
    now = timezone.now()
    claimed = IngestJob.objects.filter(
        pk=job_id, status=IngestJob.Status.QUEUED, cancel_requested=False
    ).update(status=IngestJob.Status.RUNNING, heartbeat=now)
    if claimed:
        IngestJob.objects.filter(pk=job_id, started__isnull=True).update(started=now)
    return bool(claimed)


@contextmanager
def _heartbeat(job_id: int) -> Iterator[None]:
    """Beat in a thread while the job runs: a job whose beat stops has lost its worker."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(min(HEARTBEAT_SECONDS, stalled_after().total_seconds() / 4)):
                try:
                    IngestJob.objects.filter(pk=job_id).update(heartbeat=timezone.now())
                except Exception:  # a locked database for a moment: the next beat tries again
                    logger.warning("Heartbeat of job %s missed", job_id, exc_info=True)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"ingest-job-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=HEARTBEAT_SECONDS * 2)


def _sources(job: IngestJob) -> Iterator[SourceFile]:
    """Every file of the job, in a fixed order (a zip gives its members), read lazily."""
    for upload in job.uploads:
        path = Path(upload["path"])
        if upload.get("in_place"):
            yield from ingest.from_paths([path])
        elif not path.exists():
            yield SourceFile(upload["name"], error="The uploaded file is gone.")
        else:
            yield from _from_stored(upload["name"], path)


def _from_stored(name: str, path: Path) -> Iterator[SourceFile]:
    """An uploaded file as stored in the job's directory, reported under its uploaded name."""

    @contextmanager
    def reopen():
        with path.open("rb") as stream:
            yield stream

    size = path.stat().st_size
    with path.open("rb") as stream:
        yield from ingest.from_stream(name, stream, size=size, reopen=reopen, disk_bytes=size)


def _list_files(job: IngestJob) -> None:
    """One row per file, the first time the job runs (a resumed job has them already)."""
    if job.files.exists():
        return
    rows = (
        IngestJobFile(job=job, position=position, name=source.name[:1000])
        for position, source in enumerate(_sources(job))
    )
    total = 0
    while batch := [row for _, row in zip(range(500), rows, strict=False)]:
        IngestJobFile.objects.bulk_create(batch)
        total += len(batch)
    IngestJob.objects.filter(pk=job.pk).update(files_total=total)


def _run_chunk(
    job: IngestJob, pairs: list[tuple[IngestJobFile, SourceFile]], known: NameBook
) -> None:
    """Import one chunk of files, then record each file's result (one transaction)."""
    chunk = [row for row, _ in pairs]
    now = timezone.now()
    for row in chunk:  # the rows were read just before: their attempts are up to date
        row.first_attempt = row.first_attempt or now
        row.attempts += 1
    IngestJobFile.objects.bulk_update(chunk, ["first_attempt", "attempts"])
    base = _refresh_counts(job.pk)
    done_before = IngestJob.objects.values_list("files_done", flat=True).get(pk=job.pk)

    def progress(report) -> None:
        counts = report.counts
        IngestJob.objects.filter(pk=job.pk).update(
            heartbeat=timezone.now(),
            files_read=done_before + min(report.files + len(report.left_out), len(chunk)),
            **{f"{c}_count": base[c] + counts[Outcome(c)] for c in COUNTERS},
        )

    report = ingest.ingest(
        [source for _, source in pairs],
        publication=job.publication or None,
        extract_persons=job.extract_persons,
        on_file=progress,
        resolve=False,  # once, at the job's end (_resolve_pending), as a single import does
        known=known,
    )
    results = _attribute(chunk, report.items)
    left_out = {row.pk for row, source in pairs if source.left_out}
    _own_earlier_saves(chunk, results)
    with transaction.atomic():
        for row in chunk:
            items = results[row.pk]
            for counter in COUNTERS:
                setattr(row, f"{counter}_count", sum(i["outcome"] == counter for i in items))
            row.results = items
            row.status = (
                IngestJobFile.Status.FAILED
                if row.failed_count and not (row.created_count or row.updated_count)
                else IngestJobFile.Status.DONE
            )
            if not items and row.pk in left_out:
                message = "A README or licence of the upload, not an article: left out."
                row.results = [{"source": row.name, "outcome": "left out", "message": message}]
            elif not items:
                row.results = [{"source": row.name, "outcome": "failed", "message": "No text."}]
                row.failed_count, row.status = 1, IngestJobFile.Status.FAILED
        IngestJobFile.objects.bulk_update(
            chunk, ["status", "results", *(f"{c}_count" for c in COUNTERS)]
        )
        if report.pending_documents or report.pending_names:
            pending = IngestJob.objects.get(pk=job.pk).pending_resolution or {}
            IngestJob.objects.filter(pk=job.pk).update(
                pending_resolution={
                    "documents": sorted(
                        set(pending.get("documents", ())) | report.pending_documents
                    ),
                    "names": sorted(set(pending.get("names", ())) | report.pending_names),
                    "created": pending.get("created", 0) + report.pending_created,
                }
            )
        _refresh_counts(job.pk)
    close_old_connections()


def _attribute(chunk: list[IngestJobFile], items) -> dict[int, list[dict]]:
    """Each item of a chunk's report to its file: a record's source is "<file> line 7"."""
    by_name = sorted(chunk, key=lambda row: len(row.name), reverse=True)
    results: dict[int, list[dict]] = {row.pk: [] for row in chunk}
    for item in items:
        row = next(
            (r for r in by_name if item.source == r.name or item.source.startswith(r.name + " ")),
            None,
        )
        if row is None:  # "(remaining files)": the import stopped; every file not done fails
            for other in chunk:
                if not results[other.pk]:
                    results[other.pk].append(_item_dict(item))
            continue
        results[row.pk].append(_item_dict(item))
    for items_of_a_file in results.values():
        # A bulk file's records in its order: a record found stored before the model ran is
        # reported before those still in extraction.
        items_of_a_file.sort(key=_line_number)
    return results


_LINE = re.compile(r" line (\d+)$")


def _line_number(item: dict) -> int:
    found = _LINE.search(item["source"])
    return int(found.group(1)) if found else 0


def _item_dict(item) -> dict:
    return {
        "source": item.source,
        "outcome": str(item.outcome),
        "message": item.message,
        "document_id": item.document_id,
        "title": item.title,
        "lasting": item.lasting,
    }


def _own_earlier_saves(chunk: list[IngestJobFile], results: dict[int, list[dict]]) -> None:
    """A file tried before (its worker died) may find its own documents as duplicates: those
    created since this job first began the file are counted as created, as they were."""
    for row in chunk:
        if row.attempts < 2 or row.first_attempt is None:
            continue
        ids = [
            i["document_id"]
            for i in results[row.pk]
            if i["outcome"] == "duplicate" and i["document_id"]
        ]
        own = set(
            Document.objects.filter(pk__in=ids, created__gte=row.first_attempt).values_list(
                "pk", flat=True
            )
        )
        for item in results[row.pk]:
            if item["outcome"] == "duplicate" and item["document_id"] in own:
                item["outcome"] = "created"
                item["message"] = "Created by this job before its worker restarted."


def _refresh_counts(job_id: int) -> dict[str, int]:
    """The job's counters from its recorded files (the truth after any crash)."""
    done = IngestJobFile.objects.filter(job_id=job_id).exclude(
        status__in=[IngestJobFile.Status.PENDING, IngestJobFile.Status.CANCELLED]
    )
    sums = done.aggregate(**{c: Sum(f"{c}_count") for c in COUNTERS})
    counts = {c: sums[c] or 0 for c in COUNTERS}
    files_done = done.count()
    IngestJob.objects.filter(pk=job_id).update(
        files_done=files_done, **{f"{c}_count": counts[c] for c in COUNTERS}
    )
    IngestJob.objects.filter(pk=job_id, files_read__lt=files_done).update(files_read=files_done)
    return counts


def _resolve_pending(job: IngestJob) -> None:
    """The archive-level resolution pass that ends an import, once for the whole job: names in
    early chunks are weighed with the evidence of the whole upload, as in `manage.py ingest`."""
    pending = IngestJob.objects.get(pk=job.pk).pending_resolution or {}
    if not (pending.get("documents") or pending.get("names")):
        return
    IngestJob.objects.filter(pk=job.pk).update(
        message="Resolving names against the whole archive…", heartbeat=timezone.now()
    )
    ingest.resolve_pending(
        pending.get("documents", ()), pending.get("names", ()), pending.get("created", 0)
    )
    IngestJob.objects.filter(pk=job.pk).update(pending_resolution={})


def _finish(job: IngestJob, status: str) -> None:
    _resolve_pending(job)
    if status == IngestJob.Status.CANCELLED:
        job.files.filter(status=IngestJobFile.Status.PENDING).update(
            status=IngestJobFile.Status.CANCELLED
        )
    _refresh_counts(job.pk)
    # The page shows the counts; the message says only what they do not.
    message = "Cancelled by an editor." if status == IngestJob.Status.CANCELLED else ""
    IngestJob.objects.filter(pk=job.pk).update(
        status=status, finished=timezone.now(), message=message
    )
    if (
        status == IngestJob.Status.DONE
        and not job.files.exclude(status=IngestJobFile.Status.DONE).exists()
    ):
        delete_files(job)


def delete_files(job: IngestJob) -> None:
    """Remove the job's stored uploads: when every file is done (nothing left to retry; a
    scan's document keeps its own copy of the original), or when the job record is deleted.
    A job with failed or cancelled files keeps them, so that they can be retried."""
    shutil.rmtree(jobs_dir() / str(job.pk), ignore_errors=True)


def time_left(job: IngestJob) -> str:
    """ "about 12 minutes left", from the pace so far (files per second since the job started);
    "" before there is a pace to go by."""
    if not job.active or not job.started or not job.files_done or not job.files_total:
        return ""
    elapsed = (timezone.now() - job.started).total_seconds()
    seconds = (job.files_total - job.files_done) * elapsed / job.files_done
    if seconds < 60:
        return "less than a minute left"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"about {minutes} minute{'s' if minutes != 1 else ''} left"
    return f"about {seconds / 3600:.1f} hours left"
