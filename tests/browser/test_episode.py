"""A whole episode of care, as a therapist works through it in the real pages.

One long test on purpose: every step needs the record the steps before it wrote. A fresh client
keeps it independent of the demo data: open an episode → referral (ICD-10 live search) → intake
with findings → assessment (body map, range of motion with a field error) → goal → plan of care →
three signed treatment notes → a signed note refuses edits and takes an addendum → discharge.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect

# clock: every date in the episode counts from the server's today for Harbour (scripts/test.sh runs
# the browser tests with the whole suite, at 02:30 UTC and in Toronto's repeated hour).
pytestmark = [pytest.mark.browser, pytest.mark.clock]

THERAPIST = "therapist1@example.org"
THERAPIST_NAME = "Priya Natarajan"
CLIENT = "Imogen Tasker"
EPISODE = "Low back pain after moving house"
GOAL = "Sit through a film without back pain"
CHART_URL = re.compile(r"/episodes/(\d+)/$")
NOTE_URL = re.compile(r"/notes/(\d+)/$")
NOTES = re.compile(r"^Treatment notes")


def _field(scope: Page | Locator, label: str) -> Locator:
    """The input labelled ``label`` (a required field's label ends in an asterisk)."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def _message(page: Page) -> Locator:
    """The flash messages at the top of the page (the note form has a second status: autosave)."""
    return page.locator(".messages[role=status]")


def _region(page: Page, name: str | re.Pattern[str]) -> Locator:
    return page.get_by_role("region", name=name, exact=True if isinstance(name, str) else None)


def _back_to_chart(page: Page) -> None:
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name=EPISODE).click()
    expect(page).to_have_url(CHART_URL)


