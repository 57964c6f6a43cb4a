from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from mend.api import api
from mend.platform.http import ActorRequest
from mend.platform.pages import actor_required
from mend.web import apidocs, queries


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
        "day": found.day,
    }
    return render(request, "web/home.html", context)


def api_docs(request: HttpRequest) -> HttpResponse:
    """The API's reference, read from its OpenAPI document; open to anyone, like the document."""
    return render(request, "web/api_docs.html", {"doc": apidocs.api_doc(api.get_openapi_schema())})


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and `make demo`: the app answers and the database does too."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
