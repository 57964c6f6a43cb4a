"""The waitlist: the staff page under /schedule/waitlist/ and the emailed offer's public page.

Staff (every role; a therapist for the clients they may see) list the waiting clients in order,
add and remove them. A client opens ``/book/offer/<token>/`` from the offer's email, signed out:
the slot in the clinic's zone, named, and a "Book it" button. A taken, expired or used offer
answers 409 with a page that says which. Adapters only: reads through
``scheduling.queries.waitlist``, writes through ``scheduling.services.waitlist``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from mend.platform.http import ActorRequest
from mend.platform.pages import actor_required, merge_validation_error
from mend.scheduling.forms.waitlist import WaitlistEntryForm
from mend.scheduling.queries import schedule
from mend.scheduling.queries import waitlist as queries
from mend.scheduling.queries.online import link_token
from mend.scheduling.services import online as online_services
from mend.scheduling.services import waitlist as services

BAD_REQUEST, CONFLICT = 400, 409


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@actor_required
@require_http_methods(["GET", "POST"])
def waitlist(request: ActorRequest) -> HttpResponse:
    """The waiting clients in order, and the form that adds one (its client list searchable)."""
    actor = request.actor
    q = request.GET.get("q", "").strip()[:200]
    selected = _int(request.POST.get("client") or request.GET.get("client"))
    form = WaitlistEntryForm(
        request.POST or None,
        initial={"client": selected or "", "earliest": actor.today()},
        clients=schedule.client_choices(actor, q=q, selected=selected),
        types=list(schedule.appointment_types(actor).order_by("name", "pk")),
        therapists=schedule.therapists(actor),
    )
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.waitlist_entry_add(actor=actor, **form.cleaned_data)
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, f"{entry.client.display_name} is on the waitlist.")
            return redirect("waitlist")
    context: dict[str, Any] = {"rows": queries.waitlist(actor), "form": form, "q": q, "zone": actor.timezone}
    return render(request, "scheduling/waitlist/list.html", context, status=BAD_REQUEST if form.is_bound else 200)


@actor_required
@require_POST
def waitlist_remove(request: ActorRequest, pk: int) -> HttpResponse:
    entry = queries.entry_or_404(request.actor, pk)
    services.waitlist_entry_remove(actor=request.actor, entry=entry)
    messages.success(request, f"{entry.client.display_name} is off the waitlist.")
    return redirect("waitlist")


# --- The emailed offer, signed out ------------------------------------------------------------------


def _closed_page(request: HttpRequest, closed: services.OfferClosed, offer: Any) -> HttpResponse:
    titles = {"taken": "This time was taken", "expired": "This offer has expired", "accepted": "Already booked"}
    context = {"title": titles.get(closed.state, "Not possible"), "text": closed.message, "clinic": offer.clinic}
    return render(request, "scheduling/online/message.html", context, status=CONFLICT)


@never_cache
@require_http_methods(["GET", "POST"])
def waitlist_offer(request: HttpRequest, token: str) -> HttpResponse:
    offer = queries.offer_by_token(token)
    clinic = offer.clinic
    if request.method == "POST":
        try:
            appointment = services.waitlist_offer_accept(token=token, base_url=request.build_absolute_uri("/"))
        except services.OfferClosed as closed:
            return _closed_page(request, closed, offer)
        return redirect("book_done", slug=clinic.slug, token=link_token(appointment, "booked"))
    problem = services.offer_closed(offer, timezone.now())
    if problem is not None:
        return _closed_page(request, problem, offer)
    context = {
        "clinic": clinic,
        "offer": offer,
        "kind": offer.entry.appointment_type,
        "when": online_services.when_words(offer.starts_at, clinic.timezone),
        "until": online_services.when_words(offer.expires_at, clinic.timezone),
        "therapist": offer.therapist.user.get_full_name(),
        "location": offer.room.location if offer.room is not None else None,
        "first_name": offer.entry.client.chosen_name or offer.entry.client.legal_given_name,
    }
    return render(request, "scheduling/waitlist/offer.html", context)
