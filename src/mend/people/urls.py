from django.urls import path

from mend.people import views

urlpatterns = [
    path("clients/", views.client_list, name="client_list"),
    path("clients/new/", views.client_create, name="client_create"),
    path("clients/<int:pk>/", views.client_detail, name="client_detail"),
    path("clients/<int:pk>/edit/", views.client_edit, name="client_edit"),
    path("therapists/", views.therapist_list, name="therapist_list"),
    path("therapists/new/", views.therapist_create, name="therapist_create"),
    path("therapists/<int:pk>/", views.therapist_detail, name="therapist_detail"),
    path("therapists/<int:pk>/edit/", views.therapist_edit, name="therapist_edit"),
    path("therapists/<int:pk>/invite/", views.therapist_invite, name="therapist_invite"),
    path("therapists/<int:pk>/licences/new/", views.licence_edit, name="licence_create"),
    path("therapists/<int:pk>/licences/<int:licence_id>/", views.licence_edit, name="licence_edit"),
    path("therapists/<int:pk>/licences/<int:licence_id>/delete/", views.licence_delete, name="licence_delete"),
    path("therapists/<int:pk>/certifications/new/", views.certification_edit, name="certification_create"),
    path(
        "therapists/<int:pk>/certifications/<int:certification_id>/",
        views.certification_edit,
        name="certification_edit",
    ),
    path(
        "therapists/<int:pk>/certifications/<int:certification_id>/delete/",
        views.certification_delete,
        name="certification_delete",
    ),
    path("referrers/", views.referrer_list, name="referrer_list"),
    path("referrers/new/", views.referrer_edit, name="referrer_create"),
    path("referrers/<int:pk>/", views.referrer_edit, name="referrer_edit"),
]
