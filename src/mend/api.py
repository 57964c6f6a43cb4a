"""The REST API at /api/v1/: bearer tokens, JSON errors that name fields, routers per app.

django-ninja was chosen over Django REST framework: typed schemas give the OpenAPI document for
free, and it stays a thin layer over our own services and access policy (see docs/architecture.md).
"""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from mend.accounts.services import TokenExpired, api_token_use
from mend.platform import context
from mend.platform.actor import Actor
from mend.platform.api import field_errors, invalid
from mend.platform.http import ActorRequest, MendRequest


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>``: a live token whose user is still an active member of its clinic."""

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        try:
            actor = api_token_use(raw=token)
        except TokenExpired as expired:
            raise AuthenticationError(message=str(expired)) from None
        if actor is None:
            return None
        # Routes read ``request.actor``, as pages do (see ActorRequest).
        cast(MendRequest, request).actor = actor
        context.update(user_id=actor.user.pk, clinic_id=actor.clinic_id, role=actor.role)
        return actor


api = NinjaAPI(
    title="Mend API",
    version="1",
    description="Clinic data for medical massage practices. Every call acts in the token's clinic.",
    auth=BearerToken(),
    openapi_url="/openapi.json",
    docs_url=None,  # the reference page is Mend's own: mend.web.apidocs
    urls_namespace="api-v1",
)


@api.exception_handler(NinjaValidationError)
def _schema_errors(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "payload", "query", "path")]
        field = ".".join(location) or "__all__"
        errors.setdefault(field, []).append(str(error.get("msg", "Invalid value.")))
    return field_errors(request, errors)


@api.exception_handler(ValidationError)
def _model_errors(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return invalid(request, exc)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "Not allowed for your role."}, status=403)


@api.exception_handler(AuthenticationError)
def _unauthorised(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    # ninja raises a bare AuthenticationError ("Unauthorized") for a missing or unknown token;
    # an expired one carries its own message (BearerToken.authenticate).
    detail = str(exc) if str(exc) != "Unauthorized" else "A valid bearer token is required."
    response = api.create_response(request, {"detail": detail}, status=401)
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.get("/me", tags=["session"], summary="Who the token acts as")
def me(request: ActorRequest) -> dict[str, Any]:
    actor = request.actor
    return {
        "email": actor.user.email,
        "name": actor.user.get_full_name(),
        "clinic": {"slug": actor.clinic.slug, "name": actor.clinic.name, "timezone": actor.clinic.timezone},
        "role": actor.role,
        "server_time": timezone.now().isoformat(),
    }


@csrf_exempt  # like every API route: bearer tokens, no cookies
def unknown_path(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any other path under /api/v1/: a JSON 404 for every method, naming the route meant when the
    path differs from one only by its trailing slash. Mend's API paths have none; answering here
    also keeps Django's APPEND_SLASH from redirecting, which would turn a POST into a GET."""
    detail = f"There is no API route at {request.path}."
    body: dict[str, str] = {"detail": detail}
    other = request.path[:-1] if request.path.endswith("/") else f"{request.path}/"
    try:
        match = resolve(other)
    except Resolver404:
        match = None
    if match is not None and match.url_name != "api-unknown-path" and other.startswith("/api/"):
        body = {"detail": f"{detail} Use {other}: Mend's API paths have no trailing slash.", "path": other}
    return JsonResponse(body, status=404)


def _register_routers() -> None:
    from mend.people.api import clients_router, therapists_router

    api.add_router("/clients", clients_router)
    api.add_router("/therapists", therapists_router)

    from mend.clinical.api import ROUTERS as clinical_routers

    for router in clinical_routers:
        api.add_router("", router)

    from mend.outcomes.api import router as outcomes_router

    api.add_router("", outcomes_router)

    from mend.scheduling.api import router as scheduling_router

    api.add_router("", scheduling_router)

    from mend.billing.api import router as billing_router

    api.add_router("", billing_router)


_register_routers()
