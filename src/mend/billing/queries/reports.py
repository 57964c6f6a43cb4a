"""Financial reports for the clinic's owner: revenue (accrual and cash), tax, what is owed and how
late, what the clinic holds for packages and gift cards, missed-visit fees and write-offs.

Every figure is a database aggregate (``Sum`` over ``values()``), so each section costs one or two
queries whatever the number of invoices. Periods are the clinic's calendar dates (``issued_on``,
``received_on``), which the services write in the clinic's zone: nothing here truncates a datetime.

- **Accrual** revenue is what was invoiced: the net (before tax, after discount) of the lines of
  invoices and credit notes issued in the period (a credit note's lines are negative, so it lowers
  the period it is issued in). Package and gift-card sales (``PREPAID_KINDS``) are left out: that
  money is held for visits not yet given, a liability until used; the visit it pays for is
  revenue when invoiced. A membership's monthly fee is revenue.
- **Cash** revenue is money that came in: payments less refunds received in the period, by any
  method that is money (cash, card, transfer, online, insurer); a package session or a gift card
  paying a visit is not money coming in (it came in when the package or card was sold), and a
  write-off is money that never will. Each payment was shared over its invoice's lines, net and
  tax, when it was recorded (``PaymentShare``, exact to the cent), so cash and accrual compare
  like with like and split the same way by therapist, service and tax; tips are apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Case, CharField, Count, DecimalField, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Cast, Coalesce, Substr

from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.billing.models import (
    PREPAID_KINDS,
    ZERO,
    GiftCard,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    Package,
    PackageRedemption,
    Payment,
    PaymentKind,
    PaymentMethod,
    PaymentShare,
)
from mend.clinics.models import Membership
from mend.platform.actor import Actor
from mend.scheduling.models import AppointmentType

ACCRUAL, CASH = "accrual", "cash"
BASES = ((ACCRUAL, "Accrual (invoiced)"), (CASH, "Cash (received)"))
# Money coming in. Not: package sessions and gift cards (paid for when sold), write-offs (never paid).
CASH_METHODS = (
    PaymentMethod.CASH,
    PaymentMethod.CARD,
    PaymentMethod.BANK_TRANSFER,
    PaymentMethod.ONLINE,
    PaymentMethod.INSURER,
)
FEE_KINDS = (LineKind.NO_SHOW_FEE, LineKind.LATE_CANCEL_FEE)
NO_THERAPIST = "No therapist (products, memberships, other)"
CENT = Decimal("0.01")
_MONEY = DecimalField(max_digits=14, decimal_places=2)


@dataclass(frozen=True, slots=True)
class Period:
    """From ``first`` to ``last``, both days included, in the clinic's calendar."""

    first: date
    last: date

    @property
    def months(self) -> list[date]:
        """The first day of every month the period touches."""
        found, day = [], self.first.replace(day=1)
        while day <= self.last:
            found.append(day)
            day = (day + timedelta(days=32)).replace(day=1)
        return found


def _money(value: Decimal | int | None) -> Decimal:
    """A database sum as money: Decimal to the cent."""
    if value is None:
        return ZERO
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


# --- Querysets each basis reads -------------------------------------------------------------


def _issued_lines(actor: Actor, period: Period) -> QuerySet[InvoiceLine]:
    """Lines of invoices and credit notes issued in the period (all kinds: tax is charged on packages too)."""
    return InvoiceLine.objects.filter(
        clinic_id=actor.clinic_id,
        invoice__clinic_id=actor.clinic_id,
        invoice__status=InvoiceStatus.ISSUED,
        invoice__issued_on__gte=period.first,
        invoice__issued_on__lte=period.last,
    )


def _cash_payments(actor: Actor, period: Period) -> QuerySet[Payment]:
    return Payment.objects.filter(
        clinic_id=actor.clinic_id,
        received_on__gte=period.first,
        received_on__lte=period.last,
        kind__in=(PaymentKind.PAYMENT, PaymentKind.REFUND),
        method__in=CASH_METHODS,
    )


# --- Revenue --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Amount:
    """One row of a breakdown: what it is, and its amount."""

    label: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Revenue:
    basis: str
    by_month: list[Amount]
    by_therapist: list[Amount]
    by_service: list[Amount]
    tax: list[Amount]
    tips: Decimal
    total: Decimal


def _month_key(day: str) -> Any:
    """``YYYY-MM`` of a DateField by the database's own string functions: SQLite's ``TruncMonth`` is a
    Python function called once per row, which alone doubled the report's time at 100,000 lines."""
    return Substr(Cast(day, CharField()), 1, 7)


