"""Loaders for the clinic's billing settings, scoped by the actor's clinic: another clinic's tax
rate, price, product, payer or plan is a 404.

Also the cancellation policy in the words a client reads (:func:`cancellation_policy_text`), a pure
function of the billing profile that the booking pages and reminders show.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet

from mend.access import object_or_404
from mend.billing.models import BillingProfile, MembershipPlan, PackagePlan, Payer, Price, Product, TaxRate
from mend.clinics.models import Location
from mend.core import money
from mend.platform.actor import Actor
from mend.scheduling.models import AppointmentType

# --- One loader per model -------------------------------------------------------------------


def tax_rates(actor: Actor) -> QuerySet[TaxRate]:
    return TaxRate.objects.filter(clinic_id=actor.clinic_id)


def tax_rate_or_404(actor: Actor, pk: int | str) -> TaxRate:
    return object_or_404(tax_rates(actor), pk, "tax rate")


def prices(actor: Actor) -> QuerySet[Price]:
    return Price.objects.filter(clinic_id=actor.clinic_id)


def price_or_404(actor: Actor, pk: int | str) -> Price:
    return object_or_404(prices(actor).select_related("appointment_type", "location", "tax_rate"), pk, "price")


def products(actor: Actor) -> QuerySet[Product]:
    return Product.objects.filter(clinic_id=actor.clinic_id)


def product_or_404(actor: Actor, pk: int | str) -> Product:
    return object_or_404(products(actor).select_related("tax_rate"), pk, "product")


def payers(actor: Actor) -> QuerySet[Payer]:
    return Payer.objects.filter(clinic_id=actor.clinic_id)


def payer_or_404(actor: Actor, pk: int | str) -> Payer:
    return object_or_404(payers(actor), pk, "payer")


def package_plans(actor: Actor) -> QuerySet[PackagePlan]:
    """Every package plan of the clinic, those no longer sold included (the desk's sale list is
    ``queries.invoices.sale_choices``)."""
    return PackagePlan.objects.filter(clinic_id=actor.clinic_id)


def package_plan_or_404(actor: Actor, pk: int | str) -> PackagePlan:
    return object_or_404(package_plans(actor).select_related("appointment_type"), pk, "package")


def membership_plans(actor: Actor) -> QuerySet[MembershipPlan]:
    return MembershipPlan.objects.filter(clinic_id=actor.clinic_id)


def membership_plan_or_404(actor: Actor, pk: int | str) -> MembershipPlan:
    return object_or_404(membership_plans(actor).select_related("appointment_type", "tax_rate"), pk, "membership plan")


def billing_profile(actor: Actor) -> BillingProfile:
    """The clinic's billing profile, or the defaults (unsaved) when it has never been saved.

    A read makes no row: ``services.setup.billing_profile_save`` creates it on the first save.
    """
    found = BillingProfile.objects.filter(clinic_id=actor.clinic_id).select_related("service_tax_rate").first()
    return found or BillingProfile(clinic_id=actor.clinic_id)


# --- What the forms offer -------------------------------------------------------------------


def active_or_chosen(rates: Iterable[TaxRate], current: TaxRate | None) -> list[TaxRate]:
    """The active rates, and the one already chosen even if it is no longer active (no query)."""
    return [rate for rate in rates if rate.is_active or (current is not None and rate.pk == current.pk)]


def tax_rate_choices(actor: Actor, current: TaxRate | None = None) -> list[TaxRate]:
    """What a tax rate select offers (one query)."""
    return active_or_chosen(tax_rates(actor), current)


def appointment_type_choices(actor: Actor) -> list[AppointmentType]:
    """The clinic's appointment types, with their own price (the default a Price overrides)."""
    return list(AppointmentType.objects.filter(clinic_id=actor.clinic_id).order_by("-is_active", "name"))


def location_choices(actor: Actor) -> list[Location]:
    return list(Location.objects.filter(clinic_id=actor.clinic_id).order_by("-is_active", "name"))


# --- The cancellation policy a client reads -------------------------------------------------


def format_amount(amount: Decimal, currency: str) -> str:
    """``1234.5`` CAD as "1,234.50 CAD": rounded to the currency's minor unit, thousands grouped."""
    return f"{money.quantize(amount, currency):,} {currency}"


def cancellation_policy_text(profile: BillingProfile, currency: str) -> str:
    """The clinic's fee policy in the words a client reads, or "" when it charges no fee.

    "Cancel at least 24 hours before your appointment. Late cancellations are charged 40.00 CAD;
    missed appointments 60.00 CAD." A late-cancellation fee with a window of 0 hours is never
    charged (``services.invoices.is_late_cancellation``), so it is not mentioned.
    """
    late = profile.late_cancel_fee if profile.late_cancel_hours else Decimal(0)
    missed = profile.no_show_fee
    if late <= 0 and missed <= 0:
        return ""
    if late <= 0:
        return f"Missed appointments are charged {format_amount(missed, currency)}."
    hours = profile.late_cancel_hours
    notice = f"Cancel at least {hours} hour{'' if hours == 1 else 's'} before your appointment."
    charged = f"Late cancellations are charged {format_amount(late, currency)}"
    if missed > 0:
        return f"{notice} {charged}; missed appointments {format_amount(missed, currency)}."
    return f"{notice} {charged}."


# --- The settings page ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PackagePlanRow:
    plan: PackagePlan
    per_session: Decimal


def per_session(plan: PackagePlan, currency: str) -> Decimal:
    """What one session of the package costs, rounded to the minor unit (for comparing with the type's price)."""
    return money.quantize(plan.price / plan.sessions, currency) if plan.sessions else plan.price


@dataclass(frozen=True, slots=True)
class BillingSettingsPage:
    profile: BillingProfile
    currency: str
    policy_text: str
    tax_rates: list[TaxRate]
    prices: list[Price]
    products: list[Product]
    payers: list[Payer]
    package_plans: list[PackagePlanRow]
    membership_plans: list[MembershipPlan]


def billing_settings_page(actor: Actor) -> BillingSettingsPage:
    """Everything ``/billing/settings/`` shows, in seven queries however many rows there are:

    1. the billing profile with its service tax rate;
    2. the tax rates (also the profile form's choices);
    3. the prices with their appointment type, location and tax rate;
    4. the products with their tax rate;
    5. the payers;
    6. the package plans with their appointment type;
    7. the membership plans with their appointment type and tax rate.
    """
    currency = actor.clinic.currency
    profile = billing_profile(actor)
    plans = list(package_plans(actor).select_related("appointment_type").order_by("-is_active", "name"))
    return BillingSettingsPage(
        profile=profile,
        currency=currency,
        policy_text=cancellation_policy_text(profile, currency),
        tax_rates=list(tax_rates(actor).order_by("-is_active", "name")),
        prices=list(
            prices(actor)
            .select_related("appointment_type", "location", "tax_rate")
            .order_by("appointment_type__name", "location__name", "pk")
        ),
        products=list(products(actor).select_related("tax_rate").order_by("-is_active", "name")),
        payers=list(payers(actor).order_by("-is_active", "name")),
        package_plans=[PackagePlanRow(plan, per_session(plan, currency)) for plan in plans],
        membership_plans=list(
            membership_plans(actor).select_related("appointment_type", "tax_rate").order_by("-is_active", "name")
        ),
    )
