"""What the booked page shows of a deposit (a section lent to scheduling's online booking)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mend.billing.models import BillingProfile
from mend.billing.queries.setup import cancellation_policy_text
from mend.billing.services.checkout import deposit_due, packages_online
from mend.clinics.models import Clinic
from mend.scheduling.models import Appointment
from mend.scheduling.queries.online import link_token


def deposit_section(appointment: Appointment) -> Mapping[str, Any] | None:
    """The deposit to pay for an online booking, with the signed link that pays it; None when none is asked."""
    due = deposit_due(appointment)
    if due is None:
        return None
    return {
        "template": "billing/_deposit_section.html",
        "deposit": due,
        "token": link_token(appointment, "booked"),
        "minutes": 30,
    }


def packages_section(appointment: Appointment) -> Mapping[str, Any] | None:
    """Packages of the booked treatment the client may buy online now, or None."""
    plans = packages_online(appointment)
    if not plans or appointment.status != "booked":
        return None
    return {"template": "billing/_packages_section.html", "plans": plans, "token": link_token(appointment, "booked")}


def fee_policy_text(clinic: Clinic) -> str:
    """The clinic's no-show and late-cancellation fees in the client's words (one query), for booking."""
    profile = BillingProfile.objects.filter(clinic=clinic).first()
    return cancellation_policy_text(profile, clinic.currency) if profile is not None else ""
