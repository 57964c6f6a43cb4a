"""Every page of every role, in Chromium with the Content-Security-Policy on: axe-core finds no serious
or critical violation, and the browser reports no CSP violation.

One browser context per role signs in once and crawls: from Today (and a few demo objects a first link
may miss) it follows every link on every page it reaches, and visits the first link of each route
(Django's URL resolver names the route). Each role sees the pages its menus and the demo's clients,
episodes, notes, plans, screening, referrals, the evidence report, audit, settings, account and API
docs lead it to; the owner's include Django's admin. The admin also adds an authenticator app and
reaches the second sign-in step. Signed out, the sign-in, password-reset and invitation pages and a
client's emailed questionnaire are visited the way a person reaches them (by the link in the email), and
the public online booking is gone through as a new client, with the emailed links to move and cancel.
Create forms are also submitted empty, to check their error state. Every <details> is opened first.

The routes are the coverage list: every route the resolver knows is either crawled by some role or
named below as not a page, so a new page is checked as soon as it exists.

axe-core comes with axe-playwright-python (pinned in requirements/test.txt); no CDN is involved.
"""

from __future__ import annotations

import json
import re
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import Resolver404, get_resolver, resolve
from django.urls.resolvers import URLPattern, URLResolver
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "mend-demo"
TIMEOUT_MS = 10_000

ADMIN = "admin@example.org"
ROLES = {
    "owner": "owner@example.org",
    "admin": ADMIN,
    # therapist1 works at both demo clinics, so their pages carry the clinic switcher.
    "therapist": "therapist1@example.org",
    "front desk": "frontdesk@example.org",
}
SERIOUS = ("serious", "critical")

