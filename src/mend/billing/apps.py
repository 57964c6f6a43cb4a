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

        from mend.billing.queries.invoices import client_billing_section
        from mend.people import queries as people_queries

        # The client page shows what the client owes, their packages and membership.
        people_queries.add_client_section(client_billing_section)

        from mend.billing.queries.checkout import deposit_section, packages_section
        from mend.scheduling.queries import online

        # The booked page asks for the deposit the clinic wants, through the payment provider, and
        # offers the treatment's packages the clinic sells online.
        online.add_done_section(deposit_section)
        online.add_done_section(packages_section)

        from mend.billing.queries.checkout import fee_policy_text

        # The fee policy is shown at booking, in the confirmation and in reminders.
        online.add_policy_source(fee_policy_text)

        from mend.billing.queries.invoices import package_badges
        from mend.scheduling.queries import flags

        # Whoever books sees the client's package balance beside the referral's visits left.
        flags.add_booking_badges(package_badges)
