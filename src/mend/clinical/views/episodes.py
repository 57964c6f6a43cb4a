"""The episode of care: open it, read its chart and timeline, discharge the client."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from mend.clinical import queries, services
from mend.clinical.forms.episodes import DischargeForm, EpisodeForm
from mend.clinical.models import PlanOfCare
from mend.platform.http import ActorRequest
from mend.platform.pages import actor_required, merge_validation_error


@actor_required
@require_http_methods(["GET", "POST"])
def episode_create(request: ActorRequest, client_id: int) -> HttpResponse:
    actor = request.actor
    client = queries.episode_client(actor, client_id)
    form = EpisodeForm(
        request.POST or None,
        therapists=queries.episode_therapist_choices(actor),
        initial={"started_on": actor.today()},
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        therapist = data.pop("therapist", None)
        try:
            episode = services.episode_open(actor=actor, client=client, data=data, therapist=therapist)
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, f"Episode “{episode.title}” opened for {client.display_name}.")
            return redirect("chart", pk=episode.pk)
    status = 400 if form.is_bound else 200
    return render(request, "clinical/episode_form.html", {"form": form, "client": client}, status=status)


@actor_required
@require_http_methods(["GET", "POST"])
def episode_edit(request: ActorRequest, pk: int) -> HttpResponse:
    actor = request.actor
    episode = queries.episode_or_404(actor, pk)
    form = EpisodeForm(request.POST or None, instance=episode)
    if request.method == "POST" and form.is_valid():
        try:
            services.episode_update(actor=actor, episode=episode, data=form.cleaned_data)
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, "Episode saved.")
            return redirect("chart", pk=episode.pk)
    status = 400 if form.is_bound else 200
    context = {"form": form, "client": episode.client, "episode": episode}
    return render(request, "clinical/episode_form.html", context, status=status)


@dataclass
class RegionPlan:
    """The plan's techniques on one region, for the chart's plan summary."""

    region: str
    items: list[dict[str, Any]] = field(default_factory=list)


def _plan_by_region(plan: PlanOfCare | None) -> list[RegionPlan]:
    groups: dict[str, RegionPlan] = {}
    for item in plan.techniques if plan else []:
        region = item.get("region") or ""
        groups.setdefault(region, RegionPlan(region)).items.append(item)
    return list(groups.values())


@actor_required
def chart(request: ActorRequest, pk: int) -> HttpResponse:
    data = queries.chart_page(request.actor, pk)
    episode = data.episode
    referral = data.active_referral
    latest = data.latest_assessment
    context = {
        "episode": episode,
        "client": episode.client,
        "age": episode.client.age_on(data.today),
        "chart": data,
        "screening": data.screening,
        "clearances": data.clearances,
        "referral": referral,
        "referral_status": data.referral_status[referral.pk] if referral else None,
        "other_referrals": [(r, data.referral_status[r.pk]) for r in data.referrals if r != referral],
        "goals": data.goals,
        "pain_regions": list(latest.pain_regions.all()) if latest else [],
        "avoided": data.screening.avoided_regions,
        "plan_regions": _plan_by_region(data.plan),
        "can_write": episode.is_open,
        "mode": "view",
        # Other apps' cards (outcome measures), each under its own name.
        **data.sections,
    }
    return render(request, "clinical/chart.html", context)


@actor_required
def timeline(request: ActorRequest, pk: int) -> HttpResponse:
    data = queries.chart_for_reading(request.actor, pk)
    episode = data.episode
    context = {"episode": episode, "client": episode.client, "timeline": data.timeline}
    return render(request, "clinical/timeline.html", context)


@actor_required
@require_http_methods(["GET", "POST"])
def discharge(request: ActorRequest, pk: int) -> HttpResponse:
    actor = request.actor
    episode = queries.episode_or_404(actor, pk)
    if not episode.is_open:
        # The service refuses a second discharge too; here the page says so instead of a form.
        messages.info(request, f"This episode was discharged on {episode.discharged_on:%Y-%m-%d}.")
        return redirect("chart", pk=episode.pk)
    today = actor.today()
    form = DischargeForm(request.POST or None, initial={"discharged_on": today})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.episode_discharge(
                actor=actor,
                episode=episode,
                reason=data["discharge_reason"],
                summary=data["discharge_summary"],
                on=data["discharged_on"],
            )
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, f"{episode.client.display_name} was discharged from “{episode.title}”.")
            return redirect("chart", pk=episode.pk)
    # Opening the page reads the goals' outcomes (audited); a refused discharge shows them again.
    if request.method == "GET":
        outcomes = queries.discharge_preview(actor, episode)
    else:
        outcomes = queries.goal_outcomes(episode, today=today)
    context = {"form": form, "episode": episode, "client": episode.client, "outcomes": outcomes}
    return render(request, "clinical/discharge_form.html", context, status=400 if form.is_bound else 200)
