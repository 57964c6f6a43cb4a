"""The billing settings pages: what an owner sees and changes, what a bad amount tells them, and the
queries the settings page runs.

Access per role for every route is in tests/test_access_matrix.py; here, what the pages do.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mend.billing.models import (
    BillingProfile,
    MembershipPlan,
    PackagePlan,
    Payer,
    Price,
    Product,
    TaxRate,
)
from mend.clinics.models import Location
from mend.scheduling.models import AppointmentType
from mend.testing import Personas

from .helpers import build_billing


def text_of(response) -> str:
    """The page's text without its tags, as a person reads it."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.content.decode()))


def field_errors(response, name: str) -> str:
    """The error list printed beside field ``name``."""
    found = re.search(rf'<ul class="errorlist" id="id_{name}_error">(.*?)</ul>', response.content.decode(), re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)) if found else ""


PROFILE_FORM = {
    "legal_name": "Harbour Massage Therapy Inc.",
    "tax_number_label": "HST number",
    "tax_number": "123456789 RT0001",
    "group_npi": "",
    "receipt_standard": "basic",
    "service_tax_rate": "",
    "late_cancel_hours": "24",
    "late_cancel_fee": "40",
    "no_show_fee": "1,060.50",
    "deposit_percent": "0",
    "payment_terms_days": "0",
    "invoice_footer": "",
}


# --- Links ----------------------------------------------------------------------------------------


def test_clinic_settings_and_the_account_menu_lead_to_billing_settings(login):
    http = login("owner")
    assert http.get("/settings/").content.count(b'href="/billing/settings/"') == 2  # the card and the menu
    front_desk = login("front_desk").get("/")
    assert b'href="/billing/settings/"' not in front_desk.content


# --- The settings page ----------------------------------------------------------------------------


def test_owner_saves_the_profile_and_reads_the_policy_as_clients_will(login, personas):
    http = login("owner")
    hst = TaxRate.objects.create(clinic=personas.harbour, name="HST", rate=Decimal("13"))
    page = http.get("/billing/settings/")
    assert page.status_code == 200
    assert "Amounts are in CAD" in text_of(page)
    assert "nothing: no fee is charged" in text_of(page)
    response = http.post("/billing/settings/", {**PROFILE_FORM, "service_tax_rate": hst.pk, "tips_on_card": "on"})
    assert response.status_code == 302 and response["Location"] == "/billing/settings/"
    profile = BillingProfile.objects.get(clinic=personas.harbour)
    assert (profile.no_show_fee, profile.late_cancel_fee, profile.service_tax_rate) == (
        Decimal("1060.50"),
        Decimal("40.00"),
        hst,
    )
    assert profile.tips_on_card is True
    page = text_of(http.get("/billing/settings/"))
    assert (
        "Cancel at least 24 hours before your appointment. Late cancellations are charged 40.00 CAD; "
        "missed appointments 1,060.50 CAD." in page
    )


def test_a_bad_amount_is_named_beside_its_field_and_nothing_is_saved(login, personas):
    http = login("owner")
    response = http.post("/billing/settings/", {**PROFILE_FORM, "no_show_fee": "sixty", "late_cancel_fee": "40.005"})
    assert response.status_code == 400
    assert field_errors(response, "no_show_fee") == "No-show fee: enter an amount such as 45.00."
    assert "Late-cancellation fee" in field_errors(response, "late_cancel_fee")
    assert "2 decimal places" in field_errors(response, "late_cancel_fee")
    assert not BillingProfile.objects.exists()


def test_a_bad_npi_is_shown_beside_its_field(login, personas):
    response = login("owner").post("/billing/settings/", {**PROFILE_FORM, "group_npi": "1234567890"})
    assert response.status_code == 400
    assert "NPI" in field_errors(response, "group_npi")
    assert not BillingProfile.objects.exists()


