"""The revenue report's benchmark at a tiny size: its made-up books add up, and it times both bases."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from mend.billing import bench
from mend.billing.models import Invoice, Payment
from mend.billing.queries import reports


def test_the_bench_seeds_books_the_report_reads_and_times_each_basis(db):
    seeded = bench.seed(clients=20, years=2, last=date(2026, 6, 30))
    assert seeded.first == date(2024, 7, 1)
    assert Invoice.objects.filter(clinic_id=seeded.actor.clinic_id, kind="invoice").count() == 20 * 12
    period = reports.Period(seeded.first, seeded.last)
    accrual = reports.revenue(seeded.actor, period, reports.ACCRUAL)
    # Every invoice less every credit note, before tax, is the accrual revenue.
    issued = sum((i.subtotal for i in Invoice.objects.filter(clinic_id=seeded.actor.clinic_id)), Decimal("0.00"))
    assert accrual.total == issued
    cash = reports.revenue(seeded.actor, period, reports.CASH)
    money = Payment.objects.filter(clinic_id=seeded.actor.clinic_id, kind__in=("payment", "refund"))
    assert Decimal("0") < cash.total < sum((p.amount for p in money), Decimal("0"))
    rows = bench.measure(seeded, repeat=2)
    assert [r.basis for r in rows] == ["accrual", "cash", "page (accrual)"]
    assert all(r.p50_ms > 0 for r in rows) and rows[0].queries == 4  # tips, the grouped lines, two for names
    assert "Revenue report: 20 clients" in bench.format_table(seeded, rows)
