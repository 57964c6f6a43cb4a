"""Take the README's screenshots from a running demo server.

    make demo                     # in one terminal (or any server with `mend demo` loaded)
    python scripts/screenshots.py --base-url http://127.0.0.1:8000 --out docs/screenshots

Drives Chromium (MEND_BROWSER, default /usr/bin/chromium) through Playwright at 1280×800,
device scale 1, and writes 01-login.png, 02-dashboard.png (a therapist's), 04-client-search.png, 05-client.png,
06-client-form-errors.png, 08-therapist.png, 10-audit.png, and of the clinical record 11-chart.png,
12-note.png, 13-assessment.png and 14-plan.png; on a 390×844 phone, today-phone.png (the therapist's
Today) and chart-phone.png (the same chart as 11-chart.png); of scheduling 19-schedule-day.png (the
clinic's day by therapist), 20-schedule-week.png (one therapist's week), 21-book-services.png and
22-book-times.png (the public booking's first and third steps), and book-times-phone.png,
book-details-phone.png on a phone. The script reads, fills in forms that fail
validation, and starts one treatment note that it deletes again, so the demo data is left as it
was (apart from the audit trail, which also records the pages it reads to find the episodes).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from playwright.sync_api import Locator, Page, expect, sync_playwright

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
PHONE = {"width": 390, "height": 844}
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


# --- The clinical record ------------------------------------------------------------------
# Episodes are found as a person would: client list → client page ("Episodes of care") → chart.
# Pages are read with page.request (same session, no rendering) until one shows what is wanted.

CHART_LINK = re.compile(r'href="(/episodes/\d+/)">[^<]*</a></td>(?:(?!</tr>).)*badge-ok">Open<', re.S)


# What makes a client page worth showing: an episode of care, a chosen name (the legal one beside
# it), pronouns.
HAS_MOST = ('href="/episodes/', "legal name ", '<span class="muted small">(')


def client_pages(page: Page) -> Iterator[str]:
    """Every client page the signed-in person may open, in the order of the client list."""
    number = 1
    while True:
        html = page.request.get(f"/clients/?page={number}").text()
        rows = re.findall(r'<a class="rowlink" href="(/clients/\d+/)"', html)
        yield from rows
        if not rows or f"page={number + 1}" not in html:
            return
        number += 1


def best_client(page: Page) -> str:
    """The client page that shows the most, by HAS_MOST in order of importance."""
    best, best_score = "/clients/", ()
    for path in client_pages(page):
        html = page.request.get(path).text()
        score = tuple(marker in html for marker in HAS_MOST)
        if score > best_score:
            best, best_score = path, score
        if all(score):
            break
    return best


def open_charts(page: Page) -> Iterator[tuple[str, str]]:
    """(chart path, chart HTML) of every open episode of the signed-in person's clients."""
    for client in client_pages(page):
        for chart in CHART_LINK.findall(page.request.get(client).text()):
            yield chart, page.request.get(chart).text()


def page_y(locator: Locator, edge: str = "top") -> float:
    """Where an element's top or bottom edge is on the page (not in the viewport)."""
    return float(locator.evaluate(f"e => e.getBoundingClientRect().{edge} + window.scrollY"))


def scroll_to(page: Page, y: float) -> None:
    page.evaluate("y => window.scrollTo(0, y)", max(0, y))


def is_full_chart(html: str) -> bool:
    """In treatment with screening flags, a referral, goals, a pain map and signed notes."""
    return all(
        marker in html
        for marker in ('class="flag-item', 'class="referral-from"', 'class="goal"', 'class="bm-list"', ">Signed<")
    )


