"""The clinic's billing settings: the billing profile, tax rates, prices, products, payers and plans.

Owners and admins only (``access.require_manage_clinic``): front desk and therapists bill with these
settings but do not change them. Each write validates (the model's own rules with ``full_clean``,
plus what only the clinic knows: another clinic's tax rate, type or location is refused, names are
unique in the clinic, amounts fit the currency's minor unit), runs in one transaction and appends
to the audit trail in it. A refusal is a ``ValidationError`` keyed by the field the form shows.

**Remove deactivates what is in use.** A tax rate, product, payer or plan that an invoice, a
coverage, a sold package, a membership or another setting still points at cannot be deleted (the
foreign keys are ``PROTECT``, and an issued invoice must keep its history): removing it marks it
inactive, so it is no longer offered, and the page says so. Unused rows are deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from mend import access
from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.billing.models import (
    BillingProfile,
    ClientMembership,
    Coverage,
    Invoice,
    InvoiceLine,
    MembershipPlan,
    Package,
    PackagePlan,
    Payer,
    Price,
    Product,
    TaxRate,
)
from mend.core import money
from mend.core.identifiers import is_valid_npi
from mend.platform.actor import Actor
from mend.writes import apply_fields, merge_errors

M = TypeVar("M", bound=models.Model)

PROFILE_FIELDS = {
    "legal_name",
    "tax_number_label",
    "tax_number",
    "group_npi",
    "receipt_standard",
    "service_tax_rate",
    "no_show_fee",
    "late_cancel_fee",
    "late_cancel_hours",
    "tips_on_card",
    "deposit_percent",
    "payment_terms_days",
    "invoice_footer",
}
TAX_RATE_FIELDS = {"name", "rate", "is_active"}
PRICE_FIELDS = {"appointment_type", "location", "amount", "tax_rate"}
PRODUCT_FIELDS = {"name", "price", "tax_rate", "is_active"}
PAYER_FIELDS = {"name", "kind", "unit_rule", "requires_referral", "is_active"}
PACKAGE_PLAN_FIELDS = {"name", "appointment_type", "sessions", "price", "valid_days", "sold_online", "is_active"}
MEMBERSHIP_PLAN_FIELDS = {
    "name",
    "monthly_fee",
    "appointment_type",
    "sessions_per_month",
    "member_discount_percent",
    "tax_rate",
    "is_active",
}
# Text fields stripped of surrounding spaces before they are checked.
_TEXT = {"legal_name", "tax_number_label", "tax_number", "group_npi", "invoice_footer", "name"}

NOT_HERE = "Not found in this clinic."


# --- Shared checks ----------------------------------------------------------------------------


def _refuse(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def _own(actor: Actor, obj: models.Model | None, what: str) -> None:
    """The object being changed is this clinic's (a caller passing another clinic's row is refused)."""
    if obj is not None and getattr(obj, "clinic_id", None) != actor.clinic_id:
        raise ValidationError({what: NOT_HERE})


def _fill(obj: M, data: Mapping[str, Any], allowed: set[str]) -> M:
    apply_fields(obj, data, allowed)
    for name in _TEXT & allowed:
        setattr(obj, name, str(getattr(obj, name) or "").strip())
    return obj


def _same_clinic(actor: Actor, obj: models.Model, fields: tuple[str, ...], errors: dict[str, list[str]]) -> None:
    """Every row ``obj`` points at (a tax rate, an appointment type, a location) is the actor's clinic's."""
    for name in fields:
        chosen = getattr(obj, name, None)
        if chosen is not None and getattr(chosen, "clinic_id", None) != actor.clinic_id:
            errors.setdefault(name, []).append(NOT_HERE)


def _amounts(obj: models.Model, fields: tuple[str, ...], currency: str, errors: dict[str, list[str]]) -> None:
    """Amounts in the currency's minor unit: 12.345 is not a CAD amount (the field is named in the message)."""
    for name in fields:
        amount = getattr(obj, name)
        if not isinstance(amount, Decimal) or not amount.is_finite():
            continue
        if money.quantize(amount, currency) != amount:
            field = obj._meta.get_field(name)
            label = str(field.verbose_name if isinstance(field, models.Field) else name)
            places = money.minor_unit_exponent(currency)
            errors.setdefault(name, []).append(
                f"The {label} has more than {places} decimal places; {currency} amounts stop at the "
                f"{'whole unit' if places == 0 else 'cent' if places == 2 else 'minor unit'}."
            )


def _unique_name(model: type[models.Model], actor: Actor, obj: models.Model, errors: dict[str, list[str]]) -> None:
    name = getattr(obj, "name", "")
    taken = model._default_manager.filter(clinic_id=actor.clinic_id, name__iexact=name).exclude(pk=obj.pk)
    if name and taken.exists():
        errors.setdefault("name", []).append(f"Another {model._meta.verbose_name} is already called “{name}”.")


