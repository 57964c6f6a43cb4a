"""Superbills: what a client hands their insurer to claim for visits they paid the clinic for.

A superbill carries codes, units, diagnoses and charges, never a note's text, so everyone who bills
may produce one (front desk included); a therapist only for the clients on their care team, and
another clinic's client or invoice is a 404 (``people.queries.clients``, ``invoices.invoice_or_404``).
Reading one is audited: its diagnoses are health information.

Where each part comes from:

- **CPT codes and minutes**: the client's *signed* treatment notes. Each technique's CPT code is in
  the knowledge base (``techniques.json``, field ``cpt``); its minutes are the note's. Hot or cold
  packs (the ``hot_cold`` technique, or the note's heat/cold modalities) are 97010, untimed: one unit,
  no minutes, listed apart and never counted in the timed total.
- **Units**: per visit (one client's date of service with one therapist) by the payer's rule
  (``mend.billing.units.timed_units``): CMS total time or the AMA per-code rule, CMS when self-pay.
- **Charges**: the visit's *issued* invoice line for the treatment, matched to the note by client,
  therapist and date of service (``service_on == visit_on``); a line a credit note reversed does not
  count. Its total (tax included, what the client was charged) is split across the visit's timed
  units with ``mend.core.money.allocate``, so the lines add up to the fee to the cent; untimed lines
  are 0.00. A visit with no such line says "not invoiced" and is flagged.
- **Diagnoses**: the ICD-10-CM codes of each note's referral, once each, in order of first use.

Queries are bounded whatever the number of visits: the client, the billing profile, the coverage,
the notes, their techniques, the invoice lines, the licences, and the audit row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet

from mend import knowledge
from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.billing.models import (
    ZERO,
    BillingProfile,
    Coverage,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    Payer,
    UnitRule,
)
from mend.billing.queries.invoices import invoice_or_404
from mend.billing.units import CPT_CODES, UNTIMED_CODES, timed_units
from mend.clinical.models.notes import NoteStatus, NoteTechnique, TreatmentNote
from mend.clinics.models import Clinic, Location, Membership
from mend.core import money
from mend.people import queries as people_queries
from mend.people.models import Client, Licence
from mend.platform.actor import Actor

HOT_COLD = "97010"
# The note's modalities that are hot or cold packs (97010).
PACK_MODALITIES = frozenset({"heat", "cold"})
# Clinical prose a superbill never shows: not loaded at all, so front desk's read holds none of it.
_NOTE_TEXT = (
    "subjective",
    "objective",
    "response",
    "adverse_events",
    "home_care",
    "plan_next",
    "medication_note",
    "referral__reason",
    "referral__requested_treatment",
    "referral__precautions",
)
LONGEST_PERIOD_DAYS = 366


# --- The document ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClinicBlock:
    name: str
    tax_label: str
    tax_number: str
    group_npi: str


@dataclass(frozen=True, slots=True)
class ClientBlock:
    name: str
    date_of_birth: date
    address: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LicenceLine:
    kind: str  # "RMT", "LMT", …
    number: str
    jurisdiction: str
    issuing_body: str
    expires_on: date


@dataclass(frozen=True, slots=True)
class ProviderBlock:
    membership_id: int
    name: str
    title: str
    npi: str
    licences: tuple[LicenceLine, ...]


@dataclass(frozen=True, slots=True)
class PayerBlock:
    name: str
    kind: str
    member_id: str
    group_number: str
    policy_holder: str


@dataclass(frozen=True, slots=True)
class Diagnosis:
    pointer: str  # "A", "B", … as the visit lines refer to it
    code: str
    description: str


@dataclass(frozen=True, slots=True)
class CptLine:
    code: str
    label: str
    minutes: int | None  # None for an untimed code
    units: int
    charge: Decimal


@dataclass(frozen=True, slots=True)
class Visit:
    on: date
    place: str
    place_address: str
    provider: str
    diagnosis_pointers: tuple[str, ...]
    lines: tuple[CptLine, ...]  # timed codes with at least one unit
    untimed: tuple[CptLine, ...]
    # Timed minutes the payer's rule gives no unit (7 minutes of 97140 under the AMA rule): code → minutes.
    unbilled: tuple[tuple[str, int], ...]
    timed_minutes: int
    charge: Decimal | None  # None: not invoiced
    invoices: tuple[str, ...]  # the labels of the invoices charging the visit
    problems: tuple[str, ...]

    @property
    def invoiced(self) -> bool:
        return self.charge is not None

    @property
    def units(self) -> int:
        return sum(line.units for line in self.lines)


@dataclass(frozen=True, slots=True)
class Superbill:
    clinic: ClinicBlock
    client: ClientBlock
    client_id: int
    providers: tuple[ProviderBlock, ...]
    payer: PayerBlock | None  # None: self-pay
    unit_rule: str  # "cms" or "ama"
    unit_rule_label: str
    diagnoses: tuple[Diagnosis, ...]
    visits: tuple[Visit, ...]
    start: date
    end: date
    currency: str
    total_charges: Decimal
    amount_paid: Decimal
    invoice_label: str = ""  # set when the superbill is one invoice's
    flagged: tuple[str, ...] = field(default=())

    @property
    def is_self_pay(self) -> bool:
        return self.payer is None

    @property
    def balance(self) -> Decimal:
        return self.total_charges - self.amount_paid

    @property
    def has_untimed(self) -> bool:
        return any(visit.untimed for visit in self.visits)


# --- Reads -------------------------------------------------------------------------------------


def superbill_for_period(
    actor: Actor, client_pk: int | str, start: date, end: date, *, printing: bool = False
) -> Superbill:
    """The client's signed notes from ``start`` to ``end`` (both included), one block per visit.

    Invoiced treatment in the period without a signed note is listed too, flagged, so a missing note
    is seen rather than silently left off the claim.
    """
    if end < start:
        raise ValidationError({"to": "The period ends before it starts."})
    if (end - start).days >= LONGEST_PERIOD_DAYS:
        raise ValidationError({"from": "A superbill covers at most a year of visits."})
    client = people_queries.client_or_404(actor, client_pk)  # 1: the client, if the actor sees them
    notes = _signed_notes(client).filter(visit_on__range=(start, end))  # 2-3: notes, their techniques
    lines = _service_lines(client).filter(service_on__range=(start, end))  # 4: invoiced treatment
    coverage = _active_coverage(client)  # 5: the client's plan
    superbill = _build(
        actor,
        client=client,
        notes=list(notes),
        lines=list(lines),
        payer=coverage.payer if coverage else None,
        coverage=coverage,
        start=start,
        end=end,
    )
    _audit(actor, client.pk, f"{start:%Y-%m-%d}..{end:%Y-%m-%d}", printing=printing)
    return superbill


def superbill_for_visit(actor: Actor, invoice_pk: int | str, *, printing: bool = False) -> Superbill:
    """The superbill of one issued invoice: its treatment lines' visits, with their signed notes.

    The payer is the invoice's (self-pay when it has none); a draft or a credit note is refused.
    """
    invoice = invoice_or_404(actor, invoice_pk)  # 1: the invoice, if its client is visible
    if invoice.is_draft:
        raise ValidationError({"__all__": "A draft has no superbill: issue the invoice first."})
    if invoice.is_credit_note:
        raise ValidationError({"__all__": "A credit note has no superbill."})
    lines = list(_service_lines(invoice.client).filter(invoice=invoice))  # 2: its treatment lines
    dates = sorted({line.service_on for line in lines if line.service_on})
    notes: list[TreatmentNote] = []
    if dates:
        # 3-4: the notes of those days (one query whatever the number of lines), then their techniques.
        keys = {(line.therapist_id, line.service_on) for line in lines}
        notes = [
            note
            for note in _signed_notes(invoice.client).filter(visit_on__in=dates)
            if (note.therapist_id, note.visit_on) in keys
        ]
    coverage = _coverage_with(invoice.client, invoice.payer) if invoice.payer else None  # 5
    superbill = _build(
        actor,
        client=invoice.client,
        notes=notes,
        lines=lines,
        payer=invoice.payer,
        coverage=coverage,
        start=dates[0] if dates else invoice.issued_on or actor.today(),
        end=dates[-1] if dates else invoice.issued_on or actor.today(),
        invoice=invoice,
    )
    _audit(actor, invoice.client_id, f"invoice:{invoice.pk}", printing=printing)
    return superbill


def default_period(actor: Actor) -> tuple[date, date]:
    """The page's period when none is asked: from the first of this month to today (the clinic's)."""
    today = actor.today()
    return today.replace(day=1), today


def parse_period(actor: Actor, start: str, end: str) -> tuple[date, date]:
    """The period a person asked for (ISO dates); a blank end is today, a blank start the month's first.

    A date that is not one raises ValidationError keyed by its field ("from" or "to").
    """
    first, today = default_period(actor)
    found: dict[str, date] = {}
    errors: dict[str, str] = {}
    for name, text, fallback in (("from", start, first), ("to", end, today)):
        text = text.strip()
        try:
            found[name] = date.fromisoformat(text) if text else fallback
        except ValueError:
            errors[name] = "Enter a date such as 2025-03-31."
    if errors:
        raise ValidationError(errors)
    return found["from"], found["to"]


def filename(superbill: Superbill) -> str:
    """``superbill-<surname>-<from>-<to>.pdf``, ASCII letters only in the surname."""
    surname = superbill.client.name.rsplit(" ", 1)[-1]
    safe = "".join(ch for ch in surname.lower() if ch.isascii() and ch.isalnum()) or "client"
    if superbill.invoice_label:
        return f"superbill-{safe}-{superbill.invoice_label}.pdf"
    return f"superbill-{safe}-{superbill.start:%Y-%m-%d}-{superbill.end:%Y-%m-%d}.pdf"


# --- Loading -----------------------------------------------------------------------------------


def _signed_notes(client: Client) -> QuerySet[TreatmentNote]:
    """Signed notes with their referral and therapist joined and their techniques prefetched; no prose."""
    return (
        TreatmentNote.objects.filter(clinic_id=client.clinic_id, client=client, status=NoteStatus.SIGNED)
        .select_related("referral", "therapist__user", "therapist__therapist_profile")
        .defer(*_NOTE_TEXT)
        .prefetch_related(
            Prefetch(
                "techniques",
                queryset=NoteTechnique.objects.only("id", "note_id", "technique", "minutes").order_by("id"),
            )
        )
        .order_by("visit_on", "id")
    )


def _service_lines(client: Client) -> QuerySet[InvoiceLine]:
    """The client's issued treatment lines that no credit note reversed, with invoice, place and therapist."""
    reversed_ids = InvoiceLine.objects.filter(clinic_id=client.clinic_id, reverses__isnull=False).values("reverses_id")
    return (
        InvoiceLine.objects.filter(
            clinic_id=client.clinic_id,
            invoice__client=client,
            invoice__kind=InvoiceKind.INVOICE,
            invoice__status=InvoiceStatus.ISSUED,
            kind=LineKind.SERVICE,
            service_on__isnull=False,
        )
        .exclude(pk__in=reversed_ids)
        .select_related("invoice", "appointment__location", "therapist__user", "therapist__therapist_profile")
        .order_by("service_on", "id")
    )


