from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from mend import access
from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.clinical import queries as clinical_queries
from mend.outcomes import queries as outcome_queries
from mend.people import queries
from mend.platform.pages import actor_required


@actor_required
def home(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    today = timezone.localdate()
    expiring = queries.expiring_licences(actor, today=today, warning_days=settings.MEND_LICENCE_WARNING_DAYS)
    if actor.is_therapist:
        expiring = [(lic, status) for lic, status in expiring if lic.profile.membership_id == actor.membership.pk]
    context = {
        "client_count": access.clients(actor).count(),
        "therapist_count": access.therapists(actor).count(),
        "referrer_count": access.referring_providers(actor).count(),
        "location_count": access.locations(actor).count(),
        "expiring": expiring,
        "today": today,
        "flags": clinical_queries.todays_flags(actor, today) if actor.is_therapist else [],
        "measures_due": outcome_queries.todays_due(actor, today) if actor.is_therapist else [],
    }
    if context["flags"] or context["measures_due"]:
        # Clients' names beside their screening flags and episodes: a read of clinical information.
        audit_record(action=Action.VIEW, object_type="clinical.today", user=actor.user)
    return render(request, "web/home.html", context)


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and `make demo`: the app answers and the database does too."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