def _clean(obj: models.Model, errors: dict[str, list[str]], exclude: list[str]) -> None:
    try:
        obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        merge_errors(errors, error)


def _save(actor: Actor, obj: M, *, created: bool, clash: dict[str, str]) -> M:
    """Save, mapping a unique constraint lost to a concurrent save to ``clash`` (field → message)."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        # The same name (or price) saved a moment ago by someone else: the constraint is the last word.
        raise ValidationError(clash) from None
    audit_record(action=Action.CREATE if created else Action.UPDATE, obj=obj, user=actor.user)
    return obj


def _saved(
    actor: Actor,
    model: type[M],
    obj: M | None,
    data: Mapping[str, Any],
    allowed: set[str],
    *,
    what: str,
    refs: tuple[str, ...] = (),
    amounts: tuple[str, ...] = (),
) -> M:
    """Create or change one named setting row: same clinic, unique name, model rules, audited."""
    access.require_manage_clinic(actor)
    _own(actor, obj, what)
    created = obj is None
    row = obj if obj is not None else model(clinic_id=actor.clinic_id)
    _fill(row, data, allowed)
    errors: dict[str, list[str]] = {}
    _same_clinic(actor, row, refs, errors)
    _amounts(row, amounts, actor.clinic.currency, errors)
    _unique_name(model, actor, row, errors)
    _clean(row, errors, exclude=["clinic"])
    _refuse(errors)
    name = getattr(row, "name", "")
    return _save(
        actor, row, created=created, clash={"name": f"Another {model._meta.verbose_name} is already called “{name}”."}
    )


def _removed(actor: Actor, obj: M, *, what: str, in_use: bool) -> bool:
    """Delete ``obj`` when nothing points at it, else mark it inactive. True when deleted."""
    access.require_manage_clinic(actor)
    _own(actor, obj, what)
    if in_use:
        if getattr(obj, "is_active", False):
            setattr(obj, "is_active", False)  # noqa: B010 (any of the settings models)
            obj.save(update_fields=["is_active"])
            audit_record(action=Action.UPDATE, obj=obj, user=actor.user)
        return False
    audit_record(action=Action.DELETE, obj=obj, user=actor.user)
    obj.delete()
    return True


# --- The billing profile ------------------------------------------------------------------------


@transaction.atomic
def billing_profile_save(*, actor: Actor, data: Mapping[str, Any]) -> BillingProfile:
    """Change the clinic's billing profile (made on its first save) from ``data`` (``PROFILE_FIELDS``).

    The group NPI, when given, must pass the NPI check digit; the service tax rate is the clinic's.
    """
    access.require_manage_clinic(actor)
    profile = BillingProfile.objects.select_for_update().filter(clinic_id=actor.clinic_id).first()
    created = profile is None
    profile = profile or BillingProfile(clinic_id=actor.clinic_id)
    _fill(profile, data, PROFILE_FIELDS)
    errors: dict[str, list[str]] = {}
    if profile.group_npi and not is_valid_npi(profile.group_npi):
        errors["group_npi"] = [
            "The clinic NPI must be the ten digits of a valid NPI (its last digit is a check digit)."
        ]
    _same_clinic(actor, profile, ("service_tax_rate",), errors)
    _amounts(profile, ("no_show_fee", "late_cancel_fee"), actor.clinic.currency, errors)
    _clean(profile, errors, exclude=["clinic"])
    _refuse(errors)
    return _save(
        actor, profile, created=created, clash={"__all__": "The billing settings changed meanwhile; try again."}
    )


# --- Tax rates ----------------------------------------------------------------------------------


@transaction.atomic
def tax_rate_save(*, actor: Actor, data: Mapping[str, Any], tax_rate: TaxRate | None = None) -> TaxRate:
    """Create or change a tax rate (``name``, ``rate`` in percent, ``is_active``).

    A new rate applies to invoice lines added from now on: issued invoices keep the rate they printed.
    """
    return _saved(actor, TaxRate, tax_rate, data, TAX_RATE_FIELDS, what="tax_rate")


def _tax_rate_in_use(rate: TaxRate) -> bool:
    return (
        BillingProfile.objects.filter(service_tax_rate=rate).exists()
        or Price.objects.filter(tax_rate=rate).exists()
        or Product.objects.filter(tax_rate=rate).exists()
        or MembershipPlan.objects.filter(tax_rate=rate).exists()
    )


@transaction.atomic
def tax_rate_remove(*, actor: Actor, tax_rate: TaxRate) -> bool:
    """Delete an unused tax rate; one a setting still applies is made inactive instead. True when deleted."""
    return _removed(actor, tax_rate, what="tax_rate", in_use=_tax_rate_in_use(tax_rate))


# --- Prices -------------------------------------------------------------------------------------


@transaction.atomic
def price_save(*, actor: Actor, data: Mapping[str, Any], price: Price | None = None) -> Price:
    """Set a treatment's price at one location (``location`` None: every location), with its tax rate.

    One price per appointment type and location; a location's price wins over the every-location one,
    which wins over the appointment type's own price (``services.invoices.service_price``).
    """
    access.require_manage_clinic(actor)
    _own(actor, price, "price")
    created = price is None
    row = price if price is not None else Price(clinic_id=actor.clinic_id)
    _fill(row, data, PRICE_FIELDS)
    errors: dict[str, list[str]] = {}
    refs = ("appointment_type", "location", "tax_rate")
    _same_clinic(actor, row, refs, errors)
    _amounts(row, ("amount",), actor.clinic.currency, errors)
    _clean(row, errors, exclude=["clinic"])
    clash = _price_clash(row)
    if row.appointment_type_id is not None and "appointment_type" not in errors and "location" not in errors:
        # No location is "every location" (one such price per type: the partial unique constraint).
        taken = Price.objects.filter(appointment_type_id=row.appointment_type_id)
        taken = taken.filter(location_id=row.location_id) if row.location_id else taken.filter(location=None)
        if taken.exclude(pk=row.pk).exists():
            errors.setdefault("location", []).append(clash)
    _refuse(errors)
    return _save(actor, row, created=created, clash={"location": clash})


def _price_clash(price: Price) -> str:
    kind = price.appointment_type.name if price.appointment_type_id else "This appointment type"
    where = f"at {price.location.name}" if price.location_id and price.location else "for all locations"
    return f"{kind} already has a price {where}; change that one."


@transaction.atomic
def price_remove(*, actor: Actor, price: Price) -> bool:
    """Delete a price: the appointment type's own price applies again. Invoices copied the amount, so
    nothing points at a price."""
    return _removed(actor, price, what="price", in_use=False)


# --- Products -----------------------------------------------------------------------------------


@transaction.atomic
def product_save(*, actor: Actor, data: Mapping[str, Any], product: Product | None = None) -> Product:
    return _saved(actor, Product, product, data, PRODUCT_FIELDS, what="product", refs=("tax_rate",), amounts=("price",))


@transaction.atomic
def product_remove(*, actor: Actor, product: Product) -> bool:
    return _removed(actor, product, what="product", in_use=InvoiceLine.objects.filter(product=product).exists())


# --- Payers -------------------------------------------------------------------------------------


@transaction.atomic
def payer_save(*, actor: Actor, data: Mapping[str, Any], payer: Payer | None = None) -> Payer:
    """Create or change a payer: its kind, how it counts CPT units (``mend.billing.units``), and
    whether visits need a physician's referral."""
    return _saved(actor, Payer, payer, data, PAYER_FIELDS, what="payer")


