"""The demo clinics a newcomer sees, loaded once for the module: every test here only reads them.

A test that writes does so in its own transaction (signing in, running ``mend demo`` again), rolled
back before the next. Commands that need an empty database are tested in test_seed.py.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from mend import knowledge
from mend.audit.models import AuditEvent
from mend.clinical import icd10, queries
from mend.clinical.models import Addendum, AssessmentKind, DischargeReason, Episode, NoteStatus, TreatmentNote
from mend.clinical.screening import Action
from mend.clinical.seal import note_seal_ok
from mend.clinics.models import Clinic, Membership, Role
from mend.core.credentials import licence_status
from mend.demo.generate import TORONTO, client_rows
from mend.demo.history import Course
from mend.demo.load import DEMO_PASSWORD, HARBOUR_PAST_EPISODES
from mend.demo.schedule import PAST_DAYS, coming_holidays, plan_schedule
from mend.demo.stories import HARBOUR_STORIES, NORTHSIDE_STORIES
from mend.outcomes import score
from mend.outcomes.evidence import evidence_report
from mend.people.models import CareTeamMember, Client, Licence, TherapistProfile
from mend.platform import clock
from mend.platform.actor import Actor
from mend.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    Closure,
    HoursException,
    TimeOff,
    WorkingHours,
)
from mend.scheduling.queries.calendar import window
from mend.scheduling.services import overlapping_active

# Not marked clock, though every date of the demo counts back from Harbour's today: loading it
# takes 8 s (15 s on PostgreSQL), and scripts/test.sh runs the whole suite at 02:30 UTC and in
# Toronto's repeated hour already.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def module_demo(module_db) -> str:
    out = StringIO()
    module_db(lambda: call_command("demo", stdout=out))
    return out.getvalue()


@pytest.fixture
def demo(db, module_demo) -> str:
    """What ``mend demo`` printed when it loaded the demo clinics."""
    return module_demo


def _today() -> date:
    """Today in the demo's Harbour (the demo's dates are counted back from it)."""
    return clock.local_today(Clinic.objects.get(slug="harbour").timezone)


def test_demo_loads_both_clinics_with_the_promised_shape(demo):
    harbour = Clinic.objects.get(slug="harbour")
    northside = Clinic.objects.get(slug="northside")
    assert harbour.name == "Harbour Medical Massage"
    assert northside.name == "Northside Rehab Massage"
    assert (harbour.locations.count(), harbour.rooms.count()) == (2, 5)
    assert (northside.locations.count(), northside.rooms.count()) == (1, 2)
    assert harbour.clients.count() == 250
    assert northside.clients.count() == 20
    assert harbour.referring_providers.count() == 20
    assert TherapistProfile.objects.filter(clinic=harbour).count() == 6
    assert Membership.objects.filter(clinic=northside, role=Role.THERAPIST, user__email="therapist7@example.org")


def test_every_demo_account_signs_in_and_is_printed(demo, client):
    for email in ["owner@example.org", "frontdesk@example.org", "owner2@example.org"] + [
        f"therapist{n}@example.org" for n in range(1, 8)
    ]:
        response = client.post(reverse("login"), {"username": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, email
        client.post(reverse("logout"))
        assert email in demo
    assert DEMO_PASSWORD in demo
    therapist1_clinics = set(
        Membership.objects.filter(user__email="therapist1@example.org").values_list("clinic__slug", flat=True)
    )
    assert therapist1_clinics == {"harbour", "northside"}


def test_demo_shows_licences_needing_attention(demo):
    today = _today()
    licences = Licence.objects.filter(clinic__slug="harbour")
    states = {str(licence_status(lic.expires_on, today).state) for lic in licences}
    assert states == {"expired", "expiring", "valid"}


def test_demo_care_teams_let_therapists_see_clients(demo):
    harbour = Clinic.objects.get(slug="harbour")
    with_primary = CareTeamMember.objects.filter(clinic=harbour, is_primary=True).count()
    assert 200 <= with_primary < 250  # a few new clients wait for a therapist
    specialties = set()
    for profile in TherapistProfile.objects.filter(clinic=harbour):
        specialties |= set(profile.specialties)
    assert {"low_back_pain", "neck_pain", "lymphedema"} <= specialties


def test_demo_runs_again_without_changing_anything(demo, capsys):
    names = list(Client.objects.order_by("pk").values_list("legal_family_name", flat=True))
    call_command("demo")
    assert "already loaded" in capsys.readouterr().out
    assert list(Client.objects.order_by("pk").values_list("legal_family_name", flat=True)) == names


def test_demo_people_are_the_same_on_every_machine():
    first = client_rows(seed=1, count=30, place=TORONTO, today=date(2026, 1, 1))
    again = client_rows(seed=1, count=30, place=TORONTO, today=date(2026, 1, 1))
    assert first == again
    assert all(row["phone"].split(" ")[1].startswith("555-01") for row in first)
    assert all(row["email"].endswith("@example.net") for row in first if row["email"])
    ages = [(date(2026, 1, 1) - row["date_of_birth"]).days // 365 for row in first]
    assert min(ages) >= 18


# --- The demo's episodes of care ---------------------------------------------------------------


def _stage(chart: queries.Chart) -> str:
    episode = chart.episode
    if episode.discharged_on:
        return f"discharged:{episode.discharge_reason}"
    if chart.signed_visits:
        return "treatment"
    if chart.plan:
        return "planned"
    if chart.assessments:
        return "assessed"
    if chart.health_history:
        return "intake"
    return "referral" if chart.referrals else "opened"


@pytest.fixture(scope="module")
def module_harbour_charts(module_db, module_demo) -> list[queries.Chart]:
    return module_db(_harbour_charts)


@pytest.fixture
def harbour_charts(demo, module_harbour_charts) -> list[queries.Chart]:
    """The charts of Harbour's stories (its past episodes are tested apart), built once: read them only."""
    return module_harbour_charts


