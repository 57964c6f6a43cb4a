"""Reads for series: what the booking form starts from, and a series' sessions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any

from django.http import Http404
from django.urls import reverse

from mend.clinical.models import Episode
from mend.clinical.queries import episode_or_404
from mend.people.models import Client
from mend.people.queries import client_or_404
from mend.platform.actor import Actor
from mend.scheduling.models import Appointment, AppointmentStatus, AppointmentType
from mend.scheduling.queries.schedule import appointment_types
from mend.scheduling.queries.schedule import appointments as visible_appointments

# Weekdays a plan's sessions default to, by sessions per week (Monday = 0).
DEFAULT_DAYS = {1: [1], 2: [1, 3], 3: [0, 2, 4], 4: [0, 1, 3, 4], 5: [0, 1, 2, 3, 4], 6: [0, 1, 2, 3, 4, 5]}


@dataclass(frozen=True, slots=True)
class SeriesStart:
    client: Client
    episode: Episode | None
    initial: dict[str, Any]


def series_types(actor: Actor) -> list[AppointmentType]:
    """The clinic's active types with who offers each (the form's choices and its default)."""
    return list(appointment_types(actor).prefetch_related("therapists"))


def series_start(
    actor: Actor, *, client_id: str | None, episode_id: str | None, types: list[AppointmentType]
) -> SeriesStart:
    """The form's client and starting values: from an episode's plan of care when one is given."""
    episode = None
    if episode_id:
        episode = episode_or_404(actor, episode_id, "plan")
        client = episode.client
    elif client_id:
        client = client_or_404(actor, client_id)
    else:
        raise Http404("Choose a client or an episode of care first.")
    today = actor.today()
    initial: dict[str, Any] = {"first_day": today + timedelta(days=1), "time": time(10), "every_weeks": 1, "count": 6}
    plan = getattr(episode, "plan", None) if episode is not None else None
    if episode is not None:
        initial["therapist"] = episode.therapist_id
    if plan is not None:
        initial["count"] = plan.total_sessions
        initial["weekdays"] = DEFAULT_DAYS.get(plan.sessions_per_week, [today.weekday()])
        # The plain treatment nearest the plan's session length: a type that needs a special room
        # (hydrotherapy) is the last choice, and the therapist's own types come first.
        therapist_id = episode.therapist_id if episode is not None else None
        fitting = sorted(
            (t for t in types if t.kind == AppointmentType.Kind.TREATMENT),
            key=lambda t: (
                abs(t.duration_minutes - plan.session_minutes),
                t.room_capability not in ("", "table"),
                therapist_id not in {m.pk for m in t.therapists.all()},
                t.name,
            ),
        )
        if fitting:
            initial["appointment_type"] = fitting[0].pk
    return SeriesStart(client=client, episode=episode, initial=initial)


def series_sessions(actor: Actor, series_id: str) -> list[Appointment]:
    """A series' sessions in order, or 404 (unknown, another clinic's, or a client the actor cannot see)."""
    try:
        key = uuid.UUID(series_id)
    except ValueError:
        raise Http404("No such series.") from None
    sessions = list(
        visible_appointments(actor)
        .filter(series_id=key)
        .select_related("client", "appointment_type", "room", "therapist__user")
        .order_by("starts_at")
    )
    if not sessions:
        raise Http404("No such series.")
    client_or_404(actor, sessions[0].client_id)  # a therapist sees only clients on their care team
    return sessions


def series_changeable(sessions: list[Appointment]) -> list[Appointment]:
    return [s for s in sessions if s.status == AppointmentStatus.BOOKED]


def chart_booking(actor: Actor, chart: Any) -> dict[str, Any]:
    """The chart's link to book the plan's sessions (``clinical.queries.add_chart_section``). No query."""
    episode = chart.episode
    if not episode.is_open or chart.plan is None:
        return {"book_sessions_url": ""}
    return {"book_sessions_url": f"{reverse('series_new')}?episode={episode.pk}"}
