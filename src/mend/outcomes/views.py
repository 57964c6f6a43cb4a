"""Pages for outcome measures: record one in clinic, send a link, the progress page, and the
signed-out questionnaire a client opens from the emailed link."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from mend import access, knowledge
from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.clinical.models import PsfsActivity
from mend.outcomes import charts, evidence, queries, services
from mend.outcomes.forms import EvidenceFilterForm, MeasureForm, SendLinkForm, measure_choices
from mend.outcomes.models import MeasureResponse
from mend.outcomes.scoring import measures
from mend.platform.pages import actor_required, merge_validation_error


def _measure_or_404(measure_id: str) -> Any:
    measure = measures().get(measure_id)
    if measure is None:
        raise Http404("No such outcome measure.")
    return measure


def _psfs_activities(episode: Any) -> list[str]:
    """The activities the client rated last time (PSFS re-reads the same list at follow-up)."""
    last = MeasureResponse.objects.filter(episode=episode, measure_id="psfs").order_by("-collected_on", "-id").first()
    if last is not None and last.item_labels:
        return list(last.item_labels)
    rows = PsfsActivity.objects.filter(assessment__episode=episode).order_by("-assessment__assessed_on", "id")
    seen: dict[str, None] = {}
    for row in rows[:20]:
        seen.setdefault(row.activity, None)
    return list(seen)[: services.PSFS_MAX_ACTIVITIES]


def score_text(response: MeasureResponse) -> str:
    if response.value is None:
        return "not computable"
    band = f" ({response.band})" if response.band else ""
    return f"{response.value:.1f}".removesuffix(".0") + band


@actor_required
@require_http_methods(["GET", "POST"])
def response_record(request: HttpRequest, pk: int, measure_id: str) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    episode = access.episode_or_404(actor, pk)
    measure = _measure_or_404(measure_id)
    if not episode.is_open:
        messages.info(request, "This episode was discharged; its record is read-only.")
        return redirect("chart", pk=episode.pk)
    activities = _psfs_activities(episode) if measure.items is None else []
    form = MeasureForm(request.POST if request.method == "POST" else None, measure=measure, activities=activities)
    if request.method == "POST" and form.is_valid():
        try:
            response = services.response_record(
                actor=actor,
                episode=episode,
                measure_id=measure.id,
                answers=form.answers(),
                item_labels=form.item_labels(),
                collected_on=form.cleaned_data["collected_on"],
            )
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, f"{measure.short} recorded: {score_text(response)}.")
            return redirect("chart", pk=episode.pk)
    if request.method == "GET":
        audit_record(action=Action.VIEW, obj=episode, client_id=episode.client_id, user=actor.user)
    context = {"form": form, "measure": measure, "episode": episode, "client": episode.client}
    return render(request, "outcomes/record.html", context, status=400 if form.is_bound else 200)


@actor_required
@require_http_methods(["GET", "POST"])
def link_send(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    episode = access.episode_or_404(actor, pk)
    card = queries.outcomes_card(episode, plan=getattr(episode, "plan", None), notes=[], today=timezone.localdate())
    # Every measure of the episode is listed; those a client cannot answer alone (PSFS, licensed
    # wording not loaded) are shown disabled with the reason rather than refused after submitting.
    ids = [s.measure.id for s in card.summaries] or list(measures())
    form = SendLinkForm(
        request.POST if request.method == "POST" else None,
        choices=measure_choices(ids),
        initial={"measures": card.sendable_due},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.link_create_and_send(
                actor=actor,
                episode=episode,
                measure_ids=form.cleaned_data["measures"],
                base_url=request.build_absolute_uri("/"),
            )
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, f"The questionnaire link was emailed to {episode.client.email}.")
            return redirect("chart", pk=episode.pk)
    client = episode.client
    problem = ""
    if not client.email:
        problem = f"{client.display_name} has no email address on file."
    elif not client.consent_email:
        problem = f"{client.display_name} has not agreed to be contacted by email."
    elif not episode.is_open:
        problem = "This episode was discharged."
    context = {"form": form, "episode": episode, "client": client, "problem": problem, "links": card.links}
    return render(request, "outcomes/send.html", context, status=400 if form.is_bound else 200)


@actor_required
def progress(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    episode = access.episode_or_404(actor, pk)
    data = queries.progress(episode)
    audit_record(action=Action.VIEW, object_type="outcomes.progress", object_id=episode.pk,
                 client_id=episode.client_id, user=actor.user)  # fmt: skip
    panels = []
    for summary in data.summaries:
        goals = [(g.description, float(g.target)) for g in data.goals_for(summary.measure.id)]
        svg = charts.measure_chart(summary, goals=goals, sessions=data.sessions) if summary.responses else ""
        panels.append({"summary": summary, "svg": svg})
    context = {
        "episode": episode,
        "client": episode.client,
        "panels": panels,
        "rom": data.rom,
        "rom_svg": charts.rom_chart(data.rom) if data.rom else "",
        "sessions": data.sessions,
    }
    return render(request, "outcomes/progress.html", context)


# --- The client's questionnaire, signed out -------------------------------------------------

_UNUSABLE = {
    "invalid": (
        404,
        "This link does not work",
        "Check that the whole link from the email was opened, or ask the clinic for a new one.",
    ),
    "expired": (410, "This link has expired", "Links work for a limited time. Ask the clinic to send you a new one."),
    "used": (
        410,
        "This questionnaire was already answered",
        "Thank you: your answers reached the clinic. Each link works once.",
    ),
}


def _unusable(request: HttpRequest, reason: str) -> HttpResponse:
    status, title, message = _UNUSABLE[reason]
    return render(request, "outcomes/link_unusable.html", {"title": title, "message": message}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def questionnaire(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: no sign-in. Every failure is a page that says why, never a 500."""
    try:
        link = services.link_lookup(token[:300])
    except services.LinkUnusable as unusable:
        return _unusable(request, unusable.reason)
    registry = measures()
    forms_ = [
        MeasureForm(request.POST if request.method == "POST" else None, measure=registry[m], in_clinic=False, prefix=m)
        for m in link.measures
        if m in registry
    ]
    if request.method == "POST" and all(f.is_valid() for f in forms_):
        try:
            services.link_redeem(
                token=token[:300],
                responses=[services.RemoteAnswers(f.measure.id, f.answers()) for f in forms_],
            )
        except services.LinkUnusable as unusable:
            return _unusable(request, unusable.reason)
        except ValidationError as error:
            by_measure = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
            for f in forms_:
                for message in by_measure.get(f.measure.id, []):
                    f.add_error(None, message)
            if by_measure.get("__all__") and forms_:
                forms_[0].add_error(None, by_measure["__all__"])
        else:
            # The thanks page says the answers arrived only to whoever just sent them.
            request.session["outcomes_questionnaire_answered"] = True
            return redirect("questionnaire_thanks")
    if request.method == "GET":
        audit_record(action=Action.VIEW, obj=link, client_id=link.client_id, user_email=link.sent_to,
                     clinic_id=link.clinic_id, role="client")  # fmt: skip
    context = {
        "link": link,
        "first_name": link.client.chosen_name or link.client.legal_given_name,
        "clinic": link.clinic,
        "forms": forms_,
        "problems": sum(len(f.errors) + len(f.non_field_errors()) for f in forms_) if request.method == "POST" else 0,
        "error_links": [(f.measure.name, link) for f in forms_ for link in f.error_links()],
    }
    return render(request, "outcomes/questionnaire.html", context, status=400 if request.method == "POST" else 200)


