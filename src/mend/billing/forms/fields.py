"""Form fields billing's forms share."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from mend.core import money


class MoneyField(forms.CharField):
    """An amount as people type it ("45", "1,234.50", "$12"), cleaned to a Decimal (in the currency's
    minor unit when one is given; otherwise the service checks the cents).

    A bad amount is refused with the field's name in the message ("No-show fee: enter an amount
    such as 45.00."), so it reads right beside the field and in a list of problems alike.
    """

    def __init__(self, *args: Any, currency: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", money.MAX_AMOUNT_CHARS)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        self.currency = currency
        super().__init__(*args, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            return f"{money.quantize(value, self.currency or money.DEFAULT_CURRENCY)}"
        return value

    def clean(self, value: Any) -> Any:
        text = super().clean(value)
        if text in (None, ""):
            return None
        try:
            return money.parse_amount(text, currency=self.currency)
        except ValueError as exc:
            message = str(exc)
            raise forms.ValidationError(f"{self.label}: {message[:1].lower()}{message[1:]}") from None
