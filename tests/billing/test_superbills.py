"""Superbills from signed notes: CPT codes from the knowledge base, units by the payer's rule, untimed hot
or cold packs apart, the visit's invoiced fee shared across its units to the cent, ICD-10 codes from the
referral, and the same number of queries for 2 visits or 20."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from mend.audit.models import AuditEvent
from mend.billing.models import Coverage, Invoice, Payer, UnitRule
from mend.billing.queries import superbills as q
from mend.billing.services import invoices
from mend.clinical import services as clinical
from mend.clinical.models import Episode, TreatmentNote
from mend.testing import Personas

from .helpers import Billing, build_billing, completed_visit

pytestmark = pytest.mark.clock  # visits, referrals and the period are the clinic's dates


@pytest.fixture
def billing(personas: Personas) -> Billing:
    b = build_billing(personas)
    # 100.00 + 13 % HST = 113.00: a fee three units cannot share evenly.
    b.schedule.treatment.price = Decimal("100.00")
    b.schedule.treatment.save()
    personas.therapist_profile.npi = "1234567893"
    personas.therapist_profile.professional_title = "RMT"
    personas.therapist_profile.save()
    return b


@pytest.fixture
def episode(personas: Personas) -> Episode:
    tess = personas.actor("therapist")
    episode = clinical.episode_open(
        actor=tess,
        client=personas.carol,
        data={"title": "Low back pain", "condition": "low_back_pain", "started_on": personas.today - timedelta(60)},
    )
    clinical.referral_save(
        actor=tess,
        episode=episode,
        provider=personas.referrer,
        diagnoses=["M54.50", "M62.830"],
        data={"referred_on": personas.today - timedelta(days=50), "valid_until": personas.today + timedelta(days=30)},
    )
    return episode


def note(
    p: Personas,
    episode: Episode,
    *,
    on: date,
    techniques: list[tuple[str, int]],
    modalities: list[str] | None = None,
) -> TreatmentNote:
    """Tess's signed note of ``on`` with ``techniques`` as (technique id, minutes)."""
    tess = p.actor("therapist")
    draft = clinical.note_start(actor=tess, episode=episode, visit_on=on)
    clinical.note_update(
        actor=tess,
        note=draft,
        data={
            "subjective": "Secret words the insurer never sees.",
            "pain_pre": 6,
            "pain_post": 4,
            "modalities": modalities or [],
        },
        techniques=[clinical.TechniqueInput(t, "lower_back", minutes, 2) for t, minutes in techniques],
    )
    return clinical.note_sign(actor=tess, note=draft)


def issued_visit(p: Personas, b: Billing, *, day: date, hour: int = 10) -> Invoice:
    return invoices.invoice_issue(actor=p.actor("owner"), invoice=completed_visit(p, b, day=day, hour=hour))


def payer(p: Personas, rule: str, *, name: str = "Sun Life") -> Payer:
    found = Payer.objects.create(clinic=p.harbour, name=name, unit_rule=rule, requires_referral=False)
    Coverage.objects.create(clinic=p.harbour, client=p.carol, payer=found, member_id="SL-778899", group_number="G-12")
    return found


SWEDISH_AND_STRETCHING = [("swedish", 24), ("stretching", 23)]


def test_cms_example_one_with_massage_codes(personas, billing, episode):
    """24 min Swedish (97124) + 23 min stretching (97110) = 47 min → 3 units: 97124 × 2, 97110 × 1 (self-pay: CMS)."""
    day = personas.today
    note(personas, episode, on=day, techniques=SWEDISH_AND_STRETCHING)
    issued_visit(personas, billing, day=day)

    superbill = q.superbill_for_period(personas.actor("front_desk"), personas.carol.pk, day, day)

    assert superbill.is_self_pay and superbill.unit_rule == UnitRule.CMS
    (visit,) = superbill.visits
    assert [(line.code, line.minutes, line.units) for line in visit.lines] == [("97124", 24, 2), ("97110", 23, 1)]
    assert visit.untimed == () and visit.problems == ()


def test_ama_payer_counts_each_code_on_its_own(personas, billing, episode):
    """Under the per-code rule 24 → 2 and 23 → 2: four units where CMS gives three."""
    day = personas.today
    payer(personas, UnitRule.AMA)
    note(personas, episode, on=day, techniques=SWEDISH_AND_STRETCHING)
    issued_visit(personas, billing, day=day)

    superbill = q.superbill_for_period(personas.actor("owner"), personas.carol.pk, day, day)

    assert superbill.payer is not None and superbill.payer.member_id == "SL-778899"
    assert superbill.unit_rule == UnitRule.AMA
    assert [(line.code, line.units) for line in superbill.visits[0].lines] == [("97110", 2), ("97124", 2)]


def test_ama_per_code_leaves_a_short_code_unbilled(personas, billing, episode):
    day = personas.today
    payer(personas, UnitRule.AMA)
    note(personas, episode, on=day, techniques=[("swedish", 30), ("myofascial_release", 7)])
    issued_visit(personas, billing, day=day)

    (visit,) = q.superbill_for_period(personas.actor("owner"), personas.carol.pk, day, day).visits

    assert [(line.code, line.units) for line in visit.lines] == [("97124", 2)]
    assert visit.unbilled == (("97140", 7),)


