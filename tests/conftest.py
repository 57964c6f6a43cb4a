"""Fixtures every test module shares: the personas, a signed-in client, and rows built once per module.

Rows a module's tests only read are built once for the module, inside ``module_db``: a transaction
opened before the first test that asks for them and rolled back after the module's last test.
Each test still runs in its own savepoint inside it (pytest-django's usual transaction), so what a
test writes is undone before the next test, and the module's rows are not. Build such rows in a
module-scoped fixture, ``return module_db(build)``, and hand each test copies of the objects
(``copy.deepcopy``, or ``CopiedOnUse`` for the personas), as Django's ``setUpTestData`` does.

The module's rows are there for every test of the module that runs after they were built, asked
for or not: a module whose tests need an empty database keeps them in a module of their own.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import TypeVar
from unittest import mock

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client as HttpClient
from django.test import override_settings

from mend.accounts.services import api_token_create
from mend.platform.actor import Actor
from mend.testing import CopiedOnUse, Personas, build_personas

T = TypeVar("T")


@pytest.fixture(scope="module")
def module_db(django_db_setup: None, django_db_blocker) -> Iterator[Callable[[Callable[[], T]], T]]:
    """A transaction around the module's tests, rolled back at the end; ``module_db(build)`` writes rows in it."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()

    def build(write: Callable[[], T]) -> T:
        with django_db_blocker.unblock():
            written = write()
            # PostgreSQL checks deferred foreign keys at the end of each test for every row the
            # transaction has not checked yet, the module's included (0.7 s a test after the demo):
            # check these once, here, outside any test's savepoint.
            connection.check_constraints()
        return written

    try:
        yield build
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _module_transaction_survives() -> Iterator[None]:
    """Fail the test that closed the database connection inside the module's transaction.

    Each later test of the module would fail instead, on PostgreSQL only (SQLite's in-memory
    database is never closed): firing request_finished outside the test client, for instance by
    closing a streamed response a second time, closes the connection.
    """
    yield
    if connection.in_atomic_block and connection.closed_in_transaction:
        pytest.fail("this test closed the database connection inside the module's transaction (module_db)")


@pytest.fixture(scope="module")
def module_personas(module_db) -> Personas:
    return module_db(build_personas)


@pytest.fixture
def personas(db: None, module_personas: Personas) -> Personas:
    """The personas, built once per module; this test's own copies of their objects."""
    return CopiedOnUse(module_personas)


@pytest.fixture
def tess(personas: Personas) -> Actor:
    """Therapist Tess, on Carol's care team, acting in Harbour."""
    return personas.actor("therapist")


@pytest.fixture
def login(client: HttpClient, personas: Personas):
    """Sign the test client in as a persona by name: ``login("therapist")``."""

    def _login(name: str) -> HttpClient:
        user = getattr(personas, name)
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return _login


class Api:
    """The test client with a bearer token of one persona, in that persona's clinic.

    Paths are under ``/api/v1`` (``api("therapist").get("/episodes")``) unless they name it.
    """

    PREFIX = "/api/v1"

    def __init__(self, client: HttpClient, personas: Personas, name: str) -> None:
        membership = personas.memberships[name]
        self.client = client
        self.issued = api_token_create(user=membership.user, clinic=membership.clinic)
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {self.issued.raw}"}

    def _url(self, path: str) -> str:
        return path if path.startswith(self.PREFIX) else self.PREFIX + path

    def get(self, path: str, params: dict | None = None):
        return self.client.get(self._url(path), params or {}, **self.headers)

    def post(self, path: str, data=None):
        return self._send("post", path, {} if data is None else data)

    def patch(self, path: str, data):
        return self._send("patch", path, data)

    def put(self, path: str, data):
        return self._send("put", path, data)

    def delete(self, path: str):
        return self.client.delete(self._url(path), **self.headers)

    def call(self, method: str, path: str, data=None):
        if method in ("get", "delete"):
            return getattr(self, method)(path)
        return self._send(method, path, data or {})

    def _send(self, method: str, path: str, data):
        return getattr(self.client, method)(self._url(path), data, content_type="application/json", **self.headers)


@pytest.fixture
def api(client: HttpClient, personas: Personas):
    """``api("therapist")``: an :class:`Api` with a new token of that persona's."""

    def _api(name: str) -> Api:
        return Api(client, personas, name)

    return _api


class Inbox:
    """What a real SMTP server received: (envelope recipients, parsed message) per message."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted for delivery"

    def body(self, index: int = -1) -> str:
        return self.messages[index][1].get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def smtp_server() -> Iterator[Inbox]:
    """An SMTP server on a free local port that Django's SMTP backend sends to, for this test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=controller.port,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
        ):
            yield inbox
    finally:
        controller.stop()


# --- Background work (mend worker, docs/architecture.md "Background work") --------------------


@pytest.fixture
def sms_outbox() -> Iterator[list]:
    """The text messages the test profile's locmem SMS backend sent during this test, oldest first."""
    from mend.platform import sms

    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture
def run_worker() -> Callable[..., None]:
    """``run_worker()``: `mend worker --burst` in this process, on this test's database connection.

    Every task due is run before it returns, so a test enqueues, runs the worker and then looks
    at the effect. It works for the database backend (the test profile's) and, with ``rq_backend``,
    for RQ.
    """

    def _run(*args: str) -> None:
        # Between tasks the database worker closes connections it thinks stale, as Django does
        # after a request; inside the test's transaction that would be the test's own connection.
        with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
            call_command("worker", "--burst", *args, verbosity=0)

    return _run


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway Redis (Debian's redis-server) on a free port for this session; its URL.

    Tests that need it are skipped on a machine without redis-server, except in CI
    (REQUIRE_POSTGRES=1, see .ci/run), where they fail instead.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("redis-server is not installed (apt-get install redis-server), and CI requires it")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    directory = tmp_path_factory.mktemp("redis")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # No persistence and no config file: nothing outlives the session or touches the system's Redis.
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), "--save", ""]
    args += ["--appendonly", "no", "--daemonize", "no", "--logfile", str(directory / "redis.log")]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as probe:
                    probe.sendall(b"PING\r\n")
                    if probe.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log = directory / "redis.log"
                pytest.fail(f"redis-server did not start: {log.read_text() if log.exists() else 'no log'}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def rq_backend(redis_server: str) -> Iterator[str]:
    """Tasks go to RQ on the session's real Redis for this test (MEND_TASKS_BACKEND=rq); its URL.

    The worker is RQ's SimpleWorker here, which runs jobs in this process rather than in a forked
    child: only this connection sees the test's rows, which are never committed.
    """
    import redis

    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
        RQ_QUEUES={"default": {"URL": redis_server}},
        RQ={"JOB_CLASS": "django_tasks_rq.Job", "WORKER_CLASS": "rq.worker.SimpleWorker"},
    ):
        yield redis_server
    redis.Redis.from_url(redis_server).flushdb()
