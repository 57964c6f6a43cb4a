"""The staff calendar in Chromium: book by clicking an empty time, move by dragging, move again with the
keyboard only; axe-core finds no serious or critical violation on the calendar, the booking form and an
appointment's page, on a desktop and on a 390 px phone.

The front desk of Harbour works on a day eight weeks ahead (past the demo's booked weeks), with a
therapist who works 10:00–16:00 that day and an appointment type of their own for this test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.browser

FRONT_DESK = "frontdesk@example.org"
SERIOUS = ("serious", "critical")
PHONE = {"width": 390, "height": 844}

SETUP = """
import json
from datetime import time, timedelta
from mend.clinics.models import Clinic, Membership
from mend.people.models import Client
from mend.platform import clock
from mend.scheduling.models import AppointmentType, Closure, HoursException, TimeOff, WorkingHours
clinic = Clinic.objects.get(slug="harbour")
today = clock.local_today(clinic.timezone)
therapist = Membership.objects.filter(clinic=clinic, role="therapist", is_active=True).order_by("pk").first()
day = None
for offset in range(56, 90):
    candidate = today + timedelta(days=offset)
    blocked = (
        Closure.objects.filter(clinic=clinic, first_day__lte=candidate, last_day__gte=candidate).exists()
        or TimeOff.objects.filter(therapist=therapist, first_day__lte=candidate, last_day__gte=candidate).exists()
        or HoursException.objects.filter(therapist=therapist, day=candidate).exists()
    )
    hours = WorkingHours.objects.filter(therapist=therapist, weekday=candidate.weekday())
    apart = all(h.end <= time(10) or h.start >= time(16) or (h.start <= time(10) and h.end >= time(16)) for h in hours)
    if not blocked and apart:
        day = candidate
        if not any(h.start <= time(10) and h.end >= time(16) for h in hours):
            location = therapist.therapist_profile.locations.first() or clinic.locations.first()
            WorkingHours.objects.create(clinic=clinic, therapist=therapist, location=location,
                                        weekday=day.weekday(), start=time(10), end=time(16))
        break
kind, _ = AppointmentType.objects.get_or_create(clinic=clinic, name="Calendar test 45",
                                                defaults={"duration_minutes": 45, "bookable_online": False})
kind.therapists.add(therapist)
client = Client.objects.filter(clinic=clinic).order_by("pk").first()
print(json.dumps({"day": day.isoformat(), "therapist": therapist.pk, "type": kind.pk,
                  "client": client.pk, "client_name": client.display_name}))
"""


@pytest.fixture(scope="module")
def plan(demo_server: Any, server_url: str) -> dict[str, Any]:
    return json.loads(demo_server.manage("shell", "-c", SETUP).strip().splitlines()[-1])


def _field(page: Page, label: str) -> Locator:
    """The input labelled ``label`` (a required field's label ends in an asterisk)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def _cell_point(body: Locator, wall: str, *, below: float = 0.5) -> dict[str, float]:
    """Where ``wall`` ("10:00") is in a column's body, as a position inside it."""
    first = int(body.get_attribute("data-first-minute") or 0)
    rows = int(body.get_attribute("data-rows") or 1)
    box = body.bounding_box()
    assert box is not None
    hours, minutes = map(int, wall.split(":"))
    row_height = box["height"] / rows
    return {"x": box["width"] / 2, "y": ((hours * 60 + minutes - first) / 15 + below) * row_height}


def _axe(page: Page) -> list[str]:
    results = Axe().run(page, options={"resultTypes": ["violations"]}).response
    return [
        f"{v['id']} ({v['impact']}) at {' '.join(map(str, n['target']))}"
        for v in results["violations"]
        if v["impact"] in SERIOUS
        for n in v["nodes"]
    ]


def test_book_by_clicking_a_cell_move_by_drag_and_by_keyboard(signed_in: Callable[[str], Page], plan) -> None:
    page = signed_in(FRONT_DESK)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Schedule").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Schedule")

    page.goto(f"/schedule/?date={plan['day']}&therapist={plan['therapist']}")
    body = page.locator(".cal-col .cal-body").first
    body.click(position=_cell_point(body, "10:00"))
    expect(page).to_have_url(re.compile(r"/schedule/new/\?"))
    expect(_field(page, "Time")).to_have_value("10:00")
    expect(_field(page, "Date")).to_have_value(plan["day"])
    expect(_field(page, "Therapist")).to_have_value(str(plan["therapist"]))
    _field(page, "Client").select_option(str(plan["client"]))
    _field(page, "Appointment type").select_option(str(plan["type"]))
    page.get_by_role("button", name="Book").click()

    expect(page).to_have_url(re.compile(rf"/schedule/\?date={plan['day']}$"))
    page.goto(f"/schedule/?date={plan['day']}&therapist={plan['therapist']}")
    appointment = page.locator("a.cal-appt", has_text=plan["client_name"]).filter(has_text="Calendar test 45")
    expect(appointment).to_contain_text("10:00–10:45")

    # Drag it to 13:00 (the whole day in view): the drop keeps the appointment's top where it was grabbed.
    page.set_viewport_size({"width": 1280, "height": 1600})
    body = page.locator(".cal-col .cal-body").first
    source, column = appointment.bounding_box(), body.bounding_box()
    assert source is not None and column is not None
    grab = {"x": source["x"] + source["width"] / 2, "y": source["y"] + source["height"] / 2}
    target = _cell_point(body, "13:00", below=0)
    drop = {"x": column["x"] + target["x"], "y": column["y"] + target["y"] + source["height"] / 2 + 2}
    page.mouse.move(grab["x"], grab["y"])
    page.mouse.down()
    with page.expect_navigation():
        page.mouse.move(drop["x"], drop["y"], steps=12)
        page.mouse.up()
    moved = page.locator("a.cal-appt", has_text=plan["client_name"]).filter(has_text="Calendar test 45")
    expect(moved).to_contain_text("13:00–13:45")

    # The keyboard alternative: open it, Tab to the move form's time, one hour later, Enter.
    moved.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/schedule/appointments/\d+/$"))
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == "id_time":
            break
    else:
        pytest.fail("the move form's time is not reachable with Tab")
    page.keyboard.press("ArrowUp")  # the hour: 13 → 14
    expect(_field(page, "Time")).to_have_value("14:00")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Moved.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("14:00–14:45")
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Changed 2 times since it was booked")


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_calendar_pages_have_no_serious_accessibility_violation(
    signed_in: Callable[[str], Page], plan, viewport
) -> None:
    page = signed_in(FRONT_DESK)
    if viewport:
        page.set_viewport_size(viewport)
    found: dict[str, list[str]] = {}
    for path in (
        f"/schedule/?date={plan['day']}",
        f"/schedule/?date={plan['day']}&view=week",
        f"/schedule/?date={plan['day']}&view=week&by=room",
        f"/schedule/new/?date={plan['day']}&therapist={plan['therapist']}&time=11:00",
    ):
        page.goto(path)
        found[path] = _axe(page)
    page.goto(f"/schedule/?date={plan['day']}&therapist={plan['therapist']}")
    link = page.locator("a.cal-appt").first
    if link.count():
        link.click()
        found[page.url] = _axe(page)
    assert not any(found.values()), found