def _harbour_charts() -> list[queries.Chart]:
    today = _today()
    episodes = Episode.objects.filter(
        clinic__slug="harbour", title__in=[story.title for story in HARBOUR_STORIES]
    ).select_related("client", "therapist")
    return [queries.chart(episode, today=today) for episode in episodes]


def test_demo_harbour_has_episodes_at_every_stage_for_every_therapist(harbour_charts):
    stages = Counter(_stage(chart) for chart in harbour_charts)
    assert 35 <= len(harbour_charts) <= 45
    for stage in ("referral", "intake", "assessed", "planned", "treatment"):
        assert stages[stage] >= 1, stage
    for reason in DischargeReason.values:
        assert stages[f"discharged:{reason}"] >= 1, reason
    assert stages["treatment"] >= 10
    therapists = {chart.episode.therapist_id for chart in harbour_charts}
    assert len(therapists) == 6
    for chart in harbour_charts:
        episode = chart.episode
        assert CareTeamMember.objects.filter(client=episode.client, therapist=episode.therapist, is_primary=True)
        assert episode.condition in knowledge.conditions()
    # Each client tells one story, so a chart is never crowded by another one's.
    assert len({chart.episode.client_id for chart in harbour_charts}) == len(harbour_charts)
    northside = Episode.objects.filter(clinic__slug="northside", title__in=[s.title for s in NORTHSIDE_STORIES])
    assert northside.count() == 4
    assert all(e.client.clinic.slug == "northside" for e in northside.select_related("client__clinic"))


def test_demo_charts_show_refer_clearance_and_a_plan_conflict(harbour_charts):
    refer = [c for c in harbour_charts if c.screening.status == Action.REFER]
    assert refer, "a suspected DVT at a pre-session check"
    assert any(c.drafts and c.drafts[0].visit_on == c.findings[-1].recorded_on for c in refer)
    pending = [c for c in harbour_charts if c.screening.status == Action.CLEARANCE and c.screening.uncleared]
    assert any(a.rule_id == "recent_surgery" for c in pending for a in c.screening.uncleared)
    cleared = [c for c in harbour_charts if c.clearances and c.signed_visits]
    assert {"recent_surgery", "lymphedema"} <= {clearance.rule_id for c in cleared for clearance in c.clearances}
    conflicts = [x for c in harbour_charts for x in c.conflicts if c.screening.status != Action.REFER]
    assert any(x.technique == "deep_tissue" and x.rule_id == "anticoagulant" for x in conflicts)
    modify = [c for c in harbour_charts if c.screening.status == Action.MODIFY]
    assert any(f.rule_id == "anticoagulant" for c in modify for f in c.findings)
    assert any(f.rule_id == "lymphedema" for c in modify for f in c.findings)
    # Apart from the deliberate one and the DVT day, the therapists planned within the screening.
    assert sum(1 for c in harbour_charts if c.conflicts and c.screening.can_treat_today and c.episode.is_open) == 1


