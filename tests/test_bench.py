"""`mend bench`'s measurement core on a small data set (the command itself seeds thousands of clients)."""

from __future__ import annotations

import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mend.clinical import services
from mend.people.models import CareTeamMember, Client
from mend.web import bench


@pytest.fixture
def subjects(personas) -> bench.Subjects:
    clients = Client.objects.bulk_create(
        Client(
            clinic=personas.harbour,
            legal_given_name=f"Given{i}",
            legal_family_name=f"Family{i % 7}",
            date_of_birth=date(1960 + i % 40, 1 + i % 12, 1 + i % 28),
        )
        for i in range(30)
    )
    CareTeamMember.objects.bulk_create(
        CareTeamMember(clinic=personas.harbour, client=client, therapist=personas.memberships["therapist"])
        for client in clients[::3]
    )
    # The chart case opens the therapist's busiest episode: Carol's, with one signed note.
    tess = personas.actor("therapist")
    episode = services.episode_open(actor=tess, client=personas.carol, data={"title": "Low back pain"})
    note = services.note_start(actor=tess, episode=episode)
    services.note_update(
        actor=tess,
        note=note,
        data={"pain_pre": 5, "pain_post": 3},
        techniques=[services.TechniqueInput("swedish", "lower_back", 30, 3)],
    )
    services.note_sign(actor=tess, note=note)
    return bench.subjects_for(personas.harbour, owner=personas.owner, therapist=personas.therapist)


def test_subjects_pick_a_client_of_the_therapist(subjects, personas):
    assert subjects.client_id == personas.carol.pk
    assert subjects.surname == "Client"
    assert subjects.therapist_profile_id == personas.therapist_profile.pk


def test_every_case_is_measured_and_written(subjects, tmp_path):
    results = bench.measure_in_process(subjects, repeat=3, warmup=1)

    assert list(results) == [case.name for case in bench.CASES]
    for name in (
        "client_list",
        "client_search",
        "client_detail",
        "therapist_list",
        "therapist_detail",
        "audit",
        "api_client_list",
        "api_client_detail",
        "api_client_search",
        "chart",
    ):
        assert name in results
    for result in results.values():
        assert 0 < result.p50_ms <= result.p95_ms
        assert result.queries > 0
        assert result.requests == 3

    path = bench.write_results(results, tmp_path / "out" / "results.json")
    assert path == tmp_path / "out" / "results.json"
    written = json.loads(path.read_text())
    assert set(written) == set(results)
    for name, data in written.items():
        assert set(data) == {"p50_ms", "p95_ms", "queries"}
        assert isinstance(data["p50_ms"], float)
        assert isinstance(data["queries"], int)
        assert data["queries"] == results[name].queries
    assert "client_detail" in bench.format_table(results)


def test_a_failing_case_fails_loudly(subjects):
    missing = bench.Case(name="missing", actor="owner", path=lambda s: "/clients/999999999/")
    with pytest.raises(bench.BenchError, match="missing: GET /clients/999999999/ answered 404"):
        bench.measure_in_process(subjects, repeat=1, warmup=0, cases=[missing])


def test_case_names_are_unique_and_actors_known():
    with pytest.raises(ValueError, match="already registered"):
        bench.register("client_list", "owner", lambda s: "/clients/")
    with pytest.raises(ValueError, match="actor"):
        bench.register("new_case", "nobody", lambda s: "/")
    assert {case.same_as for case in bench.HTTP_CASES} <= {case.name for case in bench.CASES}


def test_percentiles():
    assert bench.percentile([5.0], 95) == 5.0
    assert bench.percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert bench.percentile(list(map(float, range(1, 101))), 95) == pytest.approx(95.05)
    result = bench.summarise("x", [3.0, 1.0, 2.0, 10.0], queries=4, rps=12.34)
    assert (result.p50_ms, result.queries) == (2.5, 4)
    assert result.as_json() == {"p50_ms": 2.5, "p95_ms": 8.95, "queries": 4, "rps": 12.3}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 200 if self.headers.get("Authorization") == "Bearer ok" else 401
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def tiny_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield ("127.0.0.1", server.server_address[1])
    server.shutdown()
    server.server_close()


def test_load_test_counts_every_request_and_refuses_errors(tiny_server):
    samples, rps = bench.load_test(
        tiny_server, "/x", headers={"Authorization": "Bearer ok"}, requests=20, threads=4, warmup=2
    )
    assert len(samples) == 20
    assert rps > 0
    with pytest.raises(bench.BenchError, match="answered 401"):
        bench.load_test(tiny_server, "/x", headers={}, requests=2, threads=2)


def test_bench_refuses_production(settings):
    settings.MEND_ENV = "production"
    with pytest.raises(CommandError, match="refuses MEND_ENV=production"):
        call_command("bench", "--quick")
