"""The staff calendar's forms: book, move, cancel. The booking service decides what may be booked;
these only turn what was typed into its arguments (a local date and time into an instant)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time
from typing import Any

from django import forms

from mend.clinics.models import Membership, Room
from mend.core.availability import NonexistentTime, exact_local
from mend.people.forms import DateInput
from mend.people.models import Client
from mend.scheduling.models import AppointmentType
from mend.scheduling.queries.schedule import therapist_name


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", attrs={"step": "300"}, **kwargs)


class Pick(forms.ChoiceField):
    """A choice among rows already loaded through the actor's queries: it cleans to the row itself,
    with no query when the form renders or validates."""

    def __init__(self, *, empty: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.empty = empty
        self.rows: dict[str, Any] = {}

    def load(self, rows: Sequence[Any], label: Callable[[Any], str] = str) -> None:
        self.rows = {str(row.pk): row for row in rows}
        empty = [("", self.empty)] if self.empty is not None else []
        self.choices = [*empty, *((pk, label(row)) for pk, row in self.rows.items())]

    def clean(self, value: Any) -> Any:
        chosen = super().clean(value)
        return self.rows.get(str(chosen)) if chosen not in self.empty_values else None


class _When(forms.Form):
    """A local date and time in the clinic's zone, read as one aware instant (``starts_at``)."""

    day = forms.DateField(label="Date", widget=DateInput())
    time = forms.TimeField(label="Time", widget=TimeInput(), help_text="In the clinic's time zone.")

    def __init__(self, *args: Any, zone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, wall = data.get("day"), data.get("time")
        if isinstance(day, date) and isinstance(wall, time):
            try:
                data["starts_at"] = exact_local(day, wall.replace(second=0, microsecond=0), self.zone)
            except NonexistentTime as error:
                self.add_error("time", str(error))
        return data

    @property
    def starts_at(self) -> datetime:
        value: datetime = self.cleaned_data["starts_at"]
        return value


class BookForm(_When):
    client = Pick(label="Client", empty="Choose a client")
    therapist = Pick(label="Therapist", empty="Choose a therapist")
    appointment_type = Pick(label="Appointment type", empty="Choose a type")
    room = Pick(label="Room", required=False, empty="Any suitable room")
    override_reason = forms.CharField(
        label="Double-book on purpose: reason",
        required=False,
        max_length=200,
        help_text="Owners and admins only. Leave empty unless this booking should overlap another.",
    )

    field_order = ["client", "therapist", "appointment_type", "day", "time", "room", "override_reason"]

    def __init__(
        self,
        *args: Any,
        clients: Sequence[Client],
        therapists: Sequence[Membership],
        types: Sequence[AppointmentType],
        rooms: Sequence[Room],
        may_override: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # The choices were loaded through the actor's queries; the fields only pick among them.
        _load(self, "client", clients, lambda c: c.display_name)
        _load(self, "therapist", therapists, therapist_name)
        _load(self, "appointment_type", types)
        _load(self, "room", rooms)
        if not may_override:
            del self.fields["override_reason"]


class MoveForm(_When):
    therapist = Pick(label="Therapist")
    room = Pick(label="Room", required=False, empty="Keep the room, or any suitable")
    override_reason = forms.CharField(
        label="Double-book on purpose: reason",
        required=False,
        max_length=200,
        help_text="Owners and admins only. Leave empty unless this time should overlap another booking.",
    )

    field_order = ["day", "time", "therapist", "room", "override_reason"]

    def __init__(
        self, *args: Any, therapists: Sequence[Membership], rooms: Sequence[Room], may_override: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _load(self, "therapist", therapists, therapist_name)
        _load(self, "room", rooms)
        if not may_override:
            del self.fields["override_reason"]


class CancelForm(forms.Form):
    reason = forms.CharField(label="Reason", required=False, max_length=200, help_text="Seen by staff only.")


def _load(form: forms.Form, name: str, rows: Sequence[Any], label: Callable[[Any], str] = str) -> None:
    field = form.fields[name]
    assert isinstance(field, Pick)
    field.load(rows, label)