def take_clinical(page: Page, therapist: Page, out: Path) -> None:
    """Therapist1's chart, a note being written, the assessment; a plan that conflicts with screening."""
    therapist.goto("/")
    name = therapist.get_by_role("heading", level=1).inner_text().removeprefix("Welcome, ")
    full = [(path, html) for path, html in open_charts(therapist) if is_full_chart(html)]
    # Their own episode rather than that of a colleague whose client they share.
    own = [path for path, html in full if f"therapist {name}" in html]
    chart = next(iter(own or [path for path, _ in full]), None)
    if chart is None:
        sys.exit("No open demo episode of therapist1 has flags, a referral, goals, a pain map and notes.")
    therapist.goto(chart)
    expect(therapist.locator("#painmap-heading")).to_be_visible()
    shoot(therapist, out, "11-chart.png")
    take_phone(therapist, chart, out)

    # Today's note, started from the plan (its techniques filled in), written and autosaved, then deleted.
    therapist.get_by_role("button", name="Start today's note").click()
    expect(therapist).to_have_url(re.compile(r"/notes/\d+/edit/$"))
    try:
        expect(therapist.locator("#techniques .technique-row").first).to_be_visible()
        therapist.locator("#id_subjective").fill(
            "Easier to move since the last visit; sore again after a long day at work. Sleeping better."
        )
        therapist.locator("#id_pain_pre").fill("4")
        with therapist.expect_response(lambda r: "/autosave/" in r.url):
            therapist.locator("#id_objective").fill("Tone down in the treated area; tender to moderate pressure.")
            therapist.locator("#id_objective").blur()
        expect(therapist.locator("#autosave-status")).to_contain_text("Draft saved")
        # The client's report down to the first two techniques, above the sticky Save / Sign bar.
        rows = therapist.locator("#techniques .technique-row")
        bar = therapist.locator(".note-actions").bounding_box()
        bottom = page_y(rows.nth(min(rows.count(), 2) - 1), "bottom")
        scroll_to(therapist, bottom + 12 - (VIEWPORT["height"] - (bar["height"] if bar else 0)))
        shoot(therapist, out, "12-note.png")
    finally:
        therapist.once("dialog", lambda dialog: dialog.accept())
        therapist.get_by_role("button", name="Delete draft").click()
        expect(therapist).to_have_url(re.compile(r"/episodes/\d+/$"))

    # The assessment behind the chart's pain map, scrolled to show the body map and the range of
    # motion as % of normal together.
    assessment = therapist.locator("section[aria-labelledby=painmap-heading] .card-head a").get_attribute("href")
    therapist.goto(assessment or chart)
    expect(therapist.locator(".rom-pct").first).to_be_visible()
    # The table's last row at the bottom, but never past the heads of the figures.
    rom = page_y(therapist.locator("section[aria-labelledby=rom-heading] table"), "bottom")
    scroll_to(therapist, min(rom + 8 - VIEWPORT["height"], page_y(therapist.locator(".bodymap-svg").first) + 28))
    shoot(therapist, out, "13-assessment.png")

    # A plan that keeps a technique today's screening rules out; one that may go ahead with care first.
    conflicting = [(path, html) for path, html in open_charts(page) if "chart-conflicts" in html]
    if not conflicting:
        print("  (no demo plan conflicts with screening: 14-plan.png shows a plan without a warning)")
        conflicting = [(chart, "")]
    conflicting.sort(key=lambda found: "flag-banner flag-danger" in found[1])
    page.goto(conflicting[0][0] + "plan/")
    expect(page.get_by_role("heading", name="Plan of care", level=1)).to_be_visible()
    shoot(page, out, "14-plan.png")

    take_outcomes(page, therapist, chart, out)


def take_phone(therapist: Page, chart: str, out: Path) -> None:
    """The therapist's Today and the chart at a phone's width, in the same session."""
    browser = therapist.context.browser
    assert browser is not None
    base_url = therapist.url.split("/", 3)[:3]
    phone = browser.new_context(
        base_url="/".join(base_url), viewport=PHONE, device_scale_factor=1, locale="en-CA", is_mobile=True
    )
    phone.add_cookies(therapist.context.cookies())
    page = phone.new_page()
    try:
        page.goto("/")
        expect(page.get_by_role("heading", name="Today's flags")).to_be_visible()
        expect(page.get_by_role("button", name="Menu")).to_be_visible()
        shoot(page, out, "today-phone.png")
        page.goto(chart)
        expect(page.locator("#painmap-heading")).to_be_attached()
        shoot(page, out, "chart-phone.png")
    finally:
        phone.close()


def take_outcomes(page: Page, therapist: Page, chart: str, out: Path) -> None:
    """The chart's progress charts, the in-clinic measure form, and the clinic evidence report."""
    therapist.goto(chart + "progress/")
    expect(therapist.get_by_role("heading", level=1)).to_contain_text("Progress")
    expect(therapist.locator(".chart svg").first).to_be_visible()
    shoot(therapist, out, "15-progress.png")

    therapist.goto(chart + "outcomes/nprs/")
    expect(therapist.get_by_role("radio").first).to_be_attached()
    therapist.get_by_role("radio", name=re.compile(r"^3\b")).first.check(force=True)
    shoot(therapist, out, "16-measure-form.png")

    page.goto("/outcomes/evidence/")
    expect(page.locator("tr[data-row]").first).to_be_visible()
    shoot(page, out, "17-evidence.png")
    # The curves: sessions to reach the minimal clinically important difference, per condition.
    page.locator("#km-heading").scroll_into_view_if_needed()
    scroll_to(page, page_y(page.locator("#km-heading")) - 16)
    shoot(page, out, "18-evidence-curves.png")


