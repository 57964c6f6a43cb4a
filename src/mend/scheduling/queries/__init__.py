"""Reads of the calendar. Each module owns one noun; this package re-exports them."""

from mend.scheduling.queries.calendar import appointment_type_value, clinic_calendar, window

__all__ = ["appointment_type_value", "clinic_calendar", "window"]
