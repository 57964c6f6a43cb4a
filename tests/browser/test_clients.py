"""Clients: live search, the create form's field errors, editing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.browser

CLIENT_URL = re.compile(r"/clients/(\d+)/$")


def _field(page: Page, label: str) -> Locator:
    """The input labelled ``label`` (a required field's label ends in an asterisk)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def _total(page: Page) -> int:
    """How many clients the list says match, from its pager ("1–25 of 250")."""
    text = page.locator("#client-results .pager").inner_text()
    match = re.search(r"of (\d+)", text)
    assert match, text
    return int(match.group(1))


def _result_rows(page: Page) -> Locator:
    return page.locator("#client-results tbody tr")


def test_search_updates_the_list_in_place_and_opens_a_client(signed_in) -> None:
    page: Page = signed_in("owner@example.org")
    page.goto("/clients/")
    expect(page.get_by_role("heading", name="Clients", level=1)).to_be_visible()
    total = _total(page)
    assert total >= 250
    # A surname from the unfiltered list; search for its first four letters.
    last_row = _result_rows(page).last
    surname = last_row.get_by_role("link").inner_text().split()[-1]
    part = surname[:4].lower()

    # Anything set on window survives only if the page is not reloaded.
    page.evaluate("window.__sameDocument = true")
    with page.expect_response(
        lambda r: "/clients/?q=" in r.url and r.request.headers.get("hx-request") == "true"
    ) as search:
        page.get_by_role("searchbox", name="Search clients").press_sequentially(part, delay=30)
    assert search.value.status == 200
    assert "<html" not in search.value.text(), "an htmx search should answer with the results table only"

    expect(page).to_have_url(re.compile(rf"/clients/\?q={part}$"))
    expect(page.locator("#client-results .pager")).not_to_contain_text(f"of {total}")
    rows = _result_rows(page)
    expect(rows.first).to_be_visible()
    assert 0 < _total(page) < total
    for text in rows.all_inner_texts():
        assert part in text.lower(), f"{text!r} does not match {part!r}"
    assert page.evaluate("window.__sameDocument === true"), "the search reloaded the whole page"

    link = rows.filter(has_text=surname).first.get_by_role("link")
    name = link.inner_text()
    link.click()
    expect(page).to_have_url(CLIENT_URL)
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    expect(page.get_by_role("heading", name="Contact")).to_be_visible()


def test_create_client_keeps_typed_values_on_an_email_error_then_saves(signed_in) -> None:
    page: Page = signed_in("owner@example.org")
    page.goto("/clients/")
    page.get_by_role("link", name="New client").click()
    expect(page.get_by_role("heading", name="New client")).to_be_visible()

    typed = {
        "Legal first name": "Rowan",
        "Legal last name": "Quillfeather",
        "Chosen name": "Ro",
        "Pronouns": "they/them",
        "Date of birth": "1984-03-15",
        "Gender identity": "non-binary",
        "Phone": "(416) 555-0177",
        "Email": "rowan@@example",
        "Street": "12 Front Street West",
        "City": "Toronto",
        "Postal code": "M5J 1E6",
        "Emergency contact name": "Sam Quillfeather",
        "Emergency contact phone": "416 555 0166",
        "Administrative notes": "Prefers morning appointments.",
    }
    for label, value in typed.items():
        _field(page, label).fill(value)
    page.get_by_label("Country").select_option("CA")
    page.get_by_label("May contact by text message").check()
    page.get_by_role("button", name="Add client").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please correct the 1 problem below.")
    expect(summary).to_contain_text("Nothing you typed has been lost.")
    email = _field(page, "Email")
    email_field = page.locator(".field", has=email)
    expect(email_field).to_have_class(re.compile(r"\bhas-error\b"))
    expect(email_field.locator(".errorlist")).to_have_text("Enter a valid email address.")
    # The error is tied to the input for screen readers.
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(re.compile("Enter a valid email address"))
    expect(page.locator(".has-error")).to_have_count(1)
    # Help text is announced with its field too.
    expect(_field(page, "Chosen name")).to_have_accessible_description(
        "The name the client wants to be called by, if different."
    )
    for label, value in typed.items():
        expect(_field(page, label)).to_have_value(value)
    expect(page.get_by_label("Country")).to_have_value("CA")
    expect(page.get_by_label("May contact by text message")).to_be_checked()

    email.fill("rowan.quillfeather@example.org")
    page.get_by_role("button", name="Add client").click()

    expect(page).to_have_url(CLIENT_URL)
    expect(page.get_by_role("status")).to_contain_text("Ro Quillfeather was added.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ro Quillfeather (they/them)")
    contact = page.get_by_role("region", name="Contact")
    expect(contact).to_contain_text("rowan.quillfeather@example.org")
    expect(contact).to_contain_text("(416) 555-0177")
    expect(contact).to_contain_text("texts OK")
    expect(contact).to_contain_text("Sam Quillfeather")
    expect(page.get_by_role("region", name="Identity")).to_contain_text("Rowan Quillfeather")
    expect(page.get_by_role("region", name="Administrative notes")).to_contain_text("Prefers morning appointments.")


def test_edit_client_phone_is_saved_and_shown(signed_in) -> None:
    page: Page = signed_in("owner@example.org")
    page.goto("/clients/?page=2")
    link = _result_rows(page).first.get_by_role("link")
    name = link.inner_text()
    link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)

    page.get_by_role("link", name="Edit details").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Edit {name}")
    phone = _field(page, "Phone")
    phone.fill("(647) 555-0987")
    page.get_by_role("button", name="Save changes").click()

    expect(page).to_have_url(CLIENT_URL)
    expect(page.get_by_role("status")).to_contain_text("Changes saved.")
    expect(page.get_by_role("region", name="Contact")).to_contain_text("(647) 555-0987")

    # The new number is what search finds the client by.
    page.goto("/clients/?q=6475550987")
    rows = _result_rows(page)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(name)
    expect(rows.first).to_contain_text("(647) 555-0987")
