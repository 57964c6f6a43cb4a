"""Calendar feeds: a therapist's private iCal URL out, and their personal calendar's busy time in.

- **Out**: a feed is reached by a secret token in its URL (only its SHA-256 is stored, as with API
  tokens), shown once when made; making a new one revokes the old, and it can be revoked alone.
- **In**: a therapist may give the iCal URL of their personal calendar. Its events only ever *add*
  busy time to availability. A load that fails (timeout, error page, unreadable text) keeps the
  last good busy set and records the error: a remote outage frees and deletes nothing.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.clinics.models import Membership
from mend.core import ical
from mend.platform.actor import Actor
from mend.platform.roles import Role
from mend.scheduling.models import CalendarFeed, ExternalCalendar

# How far ahead a personal calendar's busy time is read.
EXTERNAL_HORIZON = timedelta(days=120)


def feed_token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _require_own_or_manager(actor: Actor, therapist: Membership) -> None:
    if therapist.clinic_id != actor.clinic_id or therapist.role != Role.THERAPIST:
        raise ValidationError({"therapist": "Not a therapist of this clinic."})
    if not (actor.manages_clinic or actor.membership.pk == therapist.pk):
        raise PermissionDenied("Only the therapist or an owner or admin manages a therapist's calendars.")


@dataclass(frozen=True, slots=True)
class NewFeed:
    feed: CalendarFeed
    token: str  # shown once; only its hash is kept


@transaction.atomic
def calendar_feed_create(*, actor: Actor, therapist: Membership) -> NewFeed:
    """A new private feed URL for the therapist; any earlier one stops working."""
    _require_own_or_manager(actor, therapist)
    now = timezone.now()
    CalendarFeed.objects.filter(therapist=therapist, revoked_at__isnull=True).update(revoked_at=now)
    raw = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(clinic_id=actor.clinic_id, therapist=therapist, token_hash=feed_token_hash(raw))
    audit_record(action=Action.CREATE, obj=feed, user=actor.user)
    return NewFeed(feed=feed, token=raw)


@transaction.atomic
def calendar_feed_revoke(*, actor: Actor, therapist: Membership) -> int:
    """Stop the therapist's feed URL working. Returns how many were live (0 or 1)."""
    _require_own_or_manager(actor, therapist)
    live = list(CalendarFeed.objects.filter(therapist=therapist, revoked_at__isnull=True))
    for feed in live:
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at"])
        audit_record(action=Action.DELETE, obj=feed, user=actor.user)
    return len(live)


def calendar_feed_read(*, feed: CalendarFeed) -> None:
    """Note the feed's read in the audit trail (it shows clients' initials) and when it was last read."""
    with transaction.atomic():
        CalendarFeed.objects.filter(pk=feed.pk).update(last_read_at=timezone.now())
        audit_record(
            action=Action.VIEW,
            obj=feed,
            user=feed.therapist.user,
            clinic_id=feed.clinic_id,
            role=Role.THERAPIST,
        )


def _check_url(url: str) -> str:
    url = url.strip()
    if not url.lower().startswith(("https://", "http://", "webcal://")):
        raise ValidationError({"url": "Give the calendar's iCal address (https://… or webcal://…)."})
    if len(url) > 500:
        raise ValidationError({"url": "That address is longer than 500 characters."})
    return url


@transaction.atomic
def external_calendar_save(*, actor: Actor, therapist: Membership, url: str) -> ExternalCalendar:
    """Add a personal calendar whose events count as busy time (its contents are never shown)."""
    _require_own_or_manager(actor, therapist)
    calendar = ExternalCalendar.objects.create(clinic_id=actor.clinic_id, therapist=therapist, url=_check_url(url))
    audit_record(action=Action.CREATE, obj=calendar, user=actor.user)
    external_calendar_keep_fresh(calendar=calendar)
    return calendar


def external_calendar_keep_fresh(*, calendar: ExternalCalendar, now: datetime | None = None) -> str:
    """Start a new chain of background reads of the calendar (the old chain stops at its next run)."""
    from mend.platform.tasks import enqueue_on_commit
    from mend.scheduling.tasks import external_calendar_refresh as refresh_task

    chain = uuid.uuid4()
    ExternalCalendar.objects.filter(pk=calendar.pk).update(refresh_chain=chain)
    when = (now or timezone.now()) + timedelta(minutes=settings.MEND_EXTERNAL_CALENDAR_MINUTES)
    enqueue_on_commit(refresh_task.using(run_after=when), calendar_id=calendar.pk, chain=str(chain))
    return str(chain)


def external_calendar_refresh_scheduled(*, calendar_id: int, chain: str) -> str:
    """The background read: only for the calendar's current chain, which it then continues.

    A removed calendar or a retired chain ends here, so reads never pile up however often the
    therapist pressed "read again".
    """
    calendar = ExternalCalendar.objects.select_related("therapist__clinic").filter(pk=calendar_id).first()
    if calendar is None or str(calendar.refresh_chain) != chain:
        return "retired"
    loaded = external_calendar_refresh(calendar=calendar)
    from mend.platform.tasks import enqueue_on_commit
    from mend.scheduling.tasks import external_calendar_refresh as refresh_task

    when = timezone.now() + timedelta(minutes=settings.MEND_EXTERNAL_CALENDAR_MINUTES)
    enqueue_on_commit(refresh_task.using(run_after=when), calendar_id=calendar.pk, chain=chain)
    return "loaded" if loaded else "failed"


@transaction.atomic
def external_calendar_delete(*, actor: Actor, calendar: ExternalCalendar) -> None:
    _require_own_or_manager(actor, calendar.therapist)
    audit_record(action=Action.DELETE, obj=calendar, user=actor.user)
    calendar.delete()


def external_calendar_refresh(
    *,
    calendar: ExternalCalendar,
    now: datetime | None = None,
    fetch: Callable[[str], bytes] | None = None,
) -> bool:
    """Load the calendar's busy time from now to :data:`EXTERNAL_HORIZON` ahead; True when it loaded.

    On any failure the last good busy set stays and the error is recorded: a feed that fails to
    load frees nothing. ``fetch`` replaces :func:`mend.core.ical.fetch_feed` (tests).
    """
    now = now or timezone.now()
    zone = calendar.therapist.clinic.timezone
    get = fetch or (
        lambda url: ical.fetch_feed(
            url, timeout=settings.MEND_EXTERNAL_CALENDAR_TIMEOUT, allow_private=settings.MEND_EXTERNAL_CALENDAR_PRIVATE
        )
    )
    try:
        text = get(calendar.url)
        busy = ical.busy_from_feed(text, start=now - timedelta(days=1), end=now + EXTERNAL_HORIZON, zone=zone)
    except ical.FeedError as error:
        ExternalCalendar.objects.filter(pk=calendar.pk).update(last_error=str(error)[:300], last_error_at=now)
        return False
    spans = [[span.start.isoformat(), span.end.isoformat()] for span in busy]
    ExternalCalendar.objects.filter(pk=calendar.pk).update(busy=spans, loaded_at=now, last_error="")
    return True
