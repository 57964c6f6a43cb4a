"""The billing app's background tasks (run by `mend worker`; see mend.platform.tasks).

Each task takes ids, not objects, and hands over to a service; running one twice does no harm.
"""

from __future__ import annotations

from django_tasks import task


@task()
def membership_charge(membership_id: int, due: str) -> str:
    """On a membership's fee day: charge that month (if still active and still due), then plan the next."""
    from mend.billing.services import credits

    return credits.membership_charge_scheduled(membership_id=membership_id, due=due)
