from __future__ import annotations

from typing import Any, cast

from django import forms

from mend.audit.models import Action
from mend.audit.queries import DEFAULT_SORT, SORTABLE


class AuditFilterForm(forms.Form):
    user = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    client = forms.IntegerField(required=False, min_value=1, label="Client id")
    action = forms.ChoiceField(choices=[("", "Any action"), *Action.choices], required=False)
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")
    # Not a ChoiceField: an unknown sort (an old bookmark, a hand-edited URL) falls back to the
    # default order instead of invalidating the form and silently dropping the other filters.
    sort = forms.CharField(required=False)

    def __init__(self, *args: Any, users: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["user"]).choices = [("", "Anyone"), *users]

    def clean_sort(self) -> str:
        sort = self.cleaned_data.get("sort", "")
        return sort if sort in SORTABLE else DEFAULT_SORT

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data
