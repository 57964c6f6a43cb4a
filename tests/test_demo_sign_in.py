"""The sign-in page of the demo says which demo accounts exist; no other profile's does."""

from __future__ import annotations

import pytest
from django.test import override_settings

from mend.demo.load import DEMO_ACCOUNTS, DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def test_the_demo_sign_in_page_lists_every_demo_account_and_the_password(client):
    with override_settings(MEND_ENV="demo"):
        page = client.get("/accounts/login/").content.decode()
    assert "Demo accounts" in page
    assert f"<code>{DEMO_PASSWORD}</code>" in page
    for email, _role, clinic in DEMO_ACCOUNTS:
        assert f"<code>{email}</code>" in page, email
        assert f"<h3>{clinic}</h3>" in page
    # therapist1 works at both clinics, and the page says so under each.
    assert page.count("<code>therapist1@example.org</code>") == 2
    assert "therapist · also at Northside Rehab Massage" in page
    assert "therapist · also at Harbour Medical Massage" in page


@pytest.mark.parametrize("profile", ["production", "development", "test"])
def test_no_other_profile_mentions_demo_accounts(client, profile):
    with override_settings(MEND_ENV=profile):
        page = client.get("/accounts/login/").content.decode()
    assert "Demo accounts" not in page
    assert DEMO_PASSWORD not in page and "owner@example.org" not in page