def test_the_settings_page_lists_every_kind_with_links(login, personas):
    b = build_billing(personas)
    kind = b.schedule.treatment
    price = Price.objects.create(clinic=personas.harbour, appointment_type=kind, amount=Decimal("110"), tax_rate=b.hst)
    product = Product.objects.create(clinic=personas.harbour, name="Foam roller", price=Decimal("35"))
    payer = Payer.objects.create(clinic=personas.harbour, name="Blue Cross")
    package = PackagePlan.objects.create(
        clinic=personas.harbour, name="Five", appointment_type=kind, sessions=3, price=Decimal("100")
    )
    plan = MembershipPlan.objects.create(
        clinic=personas.harbour, name="Monthly", monthly_fee=Decimal("99"), appointment_type=kind
    )
    page = login("owner").get("/billing/settings/")
    for url in (
        f"/billing/settings/tax-rates/{b.hst.pk}/",
        f"/billing/settings/prices/{price.pk}/",
        f"/billing/settings/products/{product.pk}/",
        f"/billing/settings/payers/{payer.pk}/",
        f"/billing/settings/packages/{package.pk}/",
        f"/billing/settings/memberships/{plan.pk}/",
        "/billing/settings/tax-rates/new/",
        "/billing/settings/prices/new/",
        "/billing/settings/products/new/",
        "/billing/settings/payers/new/",
        "/billing/settings/packages/new/",
        "/billing/settings/memberships/new/",
    ):
        assert f'href="{url}"'.encode() in page.content, url
    assert "33.33 a session" in text_of(page)  # 100.00 for 3


# --- Each kind: created and edited by the owner -----------------------------------------------------


def test_owner_creates_and_edits_a_tax_rate(login, personas):
    http = login("owner")
    assert (
        http.post("/billing/settings/tax-rates/new/", {"name": "HST", "rate": "13", "is_active": "on"}).status_code
        == 302
    )
    rate = TaxRate.objects.get(clinic=personas.harbour)
    assert rate.rate == Decimal("13")
    response = http.post(f"/billing/settings/tax-rates/{rate.pk}/", {"name": "HST", "rate": "15"})
    assert response.status_code == 302
    rate.refresh_from_db()
    assert (rate.rate, rate.is_active) == (Decimal("15"), False)


def test_the_price_form_shows_each_types_own_price_as_the_default(login, personas):
    b = build_billing(personas)
    http = login("owner")
    form = text_of(http.get("/billing/settings/prices/new/"))
    assert "Treatment 60 (its own price 120.00 CAD)" in form
    response = http.post(
        "/billing/settings/prices/new/",
        {
            "appointment_type": b.schedule.treatment.pk,
            "location": personas.location.pk,
            "amount": "1,234.50",
            "tax_rate": b.hst.pk,
        },
    )
    assert response.status_code == 302, field_errors(response, "amount")
    price = Price.objects.get()
    assert (price.amount, price.location, price.tax_rate) == (Decimal("1234.50"), personas.location, b.hst)
    response = http.post(
        f"/billing/settings/prices/{price.pk}/",
        {"appointment_type": b.schedule.treatment.pk, "location": "", "amount": "99", "tax_rate": ""},
    )
    assert response.status_code == 302
    price.refresh_from_db()
    assert (price.amount, price.location, price.tax_rate) == (Decimal("99.00"), None, None)


def test_a_second_price_for_the_same_place_is_refused_beside_the_location(login, personas):
    b = build_billing(personas)
    Price.objects.create(clinic=personas.harbour, appointment_type=b.schedule.treatment, amount=Decimal("110"))
    response = login("owner").post(
        "/billing/settings/prices/new/", {"appointment_type": b.schedule.treatment.pk, "location": "", "amount": "90"}
    )
    assert response.status_code == 400
    assert "already has a price for all locations" in field_errors(response, "location")
    assert Price.objects.count() == 1


def test_owner_creates_and_edits_a_product_and_a_bad_price_saves_nothing(login, personas):
    http = login("owner")
    response = http.post("/billing/settings/products/new/", {"name": "Cold pack", "price": "12.5O"})
    assert response.status_code == 400
    assert field_errors(response, "price") == "Price: enter an amount such as 45.00."
    assert not Product.objects.exists()
    assert (
        http.post(
            "/billing/settings/products/new/", {"name": "Cold pack", "price": "$12.50", "is_active": "on"}
        ).status_code
        == 302
    )
    product = Product.objects.get()
    assert product.price == Decimal("12.50")
    assert (
        http.post(f"/billing/settings/products/{product.pk}/", {"name": "Cold pack (large)", "price": "15"}).status_code
        == 302
    )
    product.refresh_from_db()
    assert (product.name, product.is_active) == ("Cold pack (large)", False)


