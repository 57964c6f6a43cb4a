"""Passkeys in a real Chromium with a virtual authenticator (Chrome DevTools' WebAuthn domain):
adding one on the account page, then signing in with the password and the passkey. Each page of
the way (account, password confirmation, app enrolment, recovery codes, second step) is checked
with axe-core: no serious or critical violation.

WebAuthn needs a secure context and a domain for its relying party: the page is opened as
``localhost`` (a secure context over plain HTTP), not as 127.0.0.1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, CDPSession, Page, expect

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "mend-demo"
EMAIL = "pat.passkey@example.org"
SERIOUS = ("serious", "critical")
CREATE_PERSON = f"""
from mend.accounts.models import User
from mend.clinics.models import Clinic
from mend.clinics.services import membership_add
user = User.objects.filter(email="{EMAIL}").first() or User.objects.create_user(
    email="{EMAIL}", password="{DEMO_PASSWORD}", full_name="Pat Passkey"
)
if not user.memberships.exists():
    membership_add(clinic=Clinic.objects.get(slug="harbour"), user=user, role="front_desk")
"""


@pytest.fixture
def localhost_page(browser: Browser, server_url: str, demo_server) -> Iterator[Page]:
    # A person of their own, so no other browser test signs in to an account with a passkey.
    demo_server.manage("shell", "-c", CREATE_PERSON)
    context = browser.new_context(
        base_url=server_url.replace("127.0.0.1", "localhost"), viewport={"width": 1280, "height": 800}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def _virtual_authenticator(page: Page) -> tuple[CDPSession, str]:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def _accessible(page: Page) -> None:
    page.wait_for_load_state("load")
    violations = Axe().run(page, options={"resultTypes": ["violations"]}).response["violations"]
    serious = [f"{v['id']} at {[n['target'] for n in v['nodes']]}" for v in violations if v["impact"] in SERIOUS]
    assert not serious, f"{page.url}: {serious}"


def _password_step(page: Page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_passkey_added_on_the_account_page_signs_in_after_the_password(localhost_page: Page) -> None:
    page = localhost_page
    cdp, authenticator = _virtual_authenticator(page)

    _password_step(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    page.goto("/accounts/")
    _accessible(page)
    page.get_by_role("link", name="Set up two-step sign-in").click()
    expect(page.get_by_role("heading", name="Confirm your password")).to_be_visible()
    _accessible(page)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    _accessible(page)
    page.get_by_role("link", name="Add an authenticator app").click()
    expect(page.get_by_role("img", name="QR code holding this account's key for the app")).to_be_visible()
    _accessible(page)
    page.get_by_role("link", name="Cancel").click()

    page.get_by_label("Passkey name").fill("Laptop")
    page.get_by_role("button", name="Add a passkey").click()
    # The first factor comes with recovery codes, shown this once.
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.get_by_role("list", name="Recovery codes").get_by_role("listitem")).to_have_count(10)
    _accessible(page)
    page.get_by_role("link", name="I have kept them").click()
    expect(page.get_by_text("Passkey: Laptop")).to_be_visible()
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(credentials) == 1

    page.locator("summary").filter(has_text="Pat").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))

    # The password alone is not enough now: the second step asks for the passkey.
    _password_step(page)
    expect(page).to_have_url(re.compile(r"/accounts/login/verify/"))
    _accessible(page)
    page.goto("/clients/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    _password_step(page)
    page.get_by_role("button", name="Use your passkey").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    page.goto("/accounts/")
    expect(page.get_by_text(re.compile(r"Passkey: Laptop .*last used"))).to_be_visible()
    used = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert used[0]["signCount"] >= 1
