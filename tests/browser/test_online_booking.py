"""The whole public booking in Chromium, with the confirmation received by a real SMTP server.

A new client books Harbour's "Treatment 60" with the first available therapist, signed out: service,
therapist, time, details, confirm. The confirmation reaches the aiosmtpd server the ``smtp_server``
fixture starts (Django's SMTP backend, nothing mocked), with the time in the clinic's zone, named, and
an .ics that ``icalendar`` reads at the same instant. From that email the client moves the
appointment (a second email), the first link then answers "already changed", and the new email's
link cancels it. Every page is checked by axe-core (no serious or critical violation) and for
Content-Security-Policy violations, at desktop width and at 390 px (no sideways scrolling there);
the same booking also goes through with JavaScript turned off.

The server is a real ``mend serve`` (gunicorn) on its own SQLite database, holding the test personas
and their schedule (``mend.testing``): migrated and seeded once for the module, then copied fresh
for each test, whose server sends to that test's SMTP server. Under ``MEND_TEST_NOW`` it runs at
this run's instant, like the demo server.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from icalendar import Calendar
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from mend import testclock

pytestmark = pytest.mark.browser

SERIOUS = ("serious", "critical")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
ZONE = "America/Toronto"
TIMEOUT_MS = 10_000


SEED = """
from mend.testing import build_personas, build_schedule
schedule = build_schedule(build_personas())
schedule.treatment.description = "Deep tissue or Swedish massage, as you need."
schedule.treatment.save()
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "mend", *args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"mend {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> tuple[dict[str, str], Path]:
    """The environment of the module's servers and a migrated database with the personas' schedule."""
    root = tmp_path_factory.mktemp("online-booking")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG", "MEND_TEST_SQLITE")}
    env.update(
        {
            "MEND_ENV": "demo",
            "MEND_VAR_DIR": str(root / "var"),
            "DJANGO_SETTINGS_MODULE": "mend.settings",
            "DATABASE_URL": f"sqlite:///{root / 'seed.sqlite3'}",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "MEND_AUDIT_KEY": secrets.token_urlsafe(50),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
        }
    )
    testclock.subprocess_env(env, root / "clock")
    _run(env, "migrate", "--noinput", "-v", "0")
    _run(env, "collectstatic", "--noinput", "-v", "0")
    _run(env, "shell", "-c", SEED)
    return env, root / "seed.sqlite3"


@pytest.fixture
def server(served: tuple[str, dict[str, str]]) -> str:
    return served[0]


@pytest.fixture
def served(
    seeded: tuple[dict[str, str], Path], smtp_server: Any, tmp_path: Path
) -> Iterator[tuple[str, dict[str, str]]]:
    """``mend serve`` on a fresh copy of the seeded database, sending mail to this test's SMTP server;
    its address and its environment (for other ``mend`` commands on the same database)."""
    template_env, template = seeded
    database = tmp_path / "mend.sqlite3"
    shutil.copyfile(template, database)
    env = {**template_env, "DATABASE_URL": f"sqlite:///{database}", "EMAIL_PORT": str(settings.EMAIL_PORT)}
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mend", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        yield url, env
    finally:
        # Its own session: gunicorn and its workers are one process group, ended together.
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


class Checked:
    """One browser context's page, with axe and CSP findings collected per page it is asked to check."""

    def __init__(self, context: BrowserContext, *, axe: bool) -> None:
        self.page = context.new_page()
        self.axe = Axe() if axe else None
        self.findings: list[str] = []
        self.page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.findings.append(f"{self.page.url}: {message.text}")

    def check(self) -> None:
        if self.axe is None:
            return
        page = self.page
        page.wait_for_load_state("load")
        results = self.axe.run(page, options={"resultTypes": ["violations"]}).response
        for violation in results["violations"]:
            if violation["impact"] in SERIOUS:
                targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
                self.findings.append(f"{page.url}: {violation['id']} ({violation['impact']}) at {targets}")
        width = page.viewport_size["width"] if page.viewport_size else 0
        if width <= 400:
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            if overflow > 0:
                self.findings.append(f"{page.url}: scrolls sideways by {overflow}px at {width}px")