# Routes that are not pages a person reads, with the reason; everything else must be crawled.
NOT_PAGES = {
    "healthz": "plain-text health check for monitoring",
    "logout": "POST only",
    "note_start": "POST only",
    "today_status": "POST only (the Today page's status buttons)",
    "therapist_invite": "POST only",
    "api_token_revoke": "POST only",
    "totp_remove": "POST only",
    "passkey_remove": "POST only",
    "passkey_register": "POST only (JSON, from the passkey script)",
    "passkey_register_options": "POST only (JSON, from the passkey script)",
    "login_passkey": "POST only (JSON, from the passkey script)",
    "login_passkey_options": "POST only (JSON, from the passkey script)",
    "addendum_add": "POST only (its form is part of the signed note's page)",
    "switch_clinic": "POST only",
    "note_autosave": "POST only (htmx)",
    "note_sign": "POST only",
    "note_delete": "POST only",
    "referral_close": "POST only",
    "finding_resolve": "POST only",
    "goal_delete": "POST only",
    "licence_delete": "POST only",
    "certification_delete": "POST only",
    "working_hours_add": "POST only (its form is on the working hours page)",
    "working_hours_remove": "POST only (a button in the working hours page's week)",
    "hours_exception_add": "POST only (its form is on the working hours page)",
    "hours_exception_remove": "POST only (a button on the working hours page)",
    "time_off_add": "POST only (its form is on the working hours page)",
    "time_off_remove": "POST only (a button on the working hours page)",
    "closure_add": "POST only (its form is on the closures page)",
    "closure_remove": "POST only (a button on the closures page)",
    "waitlist_remove": "POST only (a button on the waitlist page)",
    "waitlist_offer": "reached by the link in a waitlist offer's email; axe-checked in tests/browser/test_waitlist.py",
    "client_intake": "reached from the email a new client gets; axe-checked in tests/browser/test_client_intake.py",
    "client_intake_thanks": "shown once the intake is sent; axe-checked in tests/browser/test_client_intake.py",
    "client_intake_review": "POST only (a button on the client page)",
    "icd10_search": "an htmx fragment of the episode form, checked there",
    "evidence_csv": "a CSV download",
    "evidence_curves": "an SVG image in the evidence report (checked there, with its section opened)",
    "referral_document": "a file download",
    "clearance_document": "a file download",
    "appointment_move": "POST only (its form is part of the appointment's page; the calendar's drag posts it)",
    "appointment_cancel": "POST only (its form is part of the appointment's page)",
    "appointment_status": "POST only (its buttons are on the appointment's page and the calendar's requests)",
    "schedule_feed_create": "POST only (a button on the calendars page, which then shows the new link)",
    "schedule_feed_revoke": "POST only (a button on the calendars page)",
    "schedule_external_add": "POST only (its form is on the calendars page)",
    "schedule_external_delete": "POST only (a button on the calendars page)",
    "schedule_external_refresh": "POST only (a button on the calendars page)",
    "schedule_feed": "the iCal feed a calendar app reads (text/calendar); tests/scheduling/test_feeds.py",
    "series_change": "POST only (its forms are on the series page)",
    "invoice_new": "POST only (a button on the client page)",
    "invoice_add_visit": "POST only (its form is on the draft invoice's page)",
    "invoice_add_product": "POST only (its form is on the draft invoice's page)",
    "invoice_add_custom": "POST only (its form is on the draft invoice's page)",
    "invoice_line_discount": "POST only (its form is on the draft invoice's page)",
    "invoice_line_remove": "POST only (a button on the draft invoice's page)",
    "invoice_payer": "POST only (its form is on the draft invoice's page)",
    "invoice_issue": "POST only (a button on the draft invoice's page)",
    "invoice_discard": "POST only (a button on the draft invoice's page)",
    "invoice_pay": "POST only (its form is on the invoice's page)",
    "invoice_use_package": "POST only (its form is on the invoice's page)",
    "invoice_use_gift_card": "POST only (its form is on the invoice's page)",
    "invoice_refund": "POST only (its form is beside each payment on the invoice's page)",
    "invoice_write_off": "POST only (its form is on the invoice's page)",
    "invoice_credit_note": "POST only (its form is on the invoice's page)",
    "invoice_email": "POST only (a button on the invoice's page)",
    "invoice_pdf": "a PDF; its text is checked in tests/billing/test_invoice_pages.py",
    "receipt_pdf": "a PDF; its text is checked in tests/billing/test_invoice_pages.py",
    "superbill_client_pdf": "a PDF; its text is checked in tests/billing/test_superbill_pages.py",
    "superbill_invoice_pdf": "a PDF; its text is checked in tests/billing/test_superbill_pages.py",
    "billing_sell": "POST only (its forms are on the client page)",
    "membership_change": "POST only (buttons on the client page)",
    "deposit_pay": "POST only (a button on the booked page), then Stripe's page",
    "package_buy": "POST only (a button on the booked page), then Stripe's page",
    "provider_webhook": "Stripe's webhook (POST, signed JSON); tests/billing/test_deposits.py",
    "billing_report_csv": "a CSV download",
    "tax_rate_remove": "POST only (a button on the tax rate's page)",
    "price_remove": "POST only (a button on the price's page)",
    "product_remove": "POST only (a button on the product's page)",
    "payer_remove": "POST only (a button on the payer's page)",
    "package_plan_remove": "POST only (a button on the package's page)",
    "membership_plan_remove": "POST only (a button on the membership's page)",
    "api-v1:openapi-json": "the OpenAPI document (JSON)",
    "api-unknown-path": "the API's JSON 404 for any other path",
}
# The API's operations answer JSON. Django's admin (owners only) is crawled like any page, but its
# routes are Django's, so the coverage list leaves them out.
NOT_CRAWLED_NAMESPACES = ("api-v1",)

# Create forms submitted empty: each must answer with its errors, never save.
ERROR_STATE_ROUTES = (
    "client_create",
    "referrer_create",
    "therapist_create",
    "location_create",
    "room_create",
    "appointment_type_create",
    "episode_create",
    "licence_create",
    "certification_create",
    "goal_create",
    "referral_create",
    "password_change",
    "appointment_new",
)

# Martin Fernandez (a Harbour client who agreed to email) gets the crawl's questionnaire; the
# questionnaire test uses another client, so neither sees the other's link.
QUESTIONNAIRE_CLIENT = "Martin Fernandez"
LINK = re.compile(r"https?://\S+/q/[^/\s]+/")

