"""Goals, the plan of care and the client's printable home program."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from mend import knowledge
from mend.clinical import queries, services
from mend.clinical.forms.plans import (
    GOAL_ERROR_FIELDS,
    GoalForm,
    HomeProgramFormSet,
    PlanForm,
    PlanMeasureFormSet,
    PlanTechniqueFormSet,
    RowForm,
    home_kind_options,
    kept_forms,
)
from mend.clinical.models import Episode, PlanOfCare
from mend.platform.http import ActorRequest
from mend.platform.pages import actor_required, merge_validation_error

# --- Goals ------------------------------------------------------------------------------------


@actor_required
@require_http_methods(["GET", "POST"])
def goal_edit(request: ActorRequest, pk: int | None = None, goal_id: int | None = None) -> HttpResponse:
    actor = request.actor
    start = queries.goal_form(actor, episode_id=pk, goal_id=goal_id, reading=request.method == "GET")
    episode, goal = start.episode, start.goal
    latest = queries.latest_measurements(episode)
    initial: dict[str, Any] = {}
    if goal is not None:
        initial = {
            "description": goal.description,
            "baseline": goal.baseline,
            "target": goal.target,
            "due_on": goal.due_on,
            **GoalForm.initial_for(goal.measure),
        }
    form = GoalForm(request.POST or None, initial=initial, latest={key: m.value for key, m in latest.items()})
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.goal_save(actor=actor, episode=episode, data=form.goal_data(), goal=goal)
        except ValidationError as error:
            _merge_goal_error(form, error)
        else:
            messages.success(request, f"Goal “{saved.description}” saved.")
            return redirect("chart", episode.pk)
    context = {
        "episode": episode,
        "client": episode.client,
        "goal": goal,
        "form": form,
        "psfs_activities": queries.psfs_activities(episode),
        "latest": [
            {"key": key, "label": queries.measure_label(key), "value": m.value, "on": m.on}
            for key, m in sorted(latest.items())
        ],
    }
    return render(request, "clinical/goal_form.html", context, status=400 if form.is_bound else 200)


def _merge_goal_error(form: GoalForm, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, errors in error.message_dict.items():
        field = GOAL_ERROR_FIELDS.get(field, field)
        form.add_error(field if field in form.fields else None, errors)


@actor_required
@require_POST
def goal_delete(request: ActorRequest, goal_id: int) -> HttpResponse:
    actor = request.actor
    goal = queries.goal_or_404(actor, goal_id)
    try:
        services.goal_delete(actor=actor, goal=goal)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Goal “{goal.description}” removed.")
    return redirect("chart", goal.episode_id)


# --- Plan of care -------------------------------------------------------------------------------


def _plan_initial(episode: Episode, plan: PlanOfCare | None) -> dict[str, Any]:
    """What the form starts from: the saved plan, else the conditions knowledge base's suggestion."""
    if plan is not None:
        return {
            "form": {},
            "techniques": plan.techniques,
            "measures": plan.measures,
            "home_program": plan.home_program,
            "dose_source": plan.dose_source,
        }
    suggestion = queries.plan_suggestion(episode.condition)
    return {
        "form": {
            "sessions_per_week": suggestion["sessions_per_week"],
            "weeks": suggestion["weeks"],
            "session_minutes": suggestion["session_minutes"],
            "home_care": suggestion.get("home_care", ""),
        },
        "techniques": suggestion["techniques"],
        "measures": suggestion["measures"],
        "home_program": suggestion.get("home_program", []),
        "dose_source": suggestion.get("dose_source", ""),
    }


def _rows(formset: Any) -> list[dict[str, Any]]:
    """The formset's rows, then its empty row (rendered as a <template> for "Add a row")."""
    rows: list[dict[str, Any]] = [{"index": i, "form": form} for i, form in enumerate(formset.forms)]
    rows.append({"index": "__prefix__", "form": formset.empty_form, "template": True})
    return rows


def _technique_rows(formset: Any, screening: Any, client_id: int) -> list[dict[str, Any]]:
    """Each technique row with the screening conflicts of what it holds (saved or typed)."""
    rows = _rows(formset)
    for row in rows:
        form = row["form"]
        if row.get("template"):
            item = None
        elif form.is_bound:
            data = form.cleaned_data if hasattr(form, "cleaned_data") else {}
            item = form.item() if data.get("technique") and not data.get("DELETE") else None
        else:
            item = form.initial if form.initial.get("technique") else None
        row["conflicts"] = []
        if item is not None:
            probe = PlanOfCare(client_id=client_id, techniques=[item])
            row["conflicts"] = queries.plan_conflicts(probe, screening)
    return rows


