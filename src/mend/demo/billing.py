"""The demo clinics' billing: two years of invoices, payments, packages and a few debts.

:func:`load_billing` sets a clinic's billing up (its profile, tax rates, location prices, products,
two payers with some clients covered, package plans and a membership plan) and then writes what the
clinic would have billed over the two years up to ``today``, so the billing pages and reports read
true:

- **The past six weeks** follow the calendar (:mod:`mend.demo.schedule`): every completed visit has
  its invoice pointing at the appointment, and most no-shows and late cancellations a fee invoice
  (the rest were waived at the desk, which leaves no invoice).
- **Before that**, back two years: an invoice for every signed treatment note of the past episodes
  (:mod:`mend.demo.history`) on the note's day, with its client and therapist, and a clinic's usual
  share of regulars' visits besides, all without appointments but with ``service_on``, therapist and
  appointment type, so the reports by therapist and service count them. A few missed-visit fees too.
- **Paid as a small clinic is paid**: card or cash on the visit day (tips on card where the clinic
  takes them), package sessions (each a :class:`~mend.billing.models.PackageRedemption`), a monthly
  membership's credit, gift cards sold and spent, insurers paying their share weeks later.
- **Corrections**: a couple of credit notes (one not yet refunded: that client is owed), a handful of
  refunds to the method that paid, write-offs of debts the clinic gave up on, and balances left
  10, 45, 75 and 100 days past due so the ageing report has every bucket.
- **Today**: today's completed visits have draft invoices, waiting at checkout.

Written in bulk, like the calendar and the past episodes: a few thousand rows per clinic, with each
creation (and each issue) in the clinic's audit chain in one batch. Every amount is computed the way
the billing services compute it: each line with :func:`mend.core.money.line_amounts`, an invoice's
totals as the sums of its lines, a credit note's lines as the negated lines it reverses, and each
invoice's ``amount_paid``, ``amount_written_off`` and ``amount_credited`` as the sums of its
payments, write-offs and credit notes. Numbers are consecutive per clinic in the order of issue and
the clinic's :class:`~mend.billing.models.NumberSequence` continues after them. The same seed and
``today`` give the same books (``tests/test_demo_billing.py`` checks the invariants).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from mend.audit.models import Action
from mend.audit.services import Entry, audit_record_many
from mend.billing.models import (
    ZERO,
    BillingProfile,
    ClientMembership,
    Coverage,
    GiftCard,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    MembershipPlan,
    NumberSequence,
    Package,
    PackagePlan,
    PackageRedemption,
    Payer,
    Payment,
    PaymentKind,
    PaymentMethod,
    PaymentShare,
    Price,
    Product,
    ReceiptStandard,
    TaxRate,
    UnitRule,
)
from mend.billing.services.credits import add_months
from mend.billing.services.invoices import reversing_line
from mend.billing.services.payments import shares_in_bulk
from mend.clinical.models import NoteStatus, Referral, TreatmentNote
from mend.clinics.models import Clinic, Location, Membership, Role
from mend.core import money
from mend.people.models import CareTeamMember, Client, Licence, LicenceType
from mend.platform import clock, context
from mend.scheduling.models import Appointment, AppointmentStatus, AppointmentType, WorkingHours

YEARS_DAYS = 730  # two years of books
PAST_DAYS = 42  # the calendar's past weeks (mend.demo.schedule.PAST_DAYS): visits there are appointments
PRICE_RISE = Decimal("5.00")  # treatment fees rose by this a year ago; older visits were billed less
# Days past due of the balances left owing: one in each bucket of the ageing report (1–30, 31–60,
# 61–90, over 90; a product sold today is its "current").
OVERDUE_DAYS = (10, 45, 75, 100)
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # gift card codes, as GiftCard draws them


@dataclass(frozen=True)
class Setup:
    """One clinic's billing settings; amounts as text, turned into Decimal on load."""

    legal_name: str
    tax_number_label: str
    tax_number: str
    receipt_standard: str
    service_tax: tuple[str, str]
    product_tax: tuple[str, str]
    no_show_fee: str
    late_cancel_fee: str
    tips_on_card: bool
    # Location name → {appointment type name: amount}: a neighbourhood with a lower rent charges less.
    location_prices: dict[str, dict[str, str]]
    products: list[tuple[str, str]]
    health_payer: str
    auto_payer: str
    packages: list[tuple[str, int, str]]  # name, sessions of 60 minutes, price
    membership: tuple[str, str]  # name, monthly fee
    visits: int  # visit invoices over the two years, about (a small clinic's year is a thousand or two)
    package_buyers: int
    members: int
    gift_cards: list[str]
    covered: float  # share of clients whose extended-health plan the clinic bills directly
    auto_claims: int  # clients in an auto-insurance claim billed to the insurer under their referral


