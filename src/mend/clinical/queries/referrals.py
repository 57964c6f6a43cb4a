"""Reads of referrals: status with visits used, the referral a visit counts against."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.files import File
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from mend.clinical import rules
from mend.clinical.models import (
    Episode,
    NoteStatus,
    Referral,
)
from mend.clinical.queries.loaders import audit_read, episode_or_404, referral_or_404
from mend.clinical.rules import ReferralStatus
from mend.people import queries as people_queries
from mend.people.models import ReferringProvider
from mend.platform.actor import Actor

# --- Referrals ------------------------------------------------------------------------------


def referral_statuses(referrals: Iterable[Referral], today: date) -> dict[int, ReferralStatus]:
    """Status of referrals annotated with ``visits_used`` (see :func:`referrals_with_use`)."""
    return {
        r.pk: rules.referral_status(
            visits_authorised=r.visits_authorised,
            visits_used=getattr(r, "visits_used", 0),
            valid_until=r.valid_until,
            today=today,
            closed=r.closed_at is not None,
        )
        for r in referrals
    }


def referrals_with_use(episode: Episode) -> Any:
    return (
        Referral.objects.filter(episode=episode)
        .select_related("provider")
        .annotate(visits_used=Count("notes", filter=Q(notes__status=NoteStatus.SIGNED)))
    )


def usable_referral(episode: Episode, on: date) -> Referral | None:
    """The newest referral a visit on ``on`` can count against."""
    for referral in referrals_with_use(episode).order_by("-referred_on", "-id"):
        if referral.referred_on <= on and referral_statuses([referral], on)[referral.pk].usable:
            return referral
    return None


def referral_with_status(actor: Actor, referral: Referral) -> tuple[Referral, ReferralStatus]:
    """The referral afresh with its visits used, and its status on the clinic's today (one query)."""
    counted = referrals_with_use(referral.episode).get(pk=referral.pk)
    return counted, referral_statuses([counted], actor.today())[counted.pk]


def referral_for_reading(actor: Actor, referral_id: int | str) -> tuple[Referral, ReferralStatus]:
    """One referral with its status, audited as a view of it."""
    referral = referral_or_404(actor, referral_id)
    audit_read(actor, obj=referral, client_id=referral.client_id)
    return referral_with_status(actor, referral)


def referral_list(actor: Actor, episode_id: int | str) -> list[tuple[Referral, ReferralStatus]]:
    """The episode's referrals, newest first, each with its status today, audited as a list read."""
    episode = episode_or_404(actor, episode_id)
    referrals = list(referrals_with_use(episode))
    statuses = referral_statuses(referrals, actor.today())
    audit_read(actor, client_id=episode.client_id, what="clinical.referral_list", of=episode.pk)
    return [(r, statuses[r.pk]) for r in referrals]


@dataclass(frozen=True, slots=True)
class ReferralForm:
    """What the referral form shows: the episode, and the referral when one is edited."""

    episode: Episode
    referral: Referral | None


def referral_form(
    actor: Actor, *, episode_id: int | str | None = None, referral_id: int | str | None = None, reading: bool
) -> ReferralForm:
    """The episode (and referral) a referral form is for. Opening the form of a referral
    (``reading``) shows it: audited as a view. A discharged episode's referrals no longer change,
    so their form is never shown (the page sends to the chart) and nothing is read."""
    referral = referral_or_404(actor, referral_id) if referral_id is not None else None
    if referral is not None:
        episode_id = referral.episode_id
    if episode_id is None:
        raise Http404("No such episode of care.")
    episode = episode_or_404(actor, episode_id)
    if reading and referral is not None and episode.is_open:
        audit_read(actor, obj=referral, client_id=referral.client_id)
    return ReferralForm(episode, referral)


def referral_document(actor: Actor, referral_id: int | str) -> tuple[Referral, File[bytes]]:
    """A referral's document, opened for reading: 404 when there is none or its file is missing,
    audited as a view once it is there to hand over."""
    referral = referral_or_404(actor, referral_id)
    if not referral.document:
        raise Http404("This referral has no document attached.")
    try:
        handle = referral.document.open("rb")
    except FileNotFoundError:
        raise Http404("The document file is missing.") from None
    audit_read(actor, obj=referral, client_id=referral.client_id)
    return referral, handle


def referring_provider_choices(actor: Actor) -> QuerySet[ReferringProvider]:
    """The clinic's referring providers by name, for a referral's or a clearance's form."""
    return people_queries.referring_providers(actor).order_by("name")


def referring_provider(actor: Actor, provider_id: int | None) -> ReferringProvider | None:
    """The clinic's referring provider with this id; None for no id or another clinic's."""
    if provider_id is None:
        return None
    return people_queries.referring_providers(actor).filter(pk=provider_id).first()
