"""Checkout in Chromium: the front desk takes a completed visit's draft, adds a product, issues it, pays the
visit with a package session and the rest by card, then prints the receipt and the superbill.

The PDFs are read back (pypdf) for what an insurer needs — the receipt's number, the package credit and
the card payment, the therapist's registration; the superbill's CPT code and units — and every page is
rendered to PNG (pypdfium2) under ``$MEND_TEST_ARTEFACTS/checkout/`` (else the test's temporary
directory) so a person can look at them. axe-core finds no serious or critical violation on the invoice
page at desktop width and at 390 px, where nothing scrolls sideways.

The demo's Harbour gets, for this test, a visit a few days ago (the first free time of a therapist with a
current RMT registration), completed, with a signed note of 30 minutes' myofascial release, and the
client a three-visit package of that treatment, sold and issued.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

FRONT_DESK = "frontdesk@example.org"
SERIOUS = ("serious", "critical")

SETUP = """
import json
from datetime import timedelta
from decimal import Decimal
from django.utils import timezone
from mend.billing.models import Invoice, PackagePlan, Product
from mend.billing.services import credits, invoices
from mend.clinical.models import Episode
from mend.clinics.models import Clinic, Membership
from mend.people.models import Licence
from mend.platform import clock
from mend.platform.actor import Actor
from mend.scheduling.models import AppointmentType
from mend.scheduling.queries.online import online_slots
from mend.scheduling.services import appointment_book, appointment_status_set
from mend.testing import signed_note

clinic = Clinic.objects.get(slug="harbour")
today = clock.local_today(clinic.timezone)
def actor(membership):
    return Actor(user=membership.user, membership=membership)
desk = actor(Membership.objects.get(clinic=clinic, user__email="frontdesk@example.org"))
owner = actor(Membership.objects.get(clinic=clinic, role="owner", user__email="owner@example.org"))
soon = today + timedelta(days=30)
registered = Licence.objects.filter(profile__clinic=clinic, licence_type="RMT", expires_on__gte=soon)
episode = Episode.objects.filter(
    clinic=clinic, discharged_on__isnull=True, therapist__therapist_profile__licences__in=registered
).order_by("pk").first()
therapist, client = episode.therapist, episode.client
kind = AppointmentType.objects.filter(clinic=clinic, is_active=True, kind="treatment", therapists=therapist).order_by(
    "duration_minutes", "pk").first()
slot = None
for back in range(3, 40):
    day = today - timedelta(days=back)
    found = online_slots(clinic=clinic, kind=kind, therapist_id=therapist.pk, first=day, last=day,
                         now=timezone.now() - timedelta(days=back + 5))
    if found:
        slot = found[0]
        break
visit = appointment_book(clinic=clinic, actor=desk, client=client, therapist=therapist, appointment_type=kind,
                         starts_at=slot.start, now=slot.start - timedelta(days=2))
appointment_status_set(actor=desk, appointment=visit, status="completed", now=slot.start + timedelta(hours=1))
visit_day = clock.local_date(slot.start, clinic.timezone)
signed_note(actor(therapist), episode, on=visit_day)
plan, _ = PackagePlan.objects.get_or_create(
    clinic=clinic, name=f"Browser test: 3 × {kind.name}",
    defaults={"appointment_type": kind, "sessions": 3, "price": Decimal("300.00")},
)
# Bought before the visit, so it covers it.
package = credits.package_sell(actor=owner, client=client, plan=plan, starts_on=visit_day - timedelta(days=7))
invoices.invoice_issue(actor=owner, invoice=Invoice.objects.get(lines__package=package))
product = Product.objects.filter(clinic=clinic, is_active=True).order_by("pk").first()
print(json.dumps({
    "invoice": Invoice.objects.get(appointment=visit).pk,
    "kind": kind.name,
    "product": product.name,
    "package": plan.name,
    "client": client.legal_family_name,
}))
"""


@pytest.fixture(scope="module")
def visit(demo_server: Any, server_url: str) -> dict[str, Any]:
    return json.loads(demo_server.manage("shell", "-c", SETUP).strip().splitlines()[-1])


def _artefacts(tmp_path: Path) -> Path:
    root = os.environ.get("MEND_TEST_ARTEFACTS")
    folder = Path(root) / "checkout" if root else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _pdf(page: Page, path: str, name: str, folder: Path) -> str:
    """The PDF at ``path`` (this page's session), its text; each page saved beside it as PNG."""
    response = page.context.request.get(path)
    assert response.ok, (path, response.status)
    assert response.headers["content-type"] == "application/pdf"
    data = response.body()
    (folder / f"{name}.pdf").write_bytes(data)
    document = pypdfium2.PdfDocument(data)
    for number in range(len(document)):
        document[number].render(scale=1.5).to_pil().save(folder / f"{name}-{number + 1}.png")
    assert (folder / f"{name}-1.png").stat().st_size > 10_000  # a page with something drawn on it
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def _axe(page: Page, axe: Axe) -> list[str]:
    page.wait_for_load_state("load")
    found = [
        f"{page.url}: {v['id']} ({v['impact']})"
        for v in axe.run(page, options={"resultTypes": ["violations"]}).response["violations"]
        if v["impact"] in SERIOUS
    ]
    width = page.viewport_size["width"] if page.viewport_size else 0
    if width <= 400 and page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth"):
        found.append(f"{page.url}: scrolls sideways at {width}px")
    return found


def test_the_desk_checks_out_a_visit_with_a_package_and_a_card_and_prints_receipt_and_superbill(
    visit: dict[str, Any], server_url: str, browser: Browser, tmp_path: Path
) -> None:
    axe = Axe()
    context = browser.new_context(base_url=server_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in(page, FRONT_DESK)
        page.goto(f"/billing/invoices/{visit['invoice']}/")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Draft invoice")
        findings = _axe(page, axe)

        page.get_by_label("Add a product").select_option(
            label=next(
                o
                for o in page.get_by_label("Add a product").locator("option").all_inner_texts()
                if visit["product"] in o
            )
        )
        page.get_by_role("button", name="Add", exact=True).first.click()
        expect(page.locator(".messages")).to_contain_text("Added")
        page.get_by_role("button", name="Issue").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("INV-")
        number = page.get_by_role("heading", level=1).inner_text().split()[0]

        page.get_by_role("button", name="Use a session").click()
        expect(page.locator("main")).to_contain_text("with one session of")
        page.get_by_label("Method").select_option(label="Card (terminal)")
        page.get_by_role("button", name="Record payment").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Paid")
        findings += _axe(page, axe)

        phone = browser.new_context(base_url=server_url, viewport={"width": 390, "height": 844})
        try:
            small = phone.new_page()
            sign_in(small, FRONT_DESK)
            small.goto(f"/billing/invoices/{visit['invoice']}/")
            findings += _axe(small, axe)
        finally:
            phone.close()
        assert findings == []

        folder = _artefacts(tmp_path)
        receipt = _pdf(page, f"/billing/invoices/{visit['invoice']}/receipt.pdf", "receipt", folder)
        assert f"Receipt {number}" in receipt
        assert "Package credit" in receipt and "Card (terminal)" in receipt
        assert "RMT" in receipt and "HST" in receipt
        assert visit["product"] in receipt
        superbill = _pdf(page, f"/billing/invoices/{visit['invoice']}/superbill.pdf", "superbill", folder)
        assert "97140" in superbill and visit["client"] in superbill
    finally:
        context.close()
