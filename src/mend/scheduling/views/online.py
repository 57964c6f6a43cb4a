"""The public online booking, signed out: service → therapist → time → details → confirm; and the emailed
links that cancel or reschedule.

Adapters only: reads through ``scheduling.queries.online``, writes through
``scheduling.services.online``. Plain forms and links (no script needed); every POST carries Django's
CSRF token. What the client typed between steps stays in their (server-side) session, keyed by the
hold's token, never in a URL.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from mend.clinics.models import Clinic
from mend.platform import clock
from mend.scheduling.models import Appointment, AppointmentStatus, AppointmentType, Hold
from mend.scheduling.queries import online as q
from mend.scheduling.services import online as services
from mend.scheduling.services.booking import BookingConflict

ANY = "any"


class NewClientForm(forms.Form):
    legal_given_name = forms.CharField(label="First name", max_length=100)
    legal_family_name = forms.CharField(label="Last name", max_length=100)
    email = forms.EmailField(label="Email", help_text="Your confirmation goes here.")
    phone = forms.CharField(label="Phone", max_length=40, help_text="So the clinic can reach you on the day.")
    date_of_birth = forms.DateField(
        label="Date of birth", widget=forms.DateInput(attrs={"type": "date"}), help_text="For example 1980-04-23."
    )
    consent_email = forms.BooleanField(
        label="The clinic may contact me by email (reminders and messages about my care)", required=False
    )

    def __init__(self, *args: Any, clinic: Clinic, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        for name in ("legal_given_name", "legal_family_name"):
            self.fields[name].widget.attrs["autocomplete"] = "given-name" if "given" in name else "family-name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["phone"].widget.attrs.update(autocomplete="tel", inputmode="tel")
        self.fields["date_of_birth"].widget.attrs["autocomplete"] = "bday"

    def clean_date_of_birth(self) -> date:
        born: date = self.cleaned_data["date_of_birth"]
        if born > clock.local_today(self.clinic.timezone):
            raise ValidationError("Date of birth cannot be in the future.")
        return born


class ReturningForm(forms.Form):
    email = forms.EmailField(label="Email on file", help_text="We email a 6-digit code to this address.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs["autocomplete"] = "email"


class CodeForm(forms.Form):
    code = forms.CharField(label="6-digit code", max_length=12)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update(autocomplete="one-time-code", inputmode="numeric")


# --- Helpers --------------------------------------------------------------------------------


def _state(request: HttpRequest, hold: Hold) -> dict[str, Any]:
    bookings: dict[str, dict[str, Any]] = request.session.setdefault("online_booking", {})
    return bookings.setdefault(hold.token, {})


def _save_state(request: HttpRequest) -> None:
    request.session.modified = True


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _message(request: HttpRequest, title: str, text: str, *, status: int, clinic: Clinic | None = None) -> HttpResponse:
    context = {"title": title, "text": text, "clinic": clinic}
    return render(request, "scheduling/online/message.html", context, status=status)


def _hold_context(hold: Hold, clinic: Clinic, now: datetime) -> dict[str, Any]:
    left = hold.expires_at - now
    return {
        "hold": hold,
        "kind": hold.appointment_type,
        "when": services.when_words(hold.starts_at, clinic.timezone),
        "held_until": services.when_words(hold.expires_at, clinic.timezone).split(", ", 1)[1],
        "held_for": services.minutes_words(left),
        "expired": left <= timedelta(0),
        "therapist": hold.therapist.user.get_full_name(),
    }


def _parse_slot(value: str) -> tuple[int, datetime]:
    therapist, _, start = value.partition("|")
    try:
        moment = datetime.fromisoformat(start)
        therapist_id = int(therapist)
    except ValueError:
        raise ValidationError({"slot": "Choose one of the times listed."}) from None
    if timezone.is_naive(moment):
        raise ValidationError({"slot": "Choose one of the times listed."})
    return therapist_id, moment


def _week(request: HttpRequest) -> int:
    try:
        return max(0, min(int(request.GET.get("week", "0")), 60))
    except ValueError:
        return 0


def _days(
    *,
    clinic: Clinic,
    kind: AppointmentType,
    therapist_id: int | None,
    week: int,
    now: datetime,
    exclude: int | None = None,
) -> dict[str, Any]:
    """One week of days with their free times, for the slot list's page."""
    opens, closes = q.booking_days(kind, clinic=clinic, now=now)
    first = opens + timedelta(days=7 * week)
    last = min(first + timedelta(days=6), closes)
    days: list[dict[str, Any]] = []
    if first <= closes:
        slots = q.online_slots(
            clinic=clinic,
            kind=kind,
            therapist_id=therapist_id,
            first=first,
            last=last,
            now=now,
            exclude_appointment=exclude,
        )
        zone = clock.zone(clinic.timezone)
        by_day: dict[date, list[dict[str, str]]] = {}
        for slot in slots:
            local = slot.start.astimezone(zone)
            by_day.setdefault(local.date(), []).append(
                {"value": f"{slot.therapist}|{slot.start.isoformat()}", "label": f"{local:%H:%M}"}
            )
        day = first
        while day <= last:
            days.append({"date": day, "label": f"{day:%A} {day.day} {day:%B}", "times": by_day.get(day, [])})
            day += timedelta(days=1)
    return {
        "days": days,
        "week": week,
        "earlier": week - 1 if week > 0 else None,
        "later": week + 1 if last < closes else None,
        "zone": clinic.timezone,
        "zone_abbr": timezone.now().astimezone(clock.zone(clinic.timezone)).tzname(),
        "any_free": any(d["times"] for d in days),
    }


