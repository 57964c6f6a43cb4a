"""The chart and the pages around it: opening an episode, reading the whole record on one page,
the timeline, discharge, the client's list of episodes and the therapist's flags for today."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mend.audit.models import Action, AuditEvent
from mend.clinical import services
from mend.clinical.models import Addendum, Episode, NoteStatus, NoteTechnique, TreatmentNote
from mend.clinical.services import FindingInput, PainInput
from mend.testing import harbour_today, signed_note

# clock: dates here are the clinic's; scripts/test.sh runs this module at hours where UTC's differ.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def _chart(http, episode):
    return http.get(f"/episodes/{episode.pk}/")


@pytest.fixture
def full_episode(personas, tess, episode, referral):
    """Carol's episode with a flag, a clearance-needing finding, a goal, an assessment and notes."""
    today = tess.today()
    services.finding_add(actor=tess, episode=episode, finding=FindingInput("anticoagulant"))
    services.finding_add(actor=tess, episode=episode, finding=FindingInput("recent_surgery", "knee", "right"))
    services.assessment_save(
        actor=tess,
        episode=episode,
        data={"assessed_on": today - timedelta(days=2), "chief_complaint": "Low back pain when sitting", "nprs": 7},
        pain=[PainInput("lower_back", 7, quality="aching")],
        rom=[],
        psfs=[],
        palpation=[],
    )
    services.goal_save(
        actor=tess,
        episode=episode,
        data={"description": "Pain at most 3 out of 10", "measure": "nprs", "baseline": 7, "target": 3},
    )
    return episode


def _clear_surgery(tess, episode) -> None:
    services.clearance_record(
        actor=tess,
        episode=episode,
        data={
            "rule_id": "recent_surgery",
            "cleared_by": "Dr. Sam Surgeon, orthopaedics",
            "cleared_on": tess.today(),
        },
    )


def test_chart_shows_flags_referral_goals_and_notes(login, personas, full_episode, tess):
    _clear_surgery(tess, full_episode)
    signed_note(tess, full_episode, pain=(6, 4))
    response = _chart(login("therapist"), full_episode)
    assert response.status_code == 200
    page = response.content.decode()
    # Header: who and which episode.
    assert "Carol Client" in page and "Chronic low back pain" in page and "Tess Therapist" in page
    # Flags: the anticoagulant's pressure cap and restriction, the knee to avoid, the clearance and who gave it.
    assert "Pressure at most level 2" in page and "No deep tissue work" in page
    assert "right knee" in page
    assert "Cleared by Dr. Sam Surgeon, orthopaedics" in page
    # The referral: provider, code and description, visits used of authorised.
    assert "Dr. Rita Referrer" in page and "M54.50" in page and "1 of 3 used" in page
    # Goals: label, latest measure and status; the note with its pain before → after.
    assert "Pain at most 3 out of 10" in page and "Progressing" in page
    assert "6 → 4" in page and "Signed" in page
    # Write actions for an open episode.
    assert f"/episodes/{full_episode.pk}/notes/new/" in page and "Start today's note" in page


def test_chart_with_an_uncleared_finding_offers_to_record_the_clearance(login, full_episode):
    page = _chart(login("therapist"), full_episode).content.decode()
    assert "Physician clearance needed before treatment" in page
    assert f"/episodes/{full_episode.pk}/clearances/new/" in page


def test_reading_the_chart_is_audited(login, personas, episode):
    _chart(login("owner"), episode)
    event = AuditEvent.objects.filter(action=Action.VIEW, object_type="clinical.episode").latest("id")
    assert (event.object_id, event.client_id, event.user_id) == (str(episode.pk), personas.carol.pk, personas.owner.pk)


@pytest.mark.parametrize(
    ("persona", "status"), [("owner", 200), ("admin", 200), ("front_desk", 403), ("therapist2", 404), ("outsider", 404)]
)
def test_chart_access(login, episode, persona, status):
    assert _chart(login(persona), episode).status_code == status


@pytest.mark.parametrize("path", ["timeline/", "discharge/", "edit/"])
@pytest.mark.parametrize(("persona", "status"), [("front_desk", 403), ("therapist2", 404), ("outsider", 404)])
def test_episode_pages_are_closed_to_those_who_may_not_see_the_client(login, episode, path, persona, status):
    assert login(persona).get(f"/episodes/{episode.pk}/{path}").status_code == status


