"""Keyboard users: a skip link first in the tab order, and a visible focus ring."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

FOCUSED_OUTLINE = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {id: el.id, text: el.textContent.trim(), outlineStyle: style.outlineStyle,
          outlineWidth: parseFloat(style.outlineWidth), left: box.left, width: box.width};
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