# --- The booking ----------------------------------------------------------------------------


@never_cache
def book_start(request: HttpRequest, slug: str) -> HttpResponse:
    clinic = q.public_clinic(slug)
    kinds = q.online_types(clinic)
    return render(request, "scheduling/online/services.html", {"clinic": clinic, "kinds": kinds})


@never_cache
def book_therapist(request: HttpRequest, slug: str, type_id: int) -> HttpResponse:
    clinic = q.public_clinic(slug)
    kind = q.online_type(clinic, type_id)
    context = {"clinic": clinic, "kind": kind, "therapists": list(kind.therapists.all()), "any": ANY}
    return render(request, "scheduling/online/therapists.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def book_slots(request: HttpRequest, slug: str, type_id: int) -> HttpResponse:
    clinic = q.public_clinic(slug)
    kind = q.online_type(clinic, type_id)
    chosen = request.GET.get("therapist", ANY)
    therapist = None if chosen == ANY else q.offered_therapist(kind, _int_or_404(chosen))
    now = timezone.now()
    problem = ""
    status = 200
    if request.method == "POST":
        try:
            therapist_id, starts_at = _parse_slot(request.POST.get("slot", ""))
            if therapist is not None and therapist_id != therapist.pk:
                raise ValidationError({"slot": "Choose one of the times listed."})
            hold = services.hold_create(
                clinic=clinic,
                appointment_type=kind,
                therapist=q.offered_therapist(kind, therapist_id),
                starts_at=starts_at,
                now=now,
            )
            return redirect("book_details", slug=clinic.slug, token=hold.token)
        except Http404:
            problem, status = "Choose one of the times listed.", 400
        except ValidationError as error:
            problem, status = " ".join(error.messages), 400
        except BookingConflict as conflict:
            problem, status = conflict.message, 409
        except services.Throttled as throttled:
            return _message(request, "Please wait a while", str(throttled), status=429, clinic=clinic)
    context = {
        "clinic": clinic,
        "kind": kind,
        "therapist": therapist,
        "therapist_param": chosen if therapist is not None else ANY,
        "problem": problem,
        **_urls(
            reverse("book_slots", args=[clinic.slug, kind.pk]) + f"?therapist={therapist.pk if therapist else ANY}&",
            request,
        ),
        **_days(
            clinic=clinic, kind=kind, therapist_id=therapist.pk if therapist else None, week=_week(request), now=now
        ),
    }
    return render(request, "scheduling/online/slots.html", context, status=status)


def _urls(base: str, request: HttpRequest) -> dict[str, str]:
    """Where the week's form posts (the same week) and the start of the other weeks' links."""
    return {"action": f"{base}week={_week(request)}", "week_base": base}


def _int_or_404(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise Http404("No such therapist") from None


@never_cache
@require_http_methods(["GET", "POST"])
def book_details(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    clinic = q.public_clinic(slug)
    hold = q.hold_lookup(clinic, token)
    kind = hold.appointment_type
    state = _state(request, hold)
    now = timezone.now()
    new_form = NewClientForm(clinic=clinic, prefix="new", initial=state.get("new_form"))
    returning_form = ReturningForm(prefix="returning")
    status = 200
    if request.method == "POST" and request.POST.get("who") == "new":
        new_form = NewClientForm(request.POST, clinic=clinic, prefix="new")
        if kind.audience == AppointmentType.Audience.RETURNING:
            new_form.add_error(
                None, f"{kind.name} is for returning clients. New clients, please book a first visit first."
            )
        if new_form.is_valid():
            data = dict(new_form.cleaned_data)
            state.update(new={**data, "date_of_birth": data["date_of_birth"].isoformat()}, client=None)
            state["new_form"] = state["new"]
            _save_state(request)
            return redirect("book_confirm", slug=clinic.slug, token=hold.token)
        status = 400
    elif request.method == "POST" and request.POST.get("who") == "returning":
        returning_form = ReturningForm(request.POST, prefix="returning")
        if returning_form.is_valid():
            try:
                challenge = services.booking_code_send(
                    clinic=clinic, email=returning_form.cleaned_data["email"], now=now
                )
            except services.Throttled as throttled:
                return _message(request, "Please wait a while", str(throttled), status=429, clinic=clinic)
            state.update(challenge=challenge, email=returning_form.cleaned_data["email"])
            _save_state(request)
            return redirect("book_code", slug=clinic.slug, token=hold.token)
        status = 400
    context = {
        "clinic": clinic,
        "kind": kind,
        "new_form": new_form,
        "returning_form": returning_form,
        "returning_only": kind.audience == AppointmentType.Audience.RETURNING,
        "by_request": kind.audience == AppointmentType.Audience.NEW_BY_REQUEST,
        **_hold_context(hold, clinic, now),
    }
    return render(request, "scheduling/online/details.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def book_code(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    clinic = q.public_clinic(slug)
    hold = q.hold_lookup(clinic, token)
    state = _state(request, hold)
    if "challenge" not in state:
        return redirect("book_details", slug=clinic.slug, token=hold.token)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                client_id = services.booking_code_check(state["challenge"], form.cleaned_data["code"])
            except ValidationError as error:
                form.add_error("code", error.message_dict["code"])
            else:
                state.update(client=client_id, new=None)
                state.pop("challenge")
                _save_state(request)
                return redirect("book_confirm", slug=clinic.slug, token=hold.token)
            finally:
                _save_state(request)
        status = 400
    context = {
        "clinic": clinic,
        "form": form,
        "email": state.get("email", ""),
        **_hold_context(hold, clinic, timezone.now()),
    }
    return render(request, "scheduling/online/code.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def book_confirm(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    clinic = q.public_clinic(slug)
    now = timezone.now()
    if request.method == "POST":
        key = request.POST.get("idempotency_key", "")
        done = q.idempotent_booking(clinic, key) if key else None
        if done is not None:
            # A double click or a resubmitted form: the first request's booking, shown again.
            return _booked_redirect(done)
    hold = q.hold_lookup(clinic, token)
    state = _state(request, hold)
    if not state.get("new") and not state.get("client"):
        return redirect("book_details", slug=clinic.slug, token=hold.token)
    status = 200
    problem = ""
    if request.method == "POST":
        key = request.POST.get("idempotency_key", "")
        if not key or key != state.get("key"):
            problem, status = "This form is out of date: please press Book again.", 400
        else:
            new = state.get("new")
            new_client = {**new, "date_of_birth": date.fromisoformat(new["date_of_birth"])} if new else None
            try:
                booked = services.online_book(
                    clinic=clinic,
                    hold_token=hold.token,
                    key=key,
                    base_url=_base_url(request),
                    client_id=state.get("client"),
                    new_client=new_client,
                    now=now,
                )
            except BookingConflict as conflict:
                again = q.idempotent_booking(clinic, key)
                if again is not None:
                    return _booked_redirect(again)
                problem, status = conflict.message, 409
            except ValidationError as error:
                problem, status = " ".join(error.messages), 400
            else:
                return _booked_redirect(booked.appointment)
    state.setdefault("key", secrets.token_urlsafe(24))
    _save_state(request)
    new = state.get("new")
    context = {
        "clinic": clinic,
        "kind": hold.appointment_type,
        "name": f"{new['legal_given_name']} {new['legal_family_name']}" if new else "",
        "email": new["email"] if new else state.get("email", ""),
        "returning": bool(state.get("client")),
        "by_request": hold.appointment_type.audience == AppointmentType.Audience.NEW_BY_REQUEST
        and not state.get("client"),
        "key": state["key"],
        "problem": problem,
        "hours": settings.MEND_CANCELLATION_HOURS,
        "fee_policy": q.fee_policy(clinic),
        **_hold_context(hold, clinic, now),
    }
    return render(request, "scheduling/online/confirm.html", context, status=status)


def _booked_redirect(appointment: Appointment) -> HttpResponse:
    return redirect("book_done", slug=appointment.clinic.slug, token=q.link_token(appointment, "booked"))


@never_cache
def book_done(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    appointment = q.linked_appointment(token, "booked").appointment
    clinic = appointment.clinic
    if clinic.slug != slug:
        raise Http404("No such booking")
    context = {
        "clinic": clinic,
        "appointment": appointment,
        "requested": appointment.status == AppointmentStatus.REQUESTED,
        "when": services.when_words(appointment.starts_at, clinic.timezone),
        "therapist": appointment.therapist.user.get_full_name(),
        "sections": q.done_sections(appointment),
    }
    return render(request, "scheduling/online/done.html", context)


# --- The emailed links ----------------------------------------------------------------------


def _link_problem(request: HttpRequest, conflict: BookingConflict, clinic: Clinic) -> HttpResponse:
    if isinstance(conflict, services.AlreadyChanged):
        return _message(request, "Already changed", conflict.message, status=409, clinic=clinic)
    if isinstance(conflict, services.TooLate):
        return _message(request, "Too close to the appointment", conflict.message, status=409, clinic=clinic)
    return _message(request, "Not possible", conflict.message, status=409, clinic=clinic)


def _linked_or_problem(request: HttpRequest, token: str, purpose: str) -> tuple[Appointment, HttpResponse | None]:
    linked = q.linked_appointment(token, purpose)
    appointment = linked.appointment
    clinic = appointment.clinic
    if linked.sequence != appointment.sequence or appointment.status not in (
        AppointmentStatus.BOOKED,
        AppointmentStatus.REQUESTED,
    ):
        problem = services.AlreadyChanged(
            "This appointment was already changed with this link, or since the email was sent. "
            "The newest email from the clinic has the links that work."
        )
        return appointment, _link_problem(request, problem, clinic)
    if timezone.now() > services.changeable_until(appointment):
        late = services.TooLate(
            f"Online changes close {settings.MEND_CANCELLATION_HOURS} hours before the appointment: "
            "please call the clinic."
        )
        return appointment, _link_problem(request, late, clinic)
    return appointment, None


@never_cache
@require_http_methods(["GET", "POST"])
def book_cancel(request: HttpRequest, token: str) -> HttpResponse:
    appointment, problem = _linked_or_problem(request, token, "cancel")
    if problem is not None:
        return problem
    clinic = appointment.clinic
    if request.method == "POST":
        try:
            services.online_cancel(token=token, base_url=_base_url(request))
        except BookingConflict as conflict:
            return _link_problem(request, conflict, clinic)
        return _message(
            request,
            "Appointment cancelled",
            f"Your appointment on {services.when_words(appointment.starts_at, clinic.timezone)} is cancelled. "
            "We sent you an email to confirm.",
            status=200,
            clinic=clinic,
        )
    context = {
        "clinic": clinic,
        "appointment": appointment,
        "when": services.when_words(appointment.starts_at, clinic.timezone),
        "therapist": appointment.therapist.user.get_full_name(),
    }
    return render(request, "scheduling/online/cancel.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def book_reschedule(request: HttpRequest, token: str) -> HttpResponse:
    appointment, problem_page = _linked_or_problem(request, token, "reschedule")
    if problem_page is not None:
        return problem_page
    clinic = appointment.clinic
    now = timezone.now()
    problem, status = "", 200
    if request.method == "POST":
        try:
            therapist_id, starts_at = _parse_slot(request.POST.get("slot", ""))
            if therapist_id != appointment.therapist_id:
                raise ValidationError({"slot": "Choose one of the times listed."})
            moved = services.online_reschedule(token=token, starts_at=starts_at, base_url=_base_url(request), now=now)
        except ValidationError as error:
            problem, status = " ".join(error.messages), 400
        except services.AlreadyChanged as conflict:
            return _link_problem(request, conflict, clinic)
        except BookingConflict as conflict:
            problem, status = conflict.message, 409
        else:
            return _message(
                request,
                "Appointment moved",
                f"Your appointment is now on {services.when_words(moved.starts_at, clinic.timezone)}. "
                "We sent you an email with the new time and new links.",
                status=200,
                clinic=clinic,
            )
    context = {
        "clinic": clinic,
        "appointment": appointment,
        "kind": appointment.appointment_type,
        "when": services.when_words(appointment.starts_at, clinic.timezone),
        "therapist": appointment.therapist.user.get_full_name(),
        "problem": problem,
        **_urls(reverse("book_reschedule", args=[token]) + "?", request),
        **_days(
            clinic=clinic,
            kind=appointment.appointment_type,
            therapist_id=appointment.therapist_id,
            week=_week(request),
            now=now,
            exclude=appointment.pk,
        ),
    }
    return render(request, "scheduling/online/reschedule.html", context, status=status)