@never_cache
def questionnaire_thanks(request: HttpRequest) -> HttpResponse:
    """After a submission, the confirmation; opened directly, a neutral page (it confirms nothing)."""
    answered = bool(request.session.get("outcomes_questionnaire_answered"))  # set by questionnaire()
    return render(request, "outcomes/thanks.html", {"answered": answered})


# --- The clinic evidence report ---------------------------------------------------------------


MIN_EPISODES = evidence.MIN_EPISODES


def _cells(row: evidence.EvidenceRow) -> dict[str, Any]:
    return {"row": row, "c": dict(zip(evidence.CSV_HEADER, evidence.row_cells(row), strict=True))}


def _evidence(request: HttpRequest) -> tuple[Any, EvidenceFilterForm, evidence.EvidenceReport]:
    actor = request.actor  # type: ignore[attr-defined]
    access.require_clinical(actor)
    therapists = (
        None
        if actor.is_therapist
        else [(m.pk, m.user.full_name or m.user.email) for m in access.therapist_memberships(actor)]
    )
    form = EvidenceFilterForm(request.GET or None, therapists=therapists, techniques=knowledge.technique_choices())
    filters = evidence.EvidenceFilters()
    if form.is_bound and not form.is_valid():
        return actor, form, evidence.EvidenceReport(filters, 0)  # no numbers from filters that do not hold
    if form.is_bound:
        data = form.cleaned_data
        filters = evidence.EvidenceFilters(
            therapist_id=data.get("therapist"),
            started_from=data.get("started_from"),
            started_to=data.get("started_to"),
            technique=data.get("technique") or "",
        )
    return actor, form, evidence.evidence_report(actor, filters)


