"""The calendar setup's forms: appointment types, weekly hours, exceptions, time off, closures.

They only turn what was typed into the setup services' arguments; the services decide what is
allowed (overlaps, where a therapist works, times the clocks skip). Locations and therapists are
rows already loaded through the actor's queries, so rendering a form runs no query of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from mend.clinics.models import Location, Membership, RoomCapability
from mend.people.forms import DateInput
from mend.scheduling.models import WEEKDAYS, AppointmentType, HoursException
from mend.scheduling.queries.setup import therapist_name


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", attrs={"step": "300"}, **kwargs)


class RowChoiceField(forms.ChoiceField):
    """A choice among rows already loaded: it cleans to the row itself, with no query."""

    def __init__(self, *, rows: Sequence[Any], empty: str | None = None, label_of: Any = str, **kwargs: Any) -> None:
        self.rows = {str(row.pk): row for row in rows}
        choices = [("", empty)] if empty is not None else []
        choices += [(pk, label_of(row)) for pk, row in self.rows.items()]
        super().__init__(choices=choices, **kwargs)

    def clean(self, value: Any) -> Any:
        chosen = super().clean(value)
        return self.rows.get(str(chosen)) if chosen else None


def _location_field(locations: Sequence[Location], *, empty: str | None, **kwargs: Any) -> RowChoiceField:
    return RowChoiceField(rows=locations, empty=empty, label_of=lambda loc: loc.name, **kwargs)


class WorkingHoursForm(forms.Form):
    weekday = forms.TypedChoiceField(label="Day", choices=WEEKDAYS, coerce=int)
    start = forms.TimeField(label="From", widget=TimeInput())
    end = forms.TimeField(label="Until", widget=TimeInput(), help_text="An end before the start runs past midnight.")

    def __init__(self, *args: Any, locations: Sequence[Location], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # One location: nothing to choose, so it is chosen (the select still shows where the hours are).
        empty = None if len(locations) == 1 else "Choose…"
        self.fields["location"] = _location_field(locations, empty=empty, label="Location")


class HoursExceptionForm(forms.Form):
    day = forms.DateField(label="Date", widget=DateInput())
    kind = forms.ChoiceField(label="What changes", choices=HoursException.Kind.choices)
    start = forms.TimeField(label="From", required=False, widget=TimeInput(), help_text="Extra hours only.")
    end = forms.TimeField(label="Until", required=False, widget=TimeInput(), help_text="Extra hours only.")

    def __init__(self, *args: Any, locations: Sequence[Location], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        empty = None if len(locations) == 1 else "Choose…"
        self.fields["location"] = _location_field(
            locations, empty=empty, required=False, label="Location", help_text="Extra hours only."
        )


class TimeOffForm(forms.Form):
    first_day = forms.DateField(label="First day", widget=DateInput())
    last_day = forms.DateField(label="Last day", required=False, widget=DateInput(), help_text="Empty for one day.")
    start_time = forms.TimeField(
        label="From (time)",
        required=False,
        widget=TimeInput(),
        help_text="Leave both times empty for whole days. With times: from this time on the first day…",
    )
    end_time = forms.TimeField(
        label="Until (time)", required=False, widget=TimeInput(), help_text="…to this time on the last day."
    )
    reason = forms.CharField(label="Reason", max_length=120, required=False, help_text="Seen by staff only.")


class ClosureForm(forms.Form):
    first_day = forms.DateField(label="First day", widget=DateInput())
    last_day = forms.DateField(label="Last day", required=False, widget=DateInput(), help_text="Empty for one day.")
    reason = forms.CharField(
        label="Reason", max_length=120, required=False, help_text="Shown to clients, e.g. “Statutory holiday”."
    )

    def __init__(self, *args: Any, locations: Sequence[Location], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"] = _location_field(
            locations, empty="All locations", required=False, label="Where", help_text="All locations, or only one."
        )


class AppointmentTypeForm(forms.ModelForm):
    """Every field of a type; ``therapists`` are the clinic's active therapists (the service checks it)."""

    class Meta:
        model = AppointmentType
        fields = [
            "name",
            "kind",
            "description",
            "duration_minutes",
            "price",
            "is_active",
            "buffer_before_minutes",
            "buffer_after_minutes",
            "slot_interval_minutes",
            "room_capability",
            "bookable_online",
            "min_notice_minutes",
            "horizon_days",
            "same_day",
            "audience",
            "daily_cap",
        ]
        labels = {
            "duration_minutes": "Length (minutes)",
            "buffer_before_minutes": "Buffer before (minutes)",
            "buffer_after_minutes": "Buffer after (minutes)",
            "slot_interval_minutes": "Slot interval (minutes)",
            "room_capability": "Room needs",
            "bookable_online": "Clients can book it online",
            "min_notice_minutes": "Minimum notice (minutes)",
            "horizon_days": "Booking horizon (days)",
            "same_day": "Same-day booking",
            "audience": "Who can book online",
            "is_active": "Offered",
        }
        help_texts = {
            "name": "As clients and staff see it, e.g. “Treatment 60”.",
            "duration_minutes": "The session itself, without buffers.",
            "buffer_before_minutes": "Time kept free before, e.g. to prepare the room. Clients do not see it.",
            "buffer_after_minutes": "Time kept free after, for notes and turning the room over.",
            "slot_interval_minutes": "How far apart the offered start times are, counted from the start of the "
            "therapist's hours. Empty: the length. Hours 9:30–16:30 with 60-minute sessions offer 9:30, "
            "10:30 … 15:30; an interval of 30 also offers 10:00, 11:00 ….",
            "room_capability": "Only rooms with this are booked for it.",
            "bookable_online": "Shown on the public booking page. Staff can always book it.",
            "min_notice_minutes": "How long before the start a client may still book online (120 = two hours).",
            "horizon_days": "How far ahead clients may book online.",
            "same_day": "Clients may book for later today online (the minimum notice still applies).",
            "daily_cap": "Most appointments of any type a therapist takes in a day, when booked online. Empty: no cap.",
            "is_active": "Unticked: no new bookings; what is booked stays booked.",
        }

    def __init__(self, *args: Any, therapists: Sequence[Membership], currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The therapists were loaded once by the view: choices from them, cleaned back to them
        # (the service checks again that each is this clinic's).
        self._therapists = {str(m.pk): m for m in therapists}
        self.fields["therapists"] = forms.MultipleChoiceField(
            choices=[(pk, therapist_name(m)) for pk, m in self._therapists.items()],
            required=False,
            widget=forms.CheckboxSelectMultiple,
            label="Offered by",
            help_text="Only these therapists are booked for it.",
        )
        if self.instance.pk is not None and not self.is_bound:
            self.initial["therapists"] = [str(m.pk) for m in self.instance.therapists.all()]
        room = self.fields["room_capability"]
        assert isinstance(room, forms.ChoiceField)
        room.choices = [("", "Any room"), *RoomCapability.choices]
        self.fields["price"].help_text = f"In {currency}."

    def clean_therapists(self) -> list[Membership]:
        return [self._therapists[pk] for pk in self.cleaned_data["therapists"]]
