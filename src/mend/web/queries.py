"""The home page's read: what the clinic holds and what needs attention today, from every app.

The shell may read from every app; the apps never read from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings

from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.clinical import queries as clinical_queries
from mend.clinics import queries as clinic_queries
from mend.core.credentials import LicenceStatus
from mend.outcomes import queries as outcome_queries
from mend.people import queries as people_queries
from mend.people.models import Licence
from mend.platform.actor import Actor
from mend.scheduling.queries.today import Day, day_for


@dataclass(frozen=True, slots=True)
class Home:
    today: date
    client_count: int
    therapist_count: int
    referrer_count: int
    location_count: int
    expiring: list[tuple[Licence, LicenceStatus]]
    flags: list[Any]
    measures_due: list[Any]
    day: Day


def home(actor: Actor) -> Home:
    """The day's appointments (a therapist's own; the clinic's for everyone else), counts of what
    the actor may see, licences needing renewal (a therapist's own) and, for a therapist, today's
    screening flags and outcome measures due over their caseload."""
    today = actor.today()
    flags = clinical_queries.todays_flags(actor, today) if actor.is_therapist else []
    measures_due = outcome_queries.todays_due(actor, today) if actor.is_therapist else []
    if flags or measures_due:
        # Clients' names beside their screening flags and episodes: a read of clinical information.
        audit_record(action=Action.VIEW, object_type="clinical.today", user=actor.user)
    return Home(
        today=today,
        client_count=people_queries.clients(actor).count(),
        therapist_count=people_queries.therapists(actor).count(),
        referrer_count=people_queries.referring_providers(actor).count(),
        location_count=clinic_queries.locations(actor).count(),
        expiring=people_queries.expiring_licences(actor, today=today, warning_days=settings.MEND_LICENCE_WARNING_DAYS),
        flags=flags,
        measures_due=measures_due,
        day=day_for(actor, day=today),
    )
