"""Settings for the test suite: the project's settings with every path in a temporary directory.

Each test also gets its own index directory (see ``conftest.py``); nothing touches ``var/``.
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

os.environ["ARCHIVE_DATA_DIR"] = tempfile.mkdtemp(prefix="archive-tests-")

from config.settings import *  # noqa: F403
from config.settings import DATA_DIR


def _remove_data_dir(path: str = os.environ["ARCHIVE_DATA_DIR"], pid: int = os.getpid()) -> None:
    """The run's data directory goes when the process that made it ends (not a forked worker:
    it shares the directory), so test runs leave nothing in /tmp."""
    if os.getpid() == pid:
        shutil.rmtree(path, ignore_errors=True)


atexit.register(_remove_data_dir)

# On PostgreSQL (DATABASE_URL=postgres://..., see .ci/postgres) Django creates test_<name> itself.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["NAME"] = Path(DATA_DIR) / "test.sqlite3"  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