def _names(actor: Actor) -> tuple[dict[int, str], dict[int, str]]:
    """The clinic's therapists' and treatments' names (two small queries), rather than joining them
    onto every line summed."""
    therapists = {
        pk: str(name or email)
        for pk, name, email in Membership.objects.filter(clinic_id=actor.clinic_id).values_list(
            "pk", "therapist_profile__display_name", "user__email"
        )
    }
    types = dict(AppointmentType.objects.filter(clinic_id=actor.clinic_id).values_list("pk", "name"))
    return therapists, types


def _fold(actor: Actor, period: Period, basis: str, rows: Iterable[Any], tips: Decimal) -> Revenue:
    """One grouped query's rows (month, therapist, kind, treatment, tax name → revenue, tax) folded
    into the report's breakdowns; all are summed from the same rows, so they add up to one total."""
    therapist_names, type_names = _names(actor)
    kinds = dict(LineKind.choices)
    months: dict[str, Any] = {}
    therapists: dict[str, Any] = {}
    services: dict[str, Any] = {}
    taxes: dict[str, Any] = {}
    for row in rows:
        amount = row["amount"] or 0
        therapist, kind, kind_of = row["therapist_id"], row["kind"], row["appointment_type_id"]
        if amount:
            months[row["month"]] = months.get(row["month"], 0) + amount
            label = NO_THERAPIST if therapist is None else therapist_names.get(therapist, f"Member {therapist}")
            therapists[label] = therapists.get(label, 0) + amount
            if kind == LineKind.SERVICE and kind_of is not None:
                service = type_names.get(kind_of, str(kinds[kind]))
            else:
                service = str(kinds.get(kind, kind))
            services[service] = services.get(service, 0) + amount
        if row["tax"]:
            name = row["tax_name"] or "No tax"
            taxes[name] = taxes.get(name, 0) + row["tax"]
    by_month = [Amount(f"{m:%b %Y}", _money(months.get(f"{m:%Y-%m}"))) for m in period.months]

    def ranked(sums: dict[str, Any]) -> list[Amount]:
        return sorted((Amount(k, _money(v)) for k, v in sums.items()), key=lambda a: (-a.amount, a.label))

    return Revenue(
        basis=basis,
        by_month=by_month,
        by_therapist=ranked(therapists),
        by_service=ranked(services),
        tax=sorted((Amount(k, _money(v)) for k, v in taxes.items()), key=lambda a: a.label),
        tips=tips,
        total=sum((m.amount for m in by_month), ZERO),
    )


_GROUPS = ("month", "therapist_id", "kind", "appointment_type_id", "tax_name")


def revenue(actor: Actor, period: Period, basis: str) -> Revenue:
    """Revenue by month, therapist and service, tax by name, and tips: one grouped query over the
    lines (a few hundred rows whatever the number of invoices), one for tips, two for names."""
    # Tips taken with payments in the period (the therapist's, never the clinic's revenue).
    tips = _money(_cash_payments(actor, period).aggregate(t=Sum("tip"))["t"])
    rows: Any
    if basis == CASH:
        # The shares of payments and refunds of money received in the period: each recorded with
        # its line's net and tax (services.payments.payment_shares), so these sums are exact.
        shares = (
            PaymentShare.objects.filter(
                clinic_id=actor.clinic_id,
                received_on__gte=period.first,
                received_on__lte=period.last,
                kind__in=(PaymentKind.PAYMENT, PaymentKind.REFUND),
                method__in=CASH_METHODS,
            )
            .values(
                month=_month_key("received_on"),
                therapist_id=F("line__therapist_id"),
                line_kind=F("line__kind"),
                appointment_type_id=F("line__appointment_type_id"),
                tax_name=F("line__tax_name"),
            )
            .annotate(amount=Sum("net"), tax=Sum("tax"))
            .order_by()
        )
        rows = [{**row, "kind": row["line_kind"]} for row in shares]
    else:
        # Lines issued in the period; package and gift-card sales are held, not earned, but their tax is charged.
        rows = (
            _issued_lines(actor, period)
            .annotate(month=_month_key("invoice__issued_on"))
            .values(*_GROUPS)
            .annotate(
                amount=Sum(Case(When(kind__in=PREPAID_KINDS, then=Value(ZERO)), default=F("net"), output_field=_MONEY)),
                tax=Sum("tax"),
            )
            .order_by()
        )
    return _fold(actor, period, basis, rows, tips)


