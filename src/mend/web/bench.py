"""The measurement core of ``mend bench``: named cases, in-process timings, a small HTTP load generator.

To add a benchmark, register a case at the bottom of this module (``register(...)`` for an in-process
request through Django's test client, ``HTTP_CASES.append(...)`` for a request through the real server).
A case names who makes the request (``owner`` or ``therapist`` signed in to a page, ``api`` with the
owner's bearer token) and builds its path from the :class:`Subjects` found in the data set.

Results are written as ``{name: {"p50_ms": float, "p95_ms": float, "queries": int, "rps": float?}}``.
"""

from __future__ import annotations

import http.client
import json
import math
import socket
import statistics
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Count
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from mend.accounts.models import User
from mend.clinical.models import Episode
from mend.clinics.models import Clinic, Membership, Role
from mend.people.models import CareTeamMember, Client, TherapistProfile

BENCH_PASSWORD = "mend-bench"  # the password `mend seed` gives every account
ACTORS = ("owner", "therapist", "api")
_MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class BenchError(Exception):
    """A benchmark could not run or a request did not answer as expected."""


@dataclass
class Subjects:
    """The people and records the cases request: one clinic, its owner, a therapist and one of their clients."""

    clinic: Clinic
    owner: User
    therapist: User
    client_id: int  # a client on the therapist's care team, so both actors may open it
    therapist_profile_id: int
    surname: str  # a family name to search for
    api_token: str = ""  # the owner's raw bearer token; issued on first use


@dataclass(frozen=True)
class Case:
    """One request measured in-process with Django's test client."""

    name: str
    actor: str
    path: Callable[[Subjects], str]
    description: str = ""


@dataclass(frozen=True)
class HttpCase:
    """One request measured through the real server; ``queries`` is reported from the in-process case ``same_as``."""

    name: str
    actor: str  # "owner" (session cookie) or "api" (bearer token)
    path: Callable[[Subjects], str]
    same_as: str


@dataclass
class Result:
    name: str
    p50_ms: float
    p95_ms: float
    queries: int
    requests: int
    rps: float | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"p50_ms": round(self.p50_ms, 3), "p95_ms": round(self.p95_ms, 3)}
        data["queries"] = self.queries
        if self.rps is not None:
            data["rps"] = round(self.rps, 1)
        return data


CASES: list[Case] = []
HTTP_CASES: list[HttpCase] = []


def register(name: str, actor: str, path: Callable[[Subjects], str], description: str = "") -> Case:
    if actor not in ACTORS:
        raise ValueError(f"actor must be one of {ACTORS}, not {actor!r}")
    if any(case.name == name for case in CASES):
        raise ValueError(f"a benchmark named {name!r} is already registered")
    case = Case(name=name, actor=actor, path=path, description=description)
    CASES.append(case)
    return case


# --- Statistics ---------------------------------------------------------------------------