def test_the_payer_form_explains_each_unit_rule(login, personas):
    http = login("owner")
    form = text_of(http.get("/billing/settings/payers/new/"))
    assert "8 minutes make the first unit" in form and "so 7 minutes of a code earn nothing" in form
    data = {"name": "Blue Cross", "kind": "health", "unit_rule": "ama", "requires_referral": "on", "is_active": "on"}
    assert http.post("/billing/settings/payers/new/", data).status_code == 302
    payer = Payer.objects.get()
    assert (payer.unit_rule, payer.requires_referral) == ("ama", True)
    assert (
        http.post(
            f"/billing/settings/payers/{payer.pk}/", {**data, "unit_rule": "cms", "requires_referral": ""}
        ).status_code
        == 302
    )
    payer.refresh_from_db()
    assert (payer.unit_rule, payer.requires_referral) == ("cms", False)


def test_owner_creates_and_edits_a_package_seeing_its_price_per_session(login, personas):
    b = build_billing(personas)
    http = login("owner")
    data = {
        "name": "Five treatments",
        "appointment_type": b.schedule.treatment.pk,
        "sessions": "5",
        "price": "550",
        "valid_days": "365",
        "sold_online": "on",
        "is_active": "on",
    }
    assert http.post("/billing/settings/packages/new/", data).status_code == 302
    plan = PackagePlan.objects.get()
    assert (plan.sessions, plan.price, plan.sold_online) == (5, Decimal("550.00"), True)
    assert "110.00 CAD a session" in text_of(http.get(f"/billing/settings/packages/{plan.pk}/"))
    assert http.post(f"/billing/settings/packages/{plan.pk}/", {**data, "price": "500"}).status_code == 302
    plan.refresh_from_db()
    assert plan.price == Decimal("500.00")


def test_owner_creates_and_edits_a_membership(login, personas):
    b = build_billing(personas)
    http = login("owner")
    data = {
        "name": "Monthly",
        "monthly_fee": "99",
        "appointment_type": b.schedule.treatment.pk,
        "sessions_per_month": "1",
        "member_discount_percent": "10",
        "tax_rate": b.hst.pk,
        "is_active": "on",
    }
    assert http.post("/billing/settings/memberships/new/", data).status_code == 302
    plan = MembershipPlan.objects.get()
    assert (plan.monthly_fee, plan.member_discount_percent, plan.tax_rate) == (Decimal("99.00"), 10, b.hst)
    response = http.post(f"/billing/settings/memberships/{plan.pk}/", {**data, "monthly_fee": "ninety"})
    assert response.status_code == 400
    assert field_errors(response, "monthly_fee") == "Monthly fee: enter an amount such as 45.00."
    plan.refresh_from_db()
    assert plan.monthly_fee == Decimal("99.00")


def test_remove_keeps_a_rate_in_use_and_says_so(login, personas):
    b = build_billing(personas)
    http = login("owner")
    response = http.post(f"/billing/settings/tax-rates/{b.hst.pk}/remove/", follow=True)
    assert "was kept and marked as no longer in use" in text_of(response)
    b.hst.refresh_from_db()
    assert b.hst.is_active is False
    spare = TaxRate.objects.create(clinic=personas.harbour, name="PST", rate=Decimal("8"))
    assert http.post(f"/billing/settings/tax-rates/{spare.pk}/remove/").status_code == 302
    assert not TaxRate.objects.filter(pk=spare.pk).exists()


# --- Refused -------------------------------------------------------------------------------------------


def test_front_desk_cannot_post_settings(login, personas):
    b = build_billing(personas)
    http = login("front_desk")
    assert http.post("/billing/settings/", PROFILE_FORM).status_code == 403
    assert http.post("/billing/settings/tax-rates/new/", {"name": "X", "rate": "1"}).status_code == 403
    assert http.post(f"/billing/settings/tax-rates/{b.hst.pk}/remove/").status_code == 403
    assert TaxRate.objects.count() == 1 and BillingProfile.objects.get().no_show_fee == Decimal("60.00")


