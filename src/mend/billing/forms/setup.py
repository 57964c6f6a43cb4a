"""The billing settings' forms: the billing profile, tax rates, prices, products, payers and plans.

They only turn what was typed into the setup services' ``data``; the services decide what is allowed.
Labels, limits and help come from the models. Choices (tax rates, appointment types, locations) are
rows already loaded through the actor's queries, so rendering a form runs no query of its own.
Amounts are typed as people type them ("1,234.50") and never become floats.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django import forms
from django.db import models
from django.forms.models import model_to_dict

from mend.billing.forms.fields import MoneyField
from mend.billing.models import (
    BillingProfile,
    MembershipPlan,
    PackagePlan,
    Payer,
    Price,
    Product,
    TaxRate,
    UnitRule,
)
from mend.clinics.models import Location
from mend.core import money
from mend.scheduling.models import AppointmentType

# One line each on how a payer counts the 15-minute units of timed CPT codes (mend.billing.units).
UNIT_RULE_HELP = {
    UnitRule.CMS: "Medicare's rule: the day's timed minutes are added up, then counted in 15-minute units "
    "(8 minutes make the first unit).",
    UnitRule.AMA: "Each timed code counts on its own: a code earns a unit once its own minutes pass 8, "
    "so 7 minutes of a code earn nothing.",
}


class RowChoiceField(forms.ChoiceField):
    """A choice among rows already loaded: it cleans to the row itself, with no query."""

    def __init__(
        self, *, rows: Sequence[Any], empty: str | None = None, label_of: Callable[[Any], str] = str, **kwargs: Any
    ) -> None:
        self.rows = {str(row.pk): row for row in rows}
        choices = [("", empty)] if empty is not None else []
        choices += [(pk, label_of(row)) for pk, row in self.rows.items()]
        super().__init__(choices=choices, **kwargs)

    def clean(self, value: Any) -> Any:
        chosen = super().clean(value)
        return self.rows.get(str(chosen)) if chosen else None


def _field(model: type[models.Model], name: str, **kwargs: Any) -> forms.Field:
    """The form field Django makes for the model's field: its label, limits, choices and help."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    made = field.formfield(**kwargs)
    assert made is not None
    return made


def _money(model: type[models.Model], name: str, currency: str, *, required: bool = True) -> MoneyField:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    label = str(field.verbose_name)
    return MoneyField(
        label=label[:1].upper() + label[1:],
        required=required,
        currency=currency,
        help_text=f"In {currency}. {field.help_text or ''}".strip(),
    )


def _tax_field(
    rates: Sequence[TaxRate], *, label: str = "Tax", empty: str = "No tax", help_text: str = ""
) -> RowChoiceField:
    return RowChoiceField(rows=rates, empty=empty, required=False, label=label, help_text=help_text)


def _type_label(currency: str) -> Callable[[AppointmentType], str]:
    def label(kind: AppointmentType) -> str:
        own = f"{money.quantize(kind.price, currency)} {currency}" if kind.price is not None else "no price"
        return f"{kind.name} (its own price {own}){'' if kind.is_active else ' · not offered'}"

    return label


class SettingsForm(forms.Form):
    """A form over some of a model's fields, filled from ``instance`` when editing."""

    model: type[models.Model]
    field_names: tuple[str, ...] = ()

    def __init__(self, *args: Any, instance: models.Model | None = None, **kwargs: Any) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = model_to_dict(instance, fields=list(self.field_names))
        super().__init__(*args, **kwargs)
        self.instance = instance
        self.order_fields(self.field_names)