def percentile(samples: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile by linear interpolation between closest ranks (numpy's default)."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarise(name: str, samples_ms: Sequence[float], *, queries: int, rps: float | None = None) -> Result:
    return Result(
        name=name,
        p50_ms=statistics.median(samples_ms),
        p95_ms=percentile(samples_ms, 95),
        queries=queries,
        requests=len(samples_ms),
        rps=rps,
    )


# --- Subjects -----------------------------------------------------------------------------


def subjects_for(clinic: Clinic, *, owner: User, therapist: User) -> Subjects:
    """Pick the records the cases need: the first client whose primary therapist is ``therapist``."""
    membership = Membership.objects.get(clinic=clinic, user=therapist, is_active=True)
    profile = TherapistProfile.objects.get(membership=membership)
    care = (
        CareTeamMember.objects.filter(clinic=clinic, therapist=membership, is_primary=True)
        .order_by("client_id")
        .first()
    )
    if care is None:
        raise BenchError(f"{therapist.email} is primary therapist of no client in {clinic.slug}")
    client = Client.objects.get(pk=care.client_id)
    return Subjects(
        clinic=clinic,
        owner=owner,
        therapist=therapist,
        client_id=client.pk,
        therapist_profile_id=profile.pk,
        surname=client.legal_family_name,
    )


def seed_subjects(index: int = 1) -> Subjects:
    """The subjects in clinic ``seed-<index>`` made by ``mend seed``."""
    slug = f"seed-{index}"
    clinic = Clinic.objects.filter(slug=slug).first()
    if clinic is None:
        raise BenchError(f"no clinic {slug!r}: run `mend seed` first")
    owner = User.objects.filter(
        email=f"owner@{slug}.example.org", memberships__clinic=clinic, memberships__role=Role.OWNER
    ).first()
    therapist = User.objects.filter(email=f"therapist1@{slug}.example.org").first()
    if owner is None or therapist is None:
        raise BenchError(f"{slug} lacks owner@{slug}.example.org or therapist1@{slug}.example.org")
    return subjects_for(clinic, owner=owner, therapist=therapist)


def ensure_api_token(subjects: Subjects) -> str:
    if not subjects.api_token:
        from mend.accounts.services import api_token_create

        subjects.api_token = api_token_create(user=subjects.owner, clinic=subjects.clinic, name="mend bench").raw
    return subjects.api_token


# --- In-process measurements --------------------------------------------------------------


def _signed_in(user: User, clinic: Clinic) -> HttpClient:
    from mend.platform.pages import SESSION_CLINIC_KEY

    http = HttpClient()
    http.force_login(user, backend=_MODEL_BACKEND)
    session = http.session
    session[SESSION_CLINIC_KEY] = clinic.pk
    session.save()
    return http


def _get(http: HttpClient, name: str, path: str) -> None:
    response = http.get(path)
    if response.status_code != 200:
        body = response.content[:800].decode(errors="replace")
        raise BenchError(f"{name}: GET {path} answered {response.status_code}, not 200\n{body}")


def measure_in_process(
    subjects: Subjects, *, repeat: int, warmup: int = 3, cases: Iterable[Case] | None = None
) -> dict[str, Result]:
    """Time each case ``repeat`` times after ``warmup`` requests; the last warm-up request counts the queries."""
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    cases = list(CASES if cases is None else cases)
    clients: dict[str, HttpClient] = {}
    for actor in {case.actor for case in cases}:
        if actor == "api":
            clients[actor] = HttpClient(headers={"Authorization": f"Bearer {ensure_api_token(subjects)}"})
        else:
            clients[actor] = _signed_in(getattr(subjects, actor), subjects.clinic)
    results: dict[str, Result] = {}
    for case in cases:
        http, path = clients[case.actor], case.path(subjects)
        for _ in range(max(warmup - 1, 0)):
            _get(http, case.name, path)
        with CaptureQueriesContext(connection) as captured:
            _get(http, case.name, path)
        queries = len(captured)  # read now: the next request's request_started signal empties the log
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            _get(http, case.name, path)
            samples.append((time.perf_counter() - start) * 1000)
        results[case.name] = summarise(case.name, samples, queries=queries)
    return results


# --- Through a real server ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_request(
    base: tuple[str, int], method: str, path: str, *, headers: dict[str, str] | None = None, body: bytes | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request on a fresh connection (gunicorn's sync workers close it anyway); redirects are not followed."""
    conn = http.client.HTTPConnection(*base, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def _cookies(headers: http.client.HTTPMessage, jar: dict[str, str]) -> None:
    for header in headers.get_all("Set-Cookie") or []:
        parsed: SimpleCookie = SimpleCookie()
        parsed.load(header)
        jar.update({name: morsel.value for name, morsel in parsed.items()})


def sign_in(base: tuple[str, int], email: str, password: str) -> str:
    """Sign in through the login form as a browser does; returns the ``Cookie`` header value."""
    jar: dict[str, str] = {}
    status, headers, _ = http_request(base, "GET", "/accounts/login/")
    _cookies(headers, jar)
    if status != 200 or "csrftoken" not in jar:
        raise BenchError(f"GET /accounts/login/ answered {status} without a CSRF cookie")
    form = urlencode({"username": email, "password": password, "csrfmiddlewaretoken": jar["csrftoken"]})
    status, headers, body = http_request(
        base,
        "POST",
        "/accounts/login/",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={jar['csrftoken']}",
            "Referer": f"http://{base[0]}:{base[1]}/accounts/login/",
        },
        body=form.encode(),
    )
    _cookies(headers, jar)
    if status != 302 or "sessionid" not in jar:
        raise BenchError(f"signing in as {email} failed: {status}\n{body[:500].decode(errors='replace')}")
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def load_test(
    base: tuple[str, int], path: str, *, headers: dict[str, str], requests: int, threads: int, warmup: int = 0
) -> tuple[list[float], float]:
    """Fire ``requests`` GETs from ``threads`` threads; returns per-request milliseconds and requests per second."""

    def one(_: int) -> float:
        start = time.perf_counter()
        status, _headers, body = http_request(base, "GET", path, headers=headers)
        elapsed = (time.perf_counter() - start) * 1000
        if status != 200:
            raise BenchError(f"GET {path} answered {status}, not 200\n{body[:500].decode(errors='replace')}")
        return elapsed

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, range(warmup)))
        start = time.perf_counter()
        samples = list(pool.map(one, range(requests)))
        wall = time.perf_counter() - start
    return samples, requests / wall


class Server:
    """``mend serve`` as a child process, stopped on exit; its output goes to ``log_path``."""

    def __init__(
        self, argv: list[str], *, port: int, env: dict[str, str], log_path: Path, probe: str = "/healthz"
    ) -> None:
        self.argv, self.port, self.env, self.log_path, self.probe = argv, port, env, log_path, probe
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def base(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def __enter__(self) -> Server:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(self.argv, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            self._wait_healthy(timeout=120)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wait_healthy(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"the server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if http_request(self.base, "GET", self.probe)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchError(f"the server did not answer {self.probe} within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        if self._log is not None:
            self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # gunicorn's master stops its workers gracefully on SIGTERM
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None


def measure_http(
    server_base: tuple[str, int],
    subjects: Subjects,
    *,
    in_process: dict[str, Result],
    requests: int,
    threads: int,
    password: str = BENCH_PASSWORD,
    cases: Iterable[HttpCase] | None = None,
) -> dict[str, Result]:
    """Load each HTTP case in turn with its share of ``requests``; queries come from the matching in-process case."""
    cases = list(HTTP_CASES if cases is None else cases)
    per_case = max(1, requests // max(len(cases), 1))
    headers = {
        "owner": {"Cookie": sign_in(server_base, subjects.owner.email, password)},
        "api": {"Authorization": f"Bearer {ensure_api_token(subjects)}"},
    }
    results: dict[str, Result] = {}
    for case in cases:
        samples, rps = load_test(
            server_base,
            case.path(subjects),
            headers=headers[case.actor],
            requests=per_case,
            threads=threads,
            warmup=threads * 2,
        )
        same = in_process.get(case.same_as)
        results[case.name] = summarise(case.name, samples, queries=same.queries if same else 0, rps=rps)
    return results


# --- A fresh server's first request ------------------------------------------------------

# The pages whose first request after `mend serve` starts is timed (cold) beside later ones (warm).
COLD_CASES: list[HttpCase] = []


def session_cookie(user: User, clinic: Clinic) -> str:
    """A signed-in session written straight to the database, so no request warms the server first."""
    http = _signed_in(user, clinic)
    return f"sessionid={http.cookies['sessionid'].value}"


def measure_cold(
    argv: list[str],
    subjects: Subjects,
    *,
    env: dict[str, str],
    log_path: Path,
    in_process: dict[str, Result],
    warm_requests: int = 15,
    cases: Iterable[HttpCase] | None = None,
) -> dict[str, Result]:
    """For each case, start a fresh server (``argv``, one worker) and time its first request, then
    ``warm_requests`` more (their median is the warm figure).

    The server counts as started when it serves a static file: WhiteNoise answers that before any view
    is imported, so the probe warms nothing the page needs (``/healthz``, a view, would import every
    view). The owner's session is written to the database, not signed in through the server, for the
    same reason. What a worker loads before accepting requests (``mend.wsgi``) is not counted: a
    request cannot reach a worker that is still loading.
    """
    from django.templatetags.static import static

    results: dict[str, Result] = {}
    cookie = {"owner": session_cookie(subjects.owner, subjects.clinic)}
    for case in list(COLD_CASES if cases is None else cases):
        port = free_port()
        command = [*argv, "--port", str(port), "--workers", "1"]
        with Server(command, port=port, env=env, log_path=log_path, probe=static("mend/favicon.svg")) as server:
            path, headers = case.path(subjects), {"Cookie": cookie[case.actor]}
            samples = []
            for _ in range(1 + warm_requests):
                start = time.perf_counter()
                status, _headers, body = http_request(server.base, "GET", path, headers=headers)
                samples.append((time.perf_counter() - start) * 1000)
                if status != 200:
                    raise BenchError(
                        f"{case.name}: GET {path} answered {status}\n{body[:500].decode(errors='replace')}"
                    )
        same = in_process.get(case.same_as)
        queries = same.queries if same else 0
        results[f"{case.name}_cold"] = summarise(f"{case.name}_cold", samples[:1], queries=queries)
        results[f"{case.name}_warm"] = summarise(f"{case.name}_warm", samples[1:], queries=queries)
    return results


# --- Output -------------------------------------------------------------------------------


def format_table(results: dict[str, Result]) -> str:
    width = max([len("name"), *(len(name) for name in results)])
    lines = [f"{'name':<{width}}  {'p50 ms':>8}  {'p95 ms':>8}  {'queries':>7}  {'req/s':>7}"]
    for name, result in results.items():
        rps = f"{result.rps:7.1f}" if result.rps is not None else f"{'':>7}"
        lines.append(f"{name:<{width}}  {result.p50_ms:8.2f}  {result.p95_ms:8.2f}  {result.queries:7d}  {rps}")
    return "\n".join(lines)


def write_results(results: dict[str, Result], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {name: result.as_json() for name, result in results.items()}
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


# --- The cases ----------------------------------------------------------------------------

register("client_list", "owner", lambda s: "/clients/", "client list page, first page")
register("client_search", "owner", lambda s: f"/clients/?{urlencode({'q': s.surname})}", "client list page, by surname")
register("client_detail", "owner", lambda s: f"/clients/{s.client_id}/", "client page")
register("client_list_therapist", "therapist", lambda s: "/clients/", "client list page, care team only")
register(
    "client_search_therapist",
    "therapist",
    lambda s: f"/clients/?{urlencode({'q': s.surname})}",
    "client list page by surname, care team only",
)
register("client_detail_therapist", "therapist", lambda s: f"/clients/{s.client_id}/", "client page as therapist")
register("therapist_list", "owner", lambda s: "/therapists/", "therapist list page")
register("therapist_detail", "owner", lambda s: f"/therapists/{s.therapist_profile_id}/", "therapist page")
register("audit", "owner", lambda s: "/audit/", "audit trail page, newest first")
register("api_client_list", "api", lambda s: "/api/v1/clients", "GET /api/v1/clients")
register("api_client_detail", "api", lambda s: f"/api/v1/clients/{s.client_id}", "GET /api/v1/clients/<id>")
register(
    "api_client_search", "api", lambda s: f"/api/v1/clients?{urlencode({'q': s.surname})}", "API search by surname"
)


def busiest_episode(subjects: Subjects) -> int:
    """The therapist's episode with the most treatment notes: the chart that costs most to draw."""
    episode = (
        Episode.objects.filter(clinic=subjects.clinic, therapist__user=subjects.therapist)
        .annotate(notes_count=Count("notes"))
        .order_by("-notes_count", "pk")
        .first()
    )
    if episode is None:
        raise BenchError(
            f"{subjects.therapist.email} has no episode of care in {subjects.clinic.slug}: the bench database "
            "predates clinical data; run `mend bench --reset` to seed it again."
        )
    return episode.pk


register("chart", "therapist", lambda s: f"/episodes/{busiest_episode(s)}/", "episode chart with the most notes")
register("today_therapist", "therapist", lambda s: "/", "a therapist's Today: flags and measures due")
register("evidence_report", "owner", lambda s: "/outcomes/evidence/", "clinic evidence report over every episode")

# The evidence report's first load after `mend serve` starts: it must stay well under a second.
COLD_CASES.append(HttpCase("http_evidence_report", "owner", lambda s: "/outcomes/evidence/", same_as="evidence_report"))

HTTP_CASES += [
    HttpCase("http_client_list", "owner", lambda s: "/clients/", same_as="client_list"),
    HttpCase("http_client_detail", "owner", lambda s: f"/clients/{s.client_id}/", same_as="client_detail"),
    HttpCase("http_api_client_list", "api", lambda s: "/api/v1/clients", same_as="api_client_list"),
]