def _chart_action(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Episode actions").get_by_role("link", name=name).click()


def _expect_visits(page: Page, used: int) -> None:
    referral = _region(page, "Referral")
    expect(referral).to_contain_text(f"{used} of 6 used")
    expect(referral.get_by_role("progressbar", name=f"{used} of 6 used")).to_have_attribute("value", str(used))


def _create_client(page: Page) -> None:
    page.goto("/clients/")
    page.get_by_role("link", name="New client").click()
    expect(page.get_by_role("heading", name="New client", level=1)).to_be_visible()
    _field(page, "Legal first name").fill("Imogen")
    _field(page, "Legal last name").fill("Tasker")
    _field(page, "Date of birth").fill("1979-06-02")
    _field(page, "Sex at birth").select_option(label="Female")
    page.get_by_role("button", name="Add client").click()
    expect(_message(page)).to_contain_text(f"{CLIENT} was added.")
    expect(page.get_by_role("heading", level=1)).to_have_text(CLIENT)
    # A therapist's new client is on her own care team, with no episode yet.
    expect(_region(page, "Care team")).to_contain_text(THERAPIST_NAME)
    expect(_region(page, "Episodes of care")).to_contain_text("No episode of care yet.")


def _open_episode(page: Page) -> date:
    """Open the episode; answers the server's today (the start date's default)."""
    page.get_by_role("link", name="Open an episode").click()
    expect(page.get_by_role("heading", name="Open an episode of care")).to_be_visible()
    today = date.fromisoformat(_field(page, "Start date").input_value())
    _field(page, "Title").fill(EPISODE)
    _field(page, "Condition").select_option(label="Low back pain")
    page.get_by_role("button", name="Open episode").click()

    expect(page).to_have_url(CHART_URL)
    expect(_message(page)).to_contain_text(f"Episode “{EPISODE}” opened for {CLIENT}.")
    expect(page.get_by_role("heading", level=1)).to_have_text(CLIENT)
    head = page.locator(".chart-head")
    expect(head).to_contain_text(EPISODE)
    expect(head).to_contain_text("Open")
    expect(head).to_contain_text(f"therapist {THERAPIST_NAME} · Low back pain")
    expect(_region(page, "Screening today: No contraindication found")).to_be_visible()
    expect(_region(page, "Referral")).to_contain_text("No referral on file.")
    return today


def _add_referral(page: Page, today: date) -> None:
    _region(page, "Referral").get_by_role("link", name="Add referral").click()
    expect(page.get_by_role("heading", name="Add a referral")).to_be_visible()
    provider_field = _field(page, "Referring provider")
    provider_field.select_option(index=1)
    provider = provider_field.locator("option:checked").inner_text().split(",")[0]
    _field(page, "Date of referral").fill((today - timedelta(days=3)).isoformat())

    # The ICD-10 live search: type words, choose a billable code from the results.
    search = page.get_by_role("searchbox", name="Find a code by words or by its first characters")
    search.press_sequentially("low back pain", delay=20)
    results = page.get_by_role("list", name="Matching billable codes")
    pick = results.get_by_role("button", name=re.compile(r"^M54\.50 "))
    expect(pick).to_contain_text("Low back pain, unspecified")
    pick.click()
    diagnoses = _field(page, "Diagnoses (ICD-10-CM)")
    expect(diagnoses).to_have_value("M54.50 Low back pain, unspecified")
    expect(page.locator("#icd10-added")).to_have_text("M54.50 added.")
    expect(search).to_have_value("")
    expect(search).to_be_focused()

    _field(page, "Reason").fill("Mechanical low back pain after lifting.")
    _field(page, "Visits authorised").fill("6")
    _field(page, "Valid until").fill((today + timedelta(days=60)).isoformat())
    page.get_by_role("button", name="Add referral").click()

    expect(page).to_have_url(CHART_URL)
    expect(_message(page)).to_contain_text("Referral added.")
    referral = _region(page, "Referral")
    expect(referral).to_contain_text(provider)
    expect(referral.get_by_role("list", name="Diagnoses")).to_have_text("M54.50 Low back pain, unspecified")
    expect(referral).to_contain_text("60 days left")
    _expect_visits(page, 0)


def _record_intake(page: Page) -> None:
    _chart_action(page, "Intake health history")
    expect(page.get_by_role("heading", name="Health history", level=1)).to_be_visible()
    _field(page, "Medications").fill("Apixaban 5 mg twice a day")
    expect(page.get_by_role("radio", checked=True)).to_have_count(0)

    blood_thinners = page.get_by_role("group", name=re.compile(r"Do you take blood thinners"))
    details = _field(blood_thinners, "Details")
    expect(details).to_be_hidden()
    blood_thinners.get_by_role("radio", name="Yes").check()
    details.fill("apixaban since March")

    wound = page.get_by_role("group", name=re.compile(r"open wound, burn or large bruise"))
    wound.get_by_role("radio", name="Yes").check()
    _field(wound, "Where").select_option(label="Forearm")
    _field(wound, "Side").select_option(label="Left")
    _field(wound, "Details").fill("graze from a fall, healing")
    # Every question starts unanswered, and each needs a yes or a no: saving with two answered
    # names the others and keeps what was entered.
    page.get_by_role("button", name="Save health history").click()
    expect(page.get_by_text(re.compile(r"^\d+ questions not answered yet\.$"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"Do you have a fever"))).to_be_visible()
    expect(blood_thinners.get_by_role("radio", name="Yes")).to_be_checked()
    expect(_field(wound, "Details")).to_have_value("graze from a fall, healing")
    questions = page.locator("fieldset[data-question]")
    for n in range(questions.count()):
        question = questions.nth(n)
        if not question.get_by_role("radio", name="Yes", exact=True).is_checked():
            question.get_by_role("radio", name="No", exact=True).check()
    page.get_by_role("button", name="Save health history").click()

    expect(page).to_have_url(CHART_URL)
    expect(_message(page)).to_contain_text(
        "Health history saved. Screening: Avoid region (Open wound, burn or hematoma)."
    )
    _expect_flags(page)
    expect(_region(page, "Pain map")).to_contain_text("Avoid: Left forearm")
    findings = _region(page, "Record")
    expect(findings).to_contain_text("Anticoagulant or antiplatelet medication")
    expect(findings).to_contain_text("Open wound, burn or hematoma (left forearm)")


def _expect_flags(page: Page) -> None:
    """Today's screening: avoid the left forearm, and light pressure everywhere (blood thinners)."""
    flags = _region(page, "Screening today: Avoid region")
    expect(flags).to_contain_text("Pressure at most level 2")
    expect(flags.get_by_role("list", name="Restrictions")).to_contain_text("No deep tissue work")
    wound = flags.get_by_role("listitem").filter(has_text="Open wound, burn or hematoma")
    expect(wound).to_contain_text("Avoid region")
    expect(wound).to_contain_text("left forearm")
    thinners = flags.get_by_role("listitem").filter(has_text="Anticoagulant or antiplatelet medication")
    expect(thinners).to_contain_text("Modify treatment")
    expect(thinners).to_contain_text("keep pressure at level 2 or lighter")


def _record_assessment(page: Page) -> None:
    _chart_action(page, "Initial assessment")
    expect(page.get_by_role("heading", name="New assessment")).to_be_visible()
    _field(page, "Pain now (NPRS 0–10)").fill("6")
    _field(page, "Chief complaint").fill("My lower back aches after lifting boxes.")

    pain = page.get_by_role("group", name="Pain map", exact=True)
    # Screening's avoided region is marked on the map.
    expect(pain.get_by_role("button", name="Left forearm; avoid")).to_have_count(2)  # front and back
    lower_back = pain.get_by_role("button", name=re.compile(r"^Lower back"))
    lower_back.click()
    expect(pain.locator(".bm-live")).to_have_text("Lower back added to the pain map. Enter the intensity, 0 to 10.")
    expect(_field(pain, "Region, row 1")).to_have_value("lower_back")
    intensity = _field(pain, "Intensity (0–10), row 1")
    expect(intensity).to_be_focused()
    intensity.fill("6")
    _field(pain, "Quality, row 1").select_option(label="Aching")
    expect(lower_back).to_have_attribute("aria-label", "Lower back: pain 6 of 10")

    # 400° of trunk flexion is a typo: the row says so and nothing typed is lost.
    rom = page.get_by_role("group", name="Range of motion", exact=True)
    _field(rom, "Motion, row 1").select_option(label="Trunk flexion")
    degrees = _field(rom, "Degrees, row 1")
    degrees.fill("400")
    page.get_by_role("button", name="Save assessment").click()

    expect(page.get_by_role("alert").first).to_contain_text("Please correct the 1 problem below.")
    row_error = rom.get_by_role("alert")
    expect(row_error).to_have_text(
        "Row 1: Trunk flexion of 400° is not possible; the norm is 90° and Mend accepts up to 120°."
    )
    expect(rom.locator("tr.row-has-error")).to_have_count(1)
    expect(degrees).to_have_value("400")
    expect(_field(rom, "Motion, row 1")).to_have_value("thoracolumbar_flexion")
    expect(_field(page, "Pain now (NPRS 0–10)")).to_have_value("6")
    expect(_field(page, "Chief complaint")).to_have_value("My lower back aches after lifting boxes.")
    expect(_field(pain, "Region, row 1")).to_have_value("lower_back")
    expect(_field(pain, "Intensity (0–10), row 1")).to_have_value("6")
    expect(pain.get_by_role("button", name=re.compile(r"^Lower back"))).to_have_attribute(
        "aria-label", "Lower back: pain 6 of 10"
    )

    degrees.fill("60")
    page.get_by_role("button", name="Save assessment").click()

    expect(page).to_have_url(re.compile(r"/assessments/\d+/$"))
    expect(_message(page)).to_contain_text(re.compile(r"Initial assessment of \d{4}-\d\d-\d\d saved\."))
    expect(page.get_by_role("heading", name="Initial assessment", level=1)).to_be_visible()
    expect(_region(page, "The complaint")).to_contain_text("6/10")
    expect(page.get_by_role("list", name="Pain by region")).to_have_text("Lower back: 6/10, aching")
    flexion = _region(page, "Range of motion").get_by_role("row").filter(has_text="Trunk flexion")
    expect(flexion).to_contain_text("60°")
    expect(flexion).to_contain_text("90°")
    expect(flexion).to_contain_text("66.7%")
    _back_to_chart(page)
    expect(_region(page, "Pain map")).to_contain_text("Pain now 6/10")


def _add_goal(page: Page) -> None:
    _region(page, "Goals").get_by_role("link", name="Add goal").click()
    expect(page.get_by_role("heading", name="New goal")).to_be_visible()
    _field(page, "Description").fill(GOAL)
    page.get_by_role("radio", name="Pain (NPRS 0–10)").check()
    # An empty baseline takes the latest measurement: the assessment's NPRS.
    expect(_field(page, "Baseline")).to_have_attribute("placeholder", "Latest: 6")
    _field(page, "Target").fill("3")
    page.get_by_role("button", name="Save goal").click()

    expect(page).to_have_url(CHART_URL)
    expect(_message(page)).to_contain_text(f"Goal “{GOAL}” saved.")
    goals = _region(page, "Goals")
    expect(goals).to_contain_text(GOAL)
    expect(goals).to_contain_text("From 6 to 3 · latest 6")
    expect(goals).to_contain_text("Progressing")


def _save_suggested_plan(page: Page) -> None:
    _chart_action(page, "Write the plan")
    expect(page.get_by_role("heading", name="Plan of care", level=1)).to_be_visible()
    expect(page.locator(".plan-suggestion")).to_contain_text("Suggested plan for Low back pain")
    # The suggestion's deeper techniques conflict with the blood thinners: warned, not refused.
    expect(page.locator("#plan-conflict-summary")).to_contain_text("This plan conflicts with today's screening")
    page.get_by_role("button", name="Save plan").click()

    expect(page).to_have_url(CHART_URL)
    expect(_message(page)).to_contain_text("Plan of care saved.")
    plan = _region(page, "Plan of care")
    expect(plan).to_contain_text("1× per week for 10 weeks (10 sessions) · 60 minutes")
    expect(plan.get_by_role("note")).to_contain_text("Deep tissue massage: pressure 4 is above the cap of 2.")


def _technique_rows(page: Page) -> Locator:
    return page.locator("#techniques .technique-row")


def _write_and_sign_note(page: Page, number: int, pain_pre: int, pain_post: int, *, stale: bool = False) -> str:
    """Start today's note from the chart, write it, let autosave save it, sign it. Answers its URL."""
    page.get_by_role("button", name="Start today's note").click()
    expect(page).to_have_url(re.compile(r"/notes/\d+/edit/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Treatment note Draft")
    expect(_region(page, "Screening today: Avoid region")).to_be_visible()
    rows = _technique_rows(page)
    if number == 1:
        # The first note starts from the plan, whose deep work the blood thinners rule out: each such
        # row is marked beside it, and signing is refused naming the row and the rule.
        expect(rows).to_have_count(5)
        expect(page.locator("#technique-warnings-0")).to_contain_text("Cannot sign")
        expect(page.locator("#technique-warnings-0")).to_contain_text("Anticoagulant or antiplatelet medication")
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Sign note").click()
        refused = page.locator("#sign-refused")
        expect(refused).to_contain_text("The note was not signed.")
        expect(refused).to_contain_text(re.compile(r"Row 1 \(.*Anticoagulant or antiplatelet medication"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Treatment note Draft")
        rows = _technique_rows(page)
        expect(rows).to_have_count(5)
        # Drop what the blood thinners rule out, add light work.
        for row in range(3):
            expect(_field(rows.nth(row), "Technique")).not_to_have_value("stretching")
            _field(rows.nth(row), "Remove").check()
        expect(_field(rows.nth(3), "Technique")).to_have_value("stretching")
        blank = rows.nth(4)
        _field(blank, "Technique").select_option(label="Swedish massage")
        _field(blank, "Region").select_option(label="Lower back")
        _field(blank, "Minutes").fill("30")
        # Firm pressure is marked beside the row as it is chosen (autosave), and cleared when lowered.
        _field(blank, "Pressure").select_option(label="4 · firm")
        expect(page.locator("#technique-warnings-4")).to_contain_text("pressure 4 is above the cap of 2")
        _field(blank, "Pressure").select_option(label="2 · light to moderate")
        expect(page.locator("#technique-warnings-4")).to_be_empty()
    else:
        # Later notes start from the last signed note's techniques.
        expect(_field(rows.nth(0), "Technique")).to_have_value("stretching")
        expect(_field(rows.nth(1), "Technique")).to_have_value("swedish")
        expect(_field(rows.nth(1), "Pressure")).to_have_value("2")
    _field(page, "Client report").fill(f"Visit {number}: back stiff in the mornings, easier after walking.")
    _field(page, "Pain before (0–10)").fill(str(pain_pre))

    other = None
    if stale:
        # The same draft left open in a second tab.
        other = page.context.new_page()
        other.goto(page.url)
        expect(other.get_by_role("heading", level=1)).to_have_text("Treatment note Draft")

    # Autosave posts the form a moment after the typing stops.
    with page.expect_response(
        lambda r: r.url.endswith("/autosave/") and f"pain_post={pain_post}" in (r.request.post_data or "")
    ) as autosave:
        _field(page, "Pain after (0–10)").fill(str(pain_post))
    assert autosave.value.status == 200
    expect(page.locator("#autosave-status")).to_have_text(re.compile(r"Draft saved \d\d:\d\d"))

    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Sign note").click()
    expect(page).to_have_url(NOTE_URL)
    assert asked and "Once signed it is locked" in asked[0], asked
    expect(_message(page)).to_contain_text("Note signed. It can now only be amended with an addendum.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Treatment note Signed")
    expect(_region(page, "Signature")).to_contain_text(f"Signed by {THERAPIST_NAME}")
    expect(_region(page, "Signature")).to_contain_text("verified: the note is unchanged since signing")
    treatment = _region(page, "Treatment given")
    expect(treatment.get_by_role("row").filter(has_text="Swedish massage")).to_contain_text("Lower back")
    expect(treatment).not_to_contain_text("Deep tissue massage")

    if other is not None:
        # Typing in the stale tab is refused, and says where the signed note is.
        _field(other, "Plan for next time").fill("Add hip work next time.")
        expect(other.locator("#autosave-status")).to_contain_text("Not saved.")
        expect(other.locator("#autosave-status")).to_contain_text("cannot be changed. Add an addendum instead.")
        other.get_by_role("link", name="Open the signed note").click()
        expect(other).to_have_url(page.url)
        other.close()

    url = page.url
    _back_to_chart(page)
    _expect_visits(page, number)
    return url


def _refuse_edit_and_add_addendum(page: Page, note_url: str) -> None:
    # The chart links the signed note to its read-only page.
    first_note = _region(page, NOTES).get_by_role("row").last
    expect(first_note).to_contain_text("5 → 3")
    expect(first_note).to_contain_text("Signed")
    first_note.get_by_role("link").click()
    expect(page).to_have_url(note_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Treatment note Signed")
    # No way to edit it is offered ...
    expect(page.get_by_role("link", name="Continue writing")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign note")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Delete"))).to_have_count(0)
    expect(page.get_by_role("textbox", name="Client report")).to_have_count(0)
    # ... and the edit page, reached directly, sends the user back with the reason.
    page.goto(note_url + "edit/")
    expect(page).to_have_url(note_url)
    expect(_message(page)).to_contain_text(
        "This note is signed and can no longer be edited. Add an addendum to amend it."
    )

    addenda = _region(page, "Addenda")
    expect(addenda).to_contain_text("No addenda. The note stands as signed.")
    _field(addenda, "Reason").fill("Late entry")
    _field(addenda, "Addendum").fill("Client called: the soreness settled by the next morning.")
    addenda.get_by_role("button", name="Sign and add addendum").click()

    expect(page).to_have_url(note_url + "#addenda")
    expect(_message(page)).to_contain_text("Addendum signed and added to the note.")
    added = _region(page, "Addenda").get_by_role("listitem")
    expect(added).to_have_count(1)
    expect(added).to_contain_text("Client called: the soreness settled by the next morning.")
    expect(added).to_contain_text(f"signed by {THERAPIST_NAME} · Late entry")
    _back_to_chart(page)
    expect(_region(page, NOTES).get_by_role("row").last.get_by_role("cell").last).to_have_text("1")


def _discharge(page: Page) -> None:
    _chart_action(page, "Discharge")
    expect(page.get_by_role("heading", name="Discharge", level=1)).to_be_visible()
    outcome = _region(page, "Outcomes against goals").get_by_role("row").filter(has_text=GOAL)
    expect(outcome).to_contain_text("Met")
    _field(page, "Reason for discharge").select_option(label="Goals met")
    _field(page, "Summary").fill("Pain 2/10 and sleeping through; continues the home stretches.")
    page.get_by_role("button", name=f"Discharge {CLIENT}").click()

    expect(page).to_have_url(CHART_URL)
    expect(_message(page)).to_contain_text(f"{CLIENT} was discharged from “{EPISODE}”.")
    expect(page.locator(".chart-head")).to_contain_text("Discharged")
    discharged = _region(page, "Discharged: Goals met")
    expect(discharged).to_contain_text("The record is read-only")
    expect(discharged).to_contain_text("continues the home stretches")
    row = discharged.get_by_role("row").filter(has_text=GOAL)
    expect(row.get_by_role("cell")).to_have_text([GOAL, "6", "3", "2", "Met"])
    # Read-only now: no new note, no episode actions; the referral is closed.
    expect(page.get_by_role("button", name="Start today's note")).to_have_count(0)
    expect(page.get_by_role("navigation", name="Episode actions")).to_have_count(0)
    expect(_region(page, "Referral")).to_contain_text("Closed")
    expect(_region(page, NOTES)).to_contain_text("(3 signed)")


def test_a_whole_episode_of_care_from_opening_to_discharge(signed_in) -> None:
    page: Page = signed_in(THERAPIST)
    _create_client(page)
    today = _open_episode(page)
    _add_referral(page, today)
    _record_intake(page)
    _record_assessment(page)
    _add_goal(page)
    _save_suggested_plan(page)

    first = _write_and_sign_note(page, 1, pain_pre=5, pain_post=3)
    _write_and_sign_note(page, 2, pain_pre=4, pain_post=2)
    _write_and_sign_note(page, 3, pain_pre=2, pain_post=1, stale=True)
    _expect_visits(page, 3)
    expect(_region(page, NOTES)).to_contain_text("(3 signed)")
    goals = _region(page, "Goals")
    expect(goals).to_contain_text("From 6 to 3 · latest 2")
    expect(goals.get_by_role("listitem").filter(has_text=GOAL)).to_contain_text(re.compile(r"\bMet\b"))

    _refuse_edit_and_add_addendum(page, first)
    _discharge(page)
