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
from mend.scheduling.services.setup import (
    appointment_type_save,
    closure_delete,
    closure_save,
    hours_exception_delete,
    hours_exception_save,
    time_off_delete,
    time_off_save,
    working_hours_delete,
    working_hours_save,
)

__all__ = [
    "BookingConflict",
    "Change",
    "appointment_book",
    "appointment_cancel",
    "appointment_move",
    "appointment_status_set",
    "appointment_type_save",
    "closure_delete",
    "closure_save",
    "hours_exception_delete",
    "hours_exception_save",
    "on_change",
    "overlapping_active",
    "time_off_delete",
    "time_off_save",
    "working_hours_delete",
    "working_hours_save",
]
from mend.scheduling.services.series import (
    SeriesConflict,
    series_book,
    series_cancel_from,
    series_move_from,
    series_preview,
    series_rule,
)

__all__ += ["SeriesConflict", "series_book", "series_cancel_from", "series_move_from", "series_preview", "series_rule"]
