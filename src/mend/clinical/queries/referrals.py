"""Reads of referrals: status with visits used, the referral a visit counts against."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db.models import Count, Q

from mend.clinical import rules
from mend.clinical.models import (
    Episode,
    NoteStatus,
    Referral,
)
from mend.clinical.rules import ReferralStatus

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