def _wait_for_mail(inbox: Any, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(inbox.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(inbox.messages) == count, [m[1]["Subject"] for m in inbox.messages]


def _ics_start(message: Any) -> Any:
    (ics,) = [part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"]
    event = Calendar.from_ical(ics.get_content()).walk("VEVENT")[0]
    return event.decoded("DTSTART")


def _link(body: str, purpose: str) -> str:
    found = re.search(rf"https?://\S+/booking/{purpose}/\S+/", body)
    assert found, body
    return found.group(0)


def _book(browser: Browser, base: str, smtp: Any, *, viewport: dict[str, int], javascript: bool = True) -> list[str]:
    context = browser.new_context(base_url=base, viewport=viewport, java_script_enabled=javascript)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        checked = Checked(context, axe=javascript)
        page: Page = checked.page
        page.goto("/book/harbour/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Book an appointment at Harbour Test Clinic")
        expect(page.get_by_text("Deep tissue or Swedish massage")).to_be_visible()
        checked.check()

        page.get_by_role("link", name="Treatment 60").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("who would you like to see?")
        checked.check()

        page.get_by_role("link", name="First available").click()
        expect(page.get_by_text(f"{ZONE} time")).to_be_visible()
        checked.check()
        # A week ahead, outside the 24 hours before a visit in which the emailed links no longer change it.
        page.get_by_role("link", name="Later week").click()
        checked.check()
        slot = page.locator("main button[name=slot]").first
        label = slot.get_attribute("aria-label") or ""  # "Wednesday 17 March at 10:00"
        day, hour = label.rsplit(" at ", 1)
        slot.click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Your details")
        expect(page.get_by_text("We hold this time for you until")).to_be_visible()
        checked.check()
        new = page.get_by_role("region", name="I am new to Harbour Test Clinic")
        new.get_by_role("button", name="Continue").click()  # empty: the form says what is missing
        expect(page.locator("#form-errors").first).to_be_visible()
        checked.check()
        new = page.get_by_role("region", name="I am new to Harbour Test Clinic")
        new.get_by_role("textbox", name="First name").fill("Nora")
        new.get_by_role("textbox", name="Last name").fill("Newcomer")
        new.get_by_role("textbox", name="Email").fill("nora@example.org")
        new.get_by_role("textbox", name="Phone").fill("416 555 0199")
        new.get_by_label("Date of birth").fill("1985-02-03")
        new.get_by_label("The clinic may contact me by email").check()
        new.get_by_role("button", name="Continue").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your booking")
        checked.check()
        page.get_by_role("button", name="Book").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("You are booked")
        expect(page.locator("main")).to_contain_text(f", {hour} ")
        checked.check()

        _wait_for_mail(smtp, 1)
        recipients, confirmation = smtp.messages[0]
        assert recipients == ["nora@example.org"]
        body = smtp.body(0)
        assert f"{day}" in body and re.search(rf", {hour} E[SD]T \({ZONE} time\)", body), body
        assert "cancel or move this appointment online until" in body
        start = _ics_start(confirmation)
        assert str(start.tzinfo) == ZONE and f"{start:%H:%M}" == hour

        # Move it from the email's link: the next time listed.
        reschedule = _link(body, "reschedule")
        page.goto(reschedule)
        expect(page.get_by_role("heading", level=1)).to_have_text("Move your appointment")
        checked.check()
        page.get_by_role("link", name="Later week").click()
        page.locator(f"main button[name=slot]:not([aria-label='{label}'])").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Appointment moved")
        checked.check()
        _wait_for_mail(smtp, 2)
        moved = smtp.body(1)
        assert _ics_start(smtp.messages[1][1]) != start

        # The first email's link again: already changed, nothing moves.
        response = page.goto(reschedule)
        assert response is not None and response.status == 409
        expect(page.get_by_role("heading", level=1)).to_have_text("Already changed")
        checked.check()

        page.goto(_link(moved, "cancel"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Cancel your appointment?")
        checked.check()
        page.get_by_role("button", name="Cancel the appointment").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Appointment cancelled")
        checked.check()
        _wait_for_mail(smtp, 3)
        return checked.findings
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "390px"])
def test_a_new_client_books_moves_and_cancels_online(server, smtp_server, browser, viewport):
    findings = _book(browser, server, smtp_server, viewport=viewport)
    assert not findings, "\n".join(findings)


def test_the_booking_works_without_javascript(server, smtp_server, browser):
    _book(browser, server, smtp_server, viewport=PHONE, javascript=False)


def test_the_reminder_reaches_the_client_the_day_before(served, smtp_server, browser, tmp_path):
    """Booked online, the client gets the confirmation at once and, from `mend worker` the day before
    the visit, the reminder: through the same SMTP server, the time in the clinic's zone, named."""
    url, env = served
    context = browser.new_context(base_url=url, viewport=PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto("/book/harbour/")
        page.get_by_role("link", name="Treatment 60").click()
        page.get_by_role("link", name="First available").click()
        page.get_by_role("link", name="Later week").click()
        page.locator("main button[name=slot]").first.click()
        new = page.get_by_role("region", name="I am new to Harbour Test Clinic")
        new.get_by_role("textbox", name="First name").fill("Rita")
        new.get_by_role("textbox", name="Last name").fill("Reminded")
        new.get_by_role("textbox", name="Email").fill("rita@example.org")
        new.get_by_role("textbox", name="Phone").fill("416 555 0142")
        new.get_by_label("Date of birth").fill("1979-08-09")
        new.get_by_label("The clinic may contact me by email").check()
        new.get_by_role("button", name="Continue").click()
        page.get_by_role("button", name="Book").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("You are booked")
    finally:
        context.close()
    _wait_for_mail(smtp_server, 1)
    start = _ics_start(smtp_server.messages[0][1])

    def worker_at(moment: Any) -> None:
        # The anchor is the real time now: this process's own clock may be travelling (MEND_TEST_NOW).
        hatch = time_machine.escape_hatch
        real_now = hatch.time.time() if hatch.is_travelling() else time.time()
        at = {**env, testclock.NOW: moment.isoformat(), testclock.STARTED: repr(real_now)}
        testclock.subprocess_env(at, tmp_path / "worker-clock")
        _run(at, "worker", "--burst")

    def subjects() -> list[str]:
        return [str(message["Subject"]) for _, message in smtp_server.messages]

    def reminders() -> list[int]:
        return [i for i, subject in enumerate(subjects()) if "see you" in subject]

    worker_at(start - timedelta(hours=25))  # two days before: no reminder yet (the intake questionnaire goes)
    assert reminders() == [], subjects()
    assert sum("questionnaire" in s.lower() or "health" in s.lower() for s in subjects()) == 1, subjects()
    worker_at(start - timedelta(hours=23))  # the day before: the reminder goes
    deadline = time.monotonic() + 10
    while not reminders() and time.monotonic() < deadline:
        time.sleep(0.05)
    [index] = reminders()
    recipients, _ = smtp_server.messages[index]
    assert recipients == ["rita@example.org"]
    body = smtp_server.body(index)
    assert "A reminder of your appointment" in body
    assert re.search(rf", {start:%H:%M} E[SD]T \({ZONE} time\)", body), body
    assert "Cancellation policy" in body
    sent = len(smtp_server.messages)
    worker_at(start - timedelta(hours=22))  # a later run sends nothing twice
    assert len(smtp_server.messages) == sent, subjects()
