"""The clinic switcher and what front desk may open."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def _client_links(page: Page) -> set[str]:
    return {link.get_attribute("href") or "" for link in page.locator("#client-results tbody a.rowlink").all()}


def test_therapist_switches_from_harbour_to_northside(signed_in) -> None:
    page: Page = signed_in("therapist1@example.org")
    switcher = page.get_by_label("Active clinic")
    expect(switcher).to_have_value("harbour")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    expect(page).to_have_title(re.compile(r"Clients · Harbour Medical Massage"))
    expect(page.get_by_text("Clients on your care team.")).to_be_visible()
    harbour = _client_links(page)
    assert harbour

    # Choosing is not switching: arrow keys walk a closed select, so the button sends the choice.
    switcher.select_option("northside")
    expect(page).to_have_title(re.compile(r"Clients · Harbour Medical Massage"))
    with page.expect_navigation():
        page.get_by_role("button", name="Switch").click()

    expect(page).to_have_url(re.compile(r"/clients/$"))
    expect(page.get_by_role("status")).to_contain_text("You are now working in Northside Rehab Massage.")
    expect(page).to_have_title(re.compile(r"Clients · Northside Rehab Massage"))
    expect(page.get_by_label("Active clinic")).to_have_value("northside")
    northside = _client_links(page)
    assert northside, "therapist1 has clients on their Northside care team"
    assert not northside & harbour, "the list still shows Harbour clients"

    # A Northside client opens; a Harbour one is now not found.
    page.goto(sorted(northside)[0])
    expect(page.get_by_role("heading", name="Care team")).to_be_visible()
    response = page.goto(sorted(harbour)[0])
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")


def test_front_desk_sees_clients_but_not_the_audit_trail(signed_in) -> None:
    page: Page = signed_in("frontdesk@example.org")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Clients")).to_be_visible()
    expect(nav.get_by_role("link", name="Audit")).to_have_count(0)
    expect(nav.get_by_role("link", name="Settings")).to_have_count(0)

    nav.get_by_role("link", name="Clients").click()
    expect(page.get_by_role("heading", name="Clients", level=1)).to_be_visible()
    # Front desk sees every client of the clinic (250 in the demo, more once a test adds one).
    expect(page.locator("#client-results .pager")).to_contain_text(re.compile(r"1–25 of 25\d"))
    expect(page.locator("#client-results tbody tr")).to_have_count(25)

    response = page.goto("/audit/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(page.locator("table")).to_have_count(0)