def _trial_panels(report: evidence.EvidenceReport) -> list[dict[str, Any]]:
    """Each published trial beside the clinic's rows for the same ICD-10-CM codes or condition;
    groups under the minimum size are counted, not set beside a trial."""
    panels = []
    for trial in knowledge.evidence_references().trials:
        own = [
            r
            for r in report.rows
            if r.condition_code == trial.condition or any(r.condition_code.startswith(c) for c in trial.icd10)
        ]
        shown = [r for r in own if r.episodes >= MIN_EPISODES]
        panels.append({"trial": trial, "rows": shown, "omitted": len(own) - len(shown)})
    return panels


@actor_required
def evidence_page(request: HttpRequest) -> HttpResponse:
    actor, form, report = _evidence(request)
    audit_record(action=Action.VIEW, object_type="outcomes.evidence", user=actor.user)
    groups, small = report.grouped(MIN_EPISODES)
    context = {
        "section": "evidence",
        "form": form,
        "report": report,
        "groups": [
            {
                "group": group,
                "rows": [_cells(row) for row in group.rows],
                # One chart per condition: a line per measure with an MCID.
                "svg": charts.km_chart(group.curves, title=f"{group.condition}: sessions to MCID")
                if group.curves
                else "",
                "reached": "; ".join(f"{label} {km.events} of {km.n}" for label, km in group.curves),
            }
            for group in groups
        ],
        "small": [_cells(row) for row in small],
        "header": evidence.CSV_HEADER,
        "references": knowledge.evidence_references(),
        "trial_panels": _trial_panels(report),
        "query": request.GET.urlencode(),
        "min_episodes": MIN_EPISODES,
        "invalid": form.is_bound and bool(form.errors),
        "filtered": form.is_bound and not form.errors and any(form.cleaned_data.values()),
    }
    return render(request, "outcomes/evidence.html", context, status=400 if form.is_bound and form.errors else 200)


@actor_required
def evidence_csv(request: HttpRequest) -> HttpResponse:
    actor, form, report = _evidence(request)
    if form.is_bound and form.errors:
        return HttpResponse("; ".join(e for errors in form.errors.values() for e in errors), status=400)
    audit_record(action=Action.EXPORT, object_type="outcomes.evidence", user=actor.user)
    response = HttpResponse(evidence.report_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="evidence-report.csv"'
    return response
