from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from mend import access


def clinic(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    return {
        "actor": actor,
        "active_clinic": actor.clinic if actor else None,
        "memberships": getattr(request, "memberships", []),
        "can_see_clinical": bool(actor) and access.can_see_clinical(actor),
        "can_manage_clinic": bool(actor) and access.can_manage_clinic(actor),
        "can_view_audit": bool(actor) and access.can_view_audit(actor),
    }