# Violations the page reports to itself; installed before any of its own scripts run.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"}`
    + (e.sourceFile ? ` at ${e.sourceFile}:${e.lineNumber}` : "") + (e.sample ? ` (${e.sample})` : ""));
});
"""


@dataclass
class Finding:
    role: str
    path: str
    what: str

    def __str__(self) -> str:
        return f"[{self.role}] {self.path}: {self.what}"


@dataclass
class Crawl:
    axe: list[Finding] = field(default_factory=list)
    csp: list[Finding] = field(default_factory=list)
    pages: dict[str, dict[str, str]] = field(default_factory=dict)  # role → route → path
    errors: list[Finding] = field(default_factory=list)
    header_errors: set[str] = field(default_factory=set)  # what Chromium said of a policy header itself
    checks: int = 0  # pages axe ran on, forms in their error state included

    def counts(self) -> str:
        per_role = ", ".join(f"{role}: {len(routes)}" for role, routes in self.pages.items())
        return f"routes per role: {per_role}; {self.checks} pages checked"


def page_routes() -> set[str]:
    """Every route name the resolver knows, less Django's admin and the API's JSON operations."""
    names: set[str] = set()

    def walk(resolver: URLResolver, namespace: str) -> None:
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or namespace
                if inner == "admin":
                    continue
                walk(pattern, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver(), "")
    return {n for n in names if not n.startswith("api-v1:")} - set(NOT_PAGES)


def route_of(path: str) -> str | None:
    try:
        return resolve(path).view_name
    except Resolver404:
        return None


def _crawlable(route: str | None) -> bool:
    if route is None or route in NOT_PAGES:
        return False
    return ":" not in route or route.split(":", 1)[0] not in NOT_CRAWLED_NAMESPACES


class Checker:
    """Loads pages in one browser context and records what axe and the CSP say about each."""

    def __init__(self, context: BrowserContext, role: str, crawl: Crawl) -> None:
        self.role = role
        self.crawl = crawl
        self.axe = Axe()
        self.options: dict[str, Any] | None = None
        self.page = context.new_page()
        self.console: list[str] = []
        self.page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        # Chromium also logs each violation ("Refused to ... because it violates ... Content Security Policy").
        if "Content Security Policy" in message.text:
            self.console.append(message.text)
        elif "Permissions-Policy header" in message.text:  # e.g. a feature Chromium does not know
            self.crawl.header_errors.add(message.text)

    def check(self, path: str, label: str | None = None) -> None:
        """Check the page now loaded (reached at ``path``)."""
        page = self.page
        page.wait_for_load_state("load")
        label = label or path
        # Open every <details>, so axe reads what they hold and content they fetch (htmx) loads too.
        fetching = page.evaluate("""() => {
          const closed = [...document.querySelectorAll("details:not([open])")];
          closed.forEach((details) => { details.open = true; });
          return closed.some((details) => details.hasAttribute("hx-get"));
        }""")
        if fetching:
            page.wait_for_load_state("networkidle")
        # The page's CSP violations, read before axe runs: axe's stylesheet preloading inserts
        # <style> elements of its own, which the policy refuses too.
        reported = page.evaluate("(window.__cspViolations || []).splice(0)")
        self.crawl.csp.extend(Finding(self.role, label, text) for text in reported)
        if not reported:  # the listener did not see it (e.g. a violation during parsing): the console did
            self.crawl.csp.extend(Finding(self.role, label, text) for text in self.console)
        if self.options is None:
            # Experimental rules too: one of them (label-content-name-mismatch) checks that an accessible
            # name contains the visible text, which speech-input users say to activate a control.
            page.evaluate(self.axe.axe_script)
            experimental = page.evaluate("axe.getRules(['experimental']).map(rule => rule.ruleId)")
            self.options = {"resultTypes": ["violations"], "rules": {r: {"enabled": True} for r in experimental}}
        results = self.axe.run(page, options=self.options).response
        self.crawl.checks += 1
        for violation in results["violations"]:
            if violation["impact"] not in SERIOUS:
                continue
            for node in violation["nodes"]:
                target = " ".join(str(t) for t in node["target"])
                what = f"{violation['id']} ({violation['impact']}) at {target}"
                self.crawl.axe.append(Finding(self.role, label, what))
        # What axe's own injected code did is not the page's.
        page.evaluate("(window.__cspViolations || []).splice(0)")
        self.console.clear()

    def visit(self, path: str) -> bool:
        response = self.page.goto(path)
        status = response.status if response else 0
        if status >= 400:
            self.crawl.errors.append(Finding(self.role, path, f"answered {status}"))
            return False
        self.check(path)
        return True

    def links(self, origin: str) -> list[str]:
        hrefs: list[str] = self.page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        found = []
        for href in hrefs:
            parts = urlsplit(href)
            if f"{parts.scheme}://{parts.netloc}" != origin:
                continue
            found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
        return found

    def submit_empty(self, path: str, route: str) -> None:
        """Submit the page's main form as it is and check the error page it answers with."""
        self.page.goto(path)
        form = self.page.locator("main form[method=post]").first
        with self.page.expect_navigation():
            form.evaluate("form => form.requestSubmit()")
        label = f"{path} (submitted empty)"
        if self.page.locator(".form-errors, .errorlist").count() == 0:
            self.crawl.errors.append(Finding(self.role, label, f"{route} did not answer with its errors"))
            return
        self.check(path, label)


