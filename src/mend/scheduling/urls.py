from django.urls import path

from mend.scheduling.views import calendar, feeds, online
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
]
