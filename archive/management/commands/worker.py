"""``manage.py worker``: run background jobs (uploads), recovering jobs whose worker died.

The database task worker of ``django-tasks-db`` (``db_worker``, same options), plus a watch:
every ``WATCH_SECONDS`` it queues again any ingest job whose worker stopped beating (killed with
``kill -9``, a machine restart), so the job resumes from its last recorded file. Run more of
these for more parallel jobs (each job runs in one worker); they share the database queue.
"""

from __future__ import annotations

import logging
import threading

from django.db import connection
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from archive import jobs
from archive.management.setup import require_migrated

logger = logging.getLogger(__name__)
WATCH_SECONDS = 15.0


class Command(DatabaseWorkerCommand):
    help = "Run background jobs (admin uploads); resume jobs whose worker died."

    def handle(self, *args, **options) -> None:
        require_migrated()
        stop = threading.Event()

        def watch() -> None:
            try:
                while True:
                    try:
                        for job_id in jobs.requeue_stalled():
                            logger.warning("Ingest job %s lost its worker: queued again", job_id)
                    except Exception:  # a locked database: try again at the next round
                        logger.warning("Checking for stalled jobs failed", exc_info=True)
                    if stop.wait(WATCH_SECONDS):
                        break
            finally:
                connection.close()

        if options.get("batch"):  # run what is queued, then stop: one look is enough
            jobs.requeue_stalled()
        else:
            threading.Thread(target=watch, name="stalled-job-watch", daemon=True).start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()