# --- Outstanding balances and their age -------------------------------------------------------

BUCKETS = ("current", "d1_30", "d31_60", "d61_90", "d90_plus")
BUCKET_LABELS = ("Current", "1–30 days", "31–60 days", "61–90 days", "Over 90 days")


@dataclass(frozen=True, slots=True)
class AgeingRow:
    client_id: int
    name: str
    invoices: int
    buckets: tuple[Decimal, ...]

    @property
    def total(self) -> Decimal:
        return sum(self.buckets, ZERO)


@dataclass(frozen=True, slots=True)
class Ageing:
    as_of: date
    rows: list[AgeingRow]
    totals: tuple[Decimal, ...]
    clients: int
    shown: int

    @property
    def total(self) -> Decimal:
        return sum(self.totals, ZERO)


def _owing(actor: Actor) -> QuerySet[Invoice]:
    return Invoice.objects.filter(
        clinic_id=actor.clinic_id,
        status=InvoiceStatus.ISSUED,
        kind=InvoiceKind.INVOICE,
        total__gt=F("amount_paid") + F("amount_written_off") + F("amount_credited"),
    )


def _bucket_sums(today: date) -> dict[str, Sum]:
    """What is owed by days past ``due_on``: not yet due (or due today), 1–30, 31–60, 61–90, over 90."""
    balance = F("total") - F("amount_paid") - F("amount_written_off") - F("amount_credited")
    edges = [
        Q(due_on__gte=today),
        Q(due_on__lt=today, due_on__gte=today - timedelta(days=30)),
        Q(due_on__lt=today - timedelta(days=30), due_on__gte=today - timedelta(days=60)),
        Q(due_on__lt=today - timedelta(days=60), due_on__gte=today - timedelta(days=90)),
        Q(due_on__lt=today - timedelta(days=90)),
    ]
    return {
        name: Sum(Case(When(edge, then=balance), default=Value(ZERO), output_field=_MONEY))
        for name, edge in zip(BUCKETS, edges, strict=True)
    }


def ageing(actor: Actor, *, limit: int | None = 100) -> Ageing:
    """What each client owes today, by how late. Three queries (rows, totals, the audit row)
    whatever the number of invoices; the page shows the ``limit`` largest, the CSV every client."""
    today = actor.today()
    sums = _bucket_sums(today)
    owing = _owing(actor)
    found = (
        owing.values("client_id", "client__chosen_name", "client__legal_given_name", "client__legal_family_name")
        .annotate(
            invoices=Count("id"),
            owed=Sum(F("total") - F("amount_paid") - F("amount_written_off") - F("amount_credited")),
            **sums,
        )
        .order_by("-owed", "client__legal_family_name", "client_id")
    )
    # Plain dicts: the bucket columns are named at run time (BUCKETS), which a typed row cannot say.
    picked: list[dict[str, Any]] = [dict(row) for row in (found[:limit] if limit is not None else found)]
    rows = [
        AgeingRow(
            client_id=row["client_id"],
            name=f"{row['client__chosen_name'] or row['client__legal_given_name']} {row['client__legal_family_name']}",
            invoices=row["invoices"],
            buckets=tuple(_money(row[name]) for name in BUCKETS),
        )
        for row in picked
    ]
    totals = owing.aggregate(clients=Count("client_id", distinct=True), **sums)
    if rows:
        # Who owes what names clients: a read of client information, audited like the client list.
        audit_record(
            action=Action.VIEW,
            object_type="billing.report_ageing",
            object_id=today.isoformat(),
            user=actor.user,
            clinic_id=actor.clinic_id,
        )
    return Ageing(
        as_of=today,
        rows=rows,
        totals=tuple(_money(totals[name]) for name in BUCKETS),
        clients=totals["clients"],
        shown=len(rows),
    )


# --- What the clinic holds for packages and gift cards -------------------------------------------


@dataclass(frozen=True, slots=True)
class Held:
    """Prepaid credit not yet used: how many, how many sessions (packages), and its value."""

    count: int
    sessions: int
    value: Decimal


@dataclass(frozen=True, slots=True)
class Liability:
    as_of: date
    packages: Held
    expired_packages: Held
    gift_cards: Held
    sessions_used_value: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.packages.value + self.gift_cards.value


