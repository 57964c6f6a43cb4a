"""Rows added in the browser are named by their number, like the rows the server drew."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

THERAPIST = "therapist1@example.org"
CLIENT = "Jacqueline Haynes"
EPISODE = "Right hip flexor strain, track"


def _hip_strain_chart(page: Page) -> Page:
    """Therapist1's open hip flexor strain episode, reached as a therapist would."""
    page.goto("/clients/?q=Haynes")
    page.get_by_role("link", name=CLIENT).first.click()
    page.get_by_role("link", name=EPISODE).first.click()
    expect(page).to_have_url(re.compile(r"/episodes/\d+/$"))
    return page


def test_an_added_pain_region_row_is_labelled_with_its_number(signed_in: Callable[[str], Page]) -> None:
    page = _hip_strain_chart(signed_in(THERAPIST))
    page.goto(page.url + "assessments/new/")
    rows = page.locator("[data-formset-body='pain'] [data-formset-row]")
    before = rows.count()
    page.get_by_role("button", name="Add a pain region").click()
    expect(rows).to_have_count(before + 1)
    added = rows.nth(before)
    labels = added.locator("label.visually-hidden").all_inner_texts()
    assert labels and all(text.endswith(f", row {before + 1}") for text in labels), labels
    assert not any("new" in text or "__" in text for text in labels), labels
    # The new row's first field takes the focus, so typing goes straight into it.
    expect(added.locator("select, input").first).to_be_focused()


def test_a_chosen_answer_can_be_cleared_to_leave_the_item_blank(signed_in: Callable[[str], Page]) -> None:
    page = _hip_strain_chart(signed_in(THERAPIST))
    page.goto(page.url + "outcomes/odi/")
    first = page.locator(".scale-item").first
    first.locator("label.scale-option").nth(3).click()
    expect(first.locator("input[type=radio]:checked")).to_have_count(1)
    first.get_by_role("button", name=re.compile(r"^Clear")).click()
    expect(first.locator("input[type=radio]:checked")).to_have_count(0)
    # The other items keep their answers.
    second = page.locator(".scale-item").nth(1)
    second.locator("label.scale-option").nth(2).click()
    first.get_by_role("button", name=re.compile(r"^Clear")).click()
    expect(second.locator("input[type=radio]:checked")).to_have_count(1)