def test_demo_referrals_carry_real_codes_and_every_status(harbour_charts):
    states = set()
    for chart in harbour_charts:
        codes = set(knowledge.conditions()[chart.episode.condition].icd10)
        for referral in chart.referrals:
            assert set(referral.diagnosis_codes) <= codes
            assert all(icd10.lookup(code).code == code for code in referral.diagnosis_codes)
            assert referral.provider.clinic.slug == "harbour"
            assert 6 <= referral.visits_authorised <= 12
            assert referral.referred_on <= referral.received_on <= _today()
            states.add(chart.referral_status[referral.pk].state)
    assert states == {"received", "active", "exhausted", "expired", "closed"}


def test_demo_notes_were_signed_as_the_services_demand(harbour_charts):
    today = _today()
    signed = [(c, n) for c in harbour_charts for n in c.notes if n.is_signed]
    assert len(signed) >= 100
    for chart, note in signed:
        techniques = list(note.techniques.all())
        assert techniques and sum(t.minutes for t in techniques) <= note.duration_minutes
        assert note.pain_pre is not None and note.pain_post is not None
        assert note.visit_on < today
        planned = {(t["technique"], t["region"]) for t in chart.plan.techniques}
        assert {(t.technique, t.region) for t in techniques} <= planned
        screening = queries.screening_on(chart.episode, note.visit_on)
        assert screening.can_treat_today and not screening.uncleared
        assert note.signed_by_id == chart.episode.therapist_id
    assert Addendum.objects.filter(note__clinic__slug="harbour").count() == 1
    # Pain falls for those who respond, stays for a plateau and rises for some.
    courses = {c.episode.title: [n.pain_pre for n in reversed(c.notes) if n.is_signed] for c in harbour_charts}
    assert courses["Chronic low back pain with right sciatica"][-1] <= 3
    assert courses["Right ankle sprain, basketball"][-1] > courses["Right ankle sprain, basketball"][0]
    # Muscle tension and the days with pain medication, asked at every visit, ease with the pain.
    back = next(c for c in harbour_charts if c.episode.title == "Chronic low back pain with right sciatica")
    visits = [n for n in reversed(back.notes) if n.is_signed]
    assert all(n.muscle_tension is not None and n.medication_days is not None for n in (n for _, n in signed))
    assert visits[-1].muscle_tension < visits[0].muscle_tension
    assert visits[-1].medication_days < visits[0].medication_days <= 7
    assert visits[0].medication_note and "ibuprofen" in visits[0].medication_note.lower()
    goals = Counter(str(g.state) for c in harbour_charts for g in c.goals)
    assert goals["met"] >= 10 and goals["progressing"] >= 10 and goals["not_met"] >= 3
    assert any(a.kind == AssessmentKind.RE_EVALUATION for c in harbour_charts for a in c.assessments)


def test_demo_notes_hashes_and_audit_trail_verify(demo, capsys):
    notes = TreatmentNote.objects.filter(status=NoteStatus.SIGNED).prefetch_related("techniques")
    assert notes.count() > 100
    assert all(note_seal_ok(note) for note in notes)
    call_command("audit", "verify")
    assert "intact" in capsys.readouterr().out
    # The trail names the treating therapist, in the clinic, for each client's record.
    episode = Episode.objects.filter(clinic__slug="harbour").select_related("therapist").first()
    opened = AuditEvent.objects.get(object_type="clinical.episode", object_id=str(episode.pk), action="create")
    assert (opened.user_id, opened.clinic_id, opened.client_id) == (
        episode.therapist.user_id,
        episode.clinic_id,
        episode.client_id,
    )
    counts = (Episode.objects.count(), TreatmentNote.objects.count(), AuditEvent.objects.count())
    call_command("demo")
    assert (Episode.objects.count(), TreatmentNote.objects.count(), AuditEvent.objects.count()) == counts


def _past(clinic: str):
    stories = {s.title for s in (*HARBOUR_STORIES, *NORTHSIDE_STORIES)}
    return Episode.objects.filter(clinic__slug=clinic).exclude(title__in=stories)


