from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from mend import access
from mend.platform.actor import Actor


def clinic(request: HttpRequest) -> dict[str, Any]:
    # getattr: a request the middleware did not reach (an early error page) has no actor.
    actor: Actor | None = getattr(request, "actor", None)
    return {
        "actor": actor,
        "active_clinic": actor.clinic if actor else None,
        "memberships": getattr(request, "memberships", []),
        "can_see_clinical": actor is not None and access.can_see_clinical(actor),
        "can_manage_clinic": actor is not None and access.can_manage_clinic(actor),
        "can_view_audit": actor is not None and access.can_view_audit(actor),
    }
