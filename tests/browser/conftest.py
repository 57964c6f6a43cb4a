"""Browser tests: a real `mend serve` (gunicorn) with the demo clinics, driven by Debian's Chromium.

The server runs in a subprocess with its own MEND_VAR_DIR. Its database is SQLite in that
directory, or, when DATABASE_URL points at PostgreSQL (the suite's second run), a fresh database
created on the same cluster and dropped afterwards. These tests never touch pytest-django's
test database. The server is prepared while the rest of the suite runs, and these tests run last.

Without Chromium the tests are skipped, unless CI or MEND_BROWSER is set: then they fail.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
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


def _wait_for_health(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> datetime:
    """Poll /healthz until a worker answers; returns the time the server's clock read (its Date header).

    A gunicorn worker loads the application (and warms the ICD-10 code set, mend.wsgi) before it
    accepts a connection, so whichever worker answers has loaded it, and a worker still loading
    takes no request from the browser.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerError(f"mend serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return parsedate_to_datetime(response.headers["Date"])
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise ServerError(f"mend serve did not answer /healthz within {timeout} s:\n{log.read_text()[-3000:]}")


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


class ServerError(Exception):
    pass


class DemoServer:
    """A real demo server on a free port: migrate, collectstatic and ``mend demo``, then ``mend serve``.

    Getting there takes half a minute, so it happens on a thread of its own: started when
    collection ends (browser tests then run last) it overlaps the rest of the suite, and the
    ``server_url`` fixture only waits for what is left.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.var_dir = root / "var"
        self.mail_dir = root / "mail"
        self.mail_dir.mkdir(parents=True)
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG", "MEND_TEST_SQLITE")}
        env.update({"MEND_ENV": "demo", "MEND_VAR_DIR": str(self.var_dir), "DJANGO_SETTINGS_MODULE": "mend.settings"})
        env.update({"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend"})
        env.update({"EMAIL_FILE_PATH": str(self.mail_dir)})
        # Given here, not generated under var/ by whichever of two commands running at once comes first.
        env.update({"SECRET_KEY": secrets.token_urlsafe(50), "MEND_AUDIT_KEY": secrets.token_urlsafe(50)})
        # Under MEND_TEST_NOW the demo is loaded, and the server answers, at this run's instant.
        testclock.subprocess_env(env, root / "clock")
        self.env = env
        outer_url = os.environ.get("DATABASE_URL", "")
        self.database = _PostgresDatabase(outer_url) if _is_postgres(outer_url) else None
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        # The server's clock (its Date header) and this process's, read together once it answered.
        self.clocks: tuple[datetime, datetime] | None = None
        self.error = ""
        self._stopping = threading.Event()
        self._commands: list[subprocess.Popen[str]] = []
        self._thread = threading.Thread(target=self._prepare, name="mend-demo-server", daemon=True)

    def start(self) -> DemoServer:
        self._thread.start()
        return self

    def ready(self, timeout: float = 300) -> str:
        """The server's base URL once it answers; fails the test with what went wrong otherwise."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            pytest.fail(f"the demo server was not ready within {timeout} s", pytrace=False)
        if self.error:
            pytest.fail(self.error, pytrace=False)
        return self.url

    def stop(self) -> None:
        self._stopping.set()
        for command in self._commands:  # a run cut short: no need to finish loading the demo
            if command.poll() is None:
                command.terminate()
        if self._thread.ident is not None:
            self._thread.join(60)
        if self.proc is not None:
            _stop(self.proc)
        if self.database is not None:
            self.database.drop()
        shutil.rmtree(self.root, ignore_errors=True)

    def manage(self, *args: str) -> str:
        """Run a ``mend`` command against the server's database (e.g. ``shell -c``); returns its output."""
        self.ready()
        command = self._mend(*args)
        out, err = command.communicate(timeout=60)
        if command.returncode != 0:
            pytest.fail(f"mend {' '.join(args)} failed:\n{out[-2000:]}\n{err[-3000:]}", pytrace=False)
        return out

    def _mend(self, *args: str) -> subprocess.Popen[str]:
        argv = [sys.executable, "-m", "mend", *args]
        command = subprocess.Popen(argv, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._commands.append(command)
        return command

    def _finish(self, proc: subprocess.Popen[str], timeout: float = 180) -> None:
        out, err = proc.communicate(timeout=timeout)
        if proc.returncode != 0:
            raise ServerError(f"{' '.join(map(str, proc.args))} failed:\n{out[-2000:]}\n{err[-3000:]}")

    def _prepare(self) -> None:
        try:
            if self.database is not None:
                self.database.create()
                self.env["DATABASE_URL"] = self.database.url
            static = self._mend("collectstatic", "--noinput", "-v", "0")  # no database: alongside the others
            self._finish(self._mend("migrate", "--noinput", "-v", "0"))
            self._finish(self._mend("demo"))
            self._finish(static)
            if self._stopping.is_set():
                return
            port = _free_port()
            url = f"http://127.0.0.1:{port}"
            log = self.var_dir / "serve.log"
            with log.open("wb") as out:
                self.proc = subprocess.Popen(
                    [sys.executable, "-m", "mend", "serve", "--port", str(port), "--workers", "3"],
                    env=self.env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            self.clocks = (_wait_for_health(url, self.proc, log), datetime.now(UTC))
            engine = "postgresql" if self.database else "sqlite3"
            if f"{engine} database" not in log.read_text():
                raise ServerError(f"the server should run on {engine}: {log.read_text()[:500]}")
            self.url = url
        except Exception as error:  # reported by ready(), in the test that needs the server
            self.error = f"the demo server did not start: {error}"


SERVER = pytest.StashKey[DemoServer]()


def _chromium_available() -> bool:
    path = os.environ.get("MEND_BROWSER", "/usr/bin/chromium")
    return os.path.isfile(path) and os.access(path, os.X_OK)


@pytest.hookimpl(trylast=True)  # after -m and -k have deselected what they will
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    browser_items = [item for item in items if here in item.path.parents]
    if not browser_items or not _chromium_available() or SERVER in config.stash:
        return
    # The browser tests run last, while the demo server gets ready behind the others.
    others = [item for item in items if here not in item.path.parents]
    items[:] = others + browser_items
    server = DemoServer(Path(tempfile.mkdtemp(prefix="mend-browser-"))).start()
    config.stash[SERVER] = server
    config.add_cleanup(server.stop)


@pytest.fixture(scope="package")
def demo_server(chromium_path: str, pytestconfig: pytest.Config) -> Iterator[DemoServer]:
    server = pytestconfig.stash.get(SERVER, None)
    if server is not None:
        yield server
        return
    server = DemoServer(Path(tempfile.mkdtemp(prefix="mend-browser-"))).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="package")
def mail_dir(demo_server: DemoServer) -> Path:
    """Where the server writes the email it sends, one file per connection (Django's file backend)."""
    return demo_server.mail_dir


@pytest.fixture(scope="package")
def server_url(demo_server: DemoServer) -> str:
    """Base URL of a real demo server on a free port."""
    url = demo_server.ready()
    if testclock.frozen_instant() is not None:
        # The server travels with this run (gunicorn's Date header reads the patched time.time()).
        assert demo_server.clocks is not None
        theirs, ours = demo_server.clocks
        assert abs(theirs - ours) < timedelta(minutes=1), f"the server's clock read {theirs}, this run's {ours}"
    return url


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
