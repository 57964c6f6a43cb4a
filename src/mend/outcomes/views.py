"""Pages for outcome measures: record one in clinic, send a link, the progress page, the clinic
evidence report, and the signed-out questionnaire a client opens from the emailed link.

Adapters only: each view reads through ``queries`` (which loads through the access policy and
audits the read), validates with a form, writes through ``services`` and renders.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from mend import knowledge
from mend.outcomes import charts, evidence, queries, services
from mend.outcomes.forms import EvidenceFilterForm, MeasureForm, SendLinkForm, measure_choices
from mend.outcomes.models import MeasureResponse
from mend.outcomes.scoring import measures
from mend.platform.http import ActorRequest
from mend.platform.pages import actor_required, error_messages, merge_validation_error


def score_text(response: MeasureResponse) -> str:
    if response.value is None:
        return "not computable"
    band = f" ({response.band})" if response.band else ""
    return f"{response.value:.1f}".removesuffix(".0") + band


@actor_required
@require_http_methods(["GET", "POST"])
def response_record(request: ActorRequest, pk: int, measure_id: str) -> HttpResponse:
    actor = request.actor
    page = queries.record_page(actor, episode_id=pk, measure_id=measure_id, audit=request.method == "GET")
    episode, measure = page.episode, page.measure
    if not episode.is_open:
        messages.info(request, "This episode was discharged; its record is read-only.")
        return redirect("chart", pk=episode.pk)
    form = MeasureForm(request.POST if request.method == "POST" else None, measure=measure, activities=page.activities)
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
    context = {"form": form, "measure": measure, "episode": episode, "client": episode.client}
    return render(request, "outcomes/record.html", context, status=400 if form.is_bound else 200)


@actor_required
@require_http_methods(["GET", "POST"])
def link_send(request: ActorRequest, pk: int) -> HttpResponse:
    actor = request.actor
    page = queries.send_page(actor, episode_id=pk, audit=request.method == "GET")
    episode, card = page.episode, page.card
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
def progress(request: ActorRequest, pk: int) -> HttpResponse:
    page = queries.progress_page(request.actor, episode_id=pk)
    episode, data = page.episode, page.progress
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
        "visits": data.visits,
        "visits_svg": charts.visit_chart(data.visits),
        "medication_svg": charts.medication_chart(data.visits),
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
        link = queries.questionnaire_read(token[:300], audit=request.method == "GET")
    except queries.LinkUnusable as unusable:
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
        except queries.LinkUnusable as unusable:
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


def _evidence_filters(request: ActorRequest) -> tuple[EvidenceFilterForm, evidence.EvidenceFilters | None]:
    """The filter form and the filters it holds; None when they do not validate."""
    therapists = queries.evidence_therapists(request.actor)
    form = EvidenceFilterForm(request.GET or None, therapists=therapists, techniques=knowledge.technique_choices())
    if not form.is_bound:
        return form, evidence.EvidenceFilters()
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    return form, evidence.EvidenceFilters(
        therapist_id=data.get("therapist"),
        started_from=data.get("started_from"),
        started_to=data.get("started_to"),
        technique=data.get("technique") or "",
    )


def _trial_panels(report: evidence.EvidenceReport) -> list[dict[str, Any]]:
    """Each published trial beside the clinic's rows for the same ICD-10-CM codes or condition, like
    with like: groups of people the trial did not enrol (Cherkin 2011: sciatica, disc disease) are not
    set beside it, and where the trial counted responders by another rule than the measure's default
    (Sherman 2014: NDI 5 of 50), the panel says so. Groups under the minimum size are counted, not shown."""
    registry = measures()
    panels = []
    for trial in knowledge.evidence_references().trials:
        own, excluded = [], []
        for r in report.rows:
            if r.condition_code == trial.condition or r.condition_code.startswith(trial.icd10):
                own.append(r)
            elif trial.excludes and r.condition_code.startswith(trial.excludes) and r.episodes >= MIN_EPISODES:
                excluded.append(r)
        shown = [r for r in own if r.episodes >= MIN_EPISODES]
        rule_note, by_trial = "", []
        if trial.responder is not None:
            # Like with like: the clinic's own rate by the trial's rule, beside the note.
            for r in shown:
                if r.measure.id == trial.responder.measure:
                    found = r.responders_by(absolute=trial.responder.absolute)
                    if found is not None:
                        by_trial.append({"row": r, "responders": found})
            mcid = registry[trial.responder.measure].mcid
            if mcid is None or mcid.rule != "absolute" or mcid.absolute != trial.responder.absolute:
                ours = mcid.describe() if mcid else "not judged"
                rule_note = (
                    f"The trial counted {trial.responder.as_published} as a response. This clinic's "
                    f"{registry[trial.responder.measure].short} responders are {ours}: a different threshold, "
                    "so the two response rates do not measure the same thing."
                )
        panels.append(
            {
                "trial": trial,
                "rows": shown,
                "omitted": len(own) - len(shown),
                "excluded": sorted({r.condition for r in excluded}),
                "rule_note": rule_note,
                "by_trial": by_trial,
            }
        )
    return panels


def _curves_url(query: str, condition_code: str) -> str:
    params = QueryDict(query, mutable=True)
    params["condition"] = condition_code
    return f"{reverse('evidence_curves')}?{params.urlencode()}"


@actor_required
def evidence_page(request: ActorRequest) -> HttpResponse:
    form, filters = _evidence_filters(request)
    report = evidence.evidence_read(request.actor, filters)
    groups, small = report.grouped(MIN_EPISODES)
    query = request.GET.urlencode()
    context = {
        "section": "evidence",
        "form": form,
        "report": report,
        "headline": evidence.headline(report),
        "groups": [
            {
                "group": group,
                "rows": [_cells(row) for row in group.rows],
                # The curves are drawn on demand (evidence_curves): one SVG per condition made the
                # page long and its rendering most of its time.
                "curves_url": _curves_url(query, group.condition_code) if group.curves else "",
                "reached": "; ".join(f"{label} {km.events} of {km.n}" for label, km in group.curves),
            }
            for group in groups
        ],
        "small": [_cells(row) for row in small],
        "header": evidence.CSV_HEADER,
        "references": knowledge.evidence_references(),
        "trial_panels": _trial_panels(report),
        "query": query,
        "min_episodes": MIN_EPISODES,
        "invalid": filters is None,
        "filtered": filters is not None and form.is_bound and any(form.cleaned_data.values()),
    }
    return render(request, "outcomes/evidence.html", context, status=400 if filters is None else 200)


@actor_required
def evidence_curves(request: ActorRequest) -> HttpResponse:
    """One condition's sessions-to-MCID curves as an SVG image, under the report's filters. The report
    page shows it in an ``<img loading="lazy">`` inside a closed section, so the browser asks for it only
    when the section is opened; as an image, pygal's own styles apply under a Content-Security-Policy
    without 'unsafe-inline' (the page's policy does not reach into an image)."""
    _form, filters = _evidence_filters(request)
    group = evidence.evidence_group_read(request.actor, filters, request.GET.get("condition", ""))
    if group is None:
        raise Http404("No curve for this condition under these filters.")
    svg = charts.km_chart(group.curves, title=f"{group.condition}: sessions to MCID")
    return HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")


@actor_required
def evidence_csv(request: ActorRequest) -> HttpResponse:
    form, filters = _evidence_filters(request)
    if filters is None:
        return HttpResponse("; ".join(e for errors in form.errors.values() for e in error_messages(errors)), status=400)
    response = HttpResponse(evidence.evidence_export(request.actor, filters), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="evidence-report.csv"'
    return response