def test_the_outsider_gets_404_for_harbours_rows_and_changes_nothing(login, personas):
    b = build_billing(personas)
    kind = b.schedule.treatment
    rows = {
        "tax-rates": b.hst,
        "prices": Price.objects.create(clinic=personas.harbour, appointment_type=kind, amount=Decimal("1")),
        "products": Product.objects.create(clinic=personas.harbour, name="Roller", price=Decimal("1")),
        "payers": Payer.objects.create(clinic=personas.harbour, name="Blue Cross"),
        "packages": PackagePlan.objects.create(
            clinic=personas.harbour, name="Five", appointment_type=kind, sessions=5, price=Decimal("1")
        ),
        "memberships": MembershipPlan.objects.create(
            clinic=personas.harbour, name="Monthly", monthly_fee=Decimal("1"), appointment_type=kind
        ),
    }
    http = login("outsider")
    for kind_path, row in rows.items():
        for path in (f"/billing/settings/{kind_path}/{row.pk}/", f"/billing/settings/{kind_path}/{row.pk}/remove/"):
            assert http.post(path, {"name": "Taken"}).status_code == 404, path
        assert http.get(f"/billing/settings/{kind_path}/{row.pk}/").status_code == 404
    assert TaxRate.objects.get(pk=b.hst.pk).name == "HST"
    assert Product.objects.get().name == "Roller"
    # Their own settings page shows none of Harbour's.
    assert b"Blue Cross" not in http.get("/billing/settings/").content


# --- Queries: the same number however many rows --------------------------------------------------------


def _grow(p: Personas, size: int) -> None:
    """``size`` more of every kind the settings page lists, each pointing at what it can."""
    n = TaxRate.objects.count()
    for i in range(size):
        rate = TaxRate.objects.create(clinic=p.harbour, name=f"Tax {n + i}", rate=Decimal("5"))
        kind = AppointmentType.objects.create(clinic=p.harbour, name=f"Type {n + i}", duration_minutes=30)
        place = Location.objects.create(clinic=p.harbour, name=f"Site {n + i}")
        Price.objects.create(
            clinic=p.harbour, appointment_type=kind, location=place, amount=Decimal("50"), tax_rate=rate
        )
        Product.objects.create(clinic=p.harbour, name=f"Product {n + i}", price=Decimal("10"), tax_rate=rate)
        Payer.objects.create(clinic=p.harbour, name=f"Payer {n + i}")
        PackagePlan.objects.create(
            clinic=p.harbour, name=f"Package {n + i}", appointment_type=kind, sessions=3, price=Decimal("100")
        )
        MembershipPlan.objects.create(
            clinic=p.harbour, name=f"Plan {n + i}", monthly_fee=Decimal("9"), appointment_type=kind, tax_rate=rate
        )


def _queries(http, path: str) -> int:
    http.get(path)  # warm up: session, first-visit work
    with CaptureQueriesContext(connection) as captured:
        response = http.get(path)
    assert response.status_code == 200, response.content[:300]
    return len(captured.captured_queries)


# Every page starts with the session, the user and the active membership (3 queries).
# The settings page adds (queries.setup.billing_settings_page): the profile with its tax rate, the tax
# rates, the prices (type, location, tax joined), the products (tax), the payers, the package plans
# (type), the membership plans (type, tax): 3 + 7.
SETTINGS_QUERIES = 10


def test_the_settings_page_runs_the_same_queries_with_2_and_30_rows_of_each(login, personas):
    build_billing(personas)
    http = login("owner")
    _grow(personas, 2)
    few = _queries(http, "/billing/settings/")
    _grow(personas, 28)
    many = _queries(http, "/billing/settings/")
    assert few == many == SETTINGS_QUERIES, (few, many)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # + the tax rates to choose
        pytest.param("/billing/settings/products/new/", 4, id="product"),
        # + the appointment types, the locations, the tax rates to choose
        pytest.param("/billing/settings/prices/new/", 6, id="price"),
        # + the appointment types, the tax rates
        pytest.param("/billing/settings/memberships/new/", 5, id="membership"),
    ],
)
def test_the_forms_run_the_same_queries_with_few_and_many_choices(login, personas, path, expected):
    http = login("owner")
    _grow(personas, 2)
    few = _queries(http, path)
    _grow(personas, 28)
    many = _queries(http, path)
    assert few == many == expected, (few, many)