def _grow_notes(episode, tess, total: int) -> None:
    """Signed notes (each with a technique, every fifth with an addendum) until there are ``total``.

    Inserted as drafts and then signed in one update: the database refuses techniques on a note
    that is already signed, and going through note_sign 200 times would only slow the test.
    """
    existing = TreatmentNote.objects.filter(episode=episode).count()
    today = tess.today()
    membership = tess.membership
    notes = TreatmentNote.objects.bulk_create(
        TreatmentNote(
            clinic=episode.clinic,
            client=episode.client,
            episode=episode,
            therapist=membership,
            visit_on=today - timedelta(days=i + 1),
            pain_pre=6,
            pain_post=4,
        )
        for i in range(existing, total)
    )
    NoteTechnique.objects.bulk_create(
        NoteTechnique(clinic=episode.clinic, note=n, technique="swedish", region="lower_back", minutes=30, pressure=3)
        for n in notes
    )
    ids = [n.pk for n in notes]
    TreatmentNote.objects.filter(pk__in=ids).update(
        status=NoteStatus.SIGNED, signed_at=timezone.now(), signed_by=membership, content_hash="0" * 64
    )
    Addendum.objects.bulk_create(
        Addendum(
            clinic=episode.clinic,
            note_id=pk,
            text="Client called: soreness gone next day.",
            signed_by=membership,
            signed_at=timezone.now(),
            content_hash="1" * 64,
        )
        for pk in ids[::5]
    )


def _count(http, episode) -> tuple[int, list[str]]:
    _chart(http, episode)  # warm up: session, first-visit work
    with CaptureQueriesContext(connection) as captured:
        response = _chart(http, episode)
    assert response.status_code == 200
    return len(captured.captured_queries), [q["sql"] for q in captured.captured_queries]


def test_chart_runs_the_same_queries_with_10_and_with_200_notes(login, full_episode, tess):
    """Queries: session, user, membership (middleware); the episode with client and therapist;
    the chart's 16 (queries.chart: findings, clearances, referrals with visits used, health
    history, checks, assessments + 4 prefetches, goals, plan, notes + techniques + addenda, other
    episodes); the outcome-measures card's 2 (responses, open questionnaire links); the audit row
    (savepoint, chain head, insert, release). None per note."""
    http = login("therapist")
    _grow_notes(full_episode, tess, 10)
    small = _count(http, full_episode)
    _grow_notes(full_episode, tess, 200)
    large = _count(http, full_episode)
    if small[0] != large[0]:
        pytest.fail("\n".join([f"10 notes: {small[0]} queries", *small[1], "", f"200 notes: {large[0]}", *large[1]]))


def test_timeline_lists_every_event_and_the_chart_lists_each_visit_once(login, episode, tess):
    """The chart used to list its latest visits twice, in the notes table and in a timeline card;
    it keeps the notes table (pain before and after, signed or draft, addenda) and links the
    timeline, a page of its own."""
    _grow_notes(episode, tess, 15)
    http = login("therapist")
    chart = _chart(http, episode).content.decode()
    latest = TreatmentNote.objects.filter(episode=episode).first()
    assert chart.count(f'href="/notes/{latest.pk}/"') == 1
    assert 'id="timeline-heading"' not in chart and "Treatment (signed)" not in chart
    assert f'href="/episodes/{episode.pk}/timeline/">Full timeline</a>' in chart
    timeline = http.get(f"/episodes/{episode.pk}/timeline/")
    assert timeline.status_code == 200
    # Fifteen notes, three addenda and the opening of the episode.
    assert len(timeline.context["timeline"]) == 19
    assert "Episode opened" in timeline.content.decode()


def test_therapist_opens_an_episode_from_the_client(login, personas):
    http = login("therapist")
    response = http.post(
        f"/clients/{personas.carol.pk}/episodes/new/",
        {"title": "Neck pain after a fall", "condition": "", "started_on": harbour_today().isoformat()},
    )
    episode = Episode.objects.get(title="Neck pain after a fall")
    assert response.status_code == 302 and response["Location"] == f"/episodes/{episode.pk}/"
    assert episode.therapist == personas.memberships["therapist"]


def test_owner_chooses_the_therapist_and_a_missing_title_keeps_the_rest(login, personas):
    http = login("owner")
    page = http.get(f"/clients/{personas.carol.pk}/episodes/new/")
    assert "Theo Therapist" in page.content.decode()
    theo = personas.memberships["therapist2"]
    bad = http.post(
        f"/clients/{personas.carol.pk}/episodes/new/",
        {"title": "", "condition": "low_back_pain", "started_on": "2026-01-05", "therapist": theo.pk},
    )
    assert bad.status_code == 400
    assert "title" in bad.context["form"].errors
    assert 'value="2026-01-05"' in bad.content.decode()
    good = http.post(
        f"/clients/{personas.carol.pk}/episodes/new/",
        {"title": "Low back", "condition": "low_back_pain", "started_on": "2026-01-05", "therapist": theo.pk},
    )
    assert good.status_code == 302
    assert Episode.objects.get(title="Low back").therapist == theo


