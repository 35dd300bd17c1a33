"""Background ingest jobs (archive/jobs.py): the admin upload queues a job and answers at once;
a worker imports it with per-file results, progress, cancel and retry; a worker killed with
``kill -9`` mid-job loses nothing and creates nothing twice.

Real parts throughout: the database queue of django-tasks-db, the real pipeline and index, and
in the kill test real ``manage.py worker`` processes on a throwaway archive.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import time
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from archive import jobs, search
from archive.models import Document, IngestJob, IngestJobFile
from tests.test_concurrency import Archive

WORDS = (
    "harbour council budget railway election flood museum festival hospital school bridge "
    "river market factory court orchestra library airport stadium theatre"
).split()


def article(number: int) -> str:
    """A distinct small article: its own headline and a body no other shares."""
    words = " ".join(WORDS[(number + k) % len(WORDS)] for k in range(12))
    return (
        f"Story number {number} about the {WORDS[number % len(WORDS)]}\n\n"
        f"The {words} report {number} was published today. "
        f"Officials said item {number * 7919} would be reviewed next week."
    )


def zip_of(count: int, broken: int = 0) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number in range(count):
            archive.writestr(f"articles/{number:04d}.txt", article(number))
        for number in range(broken):
            archive.writestr(f"articles/broken-{number}.pdf", b"not a pdf at all")
    return buffer.getvalue()


@pytest.fixture
def editor(admin_client):
    return admin_client


def upload(client, name: str, data: bytes, **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("admin:archive_document_upload"),
        {"files": [SimpleUploadedFile(name, data)], "extract_persons": "", **fields},
    )


def run_worker() -> None:
    """What `manage.py worker` does, in this process: run every queued task, then stop."""
    call_command("worker", batch=True, reload=False, startup_delay=False, verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_upload_answers_at_once_with_the_job_page_and_a_worker_imports_it(editor):
    response = upload(editor, "batch.zip", zip_of(5, broken=1), publication="The Courier")
    job = IngestJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:archive_ingestjob_change", args=[job.pk])
    # Nothing is read in the request: the job waits for a worker, its task is in the queue.
    assert Document.objects.count() == 0
    assert job.status == IngestJob.Status.QUEUED
    assert DBTaskResult.objects.filter(id=job.task_id).exists()
    page = editor.get(response["Location"])
    assert b"Waiting for a worker" in page.content
    assert b'hx-trigger="every 1s"' in page.content

    run_worker()

    job.refresh_from_db()
    assert job.status == IngestJob.Status.DONE
    assert (job.files_total, job.files_done) == (6, 6)
    assert (job.created_count, job.failed_count) == (5, 1)
    assert Document.objects.filter(publication__name="The Courier").count() == 5
    # Every document reported as created is searchable.
    assert search.search(search.SearchRequest(q="officials", copies="all")).total == 5
    page = editor.get(reverse("admin:archive_ingestjob_change", args=[job.pk]))
    text = page.content.decode()
    assert "6 of 6 files" in text and "5 documents created" in text
    assert "1 file or record failed" in text
    assert "batch.zip/articles/broken-0.pdf" in text and "Not a PDF" in text
    assert 'hx-trigger="every 1s"' not in text  # done: the page stops polling
    file_row = IngestJobFile.objects.get(job=job, name="batch.zip/articles/0000.txt")
    assert file_row.results[0]["outcome"] == "created"
    assert (
        file_row.results[0]["document_id"]
        == Document.objects.get(title__startswith="Story number 0 ").pk
    )


@pytest.mark.django_db(transaction=True)
def test_an_uploaded_zips_readme_is_listed_as_left_out_not_failed(editor):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("articles/0000.txt", article(0))
        archive.writestr("articles/README.txt", "About these articles.")
    upload(editor, "with-readme.zip", buffer.getvalue())
    run_worker()
    job = IngestJob.objects.get()
    assert job.status == IngestJob.Status.DONE
    assert (job.files_total, job.files_done, job.created_count, job.failed_count) == (2, 2, 1, 0)
    readme = IngestJobFile.objects.get(job=job, name="with-readme.zip/articles/README.txt")
    assert readme.status == IngestJobFile.Status.DONE
    assert readme.results[0]["outcome"] == "left out"
    page = editor.get(reverse("admin:archive_ingestjob_change", args=[job.pk])).content.decode()
    assert '<tr class="result-left-out">' in page and "not an article: left out" in page
    assert Document.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_progress_partial_is_what_htmx_polls(editor):
    upload(editor, "one.txt", article(1).encode())
    job = IngestJob.objects.get()
    partial = editor.get(
        reverse("admin:archive_ingestjob_progress", args=[job.pk]), HTTP_HX_REQUEST="true"
    )
    assert partial.status_code == 200
    body = partial.content.decode()
    assert body.lstrip().startswith('<section id="job-progress"')
    assert "<html" not in body
    # The buttons are not in the polled section (a keyboard user's focus on "Cancel the job"
    # stays), and no section that changes every second is a live region.
    assert "Cancel the job" not in body and "aria-live" not in body
    page = editor.get(reverse("admin:archive_ingestjob_change", args=[job.pk])).content.decode()
    assert page.count("Cancel the job") == 1
    assert page.index("Cancel the job") > page.index("</section>")
    run_worker()
    body = editor.get(reverse("admin:archive_ingestjob_progress", args=[job.pk])).content.decode()
    assert "1 of 1 files" in body and "hx-trigger" not in body
    # The last poll replaces the buttons (none left to press) and says the job ended.
    assert 'id="job-actions" class="job-actions" hx-swap-oob="true"' in body
    assert "Cancel the job" not in body
    assert 'role="status" hx-swap-oob="true">Done</p>' in body


@pytest.mark.django_db(transaction=True)
def test_only_editors_see_or_change_jobs(client, editor, django_user_model):
    upload(editor, "one.txt", article(2).encode())
    job = IngestJob.objects.get()
    assert client.get(reverse("admin:archive_ingestjob_change", args=[job.pk])).status_code == 302
    assert client.post(reverse("admin:archive_ingestjob_cancel", args=[job.pk])).status_code == 302
    job.refresh_from_db()
    assert not job.cancel_requested  # the anonymous POST was sent to the login page


@pytest.mark.django_db(transaction=True)
def test_cancel_stops_between_chunks_and_retry_imports_the_rest(editor, settings):
    settings.ARCHIVE_JOB_CHUNK_FILES = 2
    upload(editor, "six.zip", zip_of(6))
    job = IngestJob.objects.get()
    real_run_chunk = jobs._run_chunk
    calls = []

    def cancel_after_first(job_arg, pairs, known):
        real_run_chunk(job_arg, pairs, known)
        calls.append(len(pairs))
        if len(calls) == 1:  # an editor presses Cancel while the first chunk runs
            editor.post(reverse("admin:archive_ingestjob_cancel", args=[job.pk]))

    jobs._run_chunk = cancel_after_first
    try:
        run_worker()
    finally:
        jobs._run_chunk = real_run_chunk
    job.refresh_from_db()
    assert job.status == IngestJob.Status.CANCELLED
    assert calls == [2]
    assert Document.objects.count() == 2  # what was imported stays imported
    assert job.files.filter(status=IngestJobFile.Status.CANCELLED).count() == 4
    page = editor.get(reverse("admin:archive_ingestjob_change", args=[job.pk])).content.decode()
    assert "Import the files the job did not reach" in page

    editor.post(reverse("admin:archive_ingestjob_retry", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == IngestJob.Status.QUEUED
    run_worker()
    job.refresh_from_db()
    assert job.status == IngestJob.Status.DONE
    assert (job.files_done, job.created_count, job.duplicate_count) == (6, 6, 0)
    assert Document.objects.count() == 6


@pytest.mark.django_db(transaction=True)
def test_a_queued_job_cancelled_never_runs(editor):
    upload(editor, "one.txt", article(3).encode())
    job = IngestJob.objects.get()
    jobs.cancel(job)
    run_worker()
    job.refresh_from_db()
    assert job.status == IngestJob.Status.CANCELLED
    assert Document.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_documents_saved_by_a_worker_that_died_before_recording_them_count_as_created(editor):
    """The window a kill can hit: a chunk's documents are committed, its files not yet recorded.
    The resumed job finds them as duplicates of themselves and counts them as created."""
    upload(editor, "two.zip", zip_of(2))
    job = IngestJob.objects.get()
    assert jobs._claim(job.pk)
    jobs._list_files(job)
    rows = list(job.files.order_by("position"))
    from django.utils import timezone

    IngestJobFile.objects.filter(job=job).update(first_attempt=timezone.now(), attempts=1)
    from archive import ingest

    ingest.ingest(list(jobs._sources(job)), extract_persons=False)  # saved, then "killed"
    assert Document.objects.count() == 2
    IngestJob.objects.filter(pk=job.pk).update(
        status=IngestJob.Status.QUEUED  # what requeue_stalled does for a silent heartbeat
    )
    assert jobs.run_job(job.pk) == "done"
    job.refresh_from_db()
    assert (job.created_count, job.duplicate_count, Document.objects.count()) == (2, 0, 2)
    assert [row.attempts for row in job.files.order_by("position")] == [2, 2]
    assert len(rows) == 2
    assert job.files.get(position=0).results[0]["message"].startswith("Created by this job")


@pytest.mark.django_db(transaction=True)
def test_requeue_stalled_picks_up_a_job_whose_heartbeat_stopped(editor, settings):
    settings.ARCHIVE_JOB_STALLED_SECONDS = 1
    upload(editor, "one.txt", article(5).encode())
    job = IngestJob.objects.get()
    from datetime import timedelta

    from django.utils import timezone

    IngestJob.objects.filter(pk=job.pk).update(
        status=IngestJob.Status.RUNNING, heartbeat=timezone.now() - timedelta(seconds=5)
    )
    assert jobs.requeue_stalled() == [job.pk]
    assert jobs.requeue_stalled() == []  # queued once
    # The job page's poll notices it too, and shows the job queued in that same answer.
    IngestJob.objects.filter(pk=job.pk).update(
        status=IngestJob.Status.RUNNING, heartbeat=timezone.now() - timedelta(seconds=5)
    )
    body = editor.get(reverse("admin:archive_ingestjob_progress", args=[job.pk])).content.decode()
    assert "<h2>Queued" in body and "Running" not in body
    run_worker()
    job.refresh_from_db()
    assert (job.status, job.created_count) == (IngestJob.Status.DONE, 1)


@pytest.mark.django_db(transaction=True)
def test_a_job_in_chunks_ends_resolved_against_the_whole_upload(editor, settings):
    """Names are resolved once at the job's end, with the evidence of every chunk: a surname in
    the first file joins the full name that only a later file gives, and a whole-archive pass
    afterwards changes nothing."""
    from archive.ingest import resolution

    settings.ARCHIVE_JOB_CHUNK_FILES = 1
    texts = [
        "Budget row deepens\n\nThe row over the budget deepened on Monday. Critics said "
        "Blair had misjudged the mood. Blair said the plan was fair.",
        "Prime minister defends plan\n\nTony Blair defended the budget plan in the Commons on "
        "Tuesday. Tony Blair said the critics were wrong.",
        "Opposition responds\n\nMichael Howard said Tony Blair had broken his promises. "
        "Tony Blair rejected the charge.",
    ]
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        for number, text in enumerate(texts):
            archive.writestr(f"{number}.txt", text)
    response = editor.post(
        reverse("admin:archive_document_upload"),
        {"files": [_uploaded("news.zip", bundle.getvalue())], "extract_persons": "on"},
    )
    assert response.status_code == 302
    run_worker()
    job = IngestJob.objects.get()
    assert (job.status, job.created_count, job.pending_resolution) == ("done", 3, {})
    first = Document.objects.get(title="Budget row deepens")
    assert [p.name for p in first.persons.all()] == ["Tony Blair"]
    assert resolution.resolve_archive().changed == 0


def _uploaded(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


@pytest.mark.django_db(transaction=True)
def test_ingest_background_queues_the_paths(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    for number in range(3):
        (folder / f"{number}.txt").write_text(article(10 + number))
    call_command("ingest", str(folder), "--background", "--no-persons", "--publication", "Wire")
    assert "Queued as upload job" in capsys.readouterr().out
    assert Document.objects.count() == 0
    run_worker()
    job = IngestJob.objects.get()
    assert (job.status, job.created_count) == (IngestJob.Status.DONE, 3)
    assert Document.objects.filter(publication__name="Wire").count() == 3


def test_kill_9_mid_job_loses_nothing_and_creates_nothing_twice(tmp_path):
    """A real worker process is killed with SIGKILL while it imports; a second worker resumes
    the job (its watch notices the silent heartbeat). Every file ends with one document, the
    counts say every one was created, and all are searchable."""
    files = 120
    archive = Archive(tmp_path / "data")
    archive.run("migrate", "--noinput")
    source = tmp_path / "upload"
    source.mkdir()
    for number in range(files):
        (source / f"{number:04d}.txt").write_text(article(number))
    env = {"ARCHIVE_JOB_CHUNK_FILES": "10", "ARCHIVE_JOB_STALLED_SECONDS": "3"}
    archive.run("ingest", str(source), "--background", "--no-persons", **env)
    database = tmp_path / "data" / "db.sqlite3"

    def job_row() -> tuple[str, int, int]:
        with sqlite3.connect(database, timeout=30) as db:
            return db.execute(
                "SELECT status, files_done, created_count FROM archive_ingestjob"
            ).fetchone()

    worker = archive.start("worker", "--no-reload", "--no-startup-delay", **env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status, done, _ = job_row()
        if status == "running" and 0 < done < files:
            break
        assert worker.poll() is None, worker.communicate()
        time.sleep(0.05)
    else:
        pytest.fail(f"the job never got going: {job_row()}")
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    status, done_at_kill, _ = job_row()
    assert status == "running" and done_at_kill < files

    second = archive.start("worker", "--no-reload", "--no-startup-delay", **env)
    try:
        deadline = time.monotonic() + 180
        while job_row()[0] != "done":
            assert time.monotonic() < deadline, f"not resumed: {job_row()}"
            assert second.poll() is None, second.communicate()
            time.sleep(0.2)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    status, done, created = job_row()
    assert (status, done, created) == ("done", files, files)
    with sqlite3.connect(database) as db:
        documents, distinct = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT content_hash) FROM archive_document"
        ).fetchone()
        duplicates = db.execute(
            "SELECT COALESCE(SUM(duplicate_count), 0) FROM archive_ingestjobfile"
        ).fetchone()[0]
    assert (documents, distinct, duplicates) == (files, files, 0)
    found = archive.run("shell", "-c", SEARCH_COUNT).stdout.strip().splitlines()[-1]
    assert json.loads(found) == files


SEARCH_COUNT = (
    "import json; from archive import search; "
    "print(json.dumps(search.search(search.SearchRequest(q='officials', copies='all'))"
    ".total))"
)


def test_the_worker_command_is_documented():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "manage.py worker" in readme


@pytest.mark.django_db(transaction=True)
def test_progress_moves_file_by_file_within_a_chunk(editor, settings):
    """The job page's "files read" moves as each file is read (a scan's OCR happens then),
    not only when a chunk of files is saved; the counts move when the chunk is recorded."""
    settings.ARCHIVE_JOB_CHUNK_FILES = 50
    upload(editor, "batch.zip", zip_of(4))
    job = IngestJob.objects.get()
    seen: list[tuple[int, int]] = []

    def watch(execute, sql, params, many, context):
        result = execute(sql, params, many)
        if sql.startswith("UPDATE") and "archive_ingestjob" in sql and '"files_read"' in sql:
            seen.append(IngestJob.objects.values_list("files_read", "files_done").get(pk=job.pk))
        return result

    from django.db import connection

    with connection.execute_wrapper(watch):
        run_worker()
    read_while_saving = [read for read, done in seen if done == 0 and read]
    assert read_while_saving[:4] == [1, 2, 3, 4]  # one chunk of four files, file by file
    job.refresh_from_db()
    assert (job.files_read, job.files_done, job.created_count) == (4, 4, 4)


@pytest.mark.django_db(transaction=True)
def test_stored_uploads_are_removed_once_every_file_is_done_and_kept_for_a_retry(editor):
    upload(editor, "good.zip", zip_of(2))
    run_worker()
    done = IngestJob.objects.get()
    assert done.status == IngestJob.Status.DONE
    assert not (jobs.jobs_dir() / str(done.pk)).exists()
    assert Document.objects.count() == 2  # the documents stay, of course

    upload(editor, "mixed.zip", zip_of(1, broken=1))
    run_worker()
    failed = IngestJob.objects.exclude(pk=done.pk).get()
    assert failed.failed_count == 1
    assert [p.name for p in (jobs.jobs_dir() / str(failed.pk)).iterdir()] == ["0000-mixed.zip"]


@pytest.mark.django_db(transaction=True)
def test_a_file_that_cannot_be_read_is_not_offered_for_a_retry(editor):
    """A broken PDF fails the same way again: the job page offered "Retry the failed files" for
    it all the same. A failure that may not recur (here, one recorded before failures said
    which kind they were) is still offered."""
    upload(editor, "mixed.zip", zip_of(1, broken=1))
    run_worker()
    job = IngestJob.objects.get()
    assert job.failed_count == 1
    page = editor.get(reverse("admin:archive_ingestjob_change", args=[job.pk])).content.decode()
    assert "Retry the" not in page
    assert "fails the same way again: fix it and upload it anew" in page
    assert jobs.retry_failed(job) == 0
    broken = job.files.get(status=IngestJobFile.Status.FAILED)
    broken.results = [{k: v for k, v in r.items() if k != "lasting"} for r in broken.results]
    broken.save(update_fields=["results"])
    page = editor.get(reverse("admin:archive_ingestjob_change", args=[job.pk])).content.decode()
    assert "Retry the 1 failed file that may import now" in page
    assert jobs.retry_failed(job) == 1


@pytest.mark.django_db(transaction=True)
def test_a_large_jobs_every_file_table_comes_in_pages(editor):
    """A new user's find: a job of 203 files listed every file on one page, 15,877 px tall on a
    phone (a zip of 2,000 would be ten times that)."""
    from archive.admin import JOB_FILES_PER_PAGE

    count = JOB_FILES_PER_PAGE * 2 + 3
    upload(editor, "many.zip", zip_of(count))
    run_worker()
    job = IngestJob.objects.get()
    assert job.status == IngestJob.Status.DONE and job.files_done == count
    url = reverse("admin:archive_ingestjob_change", args=[job.pk])

    def rows(page: str) -> list[str]:
        table = page.split('class="job-files job-every-file"')[1].split("</table>")[0]
        return [name for name in table.split("<td>many.zip/articles/")[1:]]

    first = editor.get(url).content.decode()
    assert len(rows(first)) == JOB_FILES_PER_PAGE
    assert f"Files 1–{JOB_FILES_PER_PAGE} of {count}." in first
    assert 'href="?page=2#every-file">Next</a>' in first and "Previous" not in first
    last = editor.get(url, {"page": 3}).content.decode()
    assert [row[:8] for row in rows(last)] == [f"{n:04d}.txt" for n in range(count - 3, count)]
    assert 'href="?page=2#every-file">Previous</a>' in last and ">Next<" not in last
    assert editor.get(url, {"page": "x"}).status_code == 200  # the first page


@pytest.mark.django_db(transaction=True)
def test_a_bulk_files_records_are_listed_in_its_order(editor):
    """A record the archive holds is known before the model runs, so the import reports it
    before the records still in extraction; the job page lists a file's records in the file's
    order all the same."""
    stored = {"title": "Stored", "body": article(1), "url": "https://x.test/stored"}
    upload(editor, "first.jsonl", json.dumps(stored).encode())
    run_worker()
    records = [
        {"title": "New A", "body": article(2)},
        stored,
        {"title": "New B", "body": article(3)},
    ]
    body = "\n".join(json.dumps(r) for r in records).encode()
    upload(editor, "second.jsonl", body, extract_persons="on")  # names extracted: the model
    run_worker()
    row = IngestJobFile.objects.get(name="second.jsonl")
    assert [r["outcome"] for r in row.results] == ["created", "duplicate", "created"]
    assert [r["source"] for r in row.results] == [f"second.jsonl line {n}" for n in (1, 2, 3)]
