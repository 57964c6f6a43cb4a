"""A discharged episode's record is read-only, and the services say so whoever calls them: every
write refuses (the page and the API only turn the refusal into a message or a 422). The one
exception is an addendum, a correction of a signed note, which stays possible after discharge."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from mend.accounts.services import api_token_create
from mend.audit.models import AuditEvent
from mend.clinical import services
from mend.clinical.models import Episode, Goal, Referral, ScreeningFinding, TreatmentNote
from mend.clinical.services import FindingInput, TechniqueInput
from mend.platform.actor import Actor
from mend.testing import intake_answers

pytestmark = pytest.mark.django_db

TECHNIQUE = TechniqueInput("swedish", "lower_back", 30, 2)


@dataclass(frozen=True, slots=True)
class Discharged:
    """Carol's episode, discharged while a referral, a finding, a goal and a draft were still open
    (as a record imported or bulk-written may be), with a signed note from before."""

    tess: Actor
    episode: Episode
    referral: Referral
    finding: ScreeningFinding
    goal: Goal
    draft: TreatmentNote
    signed: TreatmentNote


@pytest.fixture
def discharged(personas) -> Discharged:
    tess = personas.actor("therapist")
    today = tess.today()
    episode = services.episode_open(
        actor=tess, client=personas.carol, data={"title": "Neck pain", "started_on": today - timedelta(days=10)}
    )
    referral = services.referral_save(
        actor=tess, episode=episode, data={"referred_on": today - timedelta(days=10)}, diagnoses=["M54.2"]
    )
    finding = services.finding_add(actor=tess, episode=episode, finding=FindingInput("recent_surgery", "knee", "right"))
    goal = services.goal_save(
        actor=tess, episode=episode, data={"description": "Pain", "measure": "nprs", "baseline": 6, "target": 2}
    )
    signed = services.note_start(actor=tess, episode=episode, visit_on=today - timedelta(days=2))
    services.note_update(actor=tess, note=signed, data={"pain_pre": 5, "pain_post": 3}, techniques=[TECHNIQUE])
    services.note_sign(actor=tess, note=signed)
    draft = services.note_start(actor=tess, episode=episode)
    services.note_update(actor=tess, note=draft, data={"pain_pre": 4, "pain_post": 2}, techniques=[TECHNIQUE])
    # Discharged behind the service's back: the service would have refused the draft and closed the
    # referral. Whatever the way in, the services must not write to it any more.
    Episode.objects.filter(pk=episode.pk).update(discharged_on=today, discharge_reason="goals_met")
    fresh = {
        "episode": Episode.objects.select_related("client").get(pk=episode.pk),
        "referral": Referral.objects.select_related("episode").get(pk=referral.pk),
        "finding": ScreeningFinding.objects.select_related("episode").get(pk=finding.pk),
        "goal": Goal.objects.select_related("episode").get(pk=goal.pk),
        "draft": TreatmentNote.objects.select_related("episode").get(pk=draft.pk),
        "signed": TreatmentNote.objects.select_related("episode").get(pk=signed.pk),
    }
    return Discharged(tess=tess, **fresh)


Write = Callable[[Discharged], Any]

WRITES: dict[str, Write] = {
    "episode_update": lambda r: services.episode_update(actor=r.tess, episode=r.episode, data={"title": "Changed"}),
    "episode_discharge": lambda r: services.episode_discharge(actor=r.tess, episode=r.episode, reason="plateau"),
    "referral_save": lambda r: services.referral_save(
        actor=r.tess, episode=r.episode, data={"referred_on": r.tess.today()}, diagnoses=["M54.2"]
    ),
    "referral_close": lambda r: services.referral_close(actor=r.tess, referral=r.referral),
    "health_history_record": lambda r: services.health_history_record(
        actor=r.tess, episode=r.episode, data={}, answers=intake_answers()
    ),
    "pre_session_check_record": lambda r: services.pre_session_check_record(
        actor=r.tess, episode=r.episode, data={"fever": False, "able_to_consent": True}
    ),
    "finding_add": lambda r: services.finding_add(actor=r.tess, episode=r.episode, finding=FindingInput("fever")),
    "finding_resolve": lambda r: services.finding_resolve(actor=r.tess, finding=r.finding),
    "clearance_record": lambda r: services.clearance_record(
        actor=r.tess,
        episode=r.episode,
        data={"rule_id": "recent_surgery", "cleared_by": "Dr. Sam Surgeon", "cleared_on": r.tess.today()},
    ),
    "assessment_save": lambda r: services.assessment_save(
        actor=r.tess, episode=r.episode, data={"chief_complaint": "Neck"}
    ),
    "goal_save": lambda r: services.goal_save(actor=r.tess, episode=r.episode, goal=r.goal, data={"target": 1}),
    "goal_delete": lambda r: services.goal_delete(actor=r.tess, goal=r.goal),
    "plan_save": lambda r: services.plan_save(
        actor=r.tess, episode=r.episode, data={"sessions_per_week": 1, "weeks": 4}, techniques=[]
    ),
    "note_start": lambda r: services.note_start(actor=r.tess, episode=r.episode),
    "note_update": lambda r: services.note_update(actor=r.tess, note=r.draft, data={"subjective": "Changed"}),
    "note_sign": lambda r: services.note_sign(actor=r.tess, note=r.draft),
    "note_delete_draft": lambda r: services.note_delete_draft(actor=r.tess, note=r.draft),
}


def _state(record: Discharged) -> tuple[Any, ...]:
    """Everything a write could have changed, as the database holds it."""
    episode = Episode.objects.get(pk=record.episode.pk)
    return (
        (episode.title, episode.discharge_reason),
        list(episode.referrals.values_list("pk", "closed_at")),
        list(episode.findings.values_list("pk", "resolved_on")),
        list(episode.goals.values_list("pk", "target")),
        list(episode.notes.values_list("pk", "status", "subjective")),
        episode.assessments.count(),
        episode.health_histories.count(),
        episode.checks.count(),
        episode.clearances.count(),
        AuditEvent.objects.count(),
    )


@pytest.mark.parametrize("write", WRITES, ids=list(WRITES))
def test_every_write_to_a_discharged_episode_is_refused_by_the_service(discharged, write):
    """Called directly, as an import or a command would: refused with the reason, nothing written,
    nothing audited."""
    before = _state(discharged)
    with pytest.raises(ValidationError) as refused:
        WRITES[write](discharged)
    assert "discharged" in " ".join(refused.value.messages)
    assert _state(discharged) == before


def test_an_addendum_is_still_taken_after_discharge(discharged):
    """Correcting the signed record stays possible once the episode is closed."""
    addendum = services.addendum_add(actor=discharged.tess, note=discharged.signed, text="Left knee, not right.")
    assert addendum.pk and addendum.note_id == discharged.signed.pk


def test_closing_a_closed_referral_or_resolving_a_resolved_finding_stays_a_no_op(personas):
    """A real discharge closes the referrals; asking again changes nothing and is not refused."""
    tess = personas.actor("therapist")
    episode = services.episode_open(actor=tess, client=personas.carol, data={"title": "Neck pain"})
    referral = services.referral_save(
        actor=tess, episode=episode, data={"referred_on": tess.today()}, diagnoses=["M54.2"]
    )
    finding = services.finding_add(actor=tess, episode=episode, finding=FindingInput("fever"))
    services.finding_resolve(actor=tess, finding=finding)
    services.episode_discharge(actor=tess, episode=episode, reason="goals_met")
    referral = Referral.objects.select_related("episode").get(pk=referral.pk)
    finding = ScreeningFinding.objects.select_related("episode").get(pk=finding.pk)
    events = AuditEvent.objects.count()
    assert services.referral_close(actor=tess, referral=referral).closed_at is not None
    assert services.finding_resolve(actor=tess, finding=finding).resolved_on is not None
    assert AuditEvent.objects.count() == events


def test_the_api_and_the_pages_pass_the_refusal_on(client, login, personas, discharged):
    """The API answers 422 with the service's reason; the page goes back to the chart and says why."""
    membership = personas.memberships["therapist"]
    raw = api_token_create(user=membership.user, clinic=membership.clinic).raw
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    for path in (f"/findings/{discharged.finding.pk}/resolve", f"/referrals/{discharged.referral.pk}/close"):
        response = client.post("/api/v1" + path, {}, content_type="application/json", **headers)
        assert response.status_code == 422, (path, response.content[:300])
        assert "discharged" in str(response.json()["errors"])
    response = client.delete(f"/api/v1/goals/{discharged.goal.pk}", **headers)
    assert response.status_code == 422
    http = login("therapist")
    for path in (
        f"/findings/{discharged.finding.pk}/resolve/",
        f"/referrals/{discharged.referral.pk}/close/",
        f"/goals/{discharged.goal.pk}/delete/",
    ):
        response = http.post(path, follow=True)
        assert response.redirect_chain[0][0] == f"/episodes/{discharged.episode.pk}/", path
        assert "was discharged" in response.content.decode(), path
    assert Goal.objects.filter(pk=discharged.goal.pk).exists()
    assert ScreeningFinding.objects.get(pk=discharged.finding.pk).resolved_on is None
