"""Signing in through the real login form."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_wrong_password_shows_an_error_and_the_right_one_opens_the_dashboard(page: Page, server_url: str) -> None:
    page.goto("/")
    # Signed-out visitors are sent to the sign-in page.
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    page.get_by_label("Email").fill("owner@example.org")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    error = page.get_by_role("alert")
    expect(error).to_be_visible()
    expect(error).to_contain_text("That email and password do not match an account")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    # The email stays typed in; the password does not.
    expect(page.get_by_label("Email")).to_have_value("owner@example.org")
    expect(page.get_by_label("Password")).to_have_value("")

    page.get_by_label("Password").fill("mend-demo")
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{server_url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Maya")
    expect(page.get_by_text("Harbour Medical Massage ·")).to_be_visible()
    expect(page.get_by_role("heading", name="Credentials needing attention")).to_be_visible()
    # therapist1's licence expires in 30 days and therapist5's has expired.
    expect(page.get_by_role("link", name="Priya Natarajan")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit")).to_be_visible()
