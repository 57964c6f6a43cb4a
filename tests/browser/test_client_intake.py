"""The health history a new client answers from the emailed link, in Chromium, signed out: sent empty it
names every question still unanswered; answered (one "yes" with its details, the rest "no", a note) it
says thank you; the same link then answers that it was used (409). No serious or critical axe-core
violation and no Content-Security-Policy violation on any of these pages, at desktop width and at 390 px
(no sideways scrolling there).

The demo server's data get the questionnaire sent, through the service, to a Harbour client with an email.
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

SEND = """
import json, re
from django.utils import timezone
from mend.clinical.services import client_intake_send
from mend.clinics.models import Clinic
from mend.outbox.models import OutboundMessage
from mend.people.models import Client
clinic = Clinic.objects.get(slug="harbour")
client = Client.objects.filter(clinic=clinic).exclude(email="").order_by("-pk").first()
intake = client_intake_send(clinic=clinic, client=client, now=timezone.now())
body = OutboundMessage.objects.get(key=f"intake:{intake.pk}").body
token = re.search(r"/intake/([^/\\s]+)/", body).group(1)
print(json.dumps({"token": token, "name": client.chosen_name or client.legal_given_name}))
"""


@pytest.fixture
def sent(demo_server: Any, server_url: str) -> dict[str, str]:
    """A new questionnaire for each test (a link works once)."""
    result: dict[str, str] = json.loads(demo_server.manage("shell", "-c", SEND).strip().splitlines()[-1])
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
def test_a_new_client_answers_the_health_questions_from_the_emailed_link(
    sent: dict[str, str], server_url: str, browser: Browser, viewport: dict[str, int]
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
        page.goto(f"/intake/{sent['token']}/")
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello {sent['name']}")
        radios = page.locator("input[type=radio]")
        assert radios.count() > 40 and page.locator("input[type=radio]:checked").count() == 0
        findings += _findings(page, axe)

        # Sent with nothing answered: every question is named, nothing is recorded.
        page.get_by_role("button", name="Send my answers").click()
        expect(page.get_by_text("questions not answered yet")).to_be_visible()
        findings += _findings(page, axe)

        questions = page.locator("fieldset.question")
        for n in range(questions.count()):
            question = questions.nth(n)
            answer = "Yes" if question.get_attribute("id") == "q-anticoagulant" else "No"
            question.get_by_label(answer, exact=True).check()
        page.locator("#id_anticoagulant__note").fill("Apixaban since March")
        page.get_by_label("Anything else your therapist should know?").fill("Sore left shoulder for six weeks.")
        page.get_by_role("button", name="Send my answers").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
        findings += _findings(page, axe)

        response: Any = page.goto(f"/intake/{sent['token']}/")
        assert response.status == 409
        expect(page.get_by_role("heading", level=1)).to_have_text("These answers were already sent")
        expect(page.get_by_text("call the clinic")).to_be_visible()
        findings += _findings(page, axe)
    finally:
        context.close()
    assert not findings, "\n".join(findings)
