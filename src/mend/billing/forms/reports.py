"""The reports' period picker: a preset or two dates (in the clinic's calendar), and the basis."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms

from mend.billing.queries.reports import ACCRUAL, BASES, Period
from mend.people.forms import DateInput

PRESETS = (
    ("this_month", "This month"),
    ("last_month", "Last month"),
    ("this_year", "This year"),
    ("last_12_months", "Last 12 months"),
    ("custom", "Dates below"),
)
# Two years and a bit: the longest period a report is asked for (the bench measures two years).
LONGEST = timedelta(days=3 * 366)


def preset_period(preset: str, today: date) -> Period:
    first_of_month = today.replace(day=1)
    if preset == "last_month":
        last = first_of_month - timedelta(days=1)
        return Period(last.replace(day=1), last)
    if preset == "this_year":
        return Period(today.replace(month=1, day=1), today)
    if preset == "last_12_months":
        # The eleven whole months before this one, and this one so far.
        start = first_of_month.replace(year=first_of_month.year - 1)
        start = (start + timedelta(days=32)).replace(day=1)
        return Period(start, today)
    return Period(first_of_month, today)


class ReportPeriodForm(forms.Form):
    preset = forms.ChoiceField(label="Period", choices=PRESETS, required=False)
    first = forms.DateField(label="From", required=False, widget=DateInput)
    last = forms.DateField(label="To", required=False, widget=DateInput)
    basis = forms.ChoiceField(label="Revenue basis", choices=BASES, required=False, widget=forms.RadioSelect)

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.initial.setdefault("basis", ACCRUAL)
        if self.is_bound and not self.data.get("basis"):
            # The page shows the basis it reports on, chosen or not.
            self.data = {**{key: self.data.get(key) for key in self.data}, "basis": ACCRUAL}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("first"), data.get("last")
        preset = data.get("preset") or ("custom" if first or last else "this_month")
        if preset == "custom":
            if first is None or last is None:
                raise forms.ValidationError("Give both dates, or choose a period.")
            if last < first:
                raise forms.ValidationError("The period ends before it starts.")
            if last - first > LONGEST:
                raise forms.ValidationError("Choose at most three years at a time.")
            data["period"] = Period(first, last)
        else:
            data["period"] = preset_period(preset, self.today)
        data["preset"] = preset
        data["basis"] = data.get("basis") or ACCRUAL
        return data

    def result(self) -> tuple[Period, str]:
        """The period and basis asked for; this month on the accrual basis when the form is not valid."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data["period"], self.cleaned_data["basis"]
        return preset_period("this_month", self.today), ACCRUAL