class BillingProfileForm(SettingsForm):
    model = BillingProfile
    field_names = (
        "legal_name",
        "tax_number_label",
        "tax_number",
        "group_npi",
        "receipt_standard",
        "service_tax_rate",
        "late_cancel_hours",
        "late_cancel_fee",
        "no_show_fee",
        "tips_on_card",
        "deposit_percent",
        "payment_terms_days",
        "invoice_footer",
    )

    def __init__(self, *args: Any, currency: str, tax_rates: Sequence[TaxRate], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("legal_name", "tax_number_label", "tax_number", "receipt_standard", "invoice_footer"):
            self.fields[name] = _field(BillingProfile, name)
        self.fields["group_npi"] = _field(
            BillingProfile, "group_npi", help_text="US clinics billing insurers: the ten-digit group NPI. Else empty."
        )
        self.fields["service_tax_rate"] = _tax_field(
            tax_rates, label="Tax on treatments", help_text="Unless a price says otherwise."
        )
        self.fields["late_cancel_hours"] = _field(BillingProfile, "late_cancel_hours")
        self.fields["late_cancel_fee"] = _money(BillingProfile, "late_cancel_fee", currency)
        self.fields["late_cancel_fee"].help_text = f"In {currency}; 0 charges none."
        self.fields["no_show_fee"] = _money(BillingProfile, "no_show_fee", currency)
        self.fields["no_show_fee"].label = "No-show fee"
        self.fields["no_show_fee"].help_text = f"In {currency}, for a missed appointment; 0 charges none."
        for name in ("tips_on_card", "deposit_percent", "payment_terms_days"):
            self.fields[name] = _field(BillingProfile, name)
        self.order_fields(self.field_names)


class TaxRateForm(SettingsForm):
    model = TaxRate
    field_names = ("name", "rate", "is_active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"] = _field(TaxRate, "name")
        self.fields["rate"] = _field(TaxRate, "rate", help_text="For example 13 for 13 %.")
        self.fields["rate"].label = "Rate (%)"
        self.fields["is_active"] = _field(TaxRate, "is_active", help_text="Offered for new prices and products.")
        self.fields["is_active"].label = "In use"
        self.order_fields(self.field_names)


class PriceForm(SettingsForm):
    model = Price
    field_names = ("appointment_type", "location", "amount", "tax_rate")

    def __init__(
        self,
        *args: Any,
        currency: str,
        appointment_types: Sequence[AppointmentType],
        locations: Sequence[Location],
        tax_rates: Sequence[TaxRate],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["appointment_type"] = RowChoiceField(
            rows=appointment_types,
            empty="Choose…",
            label="Appointment type",
            label_of=_type_label(currency),
            help_text="Without a price here, a visit is billed at the type's own price.",
        )
        self.fields["location"] = RowChoiceField(
            rows=locations,
            empty="All locations",
            required=False,
            label="Where",
            label_of=lambda loc: loc.name,
            help_text="A location's price wins over the all-locations one.",
        )
        self.fields["amount"] = _money(Price, "amount", currency)
        self.fields["amount"].label = "Price"
        self.fields["tax_rate"] = _tax_field(tax_rates, help_text="Empty: no tax on this treatment.")
        self.order_fields(self.field_names)


class ProductForm(SettingsForm):
    model = Product
    field_names = ("name", "price", "tax_rate", "is_active")

    def __init__(self, *args: Any, currency: str, tax_rates: Sequence[TaxRate], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"] = _field(Product, "name")
        self.fields["price"] = _money(Product, "price", currency)
        self.fields["tax_rate"] = _tax_field(tax_rates)
        self.fields["is_active"] = _field(Product, "is_active", help_text="Sold at checkout.")
        self.fields["is_active"].label = "On sale"
        self.order_fields(self.field_names)


class PayerForm(SettingsForm):
    model = Payer
    field_names = ("name", "kind", "unit_rule", "requires_referral", "is_active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"] = _field(Payer, "name")
        self.fields["kind"] = _field(Payer, "kind")
        self.fields["unit_rule"] = forms.ChoiceField(
            label="How it counts units",
            choices=[(rule.value, f"{rule.label}. {UNIT_RULE_HELP[rule]}") for rule in UnitRule],
            widget=forms.RadioSelect,
            initial=UnitRule.CMS,
            help_text="Timed CPT codes are billed in 15-minute units; payers count them one of two ways.",
        )
        self.fields["requires_referral"] = _field(Payer, "requires_referral")
        self.fields["requires_referral"].label = "Needs a physician's referral"
        self.fields["is_active"] = _field(Payer, "is_active", help_text="Offered at checkout.")
        self.fields["is_active"].label = "In use"
        self.order_fields(self.field_names)


class PackagePlanForm(SettingsForm):
    model = PackagePlan
    field_names = ("name", "appointment_type", "sessions", "price", "valid_days", "sold_online", "is_active")

    def __init__(self, *args: Any, currency: str, appointment_types: Sequence[AppointmentType], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"] = _field(PackagePlan, "name")
        self.fields["appointment_type"] = RowChoiceField(
            rows=appointment_types, empty="Choose…", label="Appointment type", label_of=_type_label(currency)
        )
        self.fields["sessions"] = _field(PackagePlan, "sessions")
        self.fields["price"] = _money(PackagePlan, "price", currency)
        self.fields["price"].label = "Price of the package"
        self.fields["price"].help_text = f"In {currency}, for all the sessions."
        self.fields["valid_days"] = _field(PackagePlan, "valid_days", help_text="From the day it is sold.")
        self.fields["valid_days"].label = "Valid for (days)"
        self.fields["sold_online"] = _field(PackagePlan, "sold_online", help_text="Offered to clients who book online.")
        self.fields["is_active"] = _field(PackagePlan, "is_active", help_text="Sold at the desk.")
        self.fields["is_active"].label = "On sale"
        self.order_fields(self.field_names)


class MembershipPlanForm(SettingsForm):
    model = MembershipPlan
    field_names = (
        "name",
        "monthly_fee",
        "appointment_type",
        "sessions_per_month",
        "member_discount_percent",
        "tax_rate",
        "is_active",
    )

    def __init__(
        self,
        *args: Any,
        currency: str,
        appointment_types: Sequence[AppointmentType],
        tax_rates: Sequence[TaxRate],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"] = _field(MembershipPlan, "name")
        self.fields["monthly_fee"] = _money(MembershipPlan, "monthly_fee", currency)
        self.fields["appointment_type"] = RowChoiceField(
            rows=appointment_types,
            empty="Choose…",
            label="Sessions of",
            label_of=_type_label(currency),
        )
        self.fields["sessions_per_month"] = _field(
            MembershipPlan, "sessions_per_month", help_text="Credited each month the fee is charged."
        )
        self.fields["member_discount_percent"] = _field(
            MembershipPlan, "member_discount_percent", help_text="Off other treatments while a member."
        )
        self.fields["member_discount_percent"].label = "Member discount (%)"
        self.fields["tax_rate"] = _tax_field(tax_rates, label="Tax on the fee")
        self.fields["is_active"] = _field(MembershipPlan, "is_active", help_text="Offered to new members.")
        self.fields["is_active"].label = "On sale"
        self.order_fields(self.field_names)
