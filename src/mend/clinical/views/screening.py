"""Intake and screening pages: the health history, the pre-session check, single findings, and
the physician's clearance with its document."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from mend.clinical import queries, services
from mend.clinical.forms.assessments import filled_rows
from mend.clinical.forms.screening import (
    ClearanceForm,
    FindingForm,
    FindingFormSet,
    HealthHistoryForm,
    PreSessionCheckForm,
    clearance_rules,
    health_history_initial,
)
from mend.clinical.queries import intake as intake_queries
from mend.clinical.screening import Action as Screen
from mend.clinical.screening import Screening, catalogue
from mend.platform.http import ActorRequest
from mend.platform.pages import actor_required, error_messages, merge_validation_error


def screening_message(screening: Screening) -> str:
    """One sentence for the chart's message: the day's status and the findings behind it."""
    if screening.status == Screen.PROCEED:
        return "Screening: no contraindication found."
    names = sorted(
        {
            catalogue().rules[a.rule_id].name
            for a in screening.by_action(screening.status)
            if a.rule_id in catalogue().rules
        }
    )
    because = f" ({'; '.join(names)})" if names else ""
    return f"Screening: {screening.status.label}{because}."


def _answers_to_fields(error: ValidationError) -> ValidationError:
    """The service names a question ``answers.<rule id>``; on the page its field is the rule id."""
    if not hasattr(error, "error_dict"):
        return error
    return ValidationError({name.removeprefix("answers."): messages for name, messages in error.message_dict.items()})


@actor_required
@require_http_methods(["GET", "POST"])
def health_history(request: ActorRequest, pk: int) -> HttpResponse:
    actor = request.actor
    start = queries.health_history_start(actor, pk, reading=request.method == "GET")
    episode, latest = start.episode, start.latest
    today = actor.today()
    initial, extra_rows, previous = health_history_initial(latest, start.open_findings, today)
    # What the client reported from home, beside the question as words: never an answer given here.
    for rule_id, words in intake_queries.reported_beside(actor, episode.client_id).items():
        previous[rule_id] = f"{previous[rule_id]} · {words}" if rule_id in previous else words
    data = request.POST if request.method == "POST" else None
    form = HealthHistoryForm(data, initial=initial, previous=previous)
    extra = FindingFormSet(data, prefix="findings", suggestions=extra_rows, blanks=0 if extra_rows else 1)
    extra_errors: list[str] = []
    if request.method == "POST":
        valid = form.is_valid()
        if extra.is_valid() and valid:
            rows = filled_rows(extra)
            try:
                services.health_history_record(
                    actor=actor,
                    episode=episode,
                    data=form.history_data(),
                    answers=form.answers(),
                    findings=[*form.findings(), *(f.to_input() for f in rows)],
                )
            except ValidationError as error:
                merge_validation_error(form, _answers_to_fields(error), lists={"findings": extra_errors})
            else:
                screening = queries.screening_on(episode, today)
                messages.success(request, f"Health history saved. {screening_message(screening)}")
                return redirect("chart", pk=episode.pk)
        extra_errors.extend(error_messages(extra.non_form_errors()))
    context = {
        "episode": episode,
        "client": episode.client,
        "form": form,
        "extra": extra,
        "extra_errors": extra_errors,
        "latest": latest,
        "previous_episode": start.from_previous_episode,
        "screening": queries.screening_on(episode, today),
        "version": services.HEALTH_HISTORY_VERSION,
    }
    return render(request, "clinical/health_history_form.html", context, status=400 if form.is_bound else 200)


@actor_required
@require_http_methods(["GET", "POST"])
def pre_session_check(request: ActorRequest, pk: int) -> HttpResponse:
    actor = request.actor
    # Opening the form shows the episode's screening: a read, audited; a refused check is not.
    read = queries.episode_for_reading if request.method == "GET" else queries.episode_or_404
    episode = read(actor, pk)
    today = actor.today()
    data = request.POST if request.method == "POST" else None
    form = PreSessionCheckForm(data, initial={"checked_on": today})
    extra = FindingFormSet(data, prefix="findings", blanks=1)
    extra_errors: list[str] = []
    if request.method == "POST":
        valid = form.is_valid()
        if extra.is_valid() and valid:
            try:
                check = services.pre_session_check_record(
                    actor=actor,
                    episode=episode,
                    data=form.check_data(),
                    findings=[f.to_input() for f in filled_rows(extra)],
                )
            except ValidationError as error:
                merge_validation_error(form, error, lists={"findings": extra_errors})
            else:
                screening = queries.screening_on(episode, check.checked_on)
                messages.success(request, f"Pre-session check recorded. {screening_message(screening)}")
                return redirect("chart", pk=episode.pk)
        extra_errors.extend(error_messages(extra.non_form_errors()))
    context = {
        "episode": episode,
        "client": episode.client,
        "form": form,
        "extra": extra,
        "extra_errors": extra_errors,
        "screening": queries.screening_on(episode, today),
    }
    return render(request, "clinical/check_form.html", context, status=400 if form.is_bound else 200)


@actor_required
@require_http_methods(["GET", "POST"])
def finding_add(request: ActorRequest, pk: int) -> HttpResponse:
    actor = request.actor
    read = queries.episode_for_reading if request.method == "GET" else queries.episode_or_404
    episode = read(actor, pk)
    today = actor.today()
    form = FindingForm(request.POST or None, initial={"recorded_on": today, "rule_id": request.GET.get("rule", "")})
    if request.method == "POST" and form.is_valid():
        try:
            finding = services.finding_add(
                actor=actor, episode=episode, finding=form.to_input(), on=form.cleaned_data["recorded_on"]
            )
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            screening = queries.screening_on(episode, today)
            messages.success(
                request, f"{catalogue().rules[finding.rule_id].name} recorded. {screening_message(screening)}"
            )
            return redirect("chart", pk=episode.pk)
    context = {
        "episode": episode,
        "client": episode.client,
        "form": form,
        "rules": catalogue().rules.values(),
        "screening": queries.screening_on(episode, today),
    }
    return render(request, "clinical/finding_form.html", context, status=400 if form.is_bound else 200)


@actor_required
@require_POST
def finding_resolve(request: ActorRequest, finding_id: int) -> HttpResponse:
    actor = request.actor
    finding = queries.finding_or_404(actor, finding_id)
    try:
        services.finding_resolve(actor=actor, finding=finding)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("chart", pk=finding.episode_id)
    name = catalogue().rules[finding.rule_id].name if finding.rule_id in catalogue().rules else finding.rule_id
    screening = queries.screening_on(finding.episode, actor.today())
    messages.success(request, f"{name} marked resolved. {screening_message(screening)}")
    return redirect("chart", pk=finding.episode_id)


@actor_required
@require_http_methods(["GET", "POST"])
def clearance_add(request: ActorRequest, pk: int) -> HttpResponse:
    actor = request.actor
    read = queries.episode_for_reading if request.method == "GET" else queries.episode_or_404
    episode = read(actor, pk)
    today = actor.today()
    screening = queries.screening_on(episode, today)
    rules = clearance_rules(screening.uncleared)
    wanted = request.GET.get("rule", "")
    form = ClearanceForm(
        request.POST or None,
        request.FILES or None,
        initial={"cleared_on": today, "rule_id": wanted if any(r.id == wanted for r in rules) else None},
        rules=rules,
        providers=queries.referring_provider_choices(actor),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.clearance_record(
                actor=actor,
                episode=episode,
                data={
                    "rule_id": data["rule_id"],
                    "cleared_by": data["cleared_by"].strip(),
                    "cleared_on": data["cleared_on"],
                    "conditions": data["conditions"].strip(),
                },
                provider=data.get("provider"),
                document=data.get("document") or None,
            )
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            after = queries.screening_on(episode, today)
            messages.success(request, f"Clearance recorded. {screening_message(after)}")
            return redirect("chart", pk=episode.pk)
    context = {"episode": episode, "client": episode.client, "form": form, "rules": rules, "screening": screening}
    return render(request, "clinical/clearance_form.html", context, status=400 if form.is_bound else 200)


@actor_required
def clearance_document(request: ActorRequest, clearance_id: int) -> FileResponse:
    clearance, handle = queries.clearance_document(request.actor, clearance_id)
    response = FileResponse(
        handle,
        content_type=clearance.document_type or "application/octet-stream",
        filename=clearance.document_download_name,
    )
    # The type was read from the file's first bytes on upload; still, never let it run script here.
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
