"""Writes of the calendar. Each module owns one noun; this package re-exports them."""

from mend.scheduling.services.booking import (
    BookingConflict,
    Change,
    appointment_book,
    appointment_cancel,
    appointment_move,
    appointment_status_set,
    on_change,
    overlapping_active,
)

__all__ = [
    "BookingConflict",
    "Change",
    "appointment_book",
    "appointment_cancel",
    "appointment_move",
    "appointment_status_set",
    "on_change",
    "overlapping_active",
]