def take_schedule(page: Page, therapist: Page, out: Path) -> None:
    """The staff calendar (the owner's day, a therapist's week) and the public booking, desktop and phone."""
    page.goto("/schedule/")
    expect(page.locator(".cal-appt").first).to_be_visible()
    shoot(page, out, "19-schedule-day.png")
    therapist.goto("/schedule/?view=week")
    therapist.get_by_label("Therapist", exact=True).select_option(label="Priya Natarajan")
    therapist.get_by_role("button", name="Show").click()
    expect(therapist.locator(".cal-appt").first).to_be_visible()
    shoot(therapist, out, "20-schedule-week.png")

    browser = page.context.browser
    assert browser is not None
    origin = "/".join(page.url.split("/", 3)[:3])
    for name, viewport, mobile in (("desktop", VIEWPORT, False), ("phone", PHONE, True)):
        public = browser.new_context(
            base_url=origin, viewport=viewport, device_scale_factor=1, locale="en-CA", is_mobile=mobile
        )
        visitor = public.new_page()
        try:
            visitor.goto("/book/harbour/")
            expect(visitor.get_by_role("heading", level=1)).to_contain_text("Book an appointment")
            if name == "desktop":
                shoot(visitor, out, "21-book-services.png")
            visitor.get_by_role("link", name=re.compile(r"^Treatment 60")).first.click()
            visitor.get_by_role("link", name="First available").click()
            expect(visitor.get_by_role("heading", level=1)).to_contain_text("first available")
            shoot(visitor, out, "22-book-times.png" if name == "desktop" else "book-times-phone.png")
            if name == "phone":
                visitor.locator("button.btn-slot").first.click()
                expect(visitor.get_by_role("heading", level=1)).to_contain_text("Your details")
                shoot(visitor, out, "book-details-phone.png")
        finally:
            public.close()


def take_billing(page: Page, out: Path) -> None:
    """Checkout, the owner's reports, a superbill, and a receipt as it prints (its PDF's first page)."""
    page.goto("/billing/?show=all")
    expect(page.locator("tbody tr").first).to_be_visible()
    # A paid treatment, so the receipt shows the therapist's registration and signature line.
    invoice = ""
    for row in page.locator("tbody tr", has=page.locator(".badge-ok")).all()[:40]:
        href = row.get_by_role("link").first.get_attribute("href") or ""
        if "Registration:" in page.request.get(href).text():
            invoice = href
            break
    assert invoice, "no paid treatment among the last invoices"
    page.goto("/billing/?show=open")
    page.locator("tbody tr").first.get_by_role("link").first.click()
    expect(page.locator(".billing-document")).to_be_visible()
    shoot(page, out, "23-checkout.png")

    page.goto("/billing/reports/?preset=last_12_months")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Reports")
    shoot(page, out, "24-billing-reports.png")

    client = re.search(r"/clients/(\d+)/", best_client(page))
    assert client is not None
    from datetime import date, timedelta

    since = date.today() - timedelta(days=300)
    page.goto(f"/billing/superbills/client/{client.group(1)}/?from={since}&to={date.today()}")
    expect(page.locator(".billing-document")).to_be_visible()
    shoot(page, out, "25-superbill.png")

    # The receipt as the client gets it: the PDF's first page, drawn at the screenshots' width.
    import pypdfium2

    pdf = page.request.get(f"{invoice}receipt.pdf")
    assert pdf.ok, pdf.status
    first = pypdfium2.PdfDocument(pdf.body())[0]
    first.render(scale=VIEWPORT["width"] / first.get_width() * 0.75).to_pil().save(out / "26-receipt.png")
    print(f"  {out / '26-receipt.png'}")


def take(page: Page, new_page: Callable[[], Page], out: Path, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("owner@example.org")
    page.get_by_label("Email").blur()
    shoot(page, out, "01-login.png")

    sign_in(page, "owner@example.org", password)

    page.goto("/clients/")
    with page.expect_response(lambda r: "/clients/?q=" in r.url and r.request.headers.get("hx-request") == "true"):
        page.get_by_role("searchbox", name="Search clients").press_sequentially(SEARCH, delay=40)
    expect(page).to_have_url(re.compile(rf"q={SEARCH}$"))
    expect(page.locator("#client-results tbody tr").first).to_be_visible()
    shoot(page, out, "04-client-search.png")

    # A client who goes by a chosen name and has an episode of care shows the most of the client page.
    page.goto(best_client(page))
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

    # A therapist's day: their clients, today's screening flags, credentials to renew.
    therapist = new_page()
    sign_in(therapist, "therapist1@example.org", password)
    expect(therapist.get_by_role("heading", name="Today's flags")).to_be_visible()
    shoot(therapist, out, "02-dashboard.png")

    take_clinical(page, therapist, out)
    take_schedule(page, therapist, out)
    take_billing(page, out)


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