def test_front_desk_cannot_open_an_episode(login, personas):
    assert login("front_desk").get(f"/clients/{personas.carol.pk}/episodes/new/").status_code == 403


def test_episode_edit_renames_the_episode(login, episode):
    http = login("therapist")
    response = http.post(
        f"/episodes/{episode.pk}/edit/",
        {"title": "Low back pain, both sides", "condition": "low_back_pain", "started_on": episode.started_on},
    )
    assert response.status_code == 302
    episode.refresh_from_db()
    assert episode.title == "Low back pain, both sides"


def test_discharge_shows_outcomes_then_closes_the_episode(login, full_episode, tess):
    _clear_surgery(tess, full_episode)
    signed_note(tess, full_episode, pain=(2, 1))
    http = login("therapist")
    page = http.get(f"/episodes/{full_episode.pk}/discharge/")
    assert page.status_code == 200
    assert "Pain at most 3 out of 10" in page.content.decode() and "Met" in page.content.decode()

    refused = http.post(
        f"/episodes/{full_episode.pk}/discharge/",
        {"discharge_reason": "", "discharged_on": tess.today().isoformat(), "discharge_summary": "Pain gone."},
    )
    assert refused.status_code == 400
    assert "discharge_reason" in refused.context["form"].errors
    assert "Pain gone." in refused.content.decode()

    done = http.post(
        f"/episodes/{full_episode.pk}/discharge/",
        {
            "discharge_reason": "goals_met",
            "discharged_on": tess.today().isoformat(),
            "discharge_summary": "Pain gone; sitting through a workday.",
        },
    )
    assert done.status_code == 302
    chart = _chart(http, full_episode).content.decode()
    assert "Discharged: Goals met" in chart and "Pain gone; sitting through a workday." in chart
    assert "Start today's note" not in chart and "/discharge/" not in chart
    # The referral closed with the episode: no countdown to an expiry that no longer matters.
    assert ">Closed</span>" in chart and "days left" not in chart and "ago</span>" not in chart
    # The outcomes recorded at discharge.
    full_episode.refresh_from_db()
    assert full_episode.discharge_outcomes[0]["status"] == "met"


def test_discharge_refuses_while_a_draft_is_open(login, episode, tess):
    services.note_start(actor=tess, episode=episode)
    response = login("therapist").post(
        f"/episodes/{episode.pk}/discharge/",
        {"discharge_reason": "plateau", "discharged_on": tess.today().isoformat(), "discharge_summary": ""},
    )
    assert response.status_code == 400
    assert "Sign or delete the draft notes" in response.content.decode()


def test_client_page_lists_episodes_for_clinicians_only(login, personas, episode):
    therapist_page = login("therapist").get(f"/clients/{personas.carol.pk}/").content.decode()
    assert "Episodes of care" in therapist_page and "Chronic low back pain" in therapist_page
    assert f"/clients/{personas.carol.pk}/episodes/new/" in therapist_page
    desk_page = login("front_desk").get(f"/clients/{personas.carol.pk}/").content.decode()
    assert "Episodes of care" not in desk_page and "Chronic low back pain" not in desk_page


def test_home_shows_the_therapists_flags_for_today(login, personas, tess, episode):
    services.finding_add(actor=tess, episode=episode, finding=FindingInput("dvt_suspected", "lower_leg", "left"))
    page = login("therapist").get("/").content.decode()
    assert "Today's flags" in page
    assert f"/episodes/{episode.pk}/" in page and "Carol Client" in page
    # Another therapist's clients stay off their home page.
    other = login("therapist2").get("/").content.decode()
    assert "Carol Client" not in other


def test_home_flags_use_the_same_queries_for_one_or_many_flagged_clients(login, personas, tess, episode):
    http = login("therapist")
    services.finding_add(actor=tess, episode=episode, finding=FindingInput("fever"))

    def count() -> int:
        http.get("/")
        with CaptureQueriesContext(connection) as captured:
            assert http.get("/").status_code == 200
        return len(captured.captured_queries)

    small = count()
    for n in range(5):
        extra = services.episode_open(actor=tess, client=personas.carol, data={"title": f"Problem {n}"})
        services.finding_add(actor=tess, episode=extra, finding=FindingInput("anticoagulant"))
        services.finding_add(actor=tess, episode=extra, finding=FindingInput("dvt_history", "lower_leg", "left"))
    assert count() == small
