"""Take the README's screenshots from a running demo server.

    make demo                     # in one terminal (or any server with `mend demo` loaded)
    python scripts/screenshots.py --base-url http://127.0.0.1:8000 --out docs/screenshots

Drives Chromium (MEND_BROWSER, default /usr/bin/chromium) through Playwright at 1280×800,
device scale 1, and writes 01-login.png, 02-dashboard.png, 04-client-search.png, 05-client.png,
06-client-form-errors.png, 08-therapist.png and 10-audit.png. The script only reads and fills in
forms that fail validation, so the demo data is left as it was (apart from the audit trail).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
SEARCH = "john"


def shoot(page: Page, out: Path, name: str) -> None:
    page.mouse.move(0, 0)  # no hover highlight on whatever was last clicked
    path = out / name
    page.screenshot(path=str(path), animations="disabled", caret="hide")
    print(f"  {path}")


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def field(page: Page, label: str):  # type: ignore[no-untyped-def]
    return page.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def colleagues_at_work(new_page: Callable[[], Page], password: str) -> None:
    """A therapist and the front desk open a few clients, so the audit page has more than the owner."""
    for email in ("therapist1@example.org", "frontdesk@example.org"):
        page = new_page()
        sign_in(page, email, password)
        page.goto("/clients/")
        hrefs = [link.get_attribute("href") for link in page.locator("#client-results tbody a.rowlink").all()[:2]]
        for href in hrefs:
            page.goto(href or "/clients/")
        page.context.close()


def take(page: Page, new_page: Callable[[], Page], out: Path, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("owner@example.org")
    page.get_by_label("Email").blur()
    shoot(page, out, "01-login.png")

    sign_in(page, "owner@example.org", password)
    shoot(page, out, "02-dashboard.png")

    page.goto("/clients/")
    with page.expect_response(lambda r: "/clients/?q=" in r.url and r.request.headers.get("hx-request") == "true"):
        page.get_by_role("searchbox", name="Search clients").press_sequentially(SEARCH, delay=40)
    expect(page).to_have_url(re.compile(rf"q={SEARCH}$"))
    expect(page.locator("#client-results tbody tr").first).to_be_visible()
    shoot(page, out, "04-client-search.png")

    # A client who goes by a chosen name shows the most of the client page.
    page.goto("/clients/")
    row = page.locator("#client-results tbody tr", has_text="Legal:").first
    if not row.count():
        row = page.locator("#client-results tbody tr").first
    row.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Care team")).to_be_visible()
    shoot(page, out, "05-client.png")

    page.goto("/clients/new/")
    for label, value in {
        "Legal first name": "Rowan",
        "Legal last name": "Quillfeather",
        "Chosen name": "Ro",
        "Pronouns": "they/them",
        "Date of birth": "1984-03-15",
        "Phone": "(416) 555-0177",
        "Email": "rowan@@example",
        "City": "Toronto",
    }.items():
        field(page, label).fill(value)
    page.get_by_label("Country").select_option("CA")
    page.get_by_role("button", name="Add client").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct")
    # Scroll so the summary at the top and the email field with its error are both in view.
    page.locator("#form-errors").scroll_into_view_if_needed()
    shoot(page, out, "06-client-form-errors.png")

    page.goto("/therapists/")
    page.get_by_role("link", name="Priya Natarajan").first.click()
    expect(page.get_by_role("heading", name="Licences")).to_be_visible()
    expect(page.locator(".badge-warn").first).to_be_visible()
    shoot(page, out, "08-therapist.png")

    colleagues_at_work(new_page, password)
    page.goto("/audit/")
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    shoot(page, out, "10-audit.png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--password", default="mend-demo", help="the demo accounts' password")
    parser.add_argument("--browser", default=os.environ.get("MEND_BROWSER", "/usr/bin/chromium"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"Screenshots of {args.base_url} into {args.out}/")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.browser, args=CHROMIUM_ARGS)

        def new_page() -> Page:
            context = browser.new_context(
                base_url=args.base_url.rstrip("/"), viewport=VIEWPORT, device_scale_factor=1, locale="en-CA"
            )
            context.set_default_timeout(15_000)
            return context.new_page()

        try:
            take(new_page(), new_page, args.out, args.password)
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