@actor_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: ActorRequest, pk: int) -> HttpResponse:
    actor = request.actor
    read = queries.plan_form(actor, pk, reading=request.method == "GET")
    episode, plan = read.episode, read.plan
    start = _plan_initial(episode, plan)
    data = request.POST or None
    form = PlanForm(data, instance=plan, initial=start["form"])
    # Bound rows are what was typed: an initial would make a row equal to it count as unchanged, and
    # Django skips unchanged extra rows.
    rows_from = (lambda key: start[key]) if data is None else (lambda key: None)
    techniques = PlanTechniqueFormSet(data, initial=rows_from("techniques"), prefix="technique")
    measures = PlanMeasureFormSet(data, initial=rows_from("measures"), prefix="measure")
    home = HomeProgramFormSet(data, initial=rows_from("home_program"), prefix="home")
    screening = queries.screening_on(episode, actor.today())
    preview = request.method == "POST" and request.POST.get("_preview") == "1"

    if request.method == "POST" and not preview:
        valid = all([form.is_valid(), techniques.is_valid(), measures.is_valid(), home.is_valid()])
        if valid:
            kept_techniques, kept_home, kept_measures = kept_forms(techniques), kept_forms(home), kept_forms(measures)
            plan_data = {
                **form.cleaned_data,
                "measures": [f.item() for _, f in kept_measures],
                "home_program": [f.item() for _, f in kept_home],
                "dose_source": start["dose_source"],
            }
            try:
                services.plan_save(
                    actor=actor, episode=episode, data=plan_data, techniques=[f.item() for _, f in kept_techniques]
                )
            except ValidationError as error:
                # Row N of a list is the N-th row sent, which may be another row of the page.
                sent: dict[str, Sequence[tuple[int, RowForm]]] = {
                    "techniques": kept_techniques,
                    "home_program": kept_home,
                    "measures": kept_measures,
                }
                sent_rows = {name: [f for _, f in kept] for name, kept in sent.items()}
                merge_validation_error(form, error, rows=sent_rows)
            else:
                messages.success(request, "Plan of care saved.")
                return redirect("chart", episode.pk)
    else:
        techniques.is_valid()  # a preview only needs what each row holds
    rows = _technique_rows(techniques, screening, episode.client_id)
    if preview:
        # Live conflict warnings: htmx swaps each row's warning box out of band.
        conflicts = [c for row in rows for c in row["conflicts"]]
        return render(request, "clinical/_plan_conflicts.html", {"rows": rows, "conflicts": conflicts, "oob": True})
    row_errors = any(f.errors for fs in (techniques, measures, home) for f in fs.forms)
    context = {
        "episode": episode,
        "client": episode.client,
        "plan": plan,
        "form": form,
        "techniques": techniques,
        "technique_rows": rows,
        "measures": measures,
        "measure_rows": _rows(measures),
        "home": home,
        "home_rows": _rows(home),
        "screening": screening,
        "conflicts": [c for row in rows for c in row["conflicts"]],
        "oob": False,
        "dose_source": start["dose_source"],
        "suggested": plan is None and bool(episode.condition),
        "condition": knowledge.conditions().get(episode.condition),
        "has_errors": bool(form.errors) or row_errors,
    }
    return render(request, "clinical/plan_form.html", context, status=400 if request.method == "POST" else 200)


@actor_required
def home_program(request: ActorRequest, pk: int) -> HttpResponse:
    actor = request.actor
    read = queries.home_program_for_printing(actor, pk)
    episode, plan = read.episode, read.plan
    therapist = episode.therapist
    profile = getattr(therapist, "therapist_profile", None)
    kinds = dict(home_kind_options())
    items = [
        {**item, "kind_label": kinds.get(item.get("kind", ""), "")} for item in (plan.home_program if plan else ())
    ]
    context = {
        "episode": episode,
        "client": episode.client,
        "plan": plan,
        "items": items,
        "therapist_name": profile.display_name if profile else therapist.user.get_full_name(),
        "clinic": actor.clinic,
        "today": actor.today(),
    }
    return render(request, "clinical/home_program.html", context)