def crawl_role(checker: Checker, origin: str, seeds: list[str]) -> dict[str, str]:
    """Breadth-first from Today and the seeds: the first link of every route reached, each checked once.

    A seed this role may not see (403, 404) is skipped: the role's links decide what it reaches.
    """
    seen: dict[str, str] = {}
    queue: deque[str] = deque(["/", *seeds])
    while queue:
        path = queue.popleft()
        response = checker.page.goto(path)
        status = response.status if response else 0
        if path in seeds and status in (403, 404):
            continue
        if status >= 400:
            checker.crawl.errors.append(Finding(checker.role, path, f"answered {status}"))
            continue
        seen.setdefault(str(route_of(urlsplit(path).path)), path)
        links = checker.links(origin)  # before check() opens <details> (htmx may replace a link)
        checker.check(path)
        for link in links:
            route = route_of(urlsplit(link).path)
            if _crawlable(route) and route not in seen and link not in queue:
                assert route is not None
                seen[route] = link
                queue.append(link)
    for route in ERROR_STATE_ROUTES:
        if route in seen:
            checker.submit_empty(seen[route], route)
    return seen


def crawl_second_factor(checker: Checker) -> dict[str, str]:
    """The second step's pages: the admin confirms their password, adds an authenticator app (a wrong
    code first), reads their recovery codes, then signs in again and reaches the second step."""
    page = checker.page
    seen = {}
    page.goto("/accounts/confirm/?next=/accounts/mfa/app/")
    page.locator("main input[type=password]").fill(DEMO_PASSWORD)
    page.locator("main form").get_by_role("button", name="Confirm").click()
    page.wait_for_url(re.compile("/accounts/mfa/app/$"))
    seen["totp_enrol"] = urlsplit(page.url).path
    checker.check(seen["totp_enrol"])
    secret = page.locator("main code").first.inner_text().replace(" ", "")
    code = page.locator("main input[name=code]")
    code.fill("000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.locator("main form").get_by_role("button", name="Add app").click()
    checker.check(seen["totp_enrol"], f"{seen['totp_enrol']} (a wrong code)")
    code.fill(pyotp.TOTP(secret).now())
    page.locator("main input[name=name]").fill("Phone")
    page.locator("main form").get_by_role("button", name="Add app").click()
    page.wait_for_url(re.compile("/accounts/mfa/recovery-codes/$"))
    seen["recovery_codes"] = urlsplit(page.url).path
    checker.check(seen["recovery_codes"])
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile("/accounts/login/verify/"))
    seen["login_verify"] = urlsplit(page.url).path
    checker.check(seen["login_verify"])
    page.locator("main input[name=code]").fill("not-a-code")
    page.locator("main form").get_by_role("button", name="Confirm").click()
    checker.check(seen["login_verify"], f"{seen['login_verify']} (a wrong code)")
    return seen


