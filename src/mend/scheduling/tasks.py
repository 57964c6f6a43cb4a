"""The scheduling app's background tasks (run by `mend worker`; see mend.platform.tasks).

Each task takes ids, not objects, and hands over to a service; running one twice does no harm.
"""

from __future__ import annotations

from django_tasks import task

from mend.scheduling.services import waitlist as waitlist_services

# --- The waitlist (mend.scheduling.services.waitlist) ---------------------------------------------


@task()
def waitlist_offer_expire(offer_id: int) -> str:
    """At an offer's expiry: an offer still open expires and its slot goes to the next fitting entry."""
    return waitlist_services.waitlist_offer_expire(offer_id=offer_id)


# --- Personal calendars (mend.scheduling.services.feeds) ------------------------------------------


@task()
def external_calendar_refresh(calendar_id: int, chain: str) -> str:
    """Read a therapist's personal calendar again, then schedule the next read of the same chain."""
    from mend.scheduling.services import feeds

    return feeds.external_calendar_refresh_scheduled(calendar_id=calendar_id, chain=chain)
