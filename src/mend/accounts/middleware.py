"""Session rules every request passes: idle and absolute timeouts, and a clinic's MFA requirement."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from mend.accounts import services, sessions
from mend.platform.http import MendRequest

Handler = Callable[[HttpRequest], HttpResponse]

# Where a member still to set up a second factor may go: their account pages (enrolment,
# password, sign-out), static files, and the API, which answers for its tokens on its own.
_MFA_EXEMPT = ("/accounts/", "/static/", "/api/", "/healthz")


class IdleSessionMiddleware:
    """End a session after MEND_IDLE_MINUTES without a request, or SESSION_COOKIE_AGE after sign-in.

    Any request extends the idle time (written at most once a minute, see ``sessions``). Pages
    then send the person to sign in again, and say why; the API answers 401.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        why = sessions.expired(request.session)
        if not why:
            return self.get_response(request)
        services.session_ended(user=user, why=why)
        logout(request)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": "The session has ended; sign in again."}, status=401)
        if why == "idle":
            messages.info(request, f"You were signed out after {settings.MEND_IDLE_MINUTES} minutes without activity.")
        else:
            messages.info(request, "Your session reached its time limit. Sign in again to go on.")
        if request.headers.get("HX-Request"):
            # htmx would swap the sign-in page into a fragment: have it load the whole page instead.
            response = HttpResponse(status=204)
            response["HX-Redirect"] = redirect_to_login(request.get_full_path())["Location"]
            return response
        return redirect_to_login(request.get_full_path())


class StaffMfaMiddleware:
    """A member of a clinic that requires a second factor, signed in without one, goes to enrol first."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, http_request: HttpRequest) -> HttpResponse:
        request = cast(MendRequest, http_request)
        memberships = getattr(request, "memberships", [])
        if (
            memberships
            and not request.path.startswith(_MFA_EXEMPT)
            and not sessions.has_second_factor(request.session)
            and any(m.clinic.require_staff_mfa for m in memberships)
        ):
            names = ", ".join(m.clinic.name for m in memberships if m.clinic.require_staff_mfa)
            messages.warning(
                request,
                f"{names} asks everyone who works there to sign in with a second step. Set one up to go on.",
            )
            return redirect("account")
        return self.get_response(request)
