"""A therapist's calendars: the private iCal feed out, personal calendars' busy time in.

The feed itself (``/schedule/feed/<token>.ics``) needs no sign-in: calendar apps fetch it with the
secret in the URL, which is shown once and can be replaced or revoked here.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mend.clinics import queries as clinic_queries
from mend.clinics.models import Membership
from mend.platform.http import ActorRequest
from mend.platform.pages import actor_required
from mend.platform.roles import Role
from mend.scheduling.queries import feeds as queries
from mend.scheduling.services import feeds as services


def _therapist(request: ActorRequest, membership_id: int) -> Membership:
    therapist = clinic_queries.membership_or_404(request.actor, membership_id)
    if therapist.role != Role.THERAPIST:
        raise Http404("No therapist here.")
    if not (request.actor.manages_clinic or request.actor.membership.pk == therapist.pk):
        raise PermissionDenied("Only the therapist or an owner or admin manages a therapist's calendars.")
    return therapist


def _page(request: ActorRequest, therapist: Membership, *, new_url: str = "", error: str = "", status: int = 200):
    page = queries.feeds_page(request.actor, therapist)
    return render(
        request,
        "scheduling/feeds/calendars.html",
        {"page": page, "new_url": new_url, "url_error": error, "own": request.actor.membership.pk == therapist.pk},
        status=status,
    )


@actor_required
@require_GET
def my_calendars(request: ActorRequest) -> HttpResponse:
    """A therapist's own calendars page; others choose a therapist on the setup pages."""
    if request.actor.role != Role.THERAPIST:
        raise Http404("Only therapists have calendars of their own.")
    return redirect("schedule_calendars", membership_id=request.actor.membership.pk)


@actor_required
@require_GET
def calendars(request: ActorRequest, membership_id: int) -> HttpResponse:
    return _page(request, _therapist(request, membership_id))


@actor_required
@require_POST
def feed_create(request: ActorRequest, membership_id: int) -> HttpResponse:
    therapist = _therapist(request, membership_id)
    made = services.calendar_feed_create(actor=request.actor, therapist=therapist)
    url = request.build_absolute_uri(reverse("schedule_feed", args=[made.token]))
    return _page(request, therapist, new_url=url)


@actor_required
@require_POST
def feed_revoke(request: ActorRequest, membership_id: int) -> HttpResponse:
    therapist = _therapist(request, membership_id)
    if services.calendar_feed_revoke(actor=request.actor, therapist=therapist):
        messages.success(request, "The calendar link no longer works. Calendars subscribed to it stop updating.")
    return redirect("schedule_calendars", membership_id=therapist.pk)


@actor_required
@require_POST
def external_add(request: ActorRequest, membership_id: int) -> HttpResponse:
    therapist = _therapist(request, membership_id)
    try:
        calendar = services.external_calendar_save(
            actor=request.actor, therapist=therapist, url=request.POST.get("url", "")
        )
    except ValidationError as error:
        return _page(request, therapist, error=" ".join(error.message_dict.get("url", error.messages)), status=422)
    if services.external_calendar_refresh(calendar=calendar):
        messages.success(request, "Calendar added: its events now count as busy time.")
    else:
        messages.warning(request, "Calendar added, but it could not be read yet; Mend will keep trying.")
    return redirect("schedule_calendars", membership_id=therapist.pk)


@actor_required
@require_POST
def external_delete(request: ActorRequest, pk: int) -> HttpResponse:
    calendar = queries.external_calendar_or_404(request.actor, pk)
    services.external_calendar_delete(actor=request.actor, calendar=calendar)
    messages.success(request, "Calendar removed: its events no longer count as busy time.")
    return redirect("schedule_calendars", membership_id=calendar.therapist_id)


@actor_required
@require_POST
def external_refresh(request: ActorRequest, pk: int) -> HttpResponse:
    calendar = queries.external_calendar_or_404(request.actor, pk)
    services.external_calendar_keep_fresh(calendar=calendar)
    if services.external_calendar_refresh(calendar=calendar):
        messages.success(request, "Calendar read again.")
    else:
        messages.warning(request, "The calendar could not be read; its last busy times still count.")
    return redirect("schedule_calendars", membership_id=calendar.therapist_id)


@require_http_methods(["GET", "HEAD"])
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed a calendar app subscribes to. Unknown and revoked tokens are alike: 404."""
    found = queries.feed_by_token(token)
    if found is None:
        raise Http404("No such calendar.")
    body = queries.feed_body(found)
    services.calendar_feed_read(feed=found)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="mend.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
