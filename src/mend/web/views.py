from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from mend.platform.http import ActorRequest
from mend.platform.pages import actor_required
from mend.web import queries


@actor_required
def home(request: ActorRequest) -> HttpResponse:
    found = queries.home(request.actor)
    context = {
        "client_count": found.client_count,
        "therapist_count": found.therapist_count,
        "referrer_count": found.referrer_count,
        "location_count": found.location_count,
        "expiring": found.expiring,
        "today": found.today,
        "flags": found.flags,
        "measures_due": found.measures_due,
    }
    return render(request, "web/home.html", context)


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and `make demo`: the app answers and the database does too."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
