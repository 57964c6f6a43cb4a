from django.urls import path

from mend.clinics import views

urlpatterns = [
    path("clinic/switch/", views.switch_clinic, name="switch_clinic"),
    path("settings/", views.clinic_settings, name="clinic_settings"),
    path("settings/locations/new/", views.location_edit, name="location_create"),
    path("settings/locations/<int:pk>/", views.location_edit, name="location_edit"),
    path("settings/rooms/new/", views.room_edit, name="room_create"),
    path("settings/rooms/<int:pk>/", views.room_edit, name="room_edit"),
    # No sign-in: the emailed link is the credential (Django's reset-token check).
    path("invitation/<uidb64>/<token>/", views.invitation_accept, name="invitation_accept"),
]