def test_hot_cold_is_untimed_97010_without_minutes(personas, billing, episode):
    """The hot/cold technique and the heat modality give one 97010 line, apart, never in the timed total."""
    day = personas.today
    note(personas, episode, on=day, techniques=[*SWEDISH_AND_STRETCHING, ("hot_cold", 10)], modalities=["heat"])
    issued_visit(personas, billing, day=day)

    (visit,) = q.superbill_for_period(personas.actor("owner"), personas.carol.pk, day, day).visits

    assert [(line.code, line.minutes, line.units, line.charge) for line in visit.untimed] == [
        ("97010", None, 1, Decimal("0.00"))
    ]
    assert visit.timed_minutes == 47
    assert sum(line.units for line in visit.lines) == 3


def test_modality_alone_gives_97010(personas, billing, episode):
    day = personas.today
    note(personas, episode, on=day, techniques=[("swedish", 40)], modalities=["cold"])
    issued_visit(personas, billing, day=day)

    (visit,) = q.superbill_for_period(personas.actor("owner"), personas.carol.pk, day, day).visits

    assert [line.code for line in visit.untimed] == ["97010"]


def test_charges_add_up_exactly_to_the_invoiced_fee(personas, billing, episode):
    """113.00 over 3 units (2 + 1): 75.33 and 37.67, to the cent; paid and balance from the invoice."""
    day = personas.today
    note(personas, episode, on=day, techniques=SWEDISH_AND_STRETCHING)
    invoice = issued_visit(personas, billing, day=day)

    superbill = q.superbill_for_period(personas.actor("owner"), personas.carol.pk, day, day)

    (visit,) = superbill.visits
    assert invoice.total == Decimal("113.00")
    assert visit.charge == invoice.total
    assert [line.charge for line in visit.lines] == [Decimal("75.33"), Decimal("37.67")]
    assert sum(line.charge for line in visit.lines) == invoice.total
    assert superbill.total_charges == invoice.total
    assert superbill.amount_paid == Decimal("0.00") and superbill.balance == invoice.total
    assert visit.invoices == (invoice.label,)


def test_a_visit_without_an_issued_invoice_is_flagged_not_invoiced(personas, billing, episode):
    day = personas.today
    note(personas, episode, on=day, techniques=SWEDISH_AND_STRETCHING)
    completed_visit(personas, billing, day=day)  # a draft: not yet charged

    superbill = q.superbill_for_period(personas.actor("owner"), personas.carol.pk, day, day)

    (visit,) = superbill.visits
    assert visit.charge is None and not visit.invoiced
    assert superbill.total_charges == Decimal("0.00")
    assert any("Not invoiced" in flag for flag in superbill.flagged)


def test_a_credited_visit_is_not_charged(personas, billing, episode):
    day = personas.today
    note(personas, episode, on=day, techniques=SWEDISH_AND_STRETCHING)
    invoice = issued_visit(personas, billing, day=day)
    invoices.credit_note_create(actor=personas.actor("owner"), invoice=invoice, reason="Wrong client")

    (visit,) = q.superbill_for_period(personas.actor("owner"), personas.carol.pk, day, day).visits

    assert visit.charge is None


def test_diagnoses_come_from_the_referral_once_each(personas, billing, episode):
    for days_ago in (1, 0):
        day = personas.today - timedelta(days=days_ago)
        note(personas, episode, on=day, techniques=SWEDISH_AND_STRETCHING)
        issued_visit(personas, billing, day=day)

    superbill = q.superbill_for_period(
        personas.actor("owner"), personas.carol.pk, personas.today - timedelta(days=1), personas.today
    )

    assert [(d.pointer, d.code) for d in superbill.diagnoses] == [("A", "M54.50"), ("B", "M62.830")]
    assert all(d.description for d in superbill.diagnoses)
    assert [v.diagnosis_pointers for v in superbill.visits] == [("A", "B"), ("A", "B")]


def test_provider_npi_and_licence_and_clinic_tax_id(personas, billing, episode):
    day = personas.today
    billing.profile.group_npi = "1245319599"
    billing.profile.save()
    note(personas, episode, on=day, techniques=SWEDISH_AND_STRETCHING)
    issued_visit(personas, billing, day=day)

    superbill = q.superbill_for_period(personas.actor("owner"), personas.carol.pk, day, day)

    (provider,) = superbill.providers
    assert (provider.name, provider.title, provider.npi) == ("Tess Therapist", "RMT", "1234567893")
    assert [(lic.kind, lic.number, lic.jurisdiction) for lic in provider.licences] == [("RMT", "R-1234", "Ontario")]
    assert (superbill.clinic.tax_label, superbill.clinic.tax_number) == ("HST number", "123456789 RT0001")
    assert superbill.clinic.group_npi == "1245319599"
    assert superbill.client.name == "Caroline Client" and superbill.client.date_of_birth == date(1980, 4, 23)


