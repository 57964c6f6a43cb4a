"""Keyboard users: a skip link first in the tab order, a visible focus ring, and a whole episode of
care done with the keyboard alone.

The episode walk does every job of test_episode.py (client, episode, referral with the ICD-10
search, intake, assessment with the body map, goal, plan, an outcome measure, three signed notes,
an addendum, discharge) with Tab, Shift+Tab, Enter, Space, the arrow keys and typing: no mouse,
no element.click(), no fill(). Each control is reached by pressing Tab until it has the focus, so
a control the keyboard cannot reach fails the test, naming what the focus went through instead.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect

# clock: the episode's dates count from the server's today (as test_episode.py's).
pytestmark = [pytest.mark.browser, pytest.mark.clock]

FOCUSED_OUTLINE = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {id: el.id, text: el.textContent.trim(), outlineStyle: style.outlineStyle,
          outlineWidth: parseFloat(style.outlineWidth), left: box.left, width: box.width};
}"""

THERAPIST = "therapist1@example.org"
THERAPIST_NAME = "Priya Natarajan"
CLIENT = "Wren Keyes"
EPISODE = "Low back pain after a long drive"
GOAL = "Drive for an hour without back pain"
CHART_URL = re.compile(r"/episodes/(\d+)/$")
NOTE_URL = re.compile(r"/notes/(\d+)/$")
NOTES = re.compile(r"^Treatment notes")
# The focused control shows it: an outline of 2 px or more on it, on the box drawn for it (a scale's
# radio is hidden under its number) or on its label; a body map region's outline is its stroke.
FOCUS_SHOWN = """() => {
  const el = document.activeElement;
  const shown = e => {
    if (!e) return false;
    const s = getComputedStyle(e);
    return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2)
      || (e instanceof SVGElement && parseFloat(s.strokeWidth) >= 3);
  };
  return shown(el) || shown(el.nextElementSibling) || shown(el.closest('label'));
}"""
# Nothing sits over the focused control (a sticky bar, a header): the middle of it is on top.
FOCUS_ON_TOP = """() => {
  const el = document.activeElement;
  const box = el.getBoundingClientRect();
  const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  const labelled = el.labels && [...el.labels].some(label => label.contains(hit));
  return !!hit && (el === hit || el.contains(hit) || hit.contains(el) || labelled);
}"""
ACTIVE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return 'body';
  const name = el.getAttribute('aria-label') || el.labels?.[0]?.textContent || el.textContent || el.name || '';
  return `${el.tagName.toLowerCase()}${el.type ? '[' + el.type + ']' : ''} "${name.trim().slice(0, 40)}"`;
}"""


def test_skip_link_comes_first_and_focus_is_visible(signed_in) -> None:
    page: Page = signed_in("owner@example.org")
    page.goto("/clients/")
    skip = page.get_by_role("link", name="Skip to content")

    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    focused = page.evaluate(FOCUSED_OUTLINE)
    assert focused["left"] >= 0 and focused["width"] > 0, "the skip link should move on screen when focused"
    assert focused["outlineStyle"] != "none" and focused["outlineWidth"] >= 2, focused

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    expect(page.locator("main#main")).to_be_focused()

    # From the main content, Tab reaches the search box, and the focus ring shows on it.
    search = page.get_by_role("searchbox", name="Search clients")
    for _ in range(6):
        page.keyboard.press("Tab")
        if search.evaluate("el => el === document.activeElement"):
            break
    expect(search).to_be_focused()
    focused = page.evaluate(FOCUSED_OUTLINE)
    assert focused["outlineStyle"] != "none" and focused["outlineWidth"] >= 2, focused


# --- The keyboard ---------------------------------------------------------------------------


class Keyboard:
    """What a keyboard user does: Tab to a control, then type, press Enter, Space or the arrows."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def _focused(self, target: Locator) -> bool:
        return bool(target.evaluate("el => el === document.activeElement || el.contains(document.activeElement)"))

    def focus(self, target: Locator, *, limit: int = 150, back: bool = False) -> None:
        """Tab (or Shift+Tab) until ``target`` has the focus; fails with the path the focus took."""
        expect(target).to_be_visible()
        path = []
        for _ in range(limit):
            if self._focused(target):
                where = self.page.evaluate(ACTIVE)
                assert self.page.evaluate(FOCUS_SHOWN), f"the focus on {where} does not show"
                assert self.page.evaluate(FOCUS_ON_TOP), f"{where} has the focus but something covers it"
                return
            self.page.keyboard.press("Shift+Tab" if back else "Tab")
            path.append(self.page.evaluate(ACTIVE))
        pytest.fail(f"{target} cannot be reached with the keyboard; the focus went through: {path[-25:]}")

    def press(self, target: Locator, key: str = "Enter", **how: bool) -> None:
        self.focus(target, **how)
        self.page.keyboard.press(key)

    def type(self, target: Locator, text: str, **how: bool) -> None:
        """Type into a text field, replacing what it held."""
        self.focus(target, **how)
        self.page.keyboard.press("ControlOrMeta+A")
        self.page.keyboard.press("Delete")
        self.page.keyboard.type(text)

    def date(self, target: Locator, day: date, **how: bool) -> None:
        """A date field takes month, day and year typed in turn (the browser's en-US order)."""
        self.focus(target, **how)
        self.page.keyboard.type(f"{day:%m%d%Y}")
        expect(target).to_have_value(day.isoformat())

    def choose(self, select: Locator, label: str | re.Pattern[str], **how: bool) -> None:
        """Pick an option of a closed select with the arrow keys (each press changes the value)."""
        self.focus(select, **how)
        want = label if isinstance(label, re.Pattern) else re.compile(rf"^{re.escape(label)}$")
        options = select.evaluate("s => [...s.options].map(o => o.label || o.text)")
        wanted = [i for i, text in enumerate(options) if want.search(text.strip())]
        assert wanted, f"no option {label!r} in {options}"
        current = select.evaluate("s => s.selectedIndex")
        key = "ArrowDown" if wanted[0] > current else "ArrowUp"
        for _ in range(abs(wanted[0] - current)):
            self.page.keyboard.press(key)
        assert select.evaluate("s => s.selectedIndex") == wanted[0], f"{label!r} was not chosen"

    def radio(self, radio: Locator, **how: bool) -> None:
        """Tab into the radio group, then arrow keys to the radio (which checks it)."""
        name = radio.get_attribute("name")
        self.focus(radio.locator(f"xpath=ancestor::form//input[@type='radio'][@name='{name}']").first, **how)
        for _ in range(15):  # the arrows go round the group, checking each radio they reach
            if radio.is_checked():
                break
            self.page.keyboard.press("Space" if self._focused(radio) else "ArrowDown")
        expect(radio).to_be_checked()

    def tick(self, checkbox: Locator, **how: bool) -> None:
        self.focus(checkbox, **how)
        if not checkbox.is_checked():
            self.page.keyboard.press("Space")
        expect(checkbox).to_be_checked()


