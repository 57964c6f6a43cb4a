"""The revenue report at scale: a made-up clinic with two years of invoices and payments for 10,000
clients, written with ``bulk_create`` (the services would take an hour and measure themselves, not
the report), then the report's queries timed.

Each client has a visit every two months or so (``visits_per_year``), on a weekday, with one of six
therapists and one of three treatments at 13% tax; one invoice in twenty is credited whole, most
are paid by card or cash on the day or within a fortnight (one in ten in part, one in fifty with a
refund), and one in a hundred is written off. The report is then asked for the whole two years on
both bases, as the owner's page does (revenue, ageing, liability, fees), p50 of ``repeat`` runs.

Run it in a throwaway database: ``mend bench_billing_reports`` (its own SQLite file under
``var/bench/billing-reports``), or from a test at a tiny size.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import transaction

from mend.accounts.models import User
from mend.billing.models import ZERO, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, LineKind, Payment, PaymentShare
from mend.billing.queries import reports
from mend.billing.services.payments import shares_in_bulk
from mend.clinics.models import Clinic, Membership
from mend.people.models import Client, TherapistProfile
from mend.platform.actor import Actor
from mend.platform.roles import Role
from mend.scheduling.models import AppointmentType

HST = Decimal("13")
PRICES = (Decimal("95.00"), Decimal("120.00"), Decimal("160.00"))
BATCH = 2000
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Seeded:
    actor: Actor
    first: date
    last: date
    clients: int
    invoices: int
    payments: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Timing:
    basis: str
    p50_ms: float
    min_ms: float
    max_ms: float
    queries: int


def _amounts(price: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    tax = (price * HST / 100).quantize(Decimal("0.01"))
    return price, tax, price + tax


@transaction.atomic
def seed(
    *, clients: int = 10_000, years: int = 2, visits_per_year: int = 6, last: date, slug: str = "bench-billing"
) -> Seeded:
    """The clinic, its owner and therapists, ``clients`` clients and their invoices up to ``last``."""
    started = time.perf_counter()
    rng = random.Random(7)
    clinic = Clinic.objects.create(name="Billing bench clinic", slug=slug)
    owner_user = User.objects.create_user(email=f"owner@{slug}.example", password=None, full_name="Bench Owner")
    owner = Membership.objects.create(clinic=clinic, user=owner_user, role=Role.OWNER)
    therapists = []
    for n in range(6):
        user = User.objects.create_user(email=f"t{n}@{slug}.example", password=None, full_name=f"Therapist {n}")
        member = Membership.objects.create(clinic=clinic, user=user, role=Role.THERAPIST)
        TherapistProfile.objects.create(membership=member, clinic=clinic, display_name=f"Therapist {n}")
        therapists.append(member)
    kinds = [
        AppointmentType.objects.create(clinic=clinic, name=f"Treatment {m}", duration_minutes=m, price=price)
        for m, price in zip((45, 60, 90), PRICES, strict=True)
    ]
    people = Client.objects.bulk_create(
        [
            Client(
                clinic=clinic,
                legal_given_name=f"Given{n}",
                legal_family_name=f"Family{n}",
                date_of_birth=date(1950 + n % 50, 1 + n % 12, 1 + n % 28),
            )
            for n in range(clients)
        ],
        batch_size=BATCH,
    )
    first = last.replace(year=last.year - years) + timedelta(days=1)
    span = (last - first).days + 1
    per_client = visits_per_year * years
    invoices: list[Invoice] = []
    # Per invoice: therapist, treatment, net, day, what happens to it (roll) and when it is paid.
    plans: list[tuple[int, int, Decimal, date, float, date]] = []
    number = 0
    for person in people:
        for _ in range(per_client):
            day = first + timedelta(days=rng.randrange(span))
            k = rng.randrange(3)
            net, tax, total = _amounts(PRICES[k])
            roll = rng.random()
            received = min(last, day + timedelta(days=rng.choice((0, 0, 0, 3, 14))))
            number += 1
            invoices.append(
                Invoice(
                    clinic=clinic,
                    client=person,
                    status=InvoiceStatus.ISSUED,
                    number=number,
                    currency="CAD",
                    issued_at=datetime(day.year, day.month, day.day, 17, tzinfo=UTC),
                    issued_on=day,
                    due_on=day + timedelta(days=14),
                    subtotal=net,
                    tax_total=tax,
                    total=total,
                    # Set here, as the payment services would have, so nothing is updated afterwards.
                    amount_credited=total if roll < 0.05 else ZERO,
                    amount_written_off=total if 0.05 <= roll < 0.06 else ZERO,
                    amount_paid=ZERO if roll < 0.06 else total if roll > 0.16 else (total / 2).quantize(CENT),
                )
            )
            plans.append((rng.randrange(6), k, net, day, roll, received))
    Invoice.objects.bulk_create(invoices, batch_size=BATCH)
    lines, notes, payments = [], [], []
    credit_number = 0
    for invoice, (t, k, net, day, roll, received) in zip(invoices, plans, strict=True):
        _, tax, total = _amounts(net)
        lines.append(
            InvoiceLine(
                clinic=clinic,
                invoice=invoice,
                position=1,
                kind=LineKind.SERVICE,
                description=kinds[k].name,
                service_on=day,
                appointment_type=kinds[k],
                therapist=therapists[t],
                unit_price=net,
                tax_name="HST",
                tax_rate=HST,
                net=net,
                tax=tax,
                total=total,
            )
        )
        if roll < 0.05:  # credited whole
            credit_number += 1
            notes.append((invoice, day, credit_number, kinds[k], therapists[t], net, tax, total))
            continue
        moment = datetime(received.year, received.month, received.day, 18, tzinfo=UTC)
        if roll < 0.06:  # written off
            kind, method = "write_off", "write_off"
        else:
            kind, method = "payment", rng.choice(("card", "card", "cash", "bank_transfer", "insurer"))
        payments.append(
            Payment(
                clinic=clinic,
                invoice=invoice,
                client_id=invoice.client_id,
                kind=kind,
                method=method,
                amount=invoice.amount_written_off or invoice.amount_paid,
                tip=Decimal("5.00") if method == "card" and roll > 0.9 else ZERO,
                received_at=moment,
                received_on=received,
            )
        )
    InvoiceLine.objects.bulk_create(lines, batch_size=BATCH)
    credit_notes = [
        Invoice(
            clinic=clinic,
            client_id=inv.client_id,
            kind=InvoiceKind.CREDIT_NOTE,
            status=InvoiceStatus.ISSUED,
            number=n,
            corrects=inv,
            currency="CAD",
            issued_at=datetime(d.year, d.month, d.day, 18, tzinfo=UTC),
            issued_on=d,
            subtotal=-net,
            tax_total=-tax,
            total=-total,
        )
        for inv, d, n, _k, _t, net, tax, total in notes
    ]
    Invoice.objects.bulk_create(credit_notes, batch_size=BATCH)
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                clinic=clinic,
                invoice=note,
                position=1,
                kind=LineKind.SERVICE,
                description=k.name,
                service_on=d,
                appointment_type=k,
                therapist=t,
                quantity=Decimal("-1"),
                unit_price=net,
                tax_name="HST",
                tax_rate=HST,
                net=-net,
                tax=-tax,
                total=-total,
            )
            for note, (_inv, d, _n, k, t, net, tax, total) in zip(credit_notes, notes, strict=True)
        ],
        batch_size=BATCH,
    )
    Payment.objects.bulk_create(payments, batch_size=BATCH)
    # Refunds: one payment in fifty gives 10.00 back.
    refunds = [
        Payment(
            clinic=clinic,
            invoice_id=p.invoice_id,
            client_id=p.client_id,
            kind="refund",
            method=p.method,
            amount=Decimal("-10.00"),
            refund_of=p,
            received_at=p.received_at,
            received_on=p.received_on,
            note="Bench",
        )
        for p in payments[::50]
        if p.kind == "payment"
    ]
    Payment.objects.bulk_create(refunds, batch_size=BATCH)
    PaymentShare.objects.bulk_create(shares_in_bulk([*payments, *refunds], lines, "CAD"), batch_size=BATCH)
    actor = Actor(user=owner_user, membership=owner)
    return Seeded(
        actor=actor,
        first=first,
        last=last,
        clients=clients,
        invoices=len(invoices) + len(credit_notes),
        payments=len(payments) + len(refunds),
        seconds=time.perf_counter() - started,
    )


def measure(seeded: Seeded, *, repeat: int = 5) -> list[Timing]:
    """The revenue report over the whole seeded span, each basis, p50 of ``repeat`` runs (after one warm-up)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    period = reports.Period(seeded.first, seeded.last)
    found = []
    for basis in (reports.ACCRUAL, reports.CASH):
        reports.revenue(seeded.actor, period, basis)  # warm-up: the database's page cache
        runs = []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                reports.revenue(seeded.actor, period, basis)
                runs.append((time.perf_counter() - started) * 1000)
        found.append(Timing(basis, statistics.median(runs), min(runs), max(runs), len(captured.captured_queries)))
    # The whole page's data (revenue, ageing, liability, fees, write-offs), accrual basis.
    reports.report_page(seeded.actor, period, reports.ACCRUAL)
    runs = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            reports.report_page(seeded.actor, period, reports.ACCRUAL)
            runs.append((time.perf_counter() - started) * 1000)
    found.append(
        Timing("page (accrual)", statistics.median(runs), min(runs), max(runs), len(captured.captured_queries))
    )
    return found


def format_table(seeded: Seeded, rows: list[Timing]) -> str:
    head = (
        f"Revenue report: {seeded.clients:,} clients, {seeded.invoices:,} invoices and credit notes, "
        f"{seeded.payments:,} payments, {seeded.first} to {seeded.last} (seeded in {seeded.seconds:.1f} s)"
    )
    lines = [head, f"{'basis':<16} {'p50 ms':>9} {'min ms':>9} {'max ms':>9} {'queries':>8}"]
    lines += [f"{r.basis:<16} {r.p50_ms:>9.1f} {r.min_ms:>9.1f} {r.max_ms:>9.1f} {r.queries:>8}" for r in rows]
    return "\n".join(lines)