def test_superbill_for_visit_uses_the_invoices_payer_and_its_notes_only(personas, billing, episode):
    day = personas.today
    sun_life = payer(personas, UnitRule.AMA)
    note(personas, episode, on=day - timedelta(days=1), techniques=[("swedish", 60)])  # another visit
    note(personas, episode, on=day, techniques=SWEDISH_AND_STRETCHING)
    invoice = completed_visit(personas, billing, day=day)
    invoice.payer = sun_life
    invoice.save()
    invoice = invoices.invoice_issue(actor=personas.actor("owner"), invoice=invoice)

    superbill = q.superbill_for_visit(personas.actor("front_desk"), invoice.pk)

    assert superbill.payer is not None and superbill.payer.name == "Sun Life"
    assert superbill.invoice_label == invoice.label
    assert [v.on for v in superbill.visits] == [day]
    assert sum(line.units for line in superbill.visits[0].lines) == 4  # AMA: 2 + 2
    assert q.filename(superbill) == f"superbill-client-{invoice.label}.pdf"


def test_superbill_for_a_draft_is_refused(personas, billing, episode):
    draft = completed_visit(personas, billing, day=personas.today)
    with pytest.raises(ValidationError):
        q.superbill_for_visit(personas.actor("owner"), draft.pk)


def test_invoiced_visit_without_a_signed_note_is_listed_and_flagged(personas, billing, episode):
    day = personas.today
    issued_visit(personas, billing, day=day)

    superbill = q.superbill_for_period(personas.actor("owner"), personas.carol.pk, day, day)

    (visit,) = superbill.visits
    assert visit.lines == () and visit.charge == Decimal("113.00")
    assert any("no signed treatment note" in flag for flag in superbill.flagged)


def test_notes_text_is_not_loaded(personas, billing, episode):
    """Front desk's superbill reads codes and minutes, not the note's prose."""
    day = personas.today
    note(personas, episode, on=day, techniques=SWEDISH_AND_STRETCHING)
    with CaptureQueriesContext(connection) as captured:
        q.superbill_for_period(personas.actor("front_desk"), personas.carol.pk, day, day)
    note_selects = [c["sql"] for c in captured.captured_queries if 'FROM "clinical_treatmentnote"' in c["sql"]]
    assert note_selects and all('"subjective"' not in sql for sql in note_selects)


def test_reading_a_superbill_is_audited(personas, billing, episode):
    day = personas.today
    before = AuditEvent.objects.filter(object_type="billing.superbill").count()
    q.superbill_for_period(personas.actor("front_desk"), personas.carol.pk, day, day)
    q.superbill_for_period(personas.actor("front_desk"), personas.carol.pk, day, day, printing=True)
    events = list(AuditEvent.objects.filter(object_type="billing.superbill").order_by("pk"))[before:]
    assert [(e.action, e.client_id) for e in events] == [("view", personas.carol.pk), ("print", personas.carol.pk)]


def test_access_follows_the_clients_visibility(personas, billing, episode):
    day = personas.today
    q.superbill_for_period(personas.actor("front_desk"), personas.carol.pk, day, day)
    q.superbill_for_period(personas.actor("therapist"), personas.carol.pk, day, day)
    for actor, client in (
        (personas.actor("therapist2"), personas.carol),  # not on Carol's care team
        (personas.actor("therapist"), personas.dan),
        (personas.actor("outsider"), personas.carol),
    ):
        with pytest.raises(Http404):
            q.superbill_for_period(actor, client.pk, day, day)


def test_a_period_ending_before_it_starts_is_refused(personas, billing):
    with pytest.raises(ValidationError):
        q.superbill_for_period(
            personas.actor("owner"), personas.carol.pk, personas.today, personas.today - timedelta(1)
        )


def _visits(p: Personas, b: Billing, episode: Episode, count: int, *, offset: int) -> tuple[date, date]:
    days = [p.today - timedelta(days=offset + n) for n in range(count)]
    for day in days:
        note(p, episode, on=day, techniques=[*SWEDISH_AND_STRETCHING, ("hot_cold", 5)], modalities=["cold"])
        issued_visit(p, b, day=day)
    return min(days), max(days)


def test_queries_do_not_grow_with_the_visits(personas, billing, episode):
    """2 visits or 20: client, coverage, notes, techniques, invoice lines, billing profile, licences,
    then the audit row (its chain lock, last row and insert)."""
    actor = personas.actor("front_desk")
    counts = []
    for count, offset in ((2, 1), (20, 3)):
        start, end = _visits(personas, billing, episode, count, offset=offset)
        with CaptureQueriesContext(connection) as captured:
            superbill = q.superbill_for_period(actor, personas.carol.pk, start, end)
        assert len(superbill.visits) == count
        counts.append((len(captured.captured_queries), [c["sql"] for c in captured.captured_queries]))
    (small, small_sql), (large, large_sql) = counts
    assert small == large, "\n".join([f"2 visits: {small}", *small_sql, "", f"20 visits: {large}", *large_sql])
    assert large <= 14
