"""Production mode: settings read from the environment, `check --deploy` clean, security headers and
a Content-Security-Policy that the pages keep (no inline script, style or event handler), and the
search page working with htmx under that policy in a real browser against gunicorn."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.csp import DEFAULT_POLICY
from config.database_url import parse_database_url

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = Path(sys.executable).parent / "gunicorn"


def production_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a production process with its own data directory (SQLite in it)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "ARCHIVE_", "DATABASE_URL", "PYTEST"))
    }
    env.update(
        DJANGO_ENV="production",
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="example.org,127.0.0.1",
        ARCHIVE_DATA_DIR=str(data_dir),
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


# --- Settings -------------------------------------------------------------------------------


def test_check_deploy_is_clean_in_production_mode(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_complains_in_development_mode(tmp_path):
    """The check above can fail: the same command without production mode reports DEBUG etc."""
    env = production_env(tmp_path)
    del env["DJANGO_ENV"]
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W018" in result.stderr  # DEBUG on


def test_the_deploy_check_make_serve_runs_stops_on_missing_hosts_not_on_a_chosen_setting(
    tmp_path,
):
    """`make serve` runs the check with --fail-level WARNING: without DJANGO_ALLOWED_HOSTS
    every request would be a 400, so it stops; a setting turned off on purpose (no HTTPS
    redirect, a proxy does it; no HSTS preload) silences only its own warning."""
    env = production_env(tmp_path)
    del env["DJANGO_ALLOWED_HOSTS"]
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0 and "security.W020" in result.stderr
    env = {
        **production_env(tmp_path),
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_HSTS_PRELOAD": "0",
    }
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(2 silenced)" in result.stdout


def test_production_without_a_secret_key_stops_with_a_clear_message(tmp_path):
    env = production_env(tmp_path)
    del env["DJANGO_SECRET_KEY"]
    result = manage(env, "check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_debug_off_without_production_also_needs_a_secret_key(tmp_path):
    env = production_env(tmp_path, DJANGO_DEBUG="0")
    del env["DJANGO_ENV"], env["DJANGO_SECRET_KEY"]
    result = manage(env, "check")
    assert "DJANGO_SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_production_settings_read_from_the_environment(tmp_path):
    env = production_env(
        tmp_path,
        DJANGO_ALLOWED_HOSTS="news.example.org, archive.example.org",
        DJANGO_BEHIND_HTTPS_PROXY="1",
        DATABASE_URL="postgres://reader:p%40ss@db.internal:6543/news?sslmode=require",
    )
    code = (
        "from django.conf import settings as s; import json; d = s.DATABASES['default']; "
        "print(json.dumps([s.DEBUG, s.ALLOWED_HOSTS, s.SECURE_PROXY_SSL_HEADER, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS, d['ENGINE'], d['NAME'], d['USER'], d['PASSWORD'], d['HOST'], "
        "d['PORT'], d['OPTIONS']]))"
    )
    result = manage(env, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        '[false, ["news.example.org", "archive.example.org"], '
        '["HTTP_X_FORWARDED_PROTO", "https"], true, true, true, 31536000, '
        '"django.db.backends.postgresql", "news", "reader", "p@ss", "db.internal", "6543", '
        '{"sslmode": "require"}]'
    )


def test_the_proxy_header_is_trusted_only_when_asked(settings):
    """A client talking to gunicorn directly must not be able to claim HTTPS."""
    assert not hasattr(settings, "SECURE_PROXY_SSL_HEADER") or (
        settings.SECURE_PROXY_SSL_HEADER is None
    )


def test_database_url_sqlite_relative_and_absolute(tmp_path):
    relative = parse_database_url("sqlite:///var/other.sqlite3", tmp_path)
    assert relative["ENGINE"] == "django.db.backends.sqlite3"
    assert relative["NAME"] == tmp_path / "var" / "other.sqlite3"
    assert "journal_mode=WAL" in relative["OPTIONS"]["init_command"]
    absolute = parse_database_url("sqlite:////srv/archive/db.sqlite3", tmp_path)
    assert absolute["NAME"] == Path("/srv/archive/db.sqlite3")


@pytest.mark.parametrize(
    "url",
    [
        "mysql://u:p@h/db",
        "postgres://u:p@h:5432/",
        "postgres://u:p@h:notaport/db",
        "sqlite://relative.sqlite3",
        "nonsense",
    ],
)
def test_database_url_errors_say_what_is_wrong(url, tmp_path):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        parse_database_url(url, tmp_path)


# --- Headers and the policy, through the test client (development mode) ---------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)


def assert_csp_clean(html: str) -> None:
    """What the policy would block: inline scripts, on* handlers, style attributes and elements."""
    for name, pattern in [
        ("inline <script>", INLINE_SCRIPT),
        ("on* event handler", EVENT_HANDLER),
        ("style attribute", STYLE_ATTRIBUTE),
        ("<style> element", STYLE_ELEMENT),
    ]:
        found = pattern.search(html)
        assert found is None, f"{name} blocked by the CSP: {found.group(0)[:120]!r}"


def test_every_response_carries_the_policy_and_security_headers(client, seeds):
    response = client.get("/?q=pakistan")
    assert response["Content-Security-Policy"] == DEFAULT_POLICY
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'self'",
    ]:
        assert directive in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_htmx_is_told_not_to_inject_its_indicator_style(client, seeds):
    html = client.get("/").content.decode()
    assert '"includeIndicatorStyles":false' in html


def test_pages_have_nothing_the_policy_blocks(client, admin_client, seeds):
    document = seeds[0]
    person = document.persons.first()
    urls = [
        "/",
        "/?q=pakistan",
        "/?q=pakistan&year=2008",
        "/?page=zero",
        document.get_absolute_url(),
        document.get_absolute_url() + "?q=Murree",
        "/api/search",
    ]
    if person is not None:
        urls.append(person.get_absolute_url())
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 400), url
        assert_csp_clean(response.content.decode())
        partial = client.get(url, headers={"HX-Request": "true"})
        assert_csp_clean(partial.content.decode())
    admin_urls = ["/admin/", "/admin/archive/document/"]
    for url in [*admin_urls, f"/admin/archive/document/{document.pk}/change/"]:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert not INLINE_SCRIPT.search(response.content.decode()), url


# --- A real browser against gunicorn in production mode -------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn_server(tmp_path_factory):
    """`make serve`'s steps (migrate, init_archive, collectstatic, gunicorn gthread x2) in a
    temporary data directory; yields the base URL."""
    tmp_path = tmp_path_factory.mktemp("production")
    env = production_env(tmp_path / "data", DJANGO_BEHIND_HTTPS_PROXY="1")
    for args in (["migrate", "--noinput"], ["init_archive"], ["collectstatic", "--noinput"]):
        result = manage(env, *args)
        assert result.returncode == 0, result.stdout + result.stderr
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "config.wsgi:application",
            "--worker-class=gthread",
            "--workers=2",
            "--threads=4",
            f"--bind=127.0.0.1:{port}",
            "--no-control-socket",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                request = urllib.request.Request(url + "/", headers={"X-Forwarded-Proto": "https"})
                with urllib.request.urlopen(request, timeout=5) as response:
                    assert response.status == 200
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "gunicorn.log").read_text()) from None
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_production_server_redirects_plain_http_and_sends_hsts(gunicorn_server):
    request = urllib.request.Request(gunicorn_server + "/?q=x")
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as caught:
        opener.open(request, timeout=10)
    assert caught.value.code == 301
    assert caught.value.headers["Location"].startswith("https://")
    secure = urllib.request.Request(gunicorn_server + "/", headers={"X-Forwarded-Proto": "https"})
    with urllib.request.urlopen(secure, timeout=10) as response:
        assert "max-age=31536000" in response.headers["Strict-Transport-Security"]
        assert response.headers["Content-Security-Policy"] == DEFAULT_POLICY
        html = response.read().decode()
    # Static files come from whitenoise under hashed, cacheable names.
    css = re.search(r'href="(/static/archive/site\.[0-9a-f]{12}\.css)"', html)
    assert css, "site.css is not served under a hashed name"
    static = urllib.request.Request(
        gunicorn_server + css.group(1), headers={"X-Forwarded-Proto": "https"}
    )
    with urllib.request.urlopen(static, timeout=10) as response:
        assert "immutable" in response.headers["Cache-Control"]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.mark.browser
def test_search_works_with_htmx_under_the_policy_in_a_browser(gunicorn_server):
    from tests.browser import CHROMIUM, chromium

    if not (Path(CHROMIUM).exists()):
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import expect

    with chromium() as browser:
        # The server believes it is behind an HTTPS proxy; the browser plays that proxy.
        context = browser.new_context(
            viewport={"width": 1280, "height": 900},
            extra_http_headers={"X-Forwarded-Proto": "https"},
        )
        context.add_init_script(
            "window.__csp = []; document.addEventListener('securitypolicyviolation', "
            "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + "
            "(e.sample || '')));"
        )
        page = context.new_page()
        console: list[str] = []
        errors: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        page.goto(gunicorn_server + "/")
        expect(page.locator("#result-count")).to_contain_text("2 documents in the archive")
        assert page.evaluate("typeof htmx") == "object", "htmx did not load"
        page.evaluate("window.__loadedOnce = true")
        page.locator("#q").press_sequentially("pakistan", delay=30)
        expect(page.locator("#result-count")).to_contain_text("2 results for “pakistan”")
        expect(page).to_have_url(gunicorn_server + "/?q=pakistan")
        page.locator(".facet__value", has_text="Asif Ali Zardari").click()
        expect(page.locator("#result-count")).to_contain_text("1 result for “pakistan”")
        assert page.evaluate("window.__loadedOnce") is True, "an update caused a full page load"
        violations = page.evaluate("window.__csp")

        page.locator(".hit__title a").first.click()
        expect(page.locator("h1.document__title")).to_be_visible()
        violations += page.evaluate("window.__csp")
        page.goto(gunicorn_server + "/admin/login/")
        expect(page.locator("#id_username")).to_be_visible()
        violations += page.evaluate("window.__csp")
        context.close()

    assert violations == [], f"CSP violations: {violations}"
    blocked = [text for text in console if "Content Security Policy" in text]
    assert blocked == [], f"CSP messages in the console: {blocked}"
    assert errors == [], f"JavaScript errors: {errors}"
