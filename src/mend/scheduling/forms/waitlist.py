"""The waitlist page's form: who waits, for what, with whom, between which local dates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from mend.clinics.models import Membership
from mend.people.forms import DateInput
from mend.people.models import Client
from mend.scheduling.forms.calendar import Pick
from mend.scheduling.models import AppointmentType
from mend.scheduling.queries.schedule import therapist_name


class WaitlistEntryForm(forms.Form):
    client = Pick(label="Client", empty="Choose a client")
    appointment_type = Pick(label="Appointment type", empty="Choose a type")
    therapist = Pick(label="Therapist", required=False, empty="Any therapist")
    earliest = forms.DateField(label="From", widget=DateInput(), help_text="The first date that suits the client.")
    latest = forms.DateField(label="Until", widget=DateInput(), help_text="The last date that suits the client.")

    def __init__(
        self,
        *args: Any,
        clients: Sequence[Client],
        types: Sequence[AppointmentType],
        therapists: Sequence[Membership],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # The choices were loaded through the actor's queries; the fields only pick among them.
        for name, rows, label in (
            ("client", clients, lambda c: c.display_name),
            ("appointment_type", types, str),
            ("therapist", therapists, therapist_name),
        ):
            field = self.fields[name]
            assert isinstance(field, Pick)
            field.load(rows, label)
