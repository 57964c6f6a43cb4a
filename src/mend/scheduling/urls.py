from django.urls import path

from mend.scheduling.views import calendar, feeds, online, series, setup, waitlist
from mend.scheduling.views import today as today_views

urlpatterns = [
    path("schedule/", calendar.calendar, name="schedule"),
    path("schedule/new/", calendar.appointment_new, name="appointment_new"),
    path("schedule/appointments/<int:pk>/", calendar.appointment_detail, name="appointment_detail"),
    path("schedule/appointments/<int:pk>/move/", calendar.appointment_move, name="appointment_move"),
    path("schedule/appointments/<int:pk>/cancel/", calendar.appointment_cancel, name="appointment_cancel"),
    path("schedule/appointments/<int:pk>/status/", calendar.appointment_status, name="appointment_status"),
    path("schedule/calendars/", feeds.my_calendars, name="schedule_my_calendars"),
    path("schedule/calendars/<int:membership_id>/", feeds.calendars, name="schedule_calendars"),
    path("schedule/calendars/<int:membership_id>/feed/new/", feeds.feed_create, name="schedule_feed_create"),
    path("schedule/calendars/<int:membership_id>/feed/revoke/", feeds.feed_revoke, name="schedule_feed_revoke"),
    path("schedule/calendars/<int:membership_id>/external/", feeds.external_add, name="schedule_external_add"),
    path("schedule/calendars/external/<int:pk>/delete/", feeds.external_delete, name="schedule_external_delete"),
    path("schedule/calendars/external/<int:pk>/refresh/", feeds.external_refresh, name="schedule_external_refresh"),
    path("today/appointments/<int:pk>/status/", today_views.today_status, name="today_status"),
    path("schedule/feed/<str:token>.ics", feeds.feed, name="schedule_feed"),
    # Setting the calendar up: appointment types, each therapist's hours, closures.
    path("schedule/setup/", setup.setup_index, name="setup_index"),
    path("schedule/setup/types/", setup.appointment_type_list, name="appointment_type_list"),
    path("schedule/setup/types/new/", setup.appointment_type_edit, name="appointment_type_create"),
    path("schedule/setup/types/<int:pk>/", setup.appointment_type_edit, name="appointment_type_edit"),
    path("schedule/setup/therapists/<int:pk>/hours/", setup.working_hours, name="working_hours"),
    path("schedule/setup/therapists/<int:pk>/hours/add/", setup.working_hours_add, name="working_hours_add"),
    path(
        "schedule/setup/therapists/<int:pk>/hours/<int:block_id>/remove/",
        setup.working_hours_remove,
        name="working_hours_remove",
    ),
    path(
        "schedule/setup/therapists/<int:pk>/hours/exceptions/add/",
        setup.hours_exception_add,
        name="hours_exception_add",
    ),
    path(
        "schedule/setup/therapists/<int:pk>/hours/exceptions/<int:exception_id>/remove/",
        setup.hours_exception_remove,
        name="hours_exception_remove",
    ),
    path("schedule/setup/therapists/<int:pk>/hours/time-off/add/", setup.time_off_add, name="time_off_add"),
    path(
        "schedule/setup/therapists/<int:pk>/hours/time-off/<int:time_off_id>/remove/",
        setup.time_off_remove,
        name="time_off_remove",
    ),
    path("schedule/setup/closures/", setup.closure_list, name="closure_list"),
    path("schedule/setup/closures/add/", setup.closure_add, name="closure_add"),
    path("schedule/setup/closures/<int:pk>/remove/", setup.closure_remove, name="closure_remove"),
    # The public online booking (no sign-in) and the emailed links that change a booking.
    path("book/<slug:slug>/", online.book_start, name="book_start"),
    path("book/<slug:slug>/<int:type_id>/", online.book_therapist, name="book_therapist"),
    path("book/<slug:slug>/<int:type_id>/times/", online.book_slots, name="book_slots"),
    path("book/<slug:slug>/hold/<str:token>/", online.book_details, name="book_details"),
    path("book/<slug:slug>/hold/<str:token>/code/", online.book_code, name="book_code"),
    path("book/<slug:slug>/hold/<str:token>/confirm/", online.book_confirm, name="book_confirm"),
    path("book/<slug:slug>/booked/<str:token>/", online.book_done, name="book_done"),
    path("booking/cancel/<str:token>/", online.book_cancel, name="book_cancel"),
    path("booking/reschedule/<str:token>/", online.book_reschedule, name="book_reschedule"),
    # The waitlist: the staff page, and the emailed offer of a freed slot (public, by its token).
    path("schedule/waitlist/", waitlist.waitlist, name="waitlist"),
    path("schedule/waitlist/<int:pk>/remove/", waitlist.waitlist_remove, name="waitlist_remove"),
    path("book/offer/<str:token>/", waitlist.waitlist_offer, name="waitlist_offer"),
    path("schedule/series/new/", series.series_new, name="series_new"),
    path("schedule/series/<str:series_id>/", series.series_detail, name="series_detail"),
    path("schedule/series/<str:series_id>/<int:pk>/", series.series_change, name="series_change"),
]
