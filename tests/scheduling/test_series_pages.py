"""The series pages: from the plan of care to booked sessions, each session checked before saving."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from mend.clinical import services as clinical
from mend.scheduling.models import Appointment, AppointmentStatus
from mend.testing import Personas, Schedule, build_schedule


@pytest.fixture
def schedule(personas: Personas) -> Schedule:
    return build_schedule(personas)


@pytest.fixture
def episode(personas, tess):
    episode = clinical.episode_open(
        actor=tess,
        client=personas.carol,
        data={"title": "Chronic low back pain", "condition": "low_back_pain", "started_on": tess.today()},
    )
    clinical.plan_save(
        actor=tess,
        episode=episode,
        data={"sessions_per_week": 2, "weeks": 3, "session_minutes": 60},
        techniques=[{"technique": "swedish", "region": "lower_back"}],
    )
    return episode


def _form(personas, schedule, tess, **changes):
    first = tess.today() + timedelta(days=2)
    data = {
        "therapist": personas.memberships["therapist"].pk,
        "appointment_type": schedule.treatment.pk,
        "first_day": first.isoformat(),
        "time": "10:00",
        "weekdays": [1, 3],
        "every_weeks": 1,
        "count": 6,
    }
    data.update(changes)
    return data


def test_the_chart_links_the_plan_to_a_series_prefilled_from_it(login, personas, schedule, episode):
    browser = login("therapist")
    chart = browser.get(f"/episodes/{episode.pk}/")
    assert f"/schedule/series/new/?episode={episode.pk}".encode() in chart.content
    page = browser.get(f"/schedule/series/new/?episode={episode.pk}")
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["count"] == 6  # 2 a week for 3 weeks
    assert form.initial["weekdays"] == [1, 3]  # Tuesdays and Thursdays
    assert form.initial["appointment_type"] == schedule.treatment.pk


def test_check_shows_every_session_then_book_saves_them_all(login, personas, schedule, episode, tess):
    browser = login("therapist")
    data = {"episode": episode.pk, **_form(personas, schedule, tess)}
    checked = browser.post("/schedule/series/new/", {**data, "action": "check"})
    assert checked.status_code == 200
    assert not Appointment.objects.exists()  # checking saves nothing
    assert checked.content.count(b">Free<") == 6
    booked = browser.post("/schedule/series/new/", {**data, "action": "book"})
    assert booked.status_code == 302
    rows = list(Appointment.objects.filter(client=personas.carol))
    assert len(rows) == 6 and len({r.series_id for r in rows}) == 1
    detail = browser.get(booked["Location"])
    assert detail.status_code == 200
    assert detail.content.count(b"Booked") >= 6


def test_a_clash_is_reported_per_session_with_nothing_saved(login, personas, schedule, episode, tess):
    browser = login("owner")
    data = {"episode": episode.pk, **_form(personas, schedule, tess, count=2, weekdays=[])}
    browser.post("/schedule/series/new/", {**data, "action": "book"})
    again = browser.post("/schedule/series/new/", {**data, "action": "book"})
    assert again.status_code == 409
    assert b"Not free" in again.content
    assert Appointment.objects.count() == 2


def test_bad_input_names_the_field(login, personas, schedule, episode, tess):
    browser = login("therapist")
    data = {"episode": episode.pk, **_form(personas, schedule, tess, count=0)}
    page = browser.post("/schedule/series/new/", {**data, "action": "check"})
    assert page.status_code == 422
    assert "count" in page.context["form"].errors


def test_move_and_cut_from_a_session_through_the_page(login, personas, schedule, episode, tess):
    browser = login("front_desk")
    data = {"client": personas.carol.pk, **_form(personas, schedule, tess, weekdays=[])}
    booked = browser.post("/schedule/series/new/", {**data, "action": "book", "count": 4})
    sessions = list(Appointment.objects.order_by("starts_at"))
    url = f"{booked['Location']}{sessions[2].pk}/"
    browser.post(url, {"action": "move", "time": "14:00"})
    moved = list(Appointment.objects.order_by("starts_at"))
    assert [s.starts_at.astimezone(ZoneInfo(tess.timezone)).hour for s in moved] == [10, 10, 14, 14]
    browser.post(f"{booked['Location']}{sessions[3].pk}/", {"action": "cancel"})
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == 3


def test_another_clinics_series_is_not_found(login, personas, schedule, tess):
    browser = login("front_desk")
    booked = browser.post(
        "/schedule/series/new/", {"client": personas.carol.pk, **_form(personas, schedule, tess), "action": "book"}
    )
    assert login("outsider").get(booked["Location"]).status_code == 404
    assert login("outsider").get("/schedule/series/not-a-uuid/").status_code == 404
    assert login("front_desk").get(f"/schedule/series/new/?client={personas.stranger.pk}").status_code == 404


def test_the_plain_treatment_is_the_default_over_one_needing_a_special_room(login, personas, schedule, episode):
    from mend.scheduling.models import AppointmentType

    hydro = AppointmentType.objects.create(
        clinic=personas.harbour, name="Hydrotherapy 60", duration_minutes=60, room_capability="hydrotherapy"
    )
    hydro.therapists.set([personas.memberships["therapist"]])
    page = login("therapist").get(f"/schedule/series/new/?episode={episode.pk}")
    assert page.context["form"].initial["appointment_type"] == schedule.treatment.pk
