"""Checkout forms: lines, discounts, payer, payments, package and gift-card use, refunds, write-offs, credit notes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from mend.billing.forms.fields import MoneyField
from mend.billing.models import DESK_METHODS, PaymentMethod
from mend.people.forms import DateInput


class VisitLineForm(forms.Form):
    appointment = forms.IntegerField(label="Visit", widget=forms.Select)


class ProductLineForm(forms.Form):
    product = forms.IntegerField(widget=forms.Select)
    quantity = forms.DecimalField(min_value=Decimal("0.01"), max_digits=8, decimal_places=2, initial=1)


class CustomLineForm(forms.Form):
    description = forms.CharField(max_length=200)
    unit_price = MoneyField(label="Price")
    quantity = forms.DecimalField(min_value=Decimal("0.01"), max_digits=8, decimal_places=2, initial=1)
    tax_rate = forms.IntegerField(required=False, widget=forms.Select, label="Tax")


class DiscountForm(forms.Form):
    discount = MoneyField(label="Discount")
    discount_reason = forms.CharField(max_length=100, required=False, label="Reason (printed)")


class PayerForm(forms.Form):
    payer = forms.IntegerField(required=False, widget=forms.Select, label="Bill to")
    referral = forms.IntegerField(required=False, widget=forms.Select, label="Under the referral")


class PaymentForm(forms.Form):
    method = forms.ChoiceField(choices=[(m.value, m.label) for m in DESK_METHODS])
    amount = MoneyField()
    tip = MoneyField(required=False, help_text="Card payments only, where the clinic takes tips.")
    reference = forms.CharField(max_length=120, required=False, help_text="Terminal slip or transfer reference.")
    received_on = forms.DateField(required=False, widget=DateInput(), help_text="Empty: today.")


class PackageUseForm(forms.Form):
    line = forms.IntegerField(widget=forms.HiddenInput)
    package = forms.IntegerField(widget=forms.Select)


class GiftCardUseForm(forms.Form):
    code = forms.CharField(max_length=24, label="Gift card code")
    amount = MoneyField()


class RefundForm(forms.Form):
    amount = MoneyField()
    reason = forms.CharField(max_length=200)
    reference = forms.CharField(max_length=120, required=False)


class WriteOffForm(forms.Form):
    amount = MoneyField()
    reason = forms.CharField(max_length=200)


class CreditNoteForm(forms.Form):
    lines = forms.TypedMultipleChoiceField(coerce=int, widget=forms.CheckboxSelectMultiple, label="Lines to credit")
    reason = forms.CharField(max_length=300, label="Reason (printed on the credit note)")

    def __init__(self, *args: Any, choices: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["lines"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = choices or []


class SellPackageForm(forms.Form):
    plan = forms.IntegerField(widget=forms.Select, label="Package")


class SellGiftCardForm(forms.Form):
    amount = MoneyField()
    recipient_name = forms.CharField(max_length=150, required=False, label="For (name on the card)")


class MembershipForm(forms.Form):
    plan = forms.IntegerField(widget=forms.Select, label="Membership")


PAYMENT_METHOD_LABELS = dict(PaymentMethod.choices)
