from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import cast
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from mend.clinics import queries as clinic_queries
from mend.platform import context
from mend.platform.actor import Actor
from mend.platform.client_address import client_ip
from mend.platform.http import MendRequest
from mend.platform.pages import SESSION_CLINIC_KEY

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

Handler = Callable[[HttpRequest], HttpResponse]


class RequestContextMiddleware:
    """Give each request an id (kept from X-Request-ID when it is well formed) and its client's
    address (through trusted proxies: mend.platform.client_address)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = context.set_context(context.RequestContext(request_id=request_id, ip=client_ip(request)))
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response["X-Request-ID"] = request_id
        return response


class ActiveClinicMiddleware:
    """Resolve the signed-in user's active clinic membership into ``request.actor``.

    One query (memberships with their clinics) serves both the actor and the clinic switcher.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, http_request: HttpRequest) -> HttpResponse:
        # This is where a request becomes the MendRequest the views see.
        request = cast(MendRequest, http_request)
        request.actor = None
        request.memberships = []
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            memberships = clinic_queries.active_memberships(user)
            request.memberships = memberships
            wanted = request.session.get(SESSION_CLINIC_KEY)
            chosen = next((m for m in memberships if m.clinic_id == wanted), None)
            if chosen is None and memberships:
                chosen = memberships[0]
            if chosen is not None:
                request.actor = Actor(user=user, membership=chosen)
                # Dates and times on pages are the clinic's wall-clock time.
                timezone.activate(ZoneInfo(chosen.clinic.timezone))
                context.update(user_id=user.pk, clinic_id=chosen.clinic_id, role=chosen.role)
            else:
                context.update(user_id=user.pk)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class NoStoreMiddleware:
    """Pages for signed-in people carry health information: browsers and proxies must not keep them."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.path.startswith("/api/"):
            add_never_cache_headers(response)
            response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
        return response
