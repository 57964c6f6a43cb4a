"""A waitlist offer in Chromium: the client opens the emailed link signed out, books the freed time with
"Book it", and the same link then answers that it was used (409). No serious or critical axe-core
violation and no Content-Security-Policy violation on the offer's page, the booked page and the 409 page,
at desktop width and at 390 px (no sideways scrolling there). The front desk reaches the staff waitlist
page from the calendar, and sends its form empty, under the same checks.

The demo server's data get one waiting client of Harbour's offered a free time about seven weeks ahead
(late on the last free day found, out of the way of the other browser tests' days).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

pytestmark = pytest.mark.browser

SERIOUS = ("serious", "critical")
TIMEOUT_MS = 10_000

OFFER = """
import json, secrets
from datetime import timedelta
from django.utils import timezone
from mend.clinics.models import Clinic
from mend.people.models import Client
from mend.platform import clock
from mend.scheduling.models import AppointmentType, WaitlistEntry, WaitlistOffer
from mend.scheduling.queries.online import online_slots
clinic = Clinic.objects.get(slug="harbour")
now = timezone.now()
today = clock.local_today(clinic.timezone)
kinds = AppointmentType.objects.filter(clinic=clinic, is_active=True, bookable_online=True, audience="anyone")
kind = next(k for k in kinds.order_by("pk") if k.therapists.exists())
slot = online_slots(
    clinic=clinic, kind=kind, therapist_id=None, first=today + timedelta(days=45), last=today + timedelta(days=55),
    now=now,
)[-1]
client = Client.objects.filter(clinic=clinic).exclude(email="").order_by("pk").first()
day = clock.local_date(slot.start, clinic.timezone)
entry = WaitlistEntry.objects.create(
    clinic=clinic, client=client, appointment_type=kind, earliest=day, latest=day, state="offered"
)
offer = WaitlistOffer.objects.create(
    clinic=clinic, entry=entry, therapist_id=slot.therapist, room_id=slot.room, starts_at=slot.start,
    token=secrets.token_urlsafe(32), expires_at=now + timedelta(hours=2),
)
print(json.dumps({"token": offer.token, "name": client.chosen_name or client.legal_given_name}))
"""


@pytest.fixture
def offer(demo_server: Any, server_url: str) -> dict[str, str]:
    """A new offer for each test (an offer books once), of the last time still free then."""
    result: dict[str, str] = json.loads(demo_server.manage("shell", "-c", OFFER).strip().splitlines()[-1])
    return result


def _findings(page: Page, axe: Axe) -> list[str]:
    page.wait_for_load_state("load")
    found = []
    for violation in axe.run(page, options={"resultTypes": ["violations"]}).response["violations"]:
        if violation["impact"] in SERIOUS:
            found.append(f"{page.url}: {violation['id']} ({violation['impact']})")
    width = page.viewport_size["width"] if page.viewport_size else 0
    if width <= 400 and page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth"):
        found.append(f"{page.url}: scrolls sideways at {width}px")
    return found


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}])
def test_a_client_books_the_offered_time_from_the_emailed_link(
    offer: dict[str, str], server_url: str, browser: Browser, viewport: dict[str, int]
) -> None:
    context = browser.new_context(base_url=server_url, viewport=viewport)
    context.set_default_timeout(TIMEOUT_MS)
    findings: list[str] = []
    axe = Axe()
    try:
        page = context.new_page()

        def console(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text:
                findings.append(f"{page.url}: {message.text}")

        page.on("console", console)
        page.goto(f"/book/offer/{offer['token']}/")
        expect(page.get_by_role("heading", level=1)).to_have_text(f"An earlier time for you, {offer['name']}")
        expect(page.get_by_text("/Toronto time)").first).to_be_visible()
        findings += _findings(page, axe)

        page.get_by_role("button", name="Book it").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("You are booked")
        findings += _findings(page, axe)

        response: Any = page.goto(f"/book/offer/{offer['token']}/")
        assert response.status == 409
        expect(page.get_by_role("heading", level=1)).to_have_text("Already booked")
        findings += _findings(page, axe)
    finally:
        context.close()
    assert not findings, "\n".join(findings)


def test_the_front_desk_reaches_the_waitlist_from_the_calendar(signed_in: Any, offer: dict[str, str]) -> None:
    """The staff page (with the waiting client offered a time), and its form sent empty: no serious axe
    violation, no CSP violation, the errors named beside their fields."""
    page: Page = signed_in("frontdesk@example.org")
    findings: list[str] = []
    page.on("console", lambda m: findings.append(m.text) if "Content Security Policy" in m.text else None)
    axe = Axe()
    page.goto("/schedule/")
    page.get_by_role("link", name="Waitlist").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Waitlist")
    expect(page.get_by_text("Offered").first).to_be_visible()
    findings += _findings(page, axe)

    page.get_by_role("button", name="Add to the waitlist").click()
    expect(page.locator(".form-errors, .errorlist").first).to_be_visible()
    findings += _findings(page, axe)
    assert not findings, "\n".join(findings)
