"""Browser tests: a real `mend serve` (gunicorn) with the demo clinics, driven by Debian's Chromium.

The server runs in a subprocess with its own MEND_VAR_DIR. Its database is SQLite in that
directory, or, when DATABASE_URL points at PostgreSQL (the suite's second run), a fresh database
created on the same cluster and dropped afterwards. These tests never touch pytest-django's
test database.

Without Chromium the tests are skipped, unless CI or MEND_BROWSER is set: then they fail.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from mend import testclock

DEMO_PASSWORD = "mend-demo"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") or os.environ.get("MEND_BROWSER"):
        pytest.fail(f"browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason} (apt-get install chromium, or set MEND_BROWSER)")


@pytest.fixture(scope="package")
def chromium_path() -> str:
    path = os.environ.get("MEND_BROWSER", "/usr/bin/chromium")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        _unavailable(f"no Chromium executable at {path}")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _is_postgres(url: str) -> bool:
    return url.split(":", 1)[0] in ("postgres", "postgresql", "pgsql", "postgis")


class _PostgresDatabase:
    """A throwaway database on the cluster DATABASE_URL points at."""

    def __init__(self, url: str) -> None:
        import dj_database_url
        from psycopg import sql

        self._sql = sql
        params = dj_database_url.parse(url)
        self.name = f"mend_browser_{os.getpid()}"
        self._connect = {
            "dbname": params["NAME"],
            "user": params.get("USER") or None,
            "password": params.get("PASSWORD") or None,
            "host": params.get("HOST") or None,
            "port": params.get("PORT") or None,
        }
        self.url = urlunsplit(urlsplit(url)._replace(path=f"/{self.name}"))

    def _execute(self, statement: object) -> None:
        import psycopg

        with psycopg.connect(**{k: v for k, v in self._connect.items() if v}, autocommit=True) as conn:
            conn.execute(statement)  # type: ignore[arg-type]

    def create(self) -> None:
        self.drop()
        self._execute(self._sql.SQL("CREATE DATABASE {}").format(self._sql.Identifier(self.name)))

    def drop(self) -> None:
        self._execute(self._sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(self._sql.Identifier(self.name)))


def _wait_for_health(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> datetime:
    """Poll /healthz until a worker answers; returns the time the server's clock read (its Date header).

    A gunicorn worker loads the application before it accepts a connection, so whichever worker
    answers has loaded it, and a worker still loading takes no request from the browser.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"mend serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}", pytrace=False)
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return parsedate_to_datetime(response.headers["Date"])
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    pytest.fail(f"mend serve did not answer /healthz within {timeout} s:\n{log.read_text()[-3000:]}", pytrace=False)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    # The server was started in a session of its own: its process group is gunicorn and its workers.
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


@pytest.fixture(scope="package")
def mail_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the server writes the email it sends, one file per connection (Django's file backend)."""
    return tmp_path_factory.mktemp("browser-mail")


@pytest.fixture(scope="package")
def server_url(chromium_path: str, mail_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a real demo server on a free port."""
    var_dir = tmp_path_factory.mktemp("browser-var")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG", "MEND_TEST_SQLITE")}
    env.update({"MEND_ENV": "demo", "MEND_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "mend.settings"})
    env.update({"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": str(mail_dir)})
    # Under MEND_TEST_NOW the demo is loaded, and the server answers, at this run's instant.
    testclock.subprocess_env(env, tmp_path_factory.mktemp("browser-clock"))
    database: _PostgresDatabase | None = None
    outer_url = os.environ.get("DATABASE_URL", "")
    if _is_postgres(outer_url):
        database = _PostgresDatabase(outer_url)
        database.create()
        env["DATABASE_URL"] = database.url

    def mend(*args: str) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "mend", *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            pytest.fail(f"mend {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")

    proc = None
    try:
        mend("migrate", "--noinput", "-v", "0")
        mend("collectstatic", "--noinput", "-v", "0")
        mend("demo")
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log = var_dir / "serve.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "mend", "serve", "--port", str(port), "--workers", "3"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        served_at = _wait_for_health(url, proc, log)
        if testclock.frozen_instant() is not None:
            # The server travels with this run (gunicorn's Date header reads the patched time.time()).
            ours = datetime.now(UTC)
            assert abs(served_at - ours) < timedelta(minutes=2), f"server clock {served_at}, this run's {ours}"
        engine = "postgresql" if database else "sqlite3"
        assert f"{engine} database" in log.read_text(), f"the server should run on {engine}: {log.read_text()[:500]}"
        yield url
    finally:
        if proc is not None:
            _stop(proc)
        if database is not None:
            database.drop()


@pytest.fixture(scope="package")
def browser(chromium_path: str) -> Iterator[Browser]:
    # Package scope: Playwright's event loop is gone before the rest of the suite uses the ORM.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser: Browser, server_url: str) -> Iterator[Callable[[], Page]]:
    """Open pages in fresh browser contexts (no shared cookies), each 1280×800."""
    contexts = []

    def _new_page() -> Page:
        context = browser.new_context(base_url=server_url, viewport={"width": 1280, "height": 800})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield _new_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[[], Page]) -> Page:
    return new_page()


def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login form and wait for the dashboard."""
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


@pytest.fixture
def signed_in(new_page: Callable[[], Page]) -> Callable[[str], Page]:
    """A page signed in as the given demo account: ``signed_in("owner@example.org")``."""

    def _signed_in(email: str) -> Page:
        page = new_page()
        sign_in(page, email)
        return page

    return _signed_in