def _field(scope: Page | Locator, label: str) -> Locator:
    """The input labelled ``label`` (a required field's label ends in an asterisk)."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def _message(page: Page) -> Locator:
    return page.locator(".messages[role=status]")


def _region(page: Page, name: str | re.Pattern[str]) -> Locator:
    return page.get_by_role("region", name=name, exact=True if isinstance(name, str) else None)


def _skip_to_content(keys: Keyboard) -> None:
    """From the top of a new page: Tab to the skip link and follow it, so the next Tab is in the page."""
    page = keys.page
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()


def _back_to_chart(keys: Keyboard, *, back: bool = False) -> None:
    crumb = keys.page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name=EPISODE)
    keys.press(crumb, back=back)
    expect(keys.page).to_have_url(CHART_URL)


def _chart_action(keys: Keyboard, name: str) -> None:
    keys.press(keys.page.get_by_role("navigation", name="Episode actions").get_by_role("link", name=name))


# --- The jobs, in test_episode.py's order -------------------------------------------------


def _create_client(keys: Keyboard) -> None:
    page = keys.page
    page.goto("/clients/")
    _skip_to_content(keys)
    keys.press(page.get_by_role("link", name="New client"))
    expect(page.get_by_role("heading", name="New client", level=1)).to_be_visible()
    keys.type(_field(page, "Legal first name"), "Wren")
    keys.type(_field(page, "Legal last name"), "Keyes")
    keys.date(_field(page, "Date of birth"), date(1981, 9, 14))
    keys.choose(_field(page, "Sex at birth"), "Female")
    keys.press(page.get_by_role("button", name="Add client"))
    expect(_message(page)).to_contain_text(f"{CLIENT} was added.")
    expect(page.get_by_role("heading", level=1)).to_have_text(CLIENT)


def _open_episode(keys: Keyboard) -> date:
    page = keys.page
    keys.press(page.get_by_role("link", name="Open an episode"))
    expect(page.get_by_role("heading", name="Open an episode of care")).to_be_visible()
    today = date.fromisoformat(_field(page, "Start date").input_value())
    keys.type(_field(page, "Title"), EPISODE)
    keys.choose(_field(page, "Condition"), "Low back pain")
    keys.press(page.get_by_role("button", name="Open episode"))
    expect(page).to_have_url(CHART_URL)
    expect(_message(page)).to_contain_text(f"Episode “{EPISODE}” opened for {CLIENT}.")
    return today


def _add_referral(keys: Keyboard, today: date) -> None:
    page = keys.page
    keys.press(_region(page, "Referral").get_by_role("link", name="Add referral"))
    expect(page.get_by_role("heading", name="Add a referral")).to_be_visible()
    provider = _field(page, "Referring provider")
    keys.focus(provider)
    page.keyboard.press("ArrowDown")  # the first provider
    expect(provider).not_to_have_value("")
    keys.date(_field(page, "Date of referral"), today - timedelta(days=3))

    # The ICD-10 live search: type words, Tab to a result, Enter adds it and returns to the search.
    search = page.get_by_role("searchbox", name="Find a code by words or by its first characters")
    keys.focus(search)
    page.keyboard.type("low back pain", delay=20)
    pick = page.get_by_role("list", name="Matching billable codes").get_by_role("button", name=re.compile(r"^M54\.50 "))
    expect(pick).to_contain_text("Low back pain, unspecified")
    keys.press(pick)
    expect(_field(page, "Diagnoses (ICD-10-CM)")).to_have_value("M54.50 Low back pain, unspecified")
    expect(search).to_be_focused()

    keys.type(_field(page, "Reason"), "Mechanical low back pain after a long drive.")
    keys.type(_field(page, "Visits authorised"), "6")
    keys.date(_field(page, "Valid until"), today + timedelta(days=60))
    keys.press(page.get_by_role("button", name="Add referral"))
    expect(_message(page)).to_contain_text("Referral added.")
    expect(_region(page, "Referral")).to_contain_text("0 of 6 used")


def _record_intake(keys: Keyboard) -> None:
    page = keys.page
    _chart_action(keys, "Intake health history")
    expect(page.get_by_role("heading", name="Health history", level=1)).to_be_visible()
    keys.type(_field(page, "Medications"), "Apixaban 5 mg twice a day")

    # Every question in turn, as the form asks them: yes to blood thinners and to a wound, with
    # their details; no to the rest.
    questions = page.locator("fieldset[data-question]")
    for n in range(questions.count()):
        question = questions.nth(n)
        asked = question.locator("legend").inner_text()
        if "blood thinners" in asked:
            keys.radio(question.get_by_role("radio", name="Yes", exact=True))
            keys.type(_field(question, "Details"), "apixaban since March")
        elif "open wound, burn or large bruise" in asked:
            keys.radio(question.get_by_role("radio", name="Yes", exact=True))
            keys.choose(_field(question, "Where"), "Forearm")
            keys.choose(_field(question, "Side"), "Left")
            keys.type(_field(question, "Details"), "graze from a fall, healing")
        else:
            keys.radio(question.get_by_role("radio", name="No", exact=True))
    keys.press(page.get_by_role("button", name="Save health history"))
    expect(_message(page)).to_contain_text(
        "Health history saved. Screening: Avoid region (Open wound, burn or hematoma)."
    )


def _record_assessment(keys: Keyboard) -> None:
    page = keys.page
    _chart_action(keys, "Initial assessment")
    expect(page.get_by_role("heading", name="New assessment")).to_be_visible()
    keys.type(_field(page, "Pain now (NPRS 0–10)"), "6")
    keys.type(_field(page, "Chief complaint"), "My lower back aches after driving.")

    # The body map: Tab to a region, Enter adds it and moves to its intensity.
    pain = page.get_by_role("group", name="Pain map", exact=True)
    lower_back = pain.get_by_role("button", name=re.compile(r"^Lower back"))
    keys.press(lower_back, limit=250)
    expect(pain.locator(".bm-live")).to_have_text("Lower back added to the pain map. Enter the intensity, 0 to 10.")
    intensity = _field(pain, "Intensity (0–10), row 1")
    expect(intensity).to_be_focused()
    page.keyboard.type("6")
    keys.choose(_field(pain, "Quality, row 1"), "Aching")
    expect(lower_back).to_have_attribute("aria-label", "Lower back: pain 6 of 10")

    rom = page.get_by_role("group", name="Range of motion", exact=True)
    keys.choose(_field(rom, "Motion, row 1"), "Trunk flexion")
    keys.type(_field(rom, "Degrees, row 1"), "60")
    keys.press(page.get_by_role("button", name="Save assessment"))
    expect(page).to_have_url(re.compile(r"/assessments/\d+/$"))
    expect(page.get_by_role("list", name="Pain by region")).to_have_text("Lower back: 6/10, aching")
    _skip_to_content(keys)
    _back_to_chart(keys)


def _add_goal(keys: Keyboard) -> None:
    page = keys.page
    keys.press(_region(page, "Goals").get_by_role("link", name="Add goal"))
    expect(page.get_by_role("heading", name="New goal")).to_be_visible()
    keys.type(_field(page, "Description"), GOAL)
    keys.radio(page.get_by_role("radio", name="Pain (NPRS 0–10)"))
    keys.type(_field(page, "Target"), "3")
    keys.press(page.get_by_role("button", name="Save goal"))
    expect(_message(page)).to_contain_text(f"Goal “{GOAL}” saved.")
    expect(_region(page, "Goals")).to_contain_text("From 6 to 3 · latest 6")


def _save_suggested_plan(keys: Keyboard) -> None:
    page = keys.page
    _chart_action(keys, "Write the plan")
    expect(page.get_by_role("heading", name="Plan of care", level=1)).to_be_visible()
    keys.press(page.get_by_role("button", name="Save plan"), limit=400)
    expect(_message(page)).to_contain_text("Plan of care saved.")


def _record_measure(keys: Keyboard) -> None:
    """The plan's NPRS baseline, recorded in clinic from the chart's outcome measures."""
    page = keys.page
    outcomes = _region(page, "Outcome measures")
    keys.press(outcomes.get_by_role("link", name="Record NPRS in clinic"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("NPRS")
    keys.radio(page.get_by_role("radio", name=re.compile(r"^6\b")))
    keys.press(page.get_by_role("button", name="Save NPRS"))
    expect(page).to_have_url(CHART_URL)
    expect(_region(page, "Outcome measures").get_by_role("row").filter(has_text="NPRS")).to_contain_text("6")


def _write_and_sign_note(keys: Keyboard, number: int, pain_pre: int, pain_post: int) -> str:
    page = keys.page
    keys.press(page.get_by_role("button", name="Start today's note"))
    expect(page).to_have_url(re.compile(r"/notes/\d+/edit/$"))
    rows = page.locator("#techniques .technique-row")
    if number == 1:
        # The plan's deep work is ruled out by the blood thinners: remove those rows, add light work.
        expect(rows).to_have_count(5)
        for row in range(3):
            keys.tick(_field(rows.nth(row), "Remove"))
        blank = rows.nth(4)
        keys.choose(_field(blank, "Technique"), "Swedish massage")
        keys.choose(_field(blank, "Region"), "Lower back")
        keys.type(_field(blank, "Minutes"), "30")
        keys.choose(_field(blank, "Pressure"), "2 · light to moderate")
    keys.type(_field(page, "Client report"), f"Visit {number}: stiff after driving, easier after walking.")
    keys.type(_field(page, "Pain before (0–10)"), str(pain_pre))
    with page.expect_response(
        lambda r: r.url.endswith("/autosave/") and f"pain_post={pain_post}" in (r.request.post_data or "")
    ):
        keys.type(_field(page, "Pain after (0–10)"), str(pain_post))
    expect(page.locator("#autosave-status")).to_have_text(re.compile(r"Draft saved \d\d:\d\d"))

    # Signing asks to confirm (the browser's own dialog, answered with Enter).
    page.once("dialog", lambda dialog: dialog.accept())
    keys.press(page.get_by_role("button", name="Sign note"))
    expect(page).to_have_url(NOTE_URL)
    expect(_message(page)).to_contain_text("Note signed. It can now only be amended with an addendum.")
    url = page.url
    _skip_to_content(keys)
    _back_to_chart(keys)
    expect(_region(page, "Referral")).to_contain_text(f"{number} of 6 used")
    return url


def _add_addendum(keys: Keyboard, note_url: str) -> None:
    page = keys.page
    notes = _region(page, NOTES)
    keys.press(notes.get_by_role("row").last.get_by_role("link"))
    expect(page).to_have_url(note_url)
    addenda = _region(page, "Addenda")
    keys.type(_field(addenda, "Reason"), "Late entry")
    keys.type(_field(addenda, "Addendum"), "Client called: the soreness settled by the next morning.")
    keys.press(addenda.get_by_role("button", name="Sign and add addendum"))
    expect(_message(page)).to_contain_text("Addendum signed and added to the note.")
    # The page opens at the new addendum (#addenda), where Tab starts: the breadcrumb is behind it.
    _back_to_chart(keys, back=True)
    expect(_region(page, NOTES).get_by_role("row").last.get_by_role("cell").last).to_have_text("1")


def _discharge(keys: Keyboard) -> None:
    page = keys.page
    _chart_action(keys, "Discharge")
    expect(page.get_by_role("heading", name="Discharge", level=1)).to_be_visible()
    keys.choose(_field(page, "Reason for discharge"), "Goals met")
    keys.type(_field(page, "Summary"), "Pain 1/10 and driving an hour; continues the home stretches.")
    keys.press(page.get_by_role("button", name=f"Discharge {CLIENT}"))
    expect(_message(page)).to_contain_text(f"{CLIENT} was discharged from “{EPISODE}”.")
    row = _region(page, "Discharged: Goals met").get_by_role("row").filter(has_text=GOAL)
    expect(row.get_by_role("cell").last).to_have_text("Met")
    expect(page.get_by_role("button", name="Start today's note")).to_have_count(0)


def test_a_whole_episode_of_care_with_the_keyboard_alone(signed_in) -> None:
    page: Page = signed_in(THERAPIST)
    keys = Keyboard(page)
    _create_client(keys)
    today = _open_episode(keys)
    _add_referral(keys, today)
    _record_intake(keys)
    _record_assessment(keys)
    _add_goal(keys)
    _save_suggested_plan(keys)
    _record_measure(keys)
    first = _write_and_sign_note(keys, 1, pain_pre=5, pain_post=3)
    _write_and_sign_note(keys, 2, pain_pre=3, pain_post=2)
    _write_and_sign_note(keys, 3, pain_pre=2, pain_post=1)
    _add_addendum(keys, first)
    _discharge(keys)
