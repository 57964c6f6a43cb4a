"""`mend bench`'s availability through the server: the engine's made-up clinic written to the database
answers the API exactly as the pure engine answers for it, and the measurement refuses errors.
Nothing here depends on the machine's speed."""

from __future__ import annotations

import json
import threading
from datetime import time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest

from mend.accounts.services import api_token_create
from mend.core import availability as av
from mend.core.availability import exact_local
from mend.people.models import TherapistProfile
from mend.platform import clock
from mend.scheduling.models import Appointment, WorkingHours
from mend.scheduling.queries import availability
from mend.web import bench, bench_availability, bench_availability_http

SIZE = 300


@pytest.fixture
def clinic(db) -> bench_availability_http.BenchClinic:
    availability.clear_cache()
    return bench_availability_http.bench_clinic(SIZE)


def test_the_clinic_has_the_scenarios_size_in_four_weeks_after_today(clinic):
    today = clock.local_today(bench_availability.ZONE)
    assert clinic.first > today and clinic.first.weekday() == 0
    assert (clinic.last - clinic.first).days == 7 * bench_availability.WEEKS - 1
    assert TherapistProfile.objects.filter(clinic=clinic.clinic).count() == bench_availability.THERAPISTS
    assert clinic.clinic.rooms.count() == bench_availability.ROOMS
    assert WorkingHours.objects.filter(clinic=clinic.clinic).count() == bench_availability.THERAPISTS * 5
    assert Appointment.objects.filter(clinic=clinic.clinic).count() == SIZE
    # Written once: asking again finds the same clinic.
    assert bench_availability_http.bench_clinic(SIZE).clinic.pk == clinic.clinic.pk


def test_the_api_answers_what_the_pure_engine_answers_for_the_same_clinic(client, clinic):
    token = api_token_create(user=clinic.owner, clinic=clinic.clinic).raw
    response = client.get(clinic.path(), HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    names = dict(TherapistProfile.objects.filter(clinic=clinic.clinic).values_list("pk", "display_name"))
    zone = ZoneInfo(bench_availability.ZONE)
    served = {
        (names[s["therapist"]], s["start"][:16]) for s in response.json()["slots"]
    }  # local wall time, whichever the offset

    calendar, kind, first, last, _now = bench_availability.scenario(appointments=SIZE)
    shift = (clinic.first - first).days
    slots = av.free_slots(
        calendar=calendar,
        appointment_type=kind,
        first=first,
        last=last,
        now=exact_local(first, time(0), bench_availability.ZONE),
        step=av.DEFAULT_STEP,
    )
    expected = {
        (f"Therapist {s.therapist}", (s.start.astimezone(zone) + timedelta(days=shift)).isoformat()[:16]) for s in slots
    }
    assert served == expected and len(expected) > 100


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        ok = self.headers.get("Authorization", "").startswith("Bearer ")
        body = json.dumps({"slots": [1, 2, 3]}).encode() if ok and "fail" not in self.path else b"{}"
        self.send_response(200 if ok and "fail" not in self.path else 500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_measure_times_each_size_and_refuses_an_error(clinic):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = ("127.0.0.1", server.server_address[1])
    try:
        rows = bench_availability_http.measure(base, [clinic], repeat=4, warmup=1)
        # First the floor (GET /api/v1/me on the same server), then each clinic.
        assert [(row.api.name, row.slots, row.api.requests) for row in rows] == [
            ("http_api_me", 0, 4),
            (f"http_availability_{SIZE}", 3, 4),
        ]
        assert rows[1].api.p95_ms >= rows[1].api.p50_ms > 0
        table = bench_availability_http.format_table(rows)
        assert "GET /api/v1/availability through mend serve" in table and "(the floor)" in table
        written = bench_availability_http.as_json(rows)
        assert set(written) == {"me", str(SIZE)} and written[str(SIZE)]["api"]["slots"] == 3
        failing = bench_availability_http.BenchClinic(**{**clinic.__dict__, "appointment_type": "fail"})
        with pytest.raises(bench.BenchError, match="answered 500"):
            bench_availability_http.measure(base, [failing], repeat=1, warmup=0)
    finally:
        server.shutdown()
        server.server_close()