def _active_coverage(client: Client) -> Coverage | None:
    return (
        Coverage.objects.filter(clinic_id=client.clinic_id, client=client, is_active=True, payer__is_active=True)
        .select_related("payer")
        .order_by("payer__name", "id")
        .first()
    )


def _coverage_with(client: Client, payer: Payer) -> Coverage | None:
    return (
        Coverage.objects.filter(clinic_id=client.clinic_id, client=client, payer=payer)
        .select_related("payer")
        .order_by("-is_active", "id")
        .first()
    )


def _audit(actor: Actor, client_id: int, what: str, *, printing: bool) -> None:
    # Diagnoses and dates of treatment: health information, read (or printed) on the record.
    audit_record(
        action=Action.PRINT if printing else Action.VIEW,
        object_type="billing.superbill",
        object_id=what,
        client_id=client_id,
        user=actor.user,
        clinic_id=actor.clinic_id,
    )


# --- Building ----------------------------------------------------------------------------------


@dataclass
class _Day:
    """One date of service with one therapist while it is being put together."""

    on: date
    therapist: Membership | None
    notes: list[TreatmentNote] = field(default_factory=list)
    lines: list[InvoiceLine] = field(default_factory=list)


def _build(
    actor: Actor,
    *,
    client: Client,
    notes: Sequence[TreatmentNote],
    lines: Sequence[InvoiceLine],
    payer: Payer | None,
    coverage: Coverage | None,
    start: date,
    end: date,
    invoice: Invoice | None = None,
) -> Superbill:
    clinic: Clinic = actor.clinic
    currency = lines[0].invoice.currency if lines else clinic.currency
    rule = payer.unit_rule if payer else UnitRule.CMS
    days: dict[tuple[int | None, date], _Day] = {}
    for note in notes:
        day = days.setdefault((note.therapist_id, note.visit_on), _Day(note.visit_on, note.therapist))
        day.notes.append(note)
    for line in lines:
        assert line.service_on is not None  # the query asks for dated lines only
        day = days.setdefault((line.therapist_id, line.service_on), _Day(line.service_on, line.therapist))
        day.lines.append(line)

    diagnoses = _diagnoses(note for key in sorted(days, key=_day_order) for note in days[key].notes)
    pointer_of = {d.code: d.pointer for d in diagnoses}
    visits = tuple(_visit(days[key], rule, currency, pointer_of) for key in sorted(days, key=_day_order))
    providers = _providers([day.therapist for day in days.values() if day.therapist is not None], start)

    # What the client paid toward these visits: each invoice's payments applied to its treatment first.
    charged: dict[int, Decimal] = {}
    invoices: dict[int, Invoice] = {}
    for line in lines:
        charged[line.invoice_id] = charged.get(line.invoice_id, ZERO) + line.total
        invoices[line.invoice_id] = line.invoice
    paid = sum((min(charged[pk], max(inv.amount_paid, ZERO)) for pk, inv in invoices.items()), ZERO)

    profile = BillingProfile.objects.filter(clinic_id=clinic.pk).first()
    flagged = tuple(f"{visit.on:%Y-%m-%d}: {problem}" for visit in visits for problem in visit.problems)
    return Superbill(
        clinic=ClinicBlock(
            name=(profile.legal_name if profile else "") or clinic.name,
            tax_label=profile.tax_number_label if profile else "",
            tax_number=profile.tax_number if profile else "",
            group_npi=profile.group_npi if profile else "",
        ),
        client=ClientBlock(
            name=f"{client.legal_given_name} {client.legal_family_name}",
            date_of_birth=client.date_of_birth,
            address=_address(client.street, client.city, client.region, client.postal_code),
        ),
        client_id=client.pk,
        providers=providers,
        payer=PayerBlock(
            name=payer.name,
            kind=payer.get_kind_display(),
            member_id=coverage.member_id if coverage else "",
            group_number=coverage.group_number if coverage else "",
            policy_holder=coverage.policy_holder if coverage else "",
        )
        if payer
        else None,
        unit_rule=rule,
        unit_rule_label=UnitRule(rule).label,
        diagnoses=diagnoses,
        visits=visits,
        start=start,
        end=end,
        currency=currency,
        total_charges=sum((v.charge for v in visits if v.charge is not None), ZERO),
        amount_paid=paid,
        invoice_label=invoice.label if invoice else "",
        flagged=flagged,
    )


