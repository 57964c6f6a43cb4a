"""Superbill pages and PDFs: the page and its PDF from one template, the PDF's text carrying codes, units,
diagnoses, NPI, licence and the signature line; every route × every persona; queries bounded.

Each PDF's pages are also drawn to PNG (pypdfium2) for a person to look at: into
``$MEND_TEST_ARTEFACTS/superbills/`` when that is set, else the test's own temporary directory.
"""

from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path

import pypdf
import pypdfium2
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mend.audit.models import AuditEvent
from mend.billing.models import UnitRule
from mend.billing.views import superbills as views
from mend.testing import Personas

from .helpers import build_billing, completed_visit
from .test_superbills import SWEDISH_AND_STRETCHING, billing, episode, issued_visit, note, payer  # noqa: F401

pytestmark = pytest.mark.clock

PERSONAS = ["anonymous", "owner", "admin", "therapist", "therapist2", "front_desk", "outsider"]
OK, FOUND, NOT_FOUND = 200, 302, 404


def _artefacts(tmp_path: Path) -> Path:
    root = os.environ.get("MEND_TEST_ARTEFACTS")
    folder = Path(root) / "superbills" if root else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _pdf_text(content: bytes, save_as: Path) -> str:
    """The PDF's text (pypdf), after drawing each page to ``save_as``-<n>.png (pypdfium2)."""
    document = pypdfium2.PdfDocument(content)
    try:
        for n in range(len(document)):
            document[n].render(scale=1.5).to_pil().save(f"{save_as}-{n + 1}.png")
    finally:
        document.close()
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def visit(personas, billing, episode):  # noqa: F811
    """Today's visit: Swedish 24 + stretching 23 + hot/cold, issued; Carol covered by a CMS-rule payer."""
    payer(personas, UnitRule.CMS)
    day = personas.today
    note(personas, episode, on=day, techniques=[*SWEDISH_AND_STRETCHING, ("hot_cold", 8)])
    return issued_visit(personas, billing, day=day)


def _period(p: Personas) -> str:
    return f"?from={p.today:%Y-%m-%d}&to={p.today:%Y-%m-%d}"


def test_the_page_shows_codes_units_diagnoses_and_provider(login, personas, visit):
    response = login("front_desk").get(f"/billing/superbills/client/{personas.carol.pk}/{_period(personas)}")

    assert response.status_code == 200
    html = response.content.decode()
    for expected in (
        "97124",
        "97110",
        "97010",
        "Untimed services",
        "M54.50",
        "1234567893",
        "R-1234",
        "123456789 RT0001",
        "SL-778899",
        "Provider signature",
        "Download PDF",
        f"/billing/superbills/client/{personas.carol.pk}.pdf?from=",
    ):
        assert expected in html, expected
    assert "Secret words" not in html
    assert 'href="/static/billing/document.css"' not in html  # the page keeps the site's chrome


def test_the_client_pdf_carries_everything_an_insurer_needs(login, personas, visit, tmp_path):
    response = login("owner").get(f"/billing/superbills/client/{personas.carol.pk}.pdf{_period(personas)}")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    day = f"{personas.today:%Y-%m-%d}"
    assert response["Content-Disposition"] == f'inline; filename="superbill-client-{day}-{day}.pdf"'
    text = _pdf_text(response.content, _artefacts(tmp_path) / "superbill-period")
    for expected in (
        "Superbill",
        "Caroline Client",
        "97124",
        "97110",
        "97010",
        "Untimed services",
        "M54.50",
        "NPI: 1234567893",
        "RMT R-1234",
        "Ontario",
        "HST number: 123456789 RT0001",
        "Sun Life",
        "SL-778899",
        "113.00",
        "Provider signature",
        "Date",
        "Page 1 of 1",
    ):
        assert expected in text, expected
    assert "Secret words" not in text
    assert AuditEvent.objects.filter(object_type="billing.superbill", action="print").count() == 1


def test_the_invoice_superbill_pdf(login, personas, visit, tmp_path):
    response = login("front_desk").get(f"/billing/invoices/{visit.pk}/superbill.pdf")

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'inline; filename="superbill-client-{visit.label}.pdf"'
    text = _pdf_text(response.content, _artefacts(tmp_path) / "superbill-visit")
    assert f"Superbill for {visit.label}" in text
    assert "97124" in text and "97010" in text and "M54.50" in text