@transaction.atomic
def payer_remove(*, actor: Actor, payer: Payer) -> bool:
    in_use = Coverage.objects.filter(payer=payer).exists() or Invoice.objects.filter(payer=payer).exists()
    return _removed(actor, payer, what="payer", in_use=in_use)


# --- Package and membership plans ---------------------------------------------------------------


@transaction.atomic
def package_plan_save(*, actor: Actor, data: Mapping[str, Any], plan: PackagePlan | None = None) -> PackagePlan:
    """Create or change a package plan. Packages already sold keep their sessions, price and expiry."""
    return _saved(
        actor, PackagePlan, plan, data, PACKAGE_PLAN_FIELDS, what="plan", refs=("appointment_type",), amounts=("price",)
    )


@transaction.atomic
def package_plan_remove(*, actor: Actor, plan: PackagePlan) -> bool:
    return _removed(actor, plan, what="plan", in_use=Package.objects.filter(plan=plan).exists())


@transaction.atomic
def membership_plan_save(
    *, actor: Actor, data: Mapping[str, Any], plan: MembershipPlan | None = None
) -> MembershipPlan:
    """Create or change a membership plan. A new fee is charged from each member's next charge on."""
    return _saved(
        actor,
        MembershipPlan,
        plan,
        data,
        MEMBERSHIP_PLAN_FIELDS,
        what="plan",
        refs=("appointment_type", "tax_rate"),
        amounts=("monthly_fee",),
    )


@transaction.atomic
def membership_plan_remove(*, actor: Actor, plan: MembershipPlan) -> bool:
    return _removed(actor, plan, what="plan", in_use=ClientMembership.objects.filter(plan=plan).exists())
