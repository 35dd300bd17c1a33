"""What the browser tests share: where Chromium is, how it is started, and skipping (or, under
CI's ARCHIVE_REQUIRE_BROWSER, failing) when it is missing."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("ARCHIVE_CHROMIUM", "/usr/bin/chromium")
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def require_chromium() -> None:
    """Call at module level of a browser test module."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        if os.environ.get("ARCHIVE_REQUIRE_BROWSER"):
            raise RuntimeError(
                f"ARCHIVE_REQUIRE_BROWSER is set but Chromium is missing ({CHROMIUM})"
            )
        pytest.skip(
            f"Chromium not found at {CHROMIUM} (apt-get install chromium); browser test skipped",
            allow_module_level=True,
        )
    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run in a
    # thread with a running loop unless told it is safe (it is: the loop only drives the browser).
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@contextmanager
def chromium() -> Iterator:
    """Headless Chromium through Playwright, for one test.

    Playwright's sync API runs the test's code in a context of its own, and Django's ORM gives
    that context a database connection of its own (the seeds a test loads, the rows it reads).
    It is closed here, before the context ends: left open, nothing else closes it, and on
    PostgreSQL the test database could not be dropped at the end of the run ("being accessed by
    other users")."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            connections.close_all()
