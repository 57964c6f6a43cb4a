"""The series form: a plan of care's sessions at one local time on chosen weekdays."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms

from mend.clinics.models import Membership, Room
from mend.people.forms import DateInput
from mend.scheduling.forms.calendar import Pick, TimeInput
from mend.scheduling.models import WEEKDAYS, AppointmentType
from mend.scheduling.queries.schedule import therapist_name


class SeriesForm(forms.Form):
    therapist = Pick(label="Therapist", empty="Choose a therapist")
    appointment_type = Pick(label="Appointment type", empty="Choose a type")
    room = Pick(label="Room", required=False, empty="Any suitable room, session by session")
    first_day = forms.DateField(label="First session on or after", widget=DateInput())
    time = forms.TimeField(label="Time", widget=TimeInput(), help_text="In the clinic's time zone; kept across DST.")
    weekdays = forms.TypedMultipleChoiceField(
        label="On",
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: the first day's weekday.",
    )
    every_weeks = forms.IntegerField(label="Every … weeks", min_value=1, max_value=52, initial=1)
    count = forms.IntegerField(label="Number of sessions", min_value=1, max_value=200)

    def __init__(
        self,
        *args: Any,
        therapists: Sequence[Membership],
        types: Sequence[AppointmentType],
        rooms: Sequence[Room],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # The choices were loaded through the actor's queries; the fields only pick among them.
        cast(Pick, self.fields["therapist"]).load(therapists, therapist_name)
        cast(Pick, self.fields["appointment_type"]).load(types)
        cast(Pick, self.fields["room"]).load(rooms)

    def rule_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "first_day": data["first_day"],
            "wall": data["time"].replace(second=0, microsecond=0),
            "weekdays": data.get("weekdays") or [],
            "every_weeks": data["every_weeks"],
            "count": data["count"],
        }


class MoveFromForm(forms.Form):
    """Move a series from one session on: to a new local time, by a number of days, or both."""

    time = forms.TimeField(label="New time", required=False, widget=TimeInput())
    days = forms.IntegerField(label="Shift by days", required=False, min_value=-28, max_value=28)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("time") is None and not data.get("days"):
            raise forms.ValidationError("Give a new time, a number of days to shift, or both.")
        return data