def _packages_held(packages: QuerySet[Package]) -> Held:
    # The price less the worth of the sessions used (each redemption records its share of the price,
    # as ``money.allocate`` split it): the unused sessions × price ÷ sessions, to the cent.
    sold = packages.aggregate(
        count=Count("id"), sessions=Coalesce(Sum(F("sessions_total") - F("sessions_used")), 0), price=Sum("price")
    )
    used = PackageRedemption.objects.filter(package__in=packages, reversed_at__isnull=True).aggregate(v=Sum("value"))
    return Held(sold["count"], sold["sessions"], _money(sold["price"]) - _money(used["v"]))


def liability(actor: Actor, period: Period | None = None) -> Liability:
    """Packages bought and not used (active, with sessions left; the expired apart) and the balance of
    active gift cards, today. Five queries (six with a period: the value of sessions used in it)."""
    today = actor.today()
    open_packages = Package.objects.filter(
        clinic_id=actor.clinic_id,
        source=Package.Source.PACKAGE,
        is_active=True,
        sessions_used__lt=F("sessions_total"),
    )
    cards = GiftCard.objects.filter(clinic_id=actor.clinic_id, is_active=True, balance__gt=0).aggregate(
        count=Count("id"), value=Sum("balance")
    )
    used_value = ZERO
    if period is not None:
        used_value = _money(
            PackageRedemption.objects.filter(
                clinic_id=actor.clinic_id,
                reversed_at__isnull=True,
                redeemed_on__gte=period.first,
                redeemed_on__lte=period.last,
            ).aggregate(v=Sum("value"))["v"]
        )
    return Liability(
        as_of=today,
        packages=_packages_held(open_packages.filter(expires_on__gte=today)),
        expired_packages=_packages_held(open_packages.filter(expires_on__lt=today)),
        gift_cards=Held(cards["count"], 0, _money(cards["value"])),
        sessions_used_value=used_value,
    )


# --- Missed-visit fees -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeeRow:
    label: str
    charged: int
    amount: Decimal  # total with tax, of the fees issued in the period
    credited: Decimal  # taken back by credit notes issued in the period (negative or zero)
    paid: Decimal  # of the fees issued in the period, paid so far (payments less refunds, any method)
    written_off: Decimal

    @property
    def owing(self) -> Decimal:
        return self.amount + self.credited - self.paid - self.written_off


def fees(actor: Actor, period: Period) -> list[FeeRow]:
    """No-show and late-cancellation fees issued in the period and what came of them. Three queries."""
    lines = _issued_lines(actor, period).filter(kind__in=FEE_KINDS)
    charged: dict[str, Any] = {
        row["kind"]: row
        for row in lines.filter(invoice__kind=InvoiceKind.INVOICE)
        .values("kind")
        .annotate(n=Count("id"), amount=Sum("total"))
        .order_by()
    }
    # What was paid (less refunds) and written off of those lines, from the shares recorded with
    # each payment (exact, any method).
    settled: dict[tuple[str, str], Any] = {
        (row["line__kind"], row["kind"]): row["amount"]
        for row in PaymentShare.objects.filter(line__in=lines.filter(invoice__kind=InvoiceKind.INVOICE))
        .values("line__kind", "kind")
        .annotate(amount=Sum(F("net") + F("tax"), output_field=_MONEY))
        .order_by()
    }
    for kind in FEE_KINDS:
        fee = charged.setdefault(kind, {})
        fee["paid"] = _money(settled.get((kind, PaymentKind.PAYMENT))) + _money(settled.get((kind, PaymentKind.REFUND)))
        fee["written_off"] = settled.get((kind, PaymentKind.WRITE_OFF))
    credited = {
        row["kind"]: row["amount"]
        for row in lines.filter(invoice__kind=InvoiceKind.CREDIT_NOTE)
        .values("kind")
        .annotate(amount=Sum("total"))
        .order_by()
    }
    labels = dict(LineKind.choices)
    rows = []
    for kind in FEE_KINDS:
        row: dict[str, Any] = charged.get(kind, {})
        rows.append(
            FeeRow(
                label=str(labels[kind]),
                charged=row.get("n", 0),
                amount=_money(row.get("amount")),
                credited=_money(credited.get(kind)),
                paid=_money(row.get("paid")),
                written_off=_money(row.get("written_off")),
            )
        )
    return rows


# --- Write-offs ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WriteOffRow:
    on: date
    client_id: int
    client: str
    invoice_id: int
    invoice: str
    amount: Decimal
    reason: str
    by: str


@dataclass(frozen=True, slots=True)
class WriteOffs:
    rows: list[WriteOffRow]
    count: int
    total: Decimal


