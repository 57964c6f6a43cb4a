"""The reports' pages: owners and admins only, another clinic's books never shown, a chart with its
table, CSVs as attachments with formula injection neutralised, and a fixed number of queries."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mend.billing.services import invoices, payments
from mend.billing.views import reports as views
from mend.people.models import Client
from mend.testing import Personas

from .helpers import build_billing, completed_visit

PERSONAS = ["anonymous", "owner", "admin", "therapist", "front_desk", "outsider"]
OK, FORBIDDEN, NOT_FOUND = 200, 403, 404
# Owners and admins; the outsider owns Northside and sees Northside's (empty) books.
MANAGERS = (OK, OK, FORBIDDEN, FORBIDDEN, OK)

ROUTES = {
    "billing_reports": ("/billing/reports/", MANAGERS),
    "billing_report_write_offs": ("/billing/reports/write-offs/", MANAGERS),
    "billing_report_csv": ("/billing/reports/ageing.csv", MANAGERS),
}


@pytest.fixture
def owed(personas: Personas):
    """Carol owes 135.60 on an issued visit, and 10.00 of another visit was written off."""
    billing = build_billing(personas)
    owner = personas.actor("owner")
    invoices.invoice_issue(actor=owner, invoice=completed_visit(personas, billing, hour=9))
    other = invoices.invoice_issue(actor=owner, invoice=completed_visit(personas, billing, hour=11))
    payments.invoice_write_off(actor=owner, invoice=other, amount=Decimal("10.00"), reason="Small balance")
    return billing


def test_every_reports_route_is_in_the_matrix():
    assert {p.name for p in views.urlpatterns} == set(ROUTES), "add a row to ROUTES for every reports route"


@pytest.mark.parametrize(("route", "persona"), [pytest.param(r, p, id=f"{r}-{p}") for r in ROUTES for p in PERSONAS])
def test_report_access(client, login, personas, owed, route, persona):
    path, expected_by_role = ROUTES[route]
    http = client if persona == "anonymous" else login(persona)
    response = http.get(path)
    if persona == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
        return
    expected = expected_by_role[PERSONAS.index(persona) - 1]
    assert response.status_code == expected, (path, persona, response.status_code)
    if expected == FORBIDDEN:
        assert b"Not allowed" in response.content
    if persona == "outsider":
        # Harbour's books are not Northside's: no client, no amount of Harbour's.
        assert personas.carol.display_name.encode() not in response.content
        assert b"135.60" not in response.content


def test_the_report_page_shows_the_chart_with_its_table_and_the_figures(login, personas, owed):
    response = login("owner").get("/billing/reports/")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in body and 'role="img"' in body
    assert "<script" not in body.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert "Revenue by month as a table" in body
    assert "Revenue: 240.00 CAD" in body  # two visits issued this month, before tax
    assert "Owing: 261.20 CAD" in body  # 135.60 + 135.60 − 10.00 written off
    assert personas.carol.display_name in body
    assert "1 write-off in the period, 10.00 CAD" in body


def test_the_cash_basis_and_a_preset_are_chosen_in_the_query_string(login, owed):
    http = login("admin")
    body = http.get("/billing/reports/?preset=last_month&basis=cash").content.decode()
    assert "cash basis: money received" in body and "Revenue: 0.00 CAD" in body
    bad = http.get("/billing/reports/?preset=custom&first=2026-05-01&last=2026-04-01")
    assert bad.status_code == 200 and "The period ends before it starts." in bad.content.decode()


def test_the_write_offs_page_lists_each_write_off(login, personas, owed):
    body = login("owner").get("/billing/reports/write-offs/").content.decode()
    assert "Small balance" in body and "10.00" in body and personas.carol.display_name in body


def test_a_csv_is_an_attachment_and_a_formula_named_client_exports_as_text(login, personas, owed):
    Client.objects.filter(pk=personas.carol.pk).update(chosen_name='=HYPERLINK("http://x","y")')
    response = login("owner").get("/billing/reports/ageing.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="ageing-')
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "Client"
    assert rows[1][0].startswith("'=HYPERLINK(")
    assert rows[1][-1] == "261.20"


def test_every_section_downloads_and_an_unknown_one_is_404(login, owed):
    http = login("owner")
    for section in ("revenue-month", "revenue-therapist", "revenue-service", "tax", "liability", "fees", "write-offs"):
        response = http.get(f"/billing/reports/{section}.csv?basis=cash")
        assert response.status_code == 200, section
    assert http.get("/billing/reports/payroll.csv").status_code == 404
    assert http.get("/billing/reports/?format=csv&section=fees")["Content-Disposition"].startswith("attachment")


def _grow(personas: Personas, billing, size: int, *, after: int = 0) -> None:
    """``size`` more clients, each with an issued visit partly paid by card (and a refund)."""
    owner = personas.actor("owner")
    day = personas.today
    for n in range(size):
        someone = Client.objects.create(
            clinic=personas.harbour,
            legal_given_name=f"Extra{n}",
            legal_family_name=f"Client{size}",
            date_of_birth=personas.carol.date_of_birth,
        )
        invoice = invoices.invoice_issue(
            actor=owner,
            invoice=completed_visit(
                personas, billing, client=someone, day=day - timedelta(days=after + n + 1), hour=13
            ),
        )
        paid = payments.payment_record(actor=owner, invoice=invoice, method="card", amount=Decimal("50.00"))
        payments.payment_refund(actor=owner, payment=paid, amount=Decimal("5.00"), reason="Goodwill")


def _count(http, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = http.get(path)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("path", ["/billing/reports/", "/billing/reports/?basis=cash", "/billing/reports/write-offs/"])
def test_report_queries_do_not_grow_with_the_books(login, personas, owed, path):
    http = login("owner")
    _grow(personas, owed, 2)
    small = _count(http, f"{path}{'&' if '?' in path else '?'}preset=last_12_months")
    _grow(personas, owed, 6, after=2)
    large = _count(http, f"{path}{'&' if '?' in path else '?'}preset=last_12_months")
    # The page: session, user and membership; revenue (tips, the grouped lines, two for names); ageing
    # (rows, totals, audit); liability (5); fees (2); the write-offs' total. The write-offs page: rows,
    # total and audit.
    assert small == large, f"{small} queries with 2 more clients, {large} with 8"