# Harbour, in Toronto: HST 13 % on treatment and products alike (RMT services carry GST/HST in Canada:
# the CRA's 2006 ruling), Ontario's receipt standard (the RMT's registration number and the HST number).
HARBOUR = Setup(
    legal_name="Harbour Medical Massage Inc.",
    tax_number_label="HST number",
    tax_number="81234 5678 RT0001",
    receipt_standard=ReceiptStandard.ONTARIO_RMT,
    service_tax=("HST", "13"),
    product_tax=("HST", "13"),
    no_show_fee="60.00",
    late_cancel_fee="40.00",
    tips_on_card=True,
    location_prices={"Leslieville": {"Treatment 60": "115.00", "Treatment 90": "160.00"}},
    products=[("Foam roller", "34.99"), ("Reusable cold pack", "18.50"), ("Arnica gel 100 ml", "16.95")],
    health_payer="Sun Life Financial (direct billing)",
    auto_payer="Aviva Canada auto claims",
    packages=[("5 × 60 min", 5, "570.00"), ("10 × 60 min", 10, "1080.00")],
    membership=("Monthly wellness", "110.00"),
    visits=2600,
    package_buyers=30,
    members=5,
    gift_cards=["100.00", "150.00", "200.00", "120.00"],
    covered=0.08,
    auto_claims=4,
)
# Northside, in Vancouver (the demo has it in Canada, in CAD, not in the US: so no NPIs, which only US
# providers hold). GST 5 % on treatment (British Columbia's PST does not apply to massage therapy);
# products carry GST and BC's 7 % PST, printed as one combined rate on the line. BC has no receipt
# standard like Ontario's, so the basic receipt.
NORTHSIDE = Setup(
    legal_name="Northside Rehab Massage Ltd.",
    tax_number_label="GST number",
    tax_number="79876 5432 RT0001",
    receipt_standard=ReceiptStandard.BASIC,
    service_tax=("GST", "5"),
    product_tax=("GST + PST", "12"),
    no_show_fee="50.00",
    late_cancel_fee="35.00",
    tips_on_card=False,
    location_prices={},
    products=[("Foam roller", "32.00"), ("Resistance band set", "24.00")],
    health_payer="Pacific Blue Cross (direct billing)",
    auto_payer="ICBC auto claims",
    packages=[("5 × 60 min", 5, "570.00"), ("10 × 60 min", 10, "1080.00")],
    membership=("Monthly rehab membership", "105.00"),
    visits=520,
    package_buyers=6,
    members=2,
    gift_cards=["100.00", "75.00"],
    covered=0.1,
    auto_claims=1,
)
SETUPS = {"harbour": HARBOUR, "northside": NORTHSIDE}


@dataclass
class _Visit:
    day: date
    client_id: int
    therapist_id: int
    kind: AppointmentType
    location_id: int | None
    appointment: Appointment | None = None
    referral_id: int | None = None
    draft: bool = False  # today's completed visits: waiting at checkout
    mark: str = ""  # "overdue:<days>", "write_off", "credit", "credit_owed", "swap"


@dataclass
class _Bill:
    invoice: Invoice
    at: datetime  # when it was issued, or made (a draft): the order of the numbers
    lines: list[InvoiceLine] = field(default_factory=list)


@dataclass
class _Held:
    """A package (or a month's membership credit) and the sessions used so far."""

    package: Package
    used: int = 0


class _Books:
    """What the loader writes for one clinic, kept in memory until the bulk inserts."""

    def __init__(self, clinic: Clinic, desk: Membership, rng: random.Random) -> None:
        self.clinic, self.desk, self.rng = clinic, desk, rng
        self.currency = clinic.currency
        self.zone = clock.zone(clinic.timezone)
        self.bills: list[_Bill] = []
        self.credit_notes: list[_Bill] = []
        self.payments: list[Payment] = []
        self.refunds: list[Payment] = []
        self.redemptions: list[PackageRedemption] = []

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), self.zone)

    def line(self, bill: _Bill, **fields: object) -> InvoiceLine:
        line = InvoiceLine(clinic=self.clinic, invoice=bill.invoice, position=len(bill.lines) + 1, **fields)
        amounts = money.line_amounts(line.quantity, line.unit_price, line.discount, line.tax_rate, self.currency)
        line.net, line.tax, line.total = amounts.net, amounts.tax, amounts.total
        bill.lines.append(line)
        _totals(bill, self.currency)
        return line

    def bill(self, client_id: int, day: date, at: datetime, *, draft: bool = False, **fields: object) -> _Bill:
        invoice = Invoice(
            clinic=self.clinic,
            client_id=client_id,
            currency=self.currency,
            status=InvoiceStatus.DRAFT if draft else InvoiceStatus.ISSUED,
            issued_at=None if draft else at,
            issued_on=None if draft else day,
            due_on=None if draft else day,  # due on receipt (payment_terms_days 0)
            **fields,
        )
        bill = _Bill(invoice, at=at)
        self.bills.append(bill)
        return bill

    def pay(
        self,
        bill: _Bill,
        method: str,
        amount: Decimal,
        at: datetime,
        *,
        kind: str = PaymentKind.PAYMENT,
        **fields: object,
    ) -> Payment:
        invoice = bill.invoice
        payment = Payment(
            clinic=self.clinic,
            invoice=invoice,
            client_id=invoice.client_id,
            kind=kind,
            method=method,
            amount=amount,
            received_at=at,
            received_on=at.astimezone(self.zone).date(),
            recorded_by=self.desk,
            **fields,
        )
        if kind == PaymentKind.WRITE_OFF:
            invoice.amount_written_off += amount
        else:
            invoice.amount_paid += amount
        (self.refunds if kind == PaymentKind.REFUND else self.payments).append(payment)
        return payment

    def refund(self, bill: _Bill, original: Payment, at: datetime, reason: str) -> Payment:
        return self.pay(
            bill,
            original.method,
            -original.amount,
            at,
            kind=PaymentKind.REFUND,
            refund_of=original,
            package=original.package,
            gift_card=original.gift_card,
            note=reason,
        )

    def credit_note(self, bill: _Bill, day: date, at: datetime, reason: str) -> _Bill:
        """Every line of ``bill`` reversed, as ``credit_note_create`` reverses them."""
        original = bill.invoice
        note = _Bill(
            Invoice(
                clinic=self.clinic,
                client_id=original.client_id,
                kind=InvoiceKind.CREDIT_NOTE,
                corrects=original,
                currency=self.currency,
                status=InvoiceStatus.ISSUED,
                issued_at=at,
                issued_on=day,
                due_on=day,
                notes=reason,
                created_by=self.desk,
            ),
            at=at,
        )
        for position, line in enumerate(bill.lines, start=1):
            note.lines.append(reversing_line(line, note=note.invoice, position=position))
        _totals(note, self.currency)
        original.amount_credited -= note.invoice.total
        self.credit_notes.append(note)
        return note