def _day_order(key: tuple[int | None, date]) -> tuple[date, int]:
    return key[1], key[0] or 0


def _diagnoses(notes: Iterable[TreatmentNote]) -> tuple[Diagnosis, ...]:
    found: dict[str, str] = {}
    for note in notes:
        if note.referral is None:
            continue
        for entry in note.referral.diagnoses:
            found.setdefault(entry["code"], entry.get("description", ""))
    return tuple(
        Diagnosis(pointer=_pointer(n), code=code, description=description)
        for n, (code, description) in enumerate(found.items())
    )


def _pointer(n: int) -> str:
    # A…L as on a CMS-1500's box 21, then on in pairs should a referral ever carry more.
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return letters[n] if n < len(letters) else letters[n // len(letters) - 1] + letters[n % len(letters)]


def _visit(day: _Day, rule: str, currency: str, pointer_of: dict[str, str]) -> Visit:
    techniques = knowledge.techniques()
    problems: list[str] = []
    minutes: dict[str, int] = {}
    untimed_codes: set[str] = set()
    for note in day.notes:
        if PACK_MODALITIES & set(note.modalities or ()):
            untimed_codes.add(HOT_COLD)
        for row in note.techniques.all():
            technique = techniques.get(row.technique)
            if technique is None or technique.cpt not in CPT_CODES:
                problems.append(f"{row.technique} ({row.minutes} min) has no CPT code this practice bills.")
                continue
            if technique.cpt in UNTIMED_CODES:
                untimed_codes.add(technique.cpt)
            else:
                minutes[technique.cpt] = minutes.get(technique.cpt, 0) + row.minutes
    if not day.notes:
        problems.append("Invoiced, but no signed treatment note: no codes to claim.")

    units = timed_units(minutes, rule) if minutes else {}
    billed = sorted((code for code in units if units[code] > 0), key=lambda code: (-units[code], code))
    fee = sum((line.total for line in day.lines), ZERO) if day.lines else None
    if fee is None and day.notes:
        problems.append("Not invoiced: no issued invoice charges this visit.")

    timed_charges = [ZERO] * len(billed)
    untimed_charges = dict.fromkeys(untimed_codes, ZERO)
    if fee is not None and billed:
        timed_charges = money.allocate(fee, [units[code] for code in billed], currency)
    elif fee is not None and untimed_codes:
        # Nothing timed earned a unit: the fee is the untimed service's.
        untimed_charges[min(untimed_codes)] = fee
    elif fee is not None and day.notes:
        problems.append("No code earned a unit by the payer's rule, so the fee is not itemised.")

    referral_codes: list[str] = []
    for note in day.notes:
        if note.referral is not None:
            referral_codes.extend(pointer_of[c] for c in note.referral.diagnosis_codes if c in pointer_of)
    place_line = next((line for line in day.lines if line.appointment and line.appointment.location), None)
    location: Location | None = place_line.appointment.location if place_line and place_line.appointment else None
    profile = getattr(day.therapist, "therapist_profile", None) if day.therapist else None
    return Visit(
        on=day.on,
        place=location.name if location else "",
        place_address=", ".join(_address(location.street, location.city, location.region, location.postal_code))
        if location
        else "",
        provider=(profile.display_name if profile else "") or (str(day.therapist.user) if day.therapist else ""),
        diagnosis_pointers=tuple(dict.fromkeys(referral_codes)),
        lines=tuple(
            CptLine(code, CPT_CODES[code].label, minutes[code], units[code], charge)
            for code, charge in zip(billed, timed_charges, strict=True)
        ),
        untimed=tuple(
            CptLine(code, CPT_CODES[code].label, None, 1, untimed_charges[code]) for code in sorted(untimed_codes)
        ),
        unbilled=tuple(sorted((code, spent) for code, spent in minutes.items() if units.get(code, 0) == 0)),
        timed_minutes=sum(minutes.values()),
        charge=fee,
        invoices=tuple(dict.fromkeys(line.invoice.label for line in day.lines)),
        problems=tuple(problems),
    )


def _providers(therapists: Sequence[Membership], on: date) -> tuple[ProviderBlock, ...]:
    """Each therapist of the visits once, with NPI and the licences in force on ``on`` (one query)."""
    by_id = {t.pk: t for t in therapists}
    if not by_id:
        return ()
    licences: dict[int, list[LicenceLine]] = {}
    for membership_id, kind, number, jurisdiction, body, expires in (
        Licence.objects.filter(profile__membership_id__in=by_id, expires_on__gte=on)
        .order_by("licence_type", "number")
        .values_list("profile__membership_id", "licence_type", "number", "jurisdiction", "issuing_body", "expires_on")
    ):
        licences.setdefault(membership_id, []).append(LicenceLine(kind, number, jurisdiction, body, expires))
    blocks = []
    for membership_id in sorted(by_id):
        membership = by_id[membership_id]
        profile = getattr(membership, "therapist_profile", None)
        blocks.append(
            ProviderBlock(
                membership_id=membership_id,
                name=(profile.display_name if profile else "") or str(membership.user),
                title=profile.professional_title if profile else "",
                npi=profile.npi if profile else "",
                licences=tuple(licences.get(membership_id, ())),
            )
        )
    return tuple(blocks)


def _address(street: str, city: str, region: str, postal_code: str) -> tuple[str, ...]:
    place = " ".join(part for part in (city, region, postal_code) if part)
    return tuple(part for part in (street, place) if part)
