from __future__ import annotations

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "mend.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from mend.billing.services import invoices
        from mend.scheduling.services import booking

        # A completed visit gets its draft invoice, a no-show or late cancellation its fee, in the
        # booking service's own transaction.
        booking.on_change(invoices.on_appointment_change)