def _totals(bill: _Bill, currency: str) -> None:
    """An invoice's amounts are the sums of its lines (as ``invoices._recompute`` sums them)."""
    invoice = bill.invoice
    invoice.subtotal = sum((money.quantize(x.quantity * x.unit_price, currency) for x in bill.lines), ZERO)
    invoice.discount_total = sum((x.discount for x in bill.lines), ZERO)
    invoice.tax_total = sum((x.tax for x in bill.lines), ZERO)
    invoice.total = sum((x.total for x in bill.lines), ZERO)


def _owing(invoice: Invoice) -> Decimal:
    return invoice.total - invoice.amount_paid - invoice.amount_written_off - invoice.amount_credited


def _midnight(day: date, zone: str) -> datetime:
    """Local midnight of ``day`` in ``zone``, as an aware instant."""
    return datetime.combine(day, time(0), clock.zone(zone))


def _gift_code(rng: random.Random) -> str:
    raw = "".join(rng.choice(ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def load_billing(clinic: Clinic, *, today: date, seed: int) -> int:
    """Set ``clinic``'s billing up and write two years of its books (see the module's docstring);
    ``today`` is the clinic's local date. Returns how many invoices (and credit notes) were written."""
    spec = SETUPS[clinic.slug]
    rng = random.Random(seed)
    owner = Membership.objects.select_related("user").filter(clinic=clinic, role=Role.OWNER).order_by("pk").first()
    if owner is None:
        raise ValueError(f"{clinic.name} has no owner to set its billing up.")
    desk = (
        Membership.objects.filter(clinic=clinic, role=Role.FRONT_DESK).order_by("pk").first() or owner
    )  # who took the payments
    with transaction.atomic(), context.acting(user_id=owner.user.pk, clinic_id=clinic.pk, role=owner.role):
        audit: list[Entry] = []
        setup = _setup(clinic, spec, rng, audit)
        books = _Books(clinic, desk, rng)
        coverages = _history(books, spec, setup, today=today)
        count = _write(books, setup, coverages, audit)
        audit_record_many(clinic_id=clinic.pk, entries=audit)
    return count


@dataclass
class _Prices:
    profile: BillingProfile
    service_tax: TaxRate
    product_tax: TaxRate
    kinds: dict[str, AppointmentType]
    location_prices: dict[tuple[int, int], Price]
    products: list[Product]
    health: Payer
    auto: Payer
    plans: list[PackagePlan]
    membership: MembershipPlan
    packages: list[Package] = field(default_factory=list)
    gift_cards: list[GiftCard] = field(default_factory=list)
    memberships: list[ClientMembership] = field(default_factory=list)

    def service(
        self, kind: AppointmentType, location_id: int | None, day: date, today: date
    ) -> tuple[Decimal, TaxRate]:
        """The fee at the location (else the type's own), and a year ago the fee before the rise."""
        price = self.location_prices.get((kind.pk, location_id or 0))
        amount, tax = (price.amount, price.tax_rate or self.service_tax) if price else (kind.price, self.service_tax)
        if day < today - timedelta(days=365) and kind.kind != AppointmentType.Kind.INITIAL:
            amount -= PRICE_RISE
        return amount, tax


def _setup(clinic: Clinic, spec: Setup, rng: random.Random, audit: list[Entry]) -> _Prices:
    """Profile, taxes, prices, products, payers and coverage, plans: a few dozen rows."""
    service_tax = TaxRate.objects.create(clinic=clinic, name=spec.service_tax[0], rate=Decimal(spec.service_tax[1]))
    product_tax = (
        service_tax
        if spec.product_tax == spec.service_tax
        else TaxRate.objects.create(clinic=clinic, name=spec.product_tax[0], rate=Decimal(spec.product_tax[1]))
    )
    # No group NPI and no therapists' NPIs: both demo clinics are Canadian, and an NPI is a US
    # provider's identifier (a Canadian clinic's superbill carries the RMT registration instead).
    profile = BillingProfile.objects.create(
        clinic=clinic,
        legal_name=spec.legal_name,
        tax_number_label=spec.tax_number_label,
        tax_number=spec.tax_number,
        receipt_standard=spec.receipt_standard,
        service_tax_rate=service_tax,
        no_show_fee=Decimal(spec.no_show_fee),
        late_cancel_fee=Decimal(spec.late_cancel_fee),
        late_cancel_hours=24,
        tips_on_card=spec.tips_on_card,
        invoice_footer="Thank you. Keep this receipt for your extended health claim.",
    )
    kinds = {k.name: k for k in AppointmentType.objects.filter(clinic=clinic)}
    locations = {loc.name: loc for loc in Location.objects.filter(clinic=clinic)}
    prices = Price.objects.bulk_create(
        [
            Price(
                clinic=clinic,
                appointment_type=kinds[name],
                location=locations[place],
                amount=Decimal(amount),
                tax_rate=service_tax,
            )
            for place, fees in spec.location_prices.items()
            for name, amount in fees.items()
        ]
    )
    products = Product.objects.bulk_create(
        [Product(clinic=clinic, name=name, price=Decimal(price), tax_rate=product_tax) for name, price in spec.products]
    )
    # One insurer the clinic bills directly for its members' extended-health plans, counting units by
    # the CMS rule; and an auto insurer paying a claim's visits under the physician's referral, by the
    # AMA per-code rule.
    health = Payer.objects.create(
        clinic=clinic, name=spec.health_payer, kind=Payer.Kind.HEALTH, unit_rule=UnitRule.CMS, requires_referral=False
    )
    auto = Payer.objects.create(
        clinic=clinic, name=spec.auto_payer, kind=Payer.Kind.AUTO, unit_rule=UnitRule.AMA, requires_referral=True
    )
    t60 = kinds["Treatment 60"]
    plans = PackagePlan.objects.bulk_create(
        [
            PackagePlan(
                clinic=clinic,
                name=name,
                appointment_type=t60,
                sessions=sessions,
                price=Decimal(price),
                valid_days=365,
                sold_online=sessions == 5,
            )
            for name, sessions, price in spec.packages
        ]
    )
    membership = MembershipPlan.objects.create(
        clinic=clinic,
        name=spec.membership[0],
        monthly_fee=Decimal(spec.membership[1]),
        appointment_type=t60,
        sessions_per_month=1,
        member_discount_percent=10,
        tax_rate=service_tax,
    )
    for obj in [service_tax, product_tax, profile, *prices, *products, health, auto, *plans, membership]:
        audit.append(Entry(Action.CREATE, obj._meta.label_lower, obj.pk))
    return _Prices(
        profile=profile,
        service_tax=service_tax,
        product_tax=product_tax,
        kinds=kinds,
        location_prices={(p.appointment_type_id, p.location_id or 0): p for p in prices},
        products=products,
        health=health,
        auto=auto,
        plans=plans,
        membership=membership,
    )


def _visits(clinic: Clinic, spec: Setup, setup: _Prices, rng: random.Random, *, today: date) -> list[_Visit]:
    """Every visit of the two years: the calendar's, the past episodes' notes, and regulars' besides."""
    zone = clinic.timezone
    first_day, start = today - timedelta(days=PAST_DAYS), today - timedelta(days=YEARS_DAYS)
    kinds = setup.kinds
    treatments = {45: kinds["Treatment 45"], 60: kinds["Treatment 60"], 90: kinds["Treatment 90"]}
    visits: list[_Visit] = []
    # The calendar's completed visits (their invoices point at them): before today issued, today drafts.
    for appointment in Appointment.objects.filter(
        clinic=clinic, status=AppointmentStatus.COMPLETED, starts_at__gte=_midnight(first_day, zone)
    ).select_related("appointment_type"):
        day = clock.local_date(appointment.starts_at, zone)
        visits.append(
            _Visit(
                day,
                appointment.client_id,
                appointment.therapist_id,
                appointment.appointment_type,
                appointment.location_id,
                appointment,
                draft=day >= today,
            )
        )
    # Where each therapist works, and on which weekdays (their visits before the calendar's weeks).
    hours: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for therapist_id, weekday, location_id in WorkingHours.objects.filter(clinic=clinic).values_list(
        "therapist_id", "weekday", "location_id"
    ):
        hours[therapist_id].append((weekday, location_id))
    home = {t: sorted(rows)[0][1] for t, rows in hours.items()}
    for note in TreatmentNote.objects.filter(
        clinic=clinic, status=NoteStatus.SIGNED, visit_on__gte=start, visit_on__lt=first_day
    ).order_by("visit_on", "pk"):
        minutes = min(treatments, key=lambda m: (abs(m - note.duration_minutes), m))
        visits.append(
            _Visit(
                note.visit_on,
                note.client_id,
                note.therapist_id,
                treatments[minutes],
                home.get(note.therapist_id),
                referral_id=note.referral_id,
            )
        )
    # Regulars' maintenance visits, to a small clinic's volume: each with their primary therapist,
    # on a day that therapist works.
    teams = defaultdict(list)
    for therapist_id, client_id in (
        CareTeamMember.objects.filter(clinic=clinic, is_primary=True)
        .order_by("therapist_id", "client_id")
        .values_list("therapist_id", "client_id")
    ):
        teams[therapist_id].append(client_id)
    working = sorted(t for t in teams if hours.get(t))
    span = (first_day - start).days
    for _ in range(max(0, spec.visits - len(visits))):
        therapist_id = rng.choice(working)
        day = start + timedelta(days=rng.randrange(span))
        days = dict(hours[therapist_id])
        while day.weekday() not in days:
            day += timedelta(days=1)
        if day >= first_day:
            continue
        kind = rng.choices([treatments[60], treatments[45], treatments[90]], [65, 20, 15])[0]
        visits.append(_Visit(day, rng.choice(teams[therapist_id]), therapist_id, kind, days[day.weekday()]))
    visits.sort(key=lambda v: (v.day, v.therapist_id, v.client_id, v.appointment.pk if v.appointment else 0))
    return visits


def _mark(visits: list[_Visit], rng: random.Random, *, today: date, lapsed: dict[int, date]) -> None:
    """The visits whose invoices tell the corrections' stories: debts, write-offs, credit notes, a swap."""
    taken: set[int] = set()

    def near(target: date, label: str) -> None:
        order = sorted(
            (i for i, v in enumerate(visits) if not v.draft and i not in taken),
            key=lambda i: (abs((visits[i].day - target).days), i),
        )
        for i in order:
            visit = visits[i]
            if visit.therapist_id in lapsed and visit.day > lapsed[visit.therapist_id]:
                continue
            visit.mark = label
            taken.add(i)
            return

    for days in OVERDUE_DAYS:
        near(today - timedelta(days=days), f"overdue:{days}")
    for days in (420, 300, 230, 190):
        near(today - timedelta(days=days + rng.randint(0, 20)), "write_off")
    near(today - timedelta(days=rng.randint(150, 400)), "credit")
    near(today - timedelta(days=rng.randint(3, 12)), "credit_owed")
    near(today - timedelta(days=rng.randint(200, 500)), "swap")


def _history(books: _Books, spec: Setup, setup: _Prices, *, today: date) -> list[Coverage]:
    """Walk the two years day by day, billing and paying as the desk did."""
    clinic, rng = books.clinic, books.rng
    start = today - timedelta(days=YEARS_DAYS)
    lapsed = {}
    if spec.receipt_standard == ReceiptStandard.ONTARIO_RMT:
        # An Ontario receipt needs the RMT's current registration: a visit after the therapist's
        # registration lapsed stays a draft at checkout (the page says what is missing).
        for licence in Licence.objects.filter(clinic=clinic, licence_type=LicenceType.RMT).select_related("profile"):
            lapsed[licence.profile.membership_id] = licence.expires_on
    visits = _visits(clinic, spec, setup, rng, today=today)
    _mark(visits, rng, today=today, lapsed=lapsed)
    names = {
        pk: f"{chosen or given} {family}"
        for pk, chosen, given, family in Client.objects.filter(clinic=clinic).values_list(
            "pk", "chosen_name", "legal_given_name", "legal_family_name"
        )
    }
    t60 = setup.kinds["Treatment 60"]

    # Who holds what: coverage, packages bought at a visit, memberships, gift cards.
    by_client: dict[int, list[_Visit]] = defaultdict(list)
    for visit in visits:
        by_client[visit.client_id].append(visit)
    clients = sorted(by_client)
    covered = {c for c in clients if rng.random() < spec.covered}
    with_referral = sorted({v.client_id for v in visits if v.referral_id and v.client_id not in covered})
    claims = set(rng.sample(with_referral, min(spec.auto_claims, len(with_referral))))
    referrals = {r.pk: r for r in Referral.objects.filter(clinic=clinic, client_id__in=claims)}
    coverages = [
        Coverage(
            clinic=clinic,
            client_id=c,
            payer=setup.health if c in covered else setup.auto,
            member_id=f"{rng.randrange(10**8, 10**9)}" if c in covered else f"CL-{rng.randrange(10**6, 10**7)}",
            group_number=f"G{rng.randrange(10000, 99999)}" if c in covered else "",
        )
        for c in sorted(covered | claims)
    ]
    regulars = [
        c
        for c in clients
        if c not in covered | claims and sum(1 for v in by_client[c] if v.kind == t60 and not v.draft) >= 6
    ]
    buyers = rng.sample(regulars, min(spec.package_buyers, len(regulars)))
    sales: dict[int, tuple[_Visit, PackagePlan]] = {}  # id(visit) → the package sold at it
    for c in buyers:
        eligible = [v for v in by_client[c] if v.kind == t60 and not v.draft and not v.mark]
        visit = rng.choice(eligible[: max(1, len(eligible) // 2)])
        sales[id(visit)] = (visit, rng.choice(setup.plans))
    members = [c for c in regulars if c not in buyers]
    members = rng.sample(members, min(spec.members, len(members)))
    joined = {c: today - timedelta(days=rng.randint(90, 420)) for c in members}
    # Gift cards: bought by one client for another, who spends it at later visits.
    cards: list[tuple[date, int, int, Decimal]] = []
    recipients = [c for c in clients if c not in covered | claims and len(by_client[c]) >= 3]
    for amount in spec.gift_cards:
        recipient = rng.choice(recipients)
        later = [v for v in by_client[recipient] if v.day > start + timedelta(days=60) and not v.draft]
        if not later:
            continue
        sold_on = later[0].day - timedelta(days=rng.randint(10, 50))
        purchaser = rng.choice([c for c in clients if c != recipient])
        cards.append((sold_on, purchaser, recipient, Decimal(amount)))

    # The events of each day: sales first (a package bought at the visit pays for it), then visits.
    events: list[tuple[date, int, object]] = []
    for c, started in joined.items():
        membership = ClientMembership(clinic=clinic, client_id=c, plan=setup.membership, started_on=started)
        setup.memberships.append(membership)
        n, charge_on = 0, started
        while charge_on <= today:
            events.append((charge_on, 0, (membership, charge_on)))
            n += 1
            charge_on = add_months(started, n)
        membership.next_charge_on = charge_on  # after today: the worker charges the next month then
    for bought in cards:
        events.append((bought[0], 1, bought))
    for n, visit in enumerate(visits):
        events.append((visit.day, 2 + n, visit))
    events.sort(key=lambda e: (e[0], e[1]))

    held: dict[int, list[_Held]] = defaultdict(list)  # client → packages and credits, by expiry
    wallets: dict[int, list[GiftCard]] = defaultdict(list)  # recipient → cards with money on them
    billed_auto: dict[int, int] = defaultdict(int)
    swaps = package_refunds = 0
    for _, _, event in events:
        if isinstance(event, tuple) and isinstance(event[0], ClientMembership):
            membership, on = event
            _charge(books, setup, membership, on, held)
        elif isinstance(event, tuple):
            sold_on, purchaser, recipient, amount = event
            card = GiftCard(
                clinic=clinic,
                code=_gift_code(rng),
                amount=amount,
                balance=amount,
                purchaser_id=purchaser,
                recipient_name=names.get(recipient, ""),
                sold_on=sold_on,
                # Ontario and BC forbid expiry dates on gift cards.
                expires_on=None,
                is_active=True,
            )
            setup.gift_cards.append(card)
            at = books.at(sold_on, 11, rng.randrange(60))
            bill = books.bill(purchaser, sold_on, at, created_by=books.desk)
            for_whom = f" for {card.recipient_name}" if card.recipient_name else ""
            books.line(
                bill,
                kind=LineKind.GIFT_CARD,
                description=f"Gift card{for_whom} ({card.code[-4:]})",
                gift_card=card,
                unit_price=amount,
                service_on=sold_on,
            )
            books.pay(bill, PaymentMethod.CARD, bill.invoice.total, at)
            wallets[recipient].append(card)
        else:
            assert isinstance(event, _Visit)
            visit = event
            sale = sales.get(id(visit))
            if sale is not None:
                _sell_package(books, setup, visit, sale[1], held)
            payer = None
            # The stories' visits (debts, corrections) are the client's own to pay.
            if visit.client_id in covered and not visit.mark:
                payer = setup.health
            elif visit.referral_id in referrals:
                referral = referrals[visit.referral_id]
                within = referral.valid_until is None or visit.day <= referral.valid_until
                room = referral.visits_authorised is None or billed_auto[referral.pk] < referral.visits_authorised
                if within and room and not visit.mark:
                    payer = setup.auto
                    billed_auto[referral.pk] += 1
            lapsed_on = lapsed.get(visit.therapist_id)
            draft = visit.draft or (lapsed_on is not None and visit.day > lapsed_on)
            _bill_visit(
                books,
                setup,
                spec,
                visit,
                draft=draft,
                payer=payer,
                member_since=joined.get(visit.client_id),
                held=held,
                wallets=wallets,
                today=today,
            )
            bill = books.bills[-1]
            if draft:
                continue
            # A handful of refunds: a package session paid by card instead, a card charged in error.
            package_paid = [p for p in books.payments[-2:] if p.invoice is bill.invoice and p.package is not None]
            # The first one always (whatever day the demo is loaded on, there is one), a second by chance.
            chance = package_refunds == 0 or rng.random() < 0.02
            if package_paid and package_refunds < 2 and chance and visit.day < today - timedelta(days=3):
                package_refunds += 1
                _package_to_card(books, bill, package_paid[0], held, visit.day)
            if visit.mark == "swap" and swaps == 0:
                swaps += 1
                card_paid = [p for p in books.payments if p.invoice is bill.invoice and p.method == PaymentMethod.CARD]
                if card_paid:
                    at = books.at(visit.day, 18)
                    books.refund(bill, card_paid[0], at, "Card charged in error; paid in cash instead")
                    books.pay(bill, PaymentMethod.CASH, card_paid[0].amount, at + timedelta(minutes=1))

    _fees(books, setup, visits, today=today)
    # Not yet due (the ageing report's "current"): a foam roller ordered this morning, to be paid by transfer.
    buyer = rng.choice(clients)
    at = min(books.at(today, 9), timezone.now())
    product = setup.products[0]
    bill = books.bill(buyer, today, at, created_by=books.desk, notes="To be paid by bank transfer")
    books.line(
        bill,
        kind=LineKind.PRODUCT,
        description=product.name,
        product=product,
        unit_price=product.price,
        tax_name=setup.product_tax.name,
        tax_rate=setup.product_tax.rate,
        service_on=today,
    )
    setup.packages.extend(h.package for hs in held.values() for h in hs)
    for hs in held.values():
        for h in hs:
            h.package.sessions_used = h.used
    Coverage.objects.bulk_create(coverages)
    return coverages


def _sell_package(
    books: _Books, setup: _Prices, visit: _Visit, plan: PackagePlan, held: dict[int, list[_Held]]
) -> None:
    """A package bought at the desk before the visit, on its own invoice, paid by card."""
    day = visit.day
    package = Package(
        clinic=books.clinic,
        client_id=visit.client_id,
        plan=plan,
        name=plan.name,
        appointment_type=plan.appointment_type,
        sessions_total=plan.sessions,
        price=plan.price,
        starts_on=day,
        expires_on=day + timedelta(days=plan.valid_days),
        is_active=True,
    )
    held[visit.client_id].append(_Held(package))
    at = books.at(day, 8, books.rng.randrange(60))
    bill = books.bill(visit.client_id, day, at, created_by=books.desk)
    books.line(
        bill,
        kind=LineKind.PACKAGE,
        description=(
            f"{plan.name}: {plan.sessions} × {plan.appointment_type.name}, valid to {package.expires_on:%-d %b %Y}"
        ),
        package=package,
        appointment_type=plan.appointment_type,
        unit_price=plan.price,
        service_on=day,
    )
    books.pay(bill, PaymentMethod.CARD, bill.invoice.total, at)


def _charge(
    books: _Books, setup: _Prices, membership: ClientMembership, on: date, held: dict[int, list[_Held]]
) -> None:
    """One month's fee, issued by the worker on the day, and the month's session as a credit."""
    plan = setup.membership
    period_end = add_months(on, 1) - timedelta(days=1)
    credit = Package(
        clinic=books.clinic,
        client_id=membership.client_id,
        source=Package.Source.MEMBERSHIP,
        membership=membership,
        name=f"{plan.name}: {on:%B %Y}",
        appointment_type=plan.appointment_type,
        sessions_total=plan.sessions_per_month,
        starts_on=on,
        expires_on=period_end,
        is_active=True,
    )
    held[membership.client_id].append(_Held(credit))
    at = books.at(on, 7)
    bill = books.bill(membership.client_id, on, at)
    books.line(
        bill,
        kind=LineKind.MEMBERSHIP,
        description=f"{plan.name}, {on:%-d %b} – {period_end:%-d %b %Y}",
        package=credit,
        unit_price=plan.monthly_fee,
        tax_name=setup.service_tax.name,
        tax_rate=setup.service_tax.rate,
        service_on=on,
    )
    # The member's card on file, taken the morning of the charge.
    books.pay(bill, PaymentMethod.CARD, bill.invoice.total, at + timedelta(minutes=5), reference="Card on file")


def _bill_visit(
    books: _Books,
    setup: _Prices,
    spec: Setup,
    visit: _Visit,
    *,
    draft: bool,
    payer: Payer | None,
    member_since: date | None,
    held: dict[int, list[_Held]],
    wallets: dict[int, list[GiftCard]],
    today: date,
) -> None:
    rng, currency, day = books.rng, books.currency, visit.day
    if visit.appointment is not None:
        end = visit.appointment.ends_at
    else:
        end = books.at(day, rng.randint(10, 18), rng.choice((0, 15, 30, 45)))
    bill = books.bill(
        visit.client_id,
        day,
        end,
        draft=draft,
        appointment=visit.appointment,
        payer=payer,
        referral_id=visit.referral_id if payer is not None and payer.requires_referral else None,
    )
    amount, tax = setup.service(visit.kind, visit.location_id, day, today)
    discount, reason = ZERO, ""
    if member_since is not None and member_since <= day:
        discount = money.quantize(amount * setup.membership.member_discount_percent / Decimal(100), currency)
        reason = f"Member price ({setup.membership.name})"
    service = books.line(
        bill,
        kind=LineKind.SERVICE,
        description=visit.kind.name,
        service_on=day,
        appointment=visit.appointment,
        appointment_type=visit.kind,
        therapist_id=visit.therapist_id,
        unit_price=amount,
        discount=discount,
        discount_reason=reason,
        tax_name=tax.name,
        tax_rate=tax.rate,
    )
    if payer is None and rng.random() < 0.05:
        product = rng.choice(setup.products)
        books.line(
            bill,
            kind=LineKind.PRODUCT,
            description=product.name,
            product=product,
            unit_price=product.price,
            tax_name=setup.product_tax.name,
            tax_rate=setup.product_tax.rate,
            service_on=day,
        )
    if draft:
        return
    invoice = bill.invoice
    paid_at = end + timedelta(minutes=5)
    mark = visit.mark
    if mark.startswith("overdue:"):
        # Left owing: the client said they would pay by transfer; one paid part at the desk.
        if mark == "overdue:45":
            books.pay(bill, PaymentMethod.CARD, money.quantize(invoice.total / 2, currency), paid_at)
        return
    if mark == "write_off":
        # Never paid; the clinic gave up on it a few months later (partly paid in one case).
        if rng.random() < 0.5:
            books.pay(bill, PaymentMethod.CASH, money.quantize(invoice.total / 3, currency), paid_at)
        written = books.at(day + timedelta(days=rng.randint(90, 120)), 16)
        reason = rng.choice(["Client moved away; not collectable", "Hardship: the clinic waived the rest"])
        books.pay(bill, PaymentMethod.WRITE_OFF, _owing(invoice), written, kind=PaymentKind.WRITE_OFF, note=reason)
        return
    if payer is not None:
        # The insurer pays its share a few weeks later (the auto claim all of it); the client the rest now.
        share = invoice.total if payer.requires_referral else money.quantize(invoice.total * Decimal("0.8"), currency)
        if share < invoice.total:
            books.pay(bill, PaymentMethod.CARD, invoice.total - share, paid_at)
        arrives = day + timedelta(days=rng.randint(14, 35))
        if arrives < today:
            books.pay(
                bill, PaymentMethod.INSURER, share, books.at(arrives, 10), reference=f"EOB {rng.randrange(10**6)}"
            )
        return
    if not mark:
        # A package or the month's membership credit, soonest to expire first.
        for h in sorted(held.get(visit.client_id, []), key=lambda h: h.package.expires_on):
            package = h.package
            usable = package.starts_on <= day <= package.expires_on and h.used < package.sessions_total
            if usable and package.appointment_type_id == visit.kind.pk:
                shares = (
                    money.allocate(package.price, [1] * package.sessions_total, currency) if package.price else None
                )
                payment = books.pay(
                    bill,
                    PaymentMethod.PACKAGE,
                    min(service.total, _owing(invoice)),
                    paid_at,
                    package=package,
                    reference=package.name,
                )
                books.redemptions.append(
                    PackageRedemption(
                        clinic=books.clinic,
                        package=package,
                        line=service,
                        payment=payment,
                        value=shares[h.used] if shares else ZERO,
                        redeemed_on=day,
                    )
                )
                h.used += 1
                break
        for card in wallets.get(visit.client_id, []):
            if card.balance and card.sold_on <= day and _owing(invoice) > 0:
                spent = min(card.balance, _owing(invoice))
                card.balance -= spent
                books.pay(bill, PaymentMethod.GIFT_CARD, spent, paid_at, gift_card=card, reference=str(card))
    owing = _owing(invoice)
    if owing > 0:
        methods = [PaymentMethod.CARD, PaymentMethod.CASH, PaymentMethod.BANK_TRANSFER]
        method = PaymentMethod.CARD if mark == "swap" else rng.choices(methods, [80, 15, 5])[0]
        tip = ZERO
        if method == PaymentMethod.CARD and spec.tips_on_card and rng.random() < 0.3:
            tip = money.quantize(owing * rng.choice((10, 15, 18, 20)) / Decimal(100), currency)
        books.pay(bill, method, owing, paid_at, tip=tip)
    if mark in ("credit", "credit_owed"):
        # A visit the clinic should not have charged: credited whole the next day, and refunded
        # (but one not yet: that client is owed until they collect).
        next_day = day + timedelta(days=1)
        reason = (
            "Treatment cut short by a building fire alarm; not charged"
            if mark == "credit"
            else "Charged at the full fee; the client's visit was a courtesy follow-up"
        )
        books.credit_note(bill, next_day, books.at(next_day, 10), reason)
        if mark == "credit":
            for payment in [p for p in books.payments if p.invoice is invoice]:
                books.refund(bill, payment, books.at(next_day, 10, 5), reason)


def _package_to_card(books: _Books, bill: _Bill, payment: Payment, held: dict[int, list[_Held]], day: date) -> None:
    """The client kept the session for later: it goes back to the package and the visit is paid by card."""
    at = books.at(day, 19)
    books.refund(bill, payment, at, "Client chose to pay by card and keep the session")
    redemption = books.redemptions[-1]
    assert redemption.payment is payment
    redemption.reversed_at = at
    for h in held[bill.invoice.client_id]:
        if h.package is payment.package:
            h.used -= 1
    books.pay(bill, PaymentMethod.CARD, -books.refunds[-1].amount, at + timedelta(minutes=1))


def _fees(books: _Books, setup: _Prices, visits: Sequence[_Visit], *, today: date) -> None:
    """No-show and late-cancellation fees: the calendar's of the past weeks, and a few older ones."""
    clinic, rng, zone = books.clinic, books.rng, books.clinic.timezone
    profile = setup.profile
    first_day = today - timedelta(days=PAST_DAYS)
    missed: list[tuple[date, int, int, AppointmentType, Appointment | None, str]] = []
    for appointment in Appointment.objects.filter(
        clinic=clinic,
        status__in=[AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED],
        starts_at__gte=_midnight(first_day, zone),
        starts_at__lt=_midnight(today, zone),
    ).select_related("appointment_type"):
        if appointment.status == AppointmentStatus.NO_SHOW:
            kind: str = LineKind.NO_SHOW_FEE
        elif appointment.cancelled_at and appointment.starts_at - appointment.cancelled_at < timedelta(hours=24):
            kind = LineKind.LATE_CANCEL_FEE
        else:
            continue
        day = clock.local_date(appointment.starts_at, zone)
        missed.append(
            (day, appointment.client_id, appointment.therapist_id, appointment.appointment_type, appointment, kind)
        )
    older = [v for v in visits if v.appointment is None and not v.mark]
    for visit in rng.sample(older, min(len(older), len(older) // 40)):
        kind = rng.choice([LineKind.NO_SHOW_FEE, LineKind.LATE_CANCEL_FEE])
        day = visit.day - timedelta(days=rng.randint(3, 9))
        if day >= today - timedelta(days=YEARS_DAYS):
            missed.append((day, visit.client_id, visit.therapist_id, visit.kind, None, kind))
    missed.sort(key=lambda m: (m[0], m[1]))
    tax = setup.service_tax
    for day, client_id, therapist_id, kind_of_visit, fee_for, kind in missed:
        if rng.random() < 0.2:
            continue  # waived at the desk: the draft's fee line removed, the draft discarded
        fee = profile.no_show_fee if kind == LineKind.NO_SHOW_FEE else profile.late_cancel_fee
        description = (
            f"No-show fee: {kind_of_visit.name}"
            if kind == LineKind.NO_SHOW_FEE
            else f"Late-cancellation fee (under {profile.late_cancel_hours} h): {kind_of_visit.name}"
        )
        at = fee_for.starts_at if fee_for is not None else books.at(day, 17)
        bill = books.bill(client_id, day, at, appointment=fee_for)
        books.line(
            bill,
            kind=kind,
            description=description,
            service_on=day,
            appointment=fee_for,
            appointment_type=kind_of_visit,
            therapist_id=therapist_id,
            unit_price=fee,
            tax_name=tax.name,
            tax_rate=tax.rate,
        )
        # Paid by card over the phone the same afternoon.
        books.pay(bill, PaymentMethod.CARD, bill.invoice.total, at + timedelta(hours=2))


def _write(books: _Books, setup: _Prices, coverages: Sequence[Coverage], audit: list[Entry]) -> int:
    """Number the issued invoices in the order of issue, then insert everything in dependency order."""
    clinic = books.clinic
    for coverage in coverages:
        audit.append(Entry(Action.CREATE, "billing.coverage", coverage.pk, client_id=coverage.client_id))
    ClientMembership.objects.bulk_create(setup.memberships)
    GiftCard.objects.bulk_create(setup.gift_cards)
    Package.objects.bulk_create(setup.packages)
    for membership in setup.memberships:
        audit.append(Entry(Action.CREATE, "billing.clientmembership", membership.pk, client_id=membership.client_id))
    for card in setup.gift_cards:
        audit.append(Entry(Action.CREATE, "billing.giftcard", card.pk, client_id=card.purchaser_id))
    for package in setup.packages:
        audit.append(Entry(Action.CREATE, "billing.package", package.pk, client_id=package.client_id))

    bills = sorted(books.bills, key=lambda b: (b.invoice.status == InvoiceStatus.DRAFT, b.at))
    for number, bill in enumerate((b for b in bills if b.invoice.status == InvoiceStatus.ISSUED), start=1):
        bill.invoice.number = number
    notes = sorted(books.credit_notes, key=lambda b: b.at)
    for number, note in enumerate(notes, start=1):
        note.invoice.number = number
    issued = sum(1 for b in bills if b.invoice.number)
    NumberSequence.objects.bulk_create(
        [
            NumberSequence(clinic=clinic, kind=InvoiceKind.INVOICE, next_number=issued + 1),
            NumberSequence(clinic=clinic, kind=InvoiceKind.CREDIT_NOTE, next_number=len(notes) + 1),
        ]
    )
    invoices = Invoice.objects.bulk_create([b.invoice for b in bills], batch_size=500)
    InvoiceLine.objects.bulk_create([line for b in bills for line in b.lines], batch_size=500)
    Invoice.objects.bulk_create([n.invoice for n in notes])
    InvoiceLine.objects.bulk_create([line for n in notes for line in n.lines])
    Payment.objects.bulk_create(books.payments, batch_size=500)
    Payment.objects.bulk_create(books.refunds)
    # Each payment shared over its invoice's lines, as the payment services record it.
    PaymentShare.objects.bulk_create(
        shares_in_bulk([*books.payments, *books.refunds], [line for b in bills for line in b.lines], clinic.currency),
        batch_size=500,
    )
    PackageRedemption.objects.bulk_create(books.redemptions, batch_size=500)
    # As the services record them: an invoice's creation and its issue, each payment; a credit note
    # is created issued, and the invoice it corrects changes.
    for invoice in invoices:
        audit.append(Entry(Action.CREATE, "billing.invoice", invoice.pk, client_id=invoice.client_id))
        if invoice.number:
            audit.append(Entry(Action.UPDATE, "billing.invoice", invoice.pk, client_id=invoice.client_id))
    for note in notes:
        audit.append(Entry(Action.CREATE, "billing.invoice", note.invoice.pk, client_id=note.invoice.client_id))
        audit.append(
            Entry(Action.UPDATE, "billing.invoice", note.invoice.corrects_id or 0, client_id=note.invoice.client_id)
        )
    for payment in [*books.payments, *books.refunds]:
        audit.append(Entry(Action.CREATE, "billing.payment", payment.pk, client_id=payment.client_id))
    return len(invoices) + len(notes)