def test_demo_past_episodes_are_finished_care_recorded_as_the_services_record_it(demo):
    past = list(_past("harbour").prefetch_related("notes__techniques", "measure_responses", "goals", "referrals"))
    assert len(past) == HARBOUR_PAST_EPISODES
    today = _today()
    for episode in past:
        assert episode.discharged_on is not None and episode.discharged_on < today
        assert CareTeamMember.objects.filter(client=episode.client_id, therapist=episode.therapist, is_primary=True)
        notes = sorted(episode.notes.all(), key=lambda n: n.visit_on)
        assert notes and all(note_seal_ok(n) and n.signed_by_id == episode.therapist_id for n in notes)
        assert episode.started_on == notes[0].visit_on and notes[-1].visit_on <= episode.discharged_on
        [referral] = episode.referrals.all()
        assert referral.closed_at is not None and referral.received_on <= episode.started_on
        code = referral.diagnosis_codes[0]
        assert code in knowledge.conditions()[episode.condition].icd10 and icd10.lookup(code).code == code
        [goal] = episode.goals.all()
        assert episode.discharge_outcomes[0]["baseline"] == float(goal.baseline) == notes[0].pain_pre
        assert episode.discharge_outcomes[0]["latest"] == notes[-1].pain_pre
        for response in episode.measure_responses.all():
            result = score(response.measure_id, response.answers)
            assert result is not None and result.value == response.value, response
            assert response.note.episode_id == episode.pk and response.collected_on == response.note.visit_on
    # No one-off: Northside has its past too.
    assert _past("northside").exists()


def test_demo_evidence_report_has_groups_worth_reading(demo):
    owner = Membership.objects.select_related("user").get(clinic__slug="harbour", role=Role.OWNER)
    report = evidence_report(Actor(user=owner.user, membership=owner))
    groups, _small = report.grouped(5)
    assert len(groups) >= 10, [g.condition for g in groups]
    nprs = {row.condition_code: row for group in groups for row in group.rows if row.measure.id == "nprs"}
    back, neck = nprs["M54.5"], nprs["M54.2"]
    for row in (back, neck):
        assert row.episodes >= 25 and row.responders is not None and row.change is not None
        # Responders, and non-responders: neither 0% nor 100%, and a real interval around it.
        assert 0.35 < row.responders.estimate < 0.9 and row.responders.high - row.responders.low > 0.1
        assert row.change.low is not None and row.change.low > 0
        assert row.dropout is not None and row.km is not None and row.km.median is not None
    # Some clients got worse, and some plateaued: improvement is not universal.
    pains = [
        [n.pain_pre for n in sorted(e.notes.all(), key=lambda n: n.visit_on)]
        for e in _past("harbour").prefetch_related("notes")
    ]
    assert sum(1 for p in pains if len(p) > 1 and p[-1] > p[0]) >= 3
    assert sum(1 for p in pains if len(p) > 3 and abs(p[-1] - p[0]) <= 1) >= 3
    assert sum(1 for p in pains if len(p) <= 3) >= 10
    assert {c.value for c in Course} == {"responds", "slow", "plateau", "worse", "drops_out"}


def test_demo_evidence_report_page_and_csv_render(demo, client):
    client.post(reverse("login"), {"username": "owner@example.org", "password": DEMO_PASSWORD})
    page = client.get(reverse("evidence_report"))
    assert page.status_code == 200
    html = page.content.decode()
    assert '<th scope="rowgroup" colspan="8">M54.5 Low back pain</th>' in html
    # A curve per condition with enough episodes, drawn when opened; one sentence to quote on top.
    assert html.count('<img src="/outcomes/evidence/curves.svg?condition=') >= 10
    assert "data-headline>" in html and "reached a meaningful change in pain intensity (95% CI" in html
    assert "smaller group" in html and "Cherkin" in html
    csv = client.get(reverse("evidence_csv")).content.decode()
    # The header and a line per row of the groups of five or more: small groups stay out of the CSV.
    main = html.partition('<details class="evidence-small">')[0]
    assert csv.count("\n") == main.count("<tr data-row>") + 1


# --- The demo's calendar ------------------------------------------------------------------------


def _local(moment, zone):
    return moment.astimezone(clock.zone(zone))