def test_a_drafts_superbill_sends_back_to_the_invoice(login, personas, billing, episode):  # noqa: F811
    draft = completed_visit(personas, billing, day=personas.today)
    response = login("owner").get(f"/billing/invoices/{draft.pk}/superbill.pdf")
    assert response.status_code == FOUND and response["Location"] == f"/billing/invoices/{draft.pk}/"


def test_a_bad_period_says_so_and_shows_this_month(login, personas, visit):
    response = login("owner").get(f"/billing/superbills/client/{personas.carol.pk}/?from=yesterday&to=2025-13-01")
    assert response.status_code == 200
    assert b"Enter a date such as" in response.content and b"Showing this month instead." in response.content


def test_a_period_ending_before_it_starts_is_refused_on_the_page(login, personas, visit):
    later, earlier = personas.today, personas.today - timedelta(days=3)
    response = login("owner").get(f"/billing/superbills/client/{personas.carol.pk}/?from={later}&to={earlier}")
    assert response.status_code == 200 and b"The period ends before it starts." in response.content
    pdf = login("owner").get(f"/billing/superbills/client/{personas.carol.pk}.pdf?from={later}&to={earlier}")
    assert pdf.status_code == FOUND


# --- Every route × every persona --------------------------------------------------------------

# owner, admin, therapist (Tess, Carol's care team), therapist2 (Theo, not), front desk, outsider
EVERY_STAFF_OF_THE_CARE_TEAM = (OK, OK, OK, NOT_FOUND, OK, NOT_FOUND)
ROUTES = {
    "superbill_client": (lambda p, v: f"/billing/superbills/client/{p.carol.pk}/{_period(p)}"),
    "superbill_client_pdf": (lambda p, v: f"/billing/superbills/client/{p.carol.pk}.pdf{_period(p)}"),
    "superbill_invoice_pdf": (lambda p, v: f"/billing/invoices/{v.pk}/superbill.pdf"),
}


def test_every_superbill_route_is_in_the_matrix():
    assert {p.name for p in views.urlpatterns} == set(ROUTES), "add a row to ROUTES for every superbill route"


@pytest.mark.parametrize(("route", "persona"), [pytest.param(r, p, id=f"{r}-{p}") for r in ROUTES for p in PERSONAS])
def test_superbill_access(client, login, personas, visit, route, persona):
    path = ROUTES[route](personas, visit)
    http = client if persona == "anonymous" else login(persona)
    events = AuditEvent.objects.count()
    response = http.get(path)
    if persona == "anonymous":
        assert response.status_code == FOUND and response["Location"].startswith("/accounts/login/?next=")
        return
    expected = EVERY_STAFF_OF_THE_CARE_TEAM[PERSONAS.index(persona) - 1]
    assert response.status_code == expected, (path, persona, response.status_code, response.content[:300])
    if expected == NOT_FOUND:
        assert AuditEvent.objects.count() == events
        assert b"Caroline" not in response.content and b"M54.50" not in response.content


def test_a_therapist_gets_404_for_a_client_off_their_care_team(login, personas, billing):  # noqa: F811
    response = login("therapist").get(f"/billing/superbills/client/{personas.dan.pk}/")
    assert response.status_code == NOT_FOUND


# --- Queries --------------------------------------------------------------------------------------


def test_the_page_runs_the_same_queries_for_2_visits_or_20(login, personas, episode):  # noqa: F811
    b = build_billing(personas)
    http = login("front_desk")
    counts = []
    for count, offset in ((2, 1), (20, 3)):
        days = [personas.today - timedelta(days=offset + n) for n in range(count)]
        for day in days:
            note(personas, episode, on=day, techniques=SWEDISH_AND_STRETCHING, modalities=["heat"])
            issued_visit(personas, b, day=day)
        url = f"/billing/superbills/client/{personas.carol.pk}/?from={min(days)}&to={max(days)}"
        http.get(url)  # warm up: the session
        with CaptureQueriesContext(connection) as captured:
            response = http.get(url)
        assert response.status_code == 200
        counts.append((len(captured.captured_queries), [c["sql"] for c in captured.captured_queries]))
    (small, small_sql), (large, large_sql) = counts
    assert small == large, "\n".join([f"2 visits: {small}", *small_sql, "", f"20 visits: {large}", *large_sql])