def _new_context(browser: Browser, origin: str) -> BrowserContext:
    context = browser.new_context(base_url=origin, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(CSP_LISTENER)
    return context


def _sign_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def _emailed_link(mail_dir: Path, before: set[Path]) -> str:
    files = sorted(set(mail_dir.glob("*.log")) - before)
    assert len(files) == 1, f"expected one new email in {mail_dir}, found {files}"
    found = LINK.findall(files[0].read_text())
    assert len(found) == 1, files[0].read_text()
    return found[0]


def _questionnaire_link(page: Page, mail_dir: Path) -> str:
    """The owner emails one questionnaire to the client, as from the chart; returns the link."""
    page.goto(f"/clients/?q={QUESTIONNAIRE_CLIENT.split()[-1]}")
    page.get_by_role("link", name=QUESTIONNAIRE_CLIENT).first.click()
    page.locator("a[href^='/episodes/']").first.click()
    page.get_by_role("region", name="Outcome measures").get_by_role("link", name="Send to client").click()
    boxes = page.get_by_role("group", name=re.compile("Questionnaires to send")).get_by_role("checkbox")
    for box in boxes.all()[1:]:
        box.set_checked(False)
    boxes.first.check()
    before = set(mail_dir.glob("*.log"))
    page.get_by_role("button", name="Email the link").click()
    expect(page.locator(".messages[role=status]")).to_contain_text("The questionnaire link was emailed")
    return _emailed_link(mail_dir, before)


def crawl_signed_out(checker: Checker, questionnaire: str, mail_dir: Path, invitation: str) -> dict[str, str]:
    page = checker.page
    seen = {}
    checker.visit("/accounts/login/")
    seen["login"] = "/accounts/login/"
    page.get_by_label("Email").fill("nobody@example.org")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    checker.check("/accounts/login/", "/accounts/login/ (wrong password)")

    checker.visit("/accounts/password/reset/")
    seen["password_reset"] = "/accounts/password/reset/"
    before = set(mail_dir.glob("*.log"))
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_role("button").last.click()
    page.wait_for_url(re.compile("/sent/$"))
    seen["password_reset_done"] = page.url
    checker.check(page.url)
    files = sorted(set(mail_dir.glob("*.log")) - before)
    assert len(files) == 1, files
    reset = re.findall(r"https?://\S+/accounts/password/reset/\S+/", files[0].read_text())
    assert reset, files[0].read_text()
    page.goto(reset[0])
    seen["password_reset_confirm"] = urlsplit(page.url).path
    checker.check(urlsplit(page.url).path)
    # Passwords that differ: the error state; then the same password again, so the account is unchanged.
    fields = page.locator("input[type=password]")
    fields.nth(0).fill(DEMO_PASSWORD)
    fields.nth(1).fill(DEMO_PASSWORD + "x")
    page.locator("main form").get_by_role("button").last.click()
    checker.check(urlsplit(page.url).path, "password reset form (passwords differ)")
    fields.nth(0).fill(DEMO_PASSWORD)
    fields.nth(1).fill(DEMO_PASSWORD)
    page.locator("main form").get_by_role("button").last.click()
    page.wait_for_url(re.compile("/done/$"))
    seen["password_reset_complete"] = urlsplit(page.url).path
    checker.check(seen["password_reset_complete"])

    path = urlsplit(questionnaire).path
    checker.visit(path)
    seen["questionnaire"] = path
    with page.expect_navigation():
        page.locator("main form[method=post]").first.evaluate("form => form.requestSubmit()")
    checker.check(path, f"{path} (sent without answers)")
    checker.visit("/q/thanks/")
    seen["questionnaire_thanks"] = "/q/thanks/"

    # An invitation opened from its email: the set-password form, then sent empty.
    page.goto(invitation)
    seen["invitation_accept"] = urlsplit(page.url).path
    checker.check(seen["invitation_accept"])
    with page.expect_navigation():
        page.locator("main form[method=post]").first.evaluate("form => form.requestSubmit()")
    checker.check(seen["invitation_accept"], f"{seen['invitation_accept']} (sent empty)")
    seen.update(crawl_online_booking(checker, mail_dir))
    return seen


BOOKING_LINK = re.compile(r"https?://[^\s\"<>]+?(/booking/(?:cancel|reschedule)/[^\s\"<>/]+/)")


def crawl_online_booking(checker: Checker, mail_dir: Path) -> dict[str, str]:
    """The public online booking, signed out, as a new client goes through it at Harbour: a service
    new clients may book, the first available therapist, the first time a week ahead, the returning
    client's code page (for an address not on file), the new-client form sent empty and then filled,
    confirm, the confirmation page; then the emailed links to move and to cancel the appointment."""
    page = checker.page
    seen: dict[str, str] = {}

    def reached(route: str, label: str | None = None) -> None:
        parts = urlsplit(page.url)
        seen.setdefault(route, parts.path + (f"?{parts.query}" if parts.query else ""))
        checker.check(parts.path, label)

    checker.visit("/book/harbour/")
    seen["book_start"] = "/book/harbour/"
    choice = page.locator("main .booking-choice").filter(has_not_text="For returning clients").first
    choice.get_by_role("link").first.click()
    reached("book_therapist")
    page.get_by_role("link", name="First available").click()
    reached("book_slots")
    page.get_by_role("link", name="Later week").click()  # outside the 24 hours in which links stop working
    page.locator("main button[name=slot]").first.click()
    reached("book_details")
    details = page.url
    returning = page.get_by_role("region", name=re.compile("I have been to"))
    returning.get_by_role("textbox").fill("nobody@example.org")
    returning.get_by_role("button", name="Email me a code").click()
    reached("book_code")
    page.goto(details)
    new = page.get_by_role("region", name=re.compile("I am new to"))
    new.get_by_role("button", name="Continue").click()
    checker.check(urlsplit(page.url).path, "online booking details (sent empty)")
    new = page.get_by_role("region", name=re.compile("I am new to"))
    new.get_by_role("textbox", name="First name").fill("Crawl")
    new.get_by_role("textbox", name="Last name").fill("Newcomer")
    new.get_by_role("textbox", name="Email").fill("crawl.newcomer@example.org")
    new.get_by_role("textbox", name="Phone").fill("416 555 0142")
    new.get_by_label("Date of birth").fill("1988-05-06")
    new.get_by_role("button", name="Continue").click()
    reached("book_confirm")
    before = set(mail_dir.glob("*.log"))
    page.locator("main form[method=post] button[type=submit]").last.click()
    page.wait_for_url(re.compile("/booked/"))
    reached("book_done")
    sent = "".join(f.read_text() for f in sorted(set(mail_dir.glob("*.log")) - before))
    links = {path.split("/")[2]: path for path in BOOKING_LINK.findall(sent)}
    assert set(links) == {"cancel", "reschedule"}, sent[:3000]
    page.goto(links["reschedule"])
    reached("book_reschedule")
    page.goto(links["cancel"])
    reached("book_cancel")
    return seen


INVITEE = "invited@example.org"


@pytest.fixture(scope="module")
def accounts(demo_server: Any, server_url: str) -> dict[str, str]:
    """The demo has no admin: one is added to Harbour (the role's pages differ from the owner's). And a
    front-desk member invited but not yet signed in, whose invitation link the crawl opens signed out."""
    output = demo_server.manage(
        "shell",
        "-c",
        f"""
import json
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from mend.accounts.models import User
from mend.clinics.models import Clinic, Membership
from mend.clinics.services import invitation_tokens, membership_add
clinic = Clinic.objects.get(slug="harbour")
for email, role, password in [({ADMIN!r}, "admin", {DEMO_PASSWORD!r}), ({INVITEE!r}, "front_desk", None)]:
    user = User.objects.filter(email=email).first() or User.objects.create_user(
        email=email, password=password, full_name=email.split("@")[0].title())
    if not Membership.objects.filter(user=user, clinic=clinic).exists():
        membership_add(clinic=clinic, user=user, role=role)
invitee = User.objects.get(email={INVITEE!r})
uid = urlsafe_base64_encode(force_bytes(invitee.pk))
print(json.dumps({{"invitation": reverse("invitation_accept", args=[uid, invitation_tokens.make_token(invitee)])}}))
""",
    )
    return json.loads(output.strip().splitlines()[-1])


# Demo objects whose pages a link from the first instance of a route may not reach: the chart with the
# most notes (notes, addenda, assessments, goals, home program), a chart with an active finding (to
# mark resolved), a therapist with a certification, the owner's confirmation before resetting a
# member's second step (linked only once the member has one), one of therapist1's booked appointments
# (today's calendar may have none), and the demo's draft note, which only its author may edit.
SEEDS = """
import json
from django.db.models import Count
from mend.clinical.models import Episode, ScreeningFinding, TreatmentNote
from mend.clinics.models import Membership
from mend.people.models import TherapistProfile
from mend.scheduling.models import Appointment
harbour = {"clinic__slug": "harbour"}
mine = Episode.objects.filter(**harbour, therapist__user__email="therapist1@example.org")
rich = mine.annotate(n=Count("notes")).order_by("-n", "pk").first()
flagged = ScreeningFinding.objects.filter(episode__in=mine, resolved_on=None).order_by("pk").first()
certified = TherapistProfile.objects.filter(**harbour, certifications__isnull=False).order_by("pk").first()
member = Membership.objects.get(clinic__slug="harbour", user__email="therapist1@example.org")
draft = TreatmentNote.objects.filter(episode__clinic__slug="harbour", status="draft").order_by("pk").first()
visit = Appointment.objects.filter(**harbour, therapist=member, status="booked").order_by("starts_at").first()
series = Appointment.objects.filter(**harbour, therapist=member, series_id__isnull=False).order_by("starts_at").first()
from mend.billing.models import Invoice
paid = Invoice.objects.filter(**harbour, kind="invoice", status="issued", payments__isnull=False)
issued = paid.order_by("-pk").first()
credit = Invoice.objects.filter(**harbour, kind="credit_note").order_by("pk").first()
billed = TreatmentNote.objects.filter(episode__clinic__slug="harbour", status="signed").order_by("-visit_on").first()
print(json.dumps({
    "paths": [
        f"/episodes/{rich.pk}/",
        *([f"/episodes/{flagged.episode_id}/"] if flagged else []),
        *([f"/therapists/{certified.pk}/"] if certified else []),
        f"/settings/members/{member.pk}/second-step/reset/",
        *([f"/schedule/appointments/{visit.pk}/"] if visit else []),
        *([f"/schedule/series/{series.series_id}/"] if series else []),
        *([f"/billing/invoices/{issued.pk}/"] if issued else []),
        *([f"/billing/invoices/{credit.pk}/"] if credit else []),
        *([f"/billing/superbills/client/{billed.client_id}/"] if billed else []),
    ],
    "draft": [draft.episode.therapist.user.email, f"/notes/{draft.pk}/edit/"] if draft else None,
}))
"""


@pytest.fixture(scope="module")
def seeds(demo_server: Any, server_url: str) -> dict[str, Any]:
    return json.loads(demo_server.manage("shell", "-c", SEEDS).strip().splitlines()[-1])


@pytest.fixture(scope="module")
def crawl(
    browser: Browser, server_url: str, mail_dir: Path, accounts: dict[str, str], seeds: dict[str, Any]
) -> Iterator[Crawl]:
    result = Crawl()
    questionnaire = ""
    for role, email in ROLES.items():
        context = _new_context(browser, server_url)
        try:
            checker = Checker(context, role, result)
            _sign_in(checker.page, email)
            result.pages[role] = crawl_role(checker, server_url, seeds["paths"])
            if role == "admin":
                result.pages[role].update(crawl_second_factor(checker))
            if role == "owner":
                questionnaire = _questionnaire_link(checker.page, mail_dir)
        finally:
            context.close()
    if seeds["draft"]:
        # A draft note is edited only by its author, a therapist of Harbour's other than therapist1.
        author, path = seeds["draft"]
        context = _new_context(browser, server_url)
        try:
            checker = Checker(context, "therapist (draft's author)", result)
            _sign_in(checker.page, author)
            if checker.visit(path):
                result.pages[checker.role] = {"note_edit": path}
        finally:
            context.close()
    context = _new_context(browser, server_url)
    try:
        checker = Checker(context, "signed out", result)
        result.pages["signed out"] = crawl_signed_out(checker, questionnaire, mail_dir, accounts["invitation"])
    finally:
        context.close()
    print(f"\n{result.counts()}")
    yield result


def test_every_page_route_is_crawled(crawl: Crawl) -> None:
    """A route no role reaches (and not named as not a page) is a page nobody checks."""
    reached = {route for routes in crawl.pages.values() for route in routes}
    missing = sorted(page_routes() - reached)
    assert not missing, f"routes no role reached: {missing} ({crawl.counts()})"
    assert not crawl.errors, "\n".join(map(str, crawl.errors))


def test_no_serious_or_critical_accessibility_violation_on_any_page(crawl: Crawl) -> None:
    by_rule = Counter(finding.what.split(" ", 1)[0] for finding in crawl.axe)
    assert not crawl.axe, (
        f"{len(crawl.axe)} serious or critical axe-core violations ({dict(by_rule)}; {crawl.counts()}):\n"
        + "\n".join(map(str, crawl.axe))
    )


def test_no_content_security_policy_violation_on_any_page(crawl: Crawl) -> None:
    assert not crawl.csp, f"{len(crawl.csp)} CSP violations:\n" + "\n".join(map(str, crawl.csp))
    assert not crawl.header_errors, sorted(crawl.header_errors)