def _hours_on(clinic: Clinic, therapist_id: int, day: date) -> list[tuple[time, time]]:
    """The therapist's hours that day as the calendar defines them: the template unless a day off,
    extra hours, less whole days away and closures (partial time off is checked apart)."""
    if Closure.objects.filter(clinic=clinic, location=None, first_day__lte=day, last_day__gte=day).exists():
        return []
    away = TimeOff.objects.filter(therapist_id=therapist_id, first_day__lte=day, last_day__gte=day, starts_at=None)
    if away.exists():
        return []
    exceptions = HoursException.objects.filter(therapist_id=therapist_id, day=day)
    blocks = (
        []
        if exceptions.filter(kind=HoursException.Kind.DAY_OFF).exists()
        else [(h.start, h.end) for h in WorkingHours.objects.filter(therapist_id=therapist_id, weekday=day.weekday())]
    )
    return blocks + [(e.start, e.end) for e in exceptions.filter(kind=HoursException.Kind.EXTRA)]


def _clinic_today(clinic: Clinic) -> date:
    return clock.local_today(clinic.timezone)


def test_demo_calendar_never_double_books_and_keeps_to_working_hours(demo):
    for clinic in Clinic.objects.filter(slug__in=["harbour", "northside"]):
        assert overlapping_active(clinic.pk) == []
        appointments = Appointment.objects.filter(clinic=clinic).exclude(status=AppointmentStatus.CANCELLED)
        assert appointments.count() >= 40
        for appointment in appointments:
            start, end = _local(appointment.starts_at, clinic.timezone), _local(appointment.ends_at, clinic.timezone)
            hours = _hours_on(clinic, appointment.therapist_id, start.date())
            assert any(a <= start.time() and end.time() <= b for a, b in hours), (appointment, hours)
            assert appointment.room is not None and appointment.room.location_id == appointment.location_id
            need = appointment.appointment_type.room_capability
            assert not need or need in appointment.room.capabilities
            assert not TimeOff.objects.filter(
                therapist_id=appointment.therapist_id,
                starts_at__lt=appointment.ends_at,
                ends_at__gt=appointment.starts_at,
            ).exists()


def test_demo_calendar_past_visits_are_the_signed_notes(demo):
    for clinic in Clinic.objects.filter(slug__in=["harbour", "northside"]):
        today = _clinic_today(clinic)
        completed = [
            a
            for a in Appointment.objects.filter(clinic=clinic, status=AppointmentStatus.COMPLETED)
            if _local(a.starts_at, clinic.timezone).date() < today
        ]
        notes = Counter(
            TreatmentNote.objects.filter(
                clinic=clinic,
                status=NoteStatus.SIGNED,
                visit_on__gte=today - timedelta(days=PAST_DAYS),
                visit_on__lt=today,
            ).values_list("client_id", "therapist_id", "visit_on")
        )
        visits = Counter((a.client_id, a.therapist_id, _local(a.starts_at, clinic.timezone).date()) for a in completed)
        # One completed visit per signed note, on its day, with its client and therapist, and no other.
        assert visits == notes and len(notes) >= 5
        for appointment in completed:
            note = TreatmentNote.objects.filter(
                client_id=appointment.client_id, visit_on=_local(appointment.starts_at, clinic.timezone).date()
            ).first()
            assert abs(appointment.minutes - note.duration_minutes) <= 15
        past = Appointment.objects.filter(clinic=clinic, starts_at__lt=timezone.now())
        missed = past.filter(status__in=[AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED])
        assert missed.filter(status=AppointmentStatus.NO_SHOW).exists()
        late = missed.filter(status=AppointmentStatus.CANCELLED)
        assert late.exists() and all(a.cancelled_at < a.starts_at and a.cancel_reason for a in late)
        # About one visit in ten missed (one of each at a small practice).
        assert missed.count() <= max(2, 0.15 * past.count())


def test_demo_calendar_gives_each_working_therapist_a_day_with_their_clients_in_care(demo):
    for clinic in Clinic.objects.filter(slug__in=["harbour", "northside"]):
        today = _clinic_today(clinic)
        start, end = window(clinic.timezone, today, today)
        todays = Appointment.objects.filter(clinic=clinic, starts_at__gte=start, starts_at__lt=end)
        working = {
            t for t in Membership.objects.filter(clinic=clinic, role=Role.THERAPIST) if _hours_on(clinic, t.pk, today)
        }
        assert working, "someone works every day of the week"
        for therapist in working:
            mine = todays.filter(therapist=therapist)
            assert mine.count() >= 2, therapist
            in_care = set(
                Episode.objects.filter(therapist=therapist, discharged_on=None).values_list("client_id", flat=True)
            )
            assert in_care & {a.client_id for a in mine}, therapist
            now = timezone.now()
            for appointment in mine:
                if appointment.ends_at <= now:
                    assert appointment.status == AppointmentStatus.COMPLETED
                elif appointment.starts_at > now:
                    assert appointment.status == AppointmentStatus.BOOKED