def write_offs(actor: Actor, period: Period, *, limit: int | None = 500) -> WriteOffs:
    """Debts written off in the period, newest first, with who did it and why. Three queries
    (the rows with client, invoice and author joined; the total; the audit row)."""
    found = Payment.objects.filter(
        clinic_id=actor.clinic_id,
        kind=PaymentKind.WRITE_OFF,
        received_on__gte=period.first,
        received_on__lte=period.last,
    )
    selected = found.select_related("client", "invoice", "recorded_by__user").order_by("-received_on", "-id")
    rows = [
        WriteOffRow(
            on=p.received_on,
            client_id=p.client_id,
            client=p.client.display_name,
            invoice_id=p.invoice_id,
            invoice=p.invoice.label,
            amount=p.amount,
            reason=p.note,
            by=str(p.recorded_by.user) if p.recorded_by is not None else "",
        )
        for p in (selected[:limit] if limit is not None else selected)
    ]
    totals = found.aggregate(n=Count("id"), total=Sum("amount"))
    if rows:
        audit_record(
            action=Action.VIEW,
            object_type="billing.report_write_offs",
            object_id=f"{period.first}..{period.last}",
            user=actor.user,
            clinic_id=actor.clinic_id,
        )
    return WriteOffs(rows, totals["n"], _money(totals["total"]))


# --- The whole page --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportPage:
    period: Period
    basis: str
    currency: str
    revenue: Revenue
    ageing: Ageing
    liability: Liability
    fees: list[FeeRow]
    write_offs_total: Decimal
    write_offs_count: int
    notes: list[str] = field(default_factory=list)


def report_page(actor: Actor, period: Period, basis: str) -> ReportPage:
    """Everything on /billing/reports/, in a fixed number of queries (about twenty) whatever the size."""
    written = Payment.objects.filter(
        clinic_id=actor.clinic_id,
        kind=PaymentKind.WRITE_OFF,
        received_on__gte=period.first,
        received_on__lte=period.last,
    ).aggregate(n=Count("id"), total=Sum("amount"))
    return ReportPage(
        period=period,
        basis=basis,
        currency=actor.clinic.currency,
        revenue=revenue(actor, period, basis),
        ageing=ageing(actor, limit=25),
        liability=liability(actor, period),
        fees=fees(actor, period),
        write_offs_total=_money(written["total"]),
        write_offs_count=written["n"],
    )


SECTIONS = ("revenue-month", "revenue-therapist", "revenue-service", "tax", "ageing", "liability", "fees", "write-offs")
Table = tuple[list[str], list[Sequence[Any]]]


def section_table(actor: Actor, section: str, period: Period, basis: str) -> Table:
    """One section as a header and rows, for its CSV (every row: no page limit)."""
    if section.startswith("revenue-") or section == "tax":
        found = revenue(actor, period, basis)
        pick = {
            "revenue-month": ("Month", found.by_month),
            "revenue-therapist": ("Therapist", found.by_therapist),
            "revenue-service": ("Service", found.by_service),
            "tax": ("Tax", found.tax),
        }[section]
        return [pick[0], f"Amount ({basis})"], [(row.label, row.amount) for row in pick[1]]
    if section == "ageing":
        owed = ageing(actor, limit=None)
        return (
            ["Client", "Invoices", *BUCKET_LABELS, "Total"],
            [(row.name, row.invoices, *row.buckets, row.total) for row in owed.rows],
        )
    if section == "liability":
        held = liability(actor, period)
        return (
            ["Held for", "Count", "Sessions", "Value"],
            [
                (
                    "Packages (unused sessions, not expired)",
                    held.packages.count,
                    held.packages.sessions,
                    held.packages.value,
                ),
                (
                    "Packages expired with sessions unused",
                    held.expired_packages.count,
                    held.expired_packages.sessions,
                    held.expired_packages.value,
                ),
                ("Gift cards (balance)", held.gift_cards.count, None, held.gift_cards.value),
            ],
        )
    if section == "fees":
        return (
            ["Fee", "Charged", "Amount", "Credited", "Paid", "Written off", "Owing"],
            [(r.label, r.charged, r.amount, r.credited, r.paid, r.written_off, r.owing) for r in fees(actor, period)],
        )
    if section == "write-offs":
        found_offs = write_offs(actor, period, limit=None)
        return (
            ["Date", "Client", "Invoice", "Amount", "Reason", "By"],
            [(r.on, r.client, r.invoice, r.amount, r.reason, r.by) for r in found_offs.rows],
        )
    raise ValueError(section)
