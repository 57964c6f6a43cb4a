"""The billing settings' services and the cancellation policy a client reads.

Pages and access per route are in test_setup_pages.py and tests/test_access_matrix.py.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from mend.audit.models import AuditEvent
from mend.billing.models import (
    BillingProfile,
    ClientMembership,
    MembershipPlan,
    PackagePlan,
    Payer,
    Price,
    Product,
    TaxRate,
)
from mend.billing.queries.setup import cancellation_policy_text
from mend.billing.services import setup
from mend.core.identifiers import npi_check_digit
from mend.scheduling.models import AppointmentType
from mend.testing import Personas

from .helpers import build_billing

VALID_NPI = "123456789" + npi_check_digit("123456789")


def errors_of(excinfo: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return excinfo.value.message_dict


def profile(**fields: object) -> BillingProfile:
    return BillingProfile(**fields)  # type: ignore[arg-type]


# --- The cancellation policy in words -------------------------------------------------------------


def test_policy_names_the_notice_and_both_fees():
    text = cancellation_policy_text(
        profile(late_cancel_hours=24, late_cancel_fee=Decimal("40"), no_show_fee=Decimal("60")), "CAD"
    )
    assert text == (
        "Cancel at least 24 hours before your appointment. "
        "Late cancellations are charged 40.00 CAD; missed appointments 60.00 CAD."
    )


def test_policy_is_empty_without_fees():
    assert cancellation_policy_text(profile(), "CAD") == ""


def test_policy_with_only_a_no_show_fee_says_nothing_about_notice():
    text = cancellation_policy_text(profile(no_show_fee=Decimal("1234.5")), "USD")
    assert text == "Missed appointments are charged 1,234.50 USD."


def test_policy_with_only_a_late_fee_and_one_hour():
    text = cancellation_policy_text(profile(late_cancel_hours=1, late_cancel_fee=Decimal("25")), "CAD")
    assert text == "Cancel at least 1 hour before your appointment. Late cancellations are charged 25.00 CAD."


def test_a_late_fee_with_no_window_is_never_charged_so_not_mentioned():
    assert cancellation_policy_text(profile(late_cancel_hours=0, late_cancel_fee=Decimal("25")), "CAD") == ""


def test_policy_rounds_to_the_currencys_minor_unit():
    text = cancellation_policy_text(profile(no_show_fee=Decimal("5000")), "JPY")
    assert text == "Missed appointments are charged 5,000 JPY."


# --- Billing profile ------------------------------------------------------------------------------


PROFILE = {
    "legal_name": "  Harbour Massage Therapy Inc. ",
    "tax_number_label": "HST number",
    "tax_number": "123456789 RT0001",
    "group_npi": "",
    "receipt_standard": "ontario_rmt",
    "service_tax_rate": None,
    "no_show_fee": Decimal("60.00"),
    "late_cancel_fee": Decimal("40.00"),
    "late_cancel_hours": 24,
    "tips_on_card": True,
    "deposit_percent": 20,
    "payment_terms_days": 0,
    "invoice_footer": "Thank you.",
}


def test_owner_saves_the_billing_profile_made_on_first_save(personas: Personas):
    owner = personas.actor("owner")
    hst = TaxRate.objects.create(clinic=personas.harbour, name="HST", rate=Decimal("13"))
    events = AuditEvent.objects.count()
    saved = setup.billing_profile_save(actor=owner, data={**PROFILE, "service_tax_rate": hst, "group_npi": VALID_NPI})
    saved.refresh_from_db()
    assert saved.clinic_id == personas.harbour.pk
    assert saved.legal_name == "Harbour Massage Therapy Inc."
    assert (saved.service_tax_rate, saved.deposit_percent, saved.group_npi) == (hst, 20, VALID_NPI)
    assert AuditEvent.objects.count() == events + 1
    again = setup.billing_profile_save(actor=owner, data={"deposit_percent": 50})
    assert again.pk == saved.pk and BillingProfile.objects.get().deposit_percent == 50


def test_a_bad_group_npi_is_refused_by_name(personas: Personas):
    bad = VALID_NPI[:-1] + str((int(VALID_NPI[-1]) + 1) % 10)
    with pytest.raises(ValidationError) as excinfo:
        setup.billing_profile_save(actor=personas.actor("owner"), data={**PROFILE, "group_npi": bad})
    assert "NPI" in errors_of(excinfo)["group_npi"][0]
    assert not BillingProfile.objects.exists()


def test_profile_limits_are_refused_by_field(personas: Personas):
    data = {**PROFILE, "deposit_percent": 101, "late_cancel_hours": 200, "no_show_fee": Decimal("-1")}
    with pytest.raises(ValidationError) as excinfo:
        setup.billing_profile_save(actor=personas.actor("admin"), data=data)
    assert {"deposit_percent", "late_cancel_hours", "no_show_fee"} <= set(errors_of(excinfo))


def test_fees_with_more_decimals_than_the_currency_are_refused(personas: Personas):
    with pytest.raises(ValidationError) as excinfo:
        setup.billing_profile_save(
            actor=personas.actor("owner"), data={**PROFILE, "late_cancel_fee": Decimal("40.005")}
        )
    assert "late-cancellation fee" in errors_of(excinfo)["late_cancel_fee"][0]


def test_another_clinics_tax_rate_is_refused(personas: Personas):
    theirs = TaxRate.objects.create(clinic=personas.northside, name="GST", rate=Decimal("5"))
    owner = personas.actor("owner")
    with pytest.raises(ValidationError) as excinfo:
        setup.billing_profile_save(actor=owner, data={**PROFILE, "service_tax_rate": theirs})
    assert errors_of(excinfo)["service_tax_rate"] == ["Not found in this clinic."]
    with pytest.raises(ValidationError) as excinfo:
        setup.product_save(actor=owner, data={"name": "Cold pack", "price": Decimal("12"), "tax_rate": theirs})
    assert "tax_rate" in errors_of(excinfo)
    # Nor may the outsider change Harbour's rate by handing it in.
    hst = TaxRate.objects.create(clinic=personas.harbour, name="HST", rate=Decimal("13"))
    with pytest.raises(ValidationError):
        setup.tax_rate_save(actor=personas.actor("outsider"), data={"name": "Mine"}, tax_rate=hst)
    assert not Product.objects.exists()
    assert TaxRate.objects.get(pk=hst.pk).name == "HST"


@pytest.mark.parametrize("who", ["front_desk", "therapist"])
def test_front_desk_and_therapists_cannot_change_billing_settings(personas: Personas, who: str):
    actor = personas.actor(who)
    hst = TaxRate.objects.create(clinic=personas.harbour, name="HST", rate=Decimal("13"))
    events = AuditEvent.objects.count()
    writes = [
        lambda: setup.billing_profile_save(actor=actor, data=PROFILE),
        lambda: setup.tax_rate_save(actor=actor, data={"name": "PST", "rate": Decimal("8")}),
        lambda: setup.tax_rate_remove(actor=actor, tax_rate=hst),
        lambda: setup.payer_save(actor=actor, data={"name": "Blue Cross"}),
        lambda: setup.product_save(actor=actor, data={"name": "Roller", "price": Decimal("20")}),
    ]
    for write in writes:
        with pytest.raises(PermissionDenied):
            write()
    assert AuditEvent.objects.count() == events
    assert TaxRate.objects.count() == 1 and not BillingProfile.objects.exists()


# --- Tax rates, prices, products, payers -----------------------------------------------------------


def test_tax_rate_names_are_unique_in_the_clinic_whatever_the_case(personas: Personas):
    owner = personas.actor("owner")
    setup.tax_rate_save(actor=owner, data={"name": "HST", "rate": Decimal("13"), "is_active": True})
    with pytest.raises(ValidationError) as excinfo:
        setup.tax_rate_save(actor=owner, data={"name": " hst ", "rate": Decimal("15"), "is_active": True})
    assert "already called" in errors_of(excinfo)["name"][0]
    # Another clinic may use the name.
    setup.tax_rate_save(actor=personas.actor("outsider"), data={"name": "HST", "rate": Decimal("13")})


def test_a_rate_over_100_percent_is_refused_by_name(personas: Personas):
    with pytest.raises(ValidationError) as excinfo:
        setup.tax_rate_save(actor=personas.actor("owner"), data={"name": "Oops", "rate": Decimal("130")})
    assert "rate" in errors_of(excinfo)


def test_one_price_per_type_and_location(personas: Personas):
    b = build_billing(personas)
    owner = personas.actor("owner")
    kind = b.schedule.treatment
    everywhere = setup.price_save(
        actor=owner, data={"appointment_type": kind, "location": None, "amount": Decimal("110"), "tax_rate": b.hst}
    )
    here = setup.price_save(
        actor=owner, data={"appointment_type": kind, "location": personas.location, "amount": Decimal("100")}
    )
    assert everywhere.location is None and here.location == personas.location
    with pytest.raises(ValidationError) as excinfo:
        setup.price_save(actor=owner, data={"appointment_type": kind, "location": None, "amount": Decimal("90")})
    assert "for all locations" in errors_of(excinfo)["location"][0]
    # Changing a price in place is not a clash with itself.
    setup.price_save(actor=owner, data={"amount": Decimal("115")}, price=everywhere)
    assert Price.objects.get(pk=everywhere.pk).amount == Decimal("115.00")


def test_a_price_for_another_clinics_type_or_location_is_refused(personas: Personas):
    theirs = AppointmentType.objects.create(clinic=personas.northside, name="Theirs", duration_minutes=30)
    with pytest.raises(ValidationError) as excinfo:
        setup.price_save(
            actor=personas.actor("owner"), data={"appointment_type": theirs, "location": None, "amount": Decimal("1")}
        )
    assert "appointment_type" in errors_of(excinfo)
    assert not Price.objects.exists()


def test_payer_keeps_its_unit_rule_and_referral_rule(personas: Personas):
    payer = setup.payer_save(
        actor=personas.actor("admin"),
        data={
            "name": "Blue Cross",
            "kind": "health",
            "unit_rule": "ama",
            "requires_referral": False,
            "is_active": True,
        },
    )
    payer.refresh_from_db()
    assert (payer.unit_rule, payer.requires_referral) == ("ama", False)
    with pytest.raises(ValidationError) as excinfo:
        setup.payer_save(actor=personas.actor("admin"), data={"name": "X", "unit_rule": "weekly"})
    assert "unit_rule" in errors_of(excinfo)


# --- Remove: deleted when unused, out of use when in use ---------------------------------------------


def test_an_unused_tax_rate_is_deleted_and_one_in_use_deactivated(personas: Personas):
    b = build_billing(personas)  # HST is the profile's service tax rate
    owner = personas.actor("owner")
    spare = TaxRate.objects.create(clinic=personas.harbour, name="PST", rate=Decimal("8"))
    assert setup.tax_rate_remove(actor=owner, tax_rate=spare) is True
    assert not TaxRate.objects.filter(pk=spare.pk).exists()
    assert setup.tax_rate_remove(actor=owner, tax_rate=b.hst) is False
    b.hst.refresh_from_db()
    assert b.hst.is_active is False


def test_a_plan_with_members_or_packages_sold_is_taken_off_sale_not_deleted(personas: Personas):
    b = build_billing(personas)
    owner = personas.actor("owner")
    package = setup.package_plan_save(
        actor=owner,
        data={
            "name": "Five treatments",
            "appointment_type": b.schedule.treatment,
            "sessions": 5,
            "price": Decimal("550"),
        },
    )
    assert setup.package_plan_remove(actor=owner, plan=package) is True
    plan = setup.membership_plan_save(
        actor=owner,
        data={
            "name": "Monthly",
            "monthly_fee": Decimal("99"),
            "appointment_type": b.schedule.treatment,
            "tax_rate": b.hst,
        },
    )
    ClientMembership.objects.create(
        clinic=personas.harbour,
        client=personas.carol,
        plan=plan,
        started_on=personas.today,
        next_charge_on=personas.today,
    )
    assert setup.membership_plan_remove(actor=owner, plan=plan) is False
    assert MembershipPlan.objects.get(pk=plan.pk).is_active is False
    assert not PackagePlan.objects.exists()


def test_package_plan_needs_at_least_one_session(personas: Personas):
    b = build_billing(personas)
    with pytest.raises(ValidationError) as excinfo:
        setup.package_plan_save(
            actor=personas.actor("owner"),
            data={"name": "None", "appointment_type": b.schedule.treatment, "sessions": 0, "price": Decimal("1")},
        )
    assert "sessions" in errors_of(excinfo)
    assert not Payer.objects.exists()
