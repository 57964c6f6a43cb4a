"""On a 390 px phone: Today and the chart fit the screen, the menu folds behind one button instead of
wrapping into two rows, the clinic switcher shows the clinic's whole name, the chart lists each
visit once, and the progress charts are drawn at the width of their card."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.browser

THERAPIST = "therapist1@example.org"  # in both demo clinics: the switcher shows
PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 800}

OVERFLOW = "() => [document.scrollingElement.scrollWidth, window.innerWidth]"
# Each table against the box it sits in: a table wider than its .table-wrap scrolls out of sight.
TABLES = """() => [...document.querySelectorAll('main table')].filter(t => t.offsetParent !== null).map(t => ({
  caption: (t.caption ? t.caption.textContent : t.closest('section')?.querySelector('h2')?.textContent || '').trim(),
  width: t.scrollWidth, room: t.parentElement.clientWidth}))"""
# Nothing sits over the focused control (the note's sticky Save/Sign bar): its middle is on top.
FOCUS_ON_TOP = """() => {
  const el = document.activeElement;
  const box = el.getBoundingClientRect();
  const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  const labelled = el.labels && [...el.labels].some(label => label.contains(hit));
  return {on_top: !!hit && (el === hit || el.contains(hit) || hit.contains(el) || labelled),
          what: `${el.tagName} ${el.name || el.textContent.trim().slice(0, 30)}`};
}"""
# What the select shows against the room it has for it (less the arrow), in the select's own font.
SWITCHER = """el => {
  const style = getComputedStyle(el);
  const context = document.createElement('canvas').getContext('2d');
  context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const text = el.options[el.selectedIndex].text;
  const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
  return {text, needed: context.measureText(text).width, room};
}"""


@pytest.fixture
def opened(browser: Browser, server_url: str) -> Iterator[Callable[..., Page]]:
    """A signed-in page at the given viewport: ``opened(PHONE)``; ``script=False`` without JavaScript."""
    contexts = []

    def _opened(viewport: dict[str, int], *, script: bool = True, email: str = THERAPIST) -> Page:
        context = browser.new_context(base_url=server_url, viewport=viewport, java_script_enabled=script)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill("mend-demo")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
        return page

    yield _opened
    for context in contexts:
        context.close()


def _fits(page: Page) -> None:
    scroll_width, width = page.evaluate(OVERFLOW)
    assert scroll_width <= width, f"{page.url} is {scroll_width} px wide on a {width} px screen"
    for table in page.evaluate(TABLES):
        assert table["width"] <= table["room"], f"the table {table['caption']!r} is cut off: {table}"


def _chart_with_notes(page: Page) -> str:
    """The chart of the first client whose measures are due on Today (a demo episode with notes)."""
    page.goto("/")
    due = page.get_by_role("region", name="Outcome measures due")
    return due.get_by_role("link").first.get_attribute("href") or ""


def test_today_fits_a_phone_with_its_tables_as_lists(opened) -> None:
    page: Page = opened(PHONE)
    page.goto("/")
    expect(page.get_by_role("heading", name="Credentials needing attention")).to_be_visible()
    _fits(page)
    # The licence table is a list on a phone: each cell says what it is.
    credentials = page.get_by_role("region", name="Credentials needing attention")
    expect(credentials.get_by_role("cell", name=re.compile(r"^Expires: \d")).first).to_be_visible()
    expect(credentials.get_by_role("cell", name=re.compile(r"^Status: ")).first).to_be_visible()


def test_the_menu_folds_behind_a_button_the_keyboard_opens(opened) -> None:
    page: Page = opened(PHONE)
    page.goto("/clients/")
    menu = page.get_by_role("button", name="Menu")
    links = page.get_by_role("navigation", name="Main").get_by_role("link")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(links.first).to_be_hidden()
    # The logo, the menu button and the account menu share one row.
    bar = [page.locator(s).bounding_box() for s in (".brand", ".nav-toggle", ".usermenu summary")]
    centres = [box["y"] + box["height"] / 2 for box in bar if box]
    assert len(centres) == 3 and max(centres) - min(centres) < 8, bar

    # Keyboard only: skip link, then the logo, then the menu button.
    for _ in range(3):
        page.keyboard.press("Tab")
    expect(menu).to_be_focused()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(links.first).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Today")).to_be_focused()
    expect(page.get_by_role("link", name="Clients")).to_have_attribute("aria-current", "page")
    page.keyboard.press("Escape")
    expect(menu).to_be_focused()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(links.first).to_be_hidden()
    _fits(page)


def test_without_the_script_the_menu_is_one_row_that_scrolls(opened) -> None:
    page: Page = opened(PHONE, script=False, email="owner@example.org")  # the owner has the most links
    page.goto("/")
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    tops = {round(box["y"]) for box in (link.bounding_box() for link in page.locator(".mainnav a").all()) if box}
    assert len(tops) == 1, f"the menu wraps into {len(tops)} rows"
    _fits(page)


def test_the_clinic_switcher_shows_the_whole_name_of_the_clinic(opened) -> None:
    for viewport in (PHONE, WIDE):
        page: Page = opened(viewport)
        switcher = page.get_by_label("Active clinic")
        expect(switcher).to_be_visible()
        shown = switcher.evaluate(SWITCHER)
        assert shown["text"] == "Harbour Medical Massage"
        assert shown["needed"] <= shown["room"], f"{viewport['width']} px: the name is cut short: {shown}"


@pytest.mark.parametrize("viewport", [PHONE, WIDE], ids=["phone", "wide"])
def test_the_chart_lists_each_visit_once(opened, viewport) -> None:
    page: Page = opened(viewport)
    page.goto(_chart_with_notes(page))
    notes = page.get_by_role("region", name=re.compile(r"^Treatment notes"))
    visits = notes.get_by_role("rowheader")
    expect(visits.first).to_be_visible()
    first = visits.first.inner_text()
    # Once in the notes, not again in a timeline; the timeline is a page of its own.
    expect(page.get_by_role("region", name="Timeline")).to_have_count(0)
    expect(page.get_by_role("link", name=first, exact=True)).to_have_count(1)
    expect(notes.get_by_role("link", name="Full timeline")).to_be_visible()
    _fits(page)


@pytest.mark.parametrize("viewport", [PHONE, WIDE], ids=["phone", "wide"])
def test_progress_charts_fill_their_card_with_readable_labels(opened, viewport) -> None:
    page: Page = opened(viewport)
    page.goto(_chart_with_notes(page) + "progress/")
    charts = page.locator("figure.chart svg:visible")
    expect(charts.first).to_be_visible()
    assert charts.count() >= 2
    for chart in charts.all():
        size = chart.evaluate(
            """svg => ({width: svg.getBoundingClientRect().width, room: svg.parentElement.clientWidth,
                        drawn: svg.viewBox.baseVal.width, name: svg.getAttribute('aria-labelledby')})"""
        )
        assert size["name"], "each chart is an image named by its title"
        assert size["width"] >= 0.98 * size["room"], f"the chart does not fill its card: {size}"
        # 12 px labels stay between 10 and 15 px.
        assert 0.83 <= size["width"] / size["drawn"] <= 1.25, f"labels drawn at another size: {size}"
    _fits(page)


def test_tabbing_through_a_note_on_a_phone_never_hides_the_focus_under_its_bar(opened) -> None:
    """The note's Save/Sign bar stays at the bottom of the screen, two rows high on a phone: each
    field Tab reaches is scrolled clear of it."""
    page: Page = opened(PHONE)
    page.goto(_chart_with_notes(page))
    page.get_by_role("button", name="Start today's note").press("Enter")
    expect(page).to_have_url(re.compile(r"/notes/\d+/edit/$"))
    try:
        report = page.get_by_role("textbox", name="Client report")
        report.focus()
        sign = page.get_by_role("button", name="Sign note")
        for _ in range(80):
            page.keyboard.press("Tab")
            focused = page.evaluate(FOCUS_ON_TOP)
            if sign.evaluate("el => el === document.activeElement"):
                break
            assert focused["on_top"], f"{focused['what']} has the focus under the Save/Sign bar"
    finally:
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Delete draft").press("Enter")
        expect(page).to_have_url(re.compile(r"/episodes/\d+/$"))
