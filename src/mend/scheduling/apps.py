from __future__ import annotations

from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "mend.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"

    def ready(self) -> None:
        from mend.clinical import queries as clinical_queries
        from mend.scheduling.queries.flags import chart_authorisation

        # The chart shows the referral's visits booked ahead and their warnings. Clinical cannot
        # import scheduling (scheduling reads the clinical record), so scheduling hands it a section.
        clinical_queries.add_chart_section(chart_authorisation)

        from mend.scheduling.queries.series import chart_booking

        # The plan of care's card links to booking its sessions as a series.
        clinical_queries.add_chart_section(chart_booking)

        from mend.scheduling.services.booking import on_change
        from mend.scheduling.services.reminders import on_appointment_change

        # Reminders follow every booking, move, cancellation and status change, in its transaction.
        on_change(on_appointment_change)

        from mend.scheduling.services import notices

        # The client hears of a booking, move or cancellation the clinic's staff made (by email, once).
        on_change(notices.on_appointment_change)

        from mend.scheduling.services import booking, waitlist

        # The waitlist offers the time a cancellation or a move frees, once the change commits.
        booking.on_change(waitlist.on_appointment_change)
