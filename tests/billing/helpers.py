"""What billing tests share: Harbour's price list and a completed visit that made its draft invoice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from mend.billing.models import BillingProfile, Invoice, TaxRate
from mend.core.availability import exact_local
from mend.scheduling.services import appointment_book, appointment_status_set
from mend.testing import Personas, Schedule, build_schedule

ZONE = "America/Toronto"


@dataclass
class Billing:
    schedule: Schedule
    hst: TaxRate
    profile: BillingProfile


def build_billing(p: Personas) -> Billing:
    """Harbour bills in CAD with 13% HST on treatment; the 60-minute treatment costs 120.00."""
    schedule = build_schedule(p)
    schedule.treatment.price = Decimal("120.00")
    schedule.treatment.save()
    schedule.initial.price = Decimal("65.00")
    schedule.initial.save()
    hst = TaxRate.objects.create(clinic=p.harbour, name="HST", rate=Decimal("13"))
    profile, _ = BillingProfile.objects.update_or_create(
        clinic=p.harbour,
        defaults={
            "service_tax_rate": hst,
            "tax_number": "123456789 RT0001",
            "no_show_fee": Decimal("60.00"),
            "late_cancel_fee": Decimal("40.00"),
        },
    )
    return Billing(schedule=schedule, hst=hst, profile=profile)


def visit_day(p: Personas, days_ago: int = 0) -> date:
    return p.today - timedelta(days=days_ago)


def completed_visit(
    p: Personas, b: Billing, *, day: date | None = None, hour: int = 10, client: Any = None, kind: Any = None
) -> Invoice:
    """Book, then complete, a visit of Carol's with Tess (on ``day``, today by default): its draft invoice."""
    day = day or p.today
    start: datetime = exact_local(day, time(hour), ZONE)
    front_desk = p.actor("front_desk")
    appointment = appointment_book(
        clinic=p.harbour,
        actor=front_desk,
        client=client or p.carol,
        therapist=p.memberships["therapist"],
        appointment_type=kind or b.schedule.treatment,
        starts_at=start,
        now=start - timedelta(days=2),
        override_reason="",
    )
    appointment_status_set(
        actor=front_desk, appointment=appointment, status="completed", now=start + timedelta(hours=1)
    )
    return Invoice.objects.get(appointment=appointment)
