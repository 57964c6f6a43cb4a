"""Never a double booking, through the running server: fifty requests for one therapist and time at once.

``mend serve`` (gunicorn, several worker processes) runs in a subprocess on a database of its own:
a SQLite file in a temporary directory, or, when the suite runs on PostgreSQL (DATABASE_URL), a
fresh database on the same cluster, dropped afterwards, as the browser tests do. The personas and
their schedule are written there by ``mend shell``; the server shares this run's clock.

Exactly one request gets 201 and the 49 others 409 with the reason, none a 500, and afterwards no
two active appointments overlap (``overlapping_active``), read by another ``mend shell``. Ten
simultaneous retries with one ``Idempotency-Key`` book once and all get that booking's answer.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import pytest

from mend import testclock

pytestmark = pytest.mark.slow

REQUESTS = 50
START = "2027-03-17T10:00:00-04:00"  # a Wednesday, after any frozen test clock; the personas work 09–17

SETUP = """
import json
from mend.accounts.services import api_token_create
from mend.testing import build_personas, build_schedule
p = build_personas()
s = build_schedule(p)
print("MEND-SETUP " + json.dumps({
    "token": api_token_create(user=p.front_desk, clinic=p.harbour).raw,
    "client": p.carol.pk,
    "therapist": p.therapist_profile.pk,
    "appointment_type": s.treatment.pk,
    "clinic": p.harbour.pk,
}))
"""

CHECK = """
import json
from mend.scheduling.models import Appointment
from mend.scheduling.services import overlapping_active
clinic = {clinic}
print("MEND-CHECK " + json.dumps({{
    "overlapping": overlapping_active(clinic),
    "appointments": Appointment.objects.filter(clinic_id=clinic).count(),
}}))
"""


def _is_postgres(url: str) -> bool:
    return url.split(":", 1)[0] in ("postgres", "postgresql", "pgsql")


class _PostgresDatabase:
    """A throwaway database on the cluster DATABASE_URL points at."""

    def __init__(self, url: str) -> None:
        import dj_database_url

        params = dj_database_url.parse(url)
        self.name = f"mend_concurrent_{os.getpid()}"
        self._connect = {
            "dbname": params["NAME"],
            "user": params.get("USER") or None,
            "password": params.get("PASSWORD") or None,
            "host": params.get("HOST") or None,
            "port": params.get("PORT") or None,
        }
        self.url = urlunsplit(urlsplit(url)._replace(path=f"/{self.name}"))

    def _execute(self, statement: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(**{k: v for k, v in self._connect.items() if v}, autocommit=True) as conn:
            conn.execute(sql.SQL(statement).format(sql.Identifier(self.name)))

    def create(self) -> None:
        self.drop()
        self._execute("CREATE DATABASE {}")

    def drop(self) -> None:
        self._execute("DROP DATABASE IF EXISTS {} WITH (FORCE)")


@dataclass
class Served:
    url: str
    env: dict[str, str]
    setup: dict[str, int | str]

    def mend(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "mend", *args], env=self.env, capture_output=True, text=True, timeout=300
        )
        if done.returncode != 0:
            pytest.fail(f"mend {args[0]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}", pytrace=False)
        return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _marked(output: str, marker: str) -> dict:
    line = next(line for line in output.splitlines() if line.startswith(marker))
    return json.loads(line.removeprefix(marker))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("concurrent")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG", "MEND_TEST_SQLITE")}
    env.update({"MEND_ENV": "demo", "MEND_VAR_DIR": str(root / "var"), "DJANGO_SETTINGS_MODULE": "mend.settings"})
    env.update({"SECRET_KEY": secrets.token_urlsafe(50), "MEND_AUDIT_KEY": secrets.token_urlsafe(50)})
    testclock.subprocess_env(env, root / "clock")
    outer = os.environ.get("DATABASE_URL", "")
    database = _PostgresDatabase(outer) if _is_postgres(outer) else None
    proc: subprocess.Popen[bytes] | None = None
    try:
        if database is not None:
            database.create()
            env["DATABASE_URL"] = database.url
        served = Served(url="", env=env, setup={})
        served.mend("migrate", "--noinput", "-v", "0")
        served.setup = _marked(served.mend("shell", "-c", SETUP), "MEND-SETUP ")
        port = _free_port()
        log = root / "serve.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "mend", "serve", "--port", str(port), "--workers", "4"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        served.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mend serve did not start:\n{log.read_text()[-3000:]}", pytrace=False)
            try:
                with urllib.request.urlopen(f"{served.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        engine = "postgresql" if database is not None else "sqlite3"
        assert f"{engine} database" in log.read_text(), log.read_text()[:500]
        yield served
    finally:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        if database is not None:
            database.drop()
        shutil.rmtree(root, ignore_errors=True)


def _post(url: str, token: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_fifty_concurrent_bookings_of_one_time_give_one_201_and_49_409(served):
    setup = served.setup
    body = {k: setup[k] for k in ("client", "therapist", "appointment_type")} | {"start": START}
    url, token = f"{served.url}/api/v1/appointments", str(setup["token"])
    barrier = threading.Barrier(REQUESTS)

    def one(_: int) -> tuple[int, dict]:
        barrier.wait(timeout=60)  # every thread is ready: the requests leave together
        return _post(url, token, body)

    with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
        answers = list(pool.map(one, range(REQUESTS)))

    statuses = Counter(status for status, _ in answers)
    assert statuses == {201: 1, 409: REQUESTS - 1}, answers
    created = next(answer for status, answer in answers if status == 201)
    assert created["start"] == START
    for status, answer in answers:
        if status == 409:
            assert answer["detail"] in (
                "The therapist has another appointment then (buffers included).",
                "No suitable room is free then.",
                "That time was just taken: choose another.",
            ), answer

    check = _marked(served.mend("shell", "-c", CHECK.format(clinic=setup["clinic"])), "MEND-CHECK ")
    assert check == {"overlapping": [], "appointments": 1}


def _post_keyed(url: str, token: str, body: dict, key: str) -> tuple[int, dict, str]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": key},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read()), response.headers.get("Idempotent-Replayed", "")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}"), ""


def test_ten_concurrent_retries_with_one_key_book_once_and_all_get_its_answer(served):
    setup = served.setup
    body = {k: setup[k] for k in ("client", "therapist", "appointment_type")} | {"start": "2027-03-17T14:00:00-04:00"}
    url, token = f"{served.url}/api/v1/appointments", str(setup["token"])
    retries = 10
    barrier = threading.Barrier(retries)
    before = _marked(served.mend("shell", "-c", CHECK.format(clinic=setup["clinic"])), "MEND-CHECK ")

    def one(_: int) -> tuple[int, dict, str]:
        barrier.wait(timeout=60)
        return _post_keyed(url, token, body, "retry-me-7f3a")

    with ThreadPoolExecutor(max_workers=retries) as pool:
        answers = list(pool.map(one, range(retries)))

    assert {status for status, _, _ in answers} == {201}, answers
    assert len({json.dumps(answer, sort_keys=True) for _, answer, _ in answers}) == 1
    assert sorted(replayed for _, _, replayed in answers) == [""] + ["true"] * (retries - 1)
    check = _marked(served.mend("shell", "-c", CHECK.format(clinic=setup["clinic"])), "MEND-CHECK ")
    assert check["overlapping"] == []
    assert check["appointments"] == before["appointments"] + 1