def test_demo_calendar_is_about_half_booked_for_four_weeks_with_series_and_requests(demo):
    for clinic in Clinic.objects.filter(slug__in=["harbour", "northside"]):
        today = _clinic_today(clinic)
        working = booked = 0
        for therapist in Membership.objects.filter(clinic=clinic, role=Role.THERAPIST):
            for d in range(1, 29):
                day = today + timedelta(days=d)
                working += sum(
                    (datetime.combine(day, b) - datetime.combine(day, a)).total_seconds() / 60
                    for a, b in _hours_on(clinic, therapist.pk, day)
                )
        start, end = window(clinic.timezone, today + timedelta(days=1), today + timedelta(days=28))
        ahead = Appointment.objects.filter(clinic=clinic, starts_at__gte=start, starts_at__lt=end)
        booked = sum(a.minutes for a in ahead.filter(status__in=ACTIVE_STATUSES))
        assert 0.3 <= booked / working <= 0.7, (clinic.slug, booked / working)
        series = Counter(ahead.exclude(series_id=None).values_list("series_id", flat=True))
        assert series and all(n == 4 for n in series.values())
        for series_id in series:
            times = {
                _local(a.starts_at, clinic.timezone).strftime("%a %H:%M") for a in ahead.filter(series_id=series_id)
            }
            assert len(times) == 1, times  # weekly, at one local time
        # The demo's first therapist, who signs in first, has one to open.
        first = Membership.objects.filter(clinic=clinic, role=Role.THERAPIST).order_by("pk").first()
        assert ahead.filter(therapist=first).exclude(series_id=None).exists()
        requested = ahead.filter(status=AppointmentStatus.REQUESTED)
        assert requested and all(a.channel == Appointment.Channel.ONLINE for a in requested)
        assert ahead.filter(appointment_type__kind=AppointmentType.Kind.INITIAL).exists()
        # Types carry prices in the clinic's currency, and one is for returning clients only.
        types = AppointmentType.objects.filter(clinic=clinic)
        assert all(t.price > 0 for t in types)
        assert types.filter(audience=AppointmentType.Audience.RETURNING).exists()
    assert Closure.objects.filter(clinic__slug="harbour").exists() or TimeOff.objects.filter(reason="Staff training")
    assert AuditEvent.objects.filter(object_type="scheduling.appointment").count() == Appointment.objects.count()


def test_demo_calendar_is_the_same_plan_for_the_same_seed(demo):
    harbour = Clinic.objects.get(slug="harbour")
    therapists = list(Membership.objects.filter(clinic=harbour, role=Role.THERAPIST).order_by("pk"))
    today = _clinic_today(harbour)
    now = datetime.combine(today, time(12, 5), clock.zone(harbour.timezone))
    first = plan_schedule(harbour, therapists, today=today, now=now, seed=31)
    again = plan_schedule(harbour, therapists, today=today, now=now, seed=31)
    assert first == again and len(first.appointments) > 100
    other = plan_schedule(harbour, therapists, today=today, now=now, seed=32)
    assert other.appointments != first.appointments


def test_demo_calendar_closes_on_the_coming_statutory_holidays_of_the_province(demo):
    harbour, northside = Clinic.objects.get(slug="harbour"), Clinic.objects.get(slug="northside")
    today = _clinic_today(harbour)
    coming = coming_holidays(harbour, today + timedelta(days=1), today + timedelta(days=28))
    closures = list(Closure.objects.filter(clinic=harbour).order_by("first_day").values_list("first_day", "reason"))
    assert closures == [(day, f"Statutory holiday: {name}") for day, name in coming]
    if not coming:  # nothing coming: a staff training afternoon instead
        assert TimeOff.objects.filter(clinic=harbour, reason="Staff training").exclude(starts_at=None).exists()
    # Boxing Day is a statutory holiday in Ontario, not in British Columbia.
    winter = (date(2026, 12, 20), date(2027, 1, 5))
    assert [name for _, name in coming_holidays(harbour, *winter)][:2] == ["Christmas Day", "Boxing Day"]
    assert "Boxing Day" not in [name for _, name in coming_holidays(northside, *winter)]
