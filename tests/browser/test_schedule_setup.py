"""The schedule setup in a browser: on a 390 px phone each setup page fits the screen, and a therapist
reaches their own hours from the account menu, adds a block to the week and removes it again."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
OVERFLOW = "() => [document.scrollingElement.scrollWidth, window.innerWidth]"
TABLES = """() => [...document.querySelectorAll('main table')].filter(t => t.offsetParent !== null).map(t => ({
  width: t.scrollWidth, room: t.parentElement.clientWidth}))"""


@pytest.fixture
def phone(browser: Browser, server_url: str) -> Iterator[Callable[[str], Page]]:
    """A page on a phone, signed in as the demo account ``email``."""
    contexts = []

    def _phone(email: str) -> Page:
        context = browser.new_context(base_url=server_url, viewport=PHONE)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill("mend-demo")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
        return page

    yield _phone
    for context in contexts:
        context.close()


def _fits(page: Page) -> None:
    scroll_width, width = page.evaluate(OVERFLOW)
    assert scroll_width <= width, f"{page.url} is {scroll_width} px wide on a {width} px screen"
    for table in page.evaluate(TABLES):
        assert table["width"] <= table["room"], f"a table on {page.url} is cut off: {table}"


def test_every_setup_page_fits_a_phone(phone) -> None:
    page: Page = phone("owner@example.org")
    page.goto("/settings/")
    page.get_by_role("region", name="Schedule").get_by_role("link", name="Schedule setup").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Schedule setup")
    _fits(page)
    hours = page.get_by_role("region", name="Therapists’ hours").get_by_role("link").first.get_attribute("href")
    page.get_by_role("link", name="Appointment types", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Appointment types")
    _fits(page)
    page.locator("main table tbody th a").first.click()
    expect(page.get_by_role("button", name="Save appointment type")).to_be_visible()
    _fits(page)
    page.goto("/schedule/setup/types/new/")
    _fits(page)
    page.goto(hours or "")
    expect(page.get_by_role("heading", name="Every week")).to_be_visible()
    _fits(page)
    page.goto("/schedule/setup/closures/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Closures")
    _fits(page)


def test_a_therapist_adds_and_removes_a_block_of_their_own_hours(phone) -> None:
    page: Page = phone("therapist1@example.org")
    page.locator(".usermenu summary").click()
    page.get_by_role("link", name="Your working hours").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your working hours")
    form = page.locator("form", has=page.get_by_role("button", name="Add hours"))
    form.get_by_label("Day").select_option(label="Sunday")
    form.get_by_label("From").fill("05:00")
    form.get_by_label("Until").fill("05:30")
    location = form.get_by_label("Location")
    if location.locator("option").first.get_attribute("value") == "":
        location.select_option(index=1)
    form.get_by_role("button", name="Add hours").click()
    expect(page.locator(".messages")).to_contain_text("Hours added to the week.")
    sunday = page.get_by_role("row", name="Sunday")
    expect(sunday).to_contain_text("05:00–05:30")
    _fits(page)
    sunday.get_by_role("button", name="Remove Sunday 05:00–05:30").click()
    expect(page.locator(".messages")).to_contain_text("removed from the week")
    expect(page.get_by_role("row", name="Sunday")).not_to_contain_text("05:00–05:30")
