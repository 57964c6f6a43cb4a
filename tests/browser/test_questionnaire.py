"""An emailed questionnaire, end to end: the therapist sends NPRS from the chart, the client opens the
link from the email signed out and answers, the link then refuses a second use, and the answer
reaches the chart's outcome card and the clinic evidence report.

The demo server writes its mail to ``mail_dir`` (Django's file backend, see conftest.py). The demo
data are seeded: Jacqueline Haynes is one of therapist1's clients at Harbour Medical Massage, agreed
to email, and her open hip flexor strain episode (ICD-10-CM subcategory S76.0) has a single NPRS score of 8.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.browser

THERAPIST = "therapist1@example.org"
CLIENT = "Jacqueline Haynes"
EPISODE = "Right hip flexor strain, track"
CONDITION_CODE = "S76.0"
CHART_URL = re.compile(r"/episodes/(\d+)/$")
LINK = re.compile(r"https?://\S+/q/[^/\s]+/")


def _message(page: Page) -> Locator:
    return page.locator(".messages[role=status]")


def _evidence_row(page: Page) -> dict[str, str]:
    """The evidence report's cells for the episode's condition and NPRS, by column."""
    page.goto("/outcomes/evidence/")
    expect(page.get_by_role("heading", name="Clinic evidence report", level=1)).to_be_visible()
    rows = page.locator("tr[data-row]").evaluate_all(
        """rows => rows.map(row => Object.fromEntries(
            [...row.querySelectorAll("[data-col]")].map(cell => [cell.dataset.col, cell.textContent.trim()])))"""
    )
    found = [r for r in rows if r["condition_code"] == CONDITION_CODE and r["measure"] == "NPRS"]
    assert len(found) == 1, [(r["condition_code"], r["measure"], r["episodes"], r["followed_up"]) for r in rows]
    return found[0]


def _open_chart(page: Page) -> str:
    page.goto("/clients/?q=Haynes")
    page.get_by_role("link", name=CLIENT).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(CLIENT)
    page.get_by_role("link", name=EPISODE).first.click()
    expect(page).to_have_url(CHART_URL)
    return page.url


def _nprs_row(page: Page) -> Locator:
    card = page.get_by_role("region", name="Outcome measures")
    return card.get_by_role("row").filter(has=page.get_by_role("rowheader", name=re.compile(r"^NPRS")))


def _emailed_link(mail_dir: Path, before: set[Path], address: str) -> str:
    files = sorted(set(mail_dir.glob("*.log")) - before)
    assert len(files) == 1, f"expected one new email in {mail_dir}, found {files}"
    text = files[0].read_text()
    assert f"To: {address}" in text, text[:500]
    found = LINK.findall(text)
    assert len(found) == 1, text
    return found[0]


def test_an_emailed_nprs_reaches_the_chart_and_the_evidence_report(
    signed_in: Callable[[str], Page], new_page: Callable[[], Page], mail_dir: Path
) -> None:
    page = signed_in(THERAPIST)
    before = _evidence_row(page)

    chart = _open_chart(page)
    nprs = _nprs_row(page)
    expect(nprs.get_by_role("cell").first).to_contain_text("8")
    expect(nprs).to_contain_text("baseline only")

    page.get_by_role("region", name="Outcome measures").get_by_role("link", name="Send to client").click()
    expect(page.get_by_role("heading", name=f"Send questionnaires to {CLIENT}", level=1)).to_be_visible()
    address = page.locator("form strong").first.inner_text()
    assert "@" in address, address
    boxes = page.get_by_role("group", name=re.compile("Questionnaires to send")).get_by_role("checkbox")
    for box in boxes.all():
        box.set_checked(False)
    page.get_by_role("checkbox", name=re.compile(r"^NPRS ·")).check()
    sent_before = set(mail_dir.glob("*.log"))
    page.get_by_role("button", name="Email the link").click()
    expect(page).to_have_url(chart)
    expect(_message(page)).to_contain_text(f"The questionnaire link was emailed to {address}.")
    expect(page.get_by_role("region", name="Outcome measures")).to_contain_text("1 emailed link waiting for answers.")
    url = _emailed_link(mail_dir, sent_before, address)

    # The client: a fresh browser context, never signed in.
    client = new_page()
    client.goto(url)
    expect(client.get_by_role("heading", level=1)).to_have_text("Hello Jacqueline")
    form = client.get_by_role("region", name=re.compile("Numeric Pain Rating"))
    expect(form).to_be_visible()
    expect(form).not_to_contain_text("Wording licensed")
    form.get_by_role("radio", name=re.compile(r"^1\b")).check()
    client.get_by_role("button", name="Send my answers").click()
    expect(client).to_have_url(re.compile(r"/q/thanks/$"))
    expect(client.get_by_role("heading", level=1)).to_have_text("Thank you")

    # The link works once.
    response = client.goto(url)
    assert response is not None and response.status == 410
    expect(client.get_by_role("heading", level=1)).to_have_text("This questionnaire was already answered")
    expect(client.get_by_role("button", name="Send my answers")).to_have_count(0)

    # The therapist again: the chart shows the remote answer as the latest NPRS.
    page = signed_in(THERAPIST)
    page.goto(chart)
    nprs = _nprs_row(page)
    latest = nprs.get_by_role("cell").first
    expect(latest.locator("strong")).to_have_text("1")
    expect(latest).to_contain_text("by link")
    expect(nprs).to_contain_text("+7 better")
    expect(nprs).to_contain_text("responder")
    expect(page.get_by_role("region", name="Outcome measures")).not_to_contain_text("waiting for answers")

    after = _evidence_row(page)
    assert after["episodes"] == before["episodes"], (before, after)
    assert int(after["followed_up"]) == int(before["followed_up"]) + 1, (before, after)
    assert int(after.get("responders", "0")) == int(before.get("responders", "0")) + 1, (before, after)
