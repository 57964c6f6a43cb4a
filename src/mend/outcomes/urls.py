from django.urls import path

from mend.outcomes import views

urlpatterns = [
    path("outcomes/evidence/", views.evidence_page, name="evidence_report"),
    path("outcomes/evidence.csv", views.evidence_csv, name="evidence_csv"),
    path("outcomes/evidence/curves.svg", views.evidence_curves, name="evidence_curves"),
    path("episodes/<int:pk>/progress/", views.progress, name="episode_progress"),
    path("episodes/<int:pk>/outcomes/send/", views.link_send, name="outcome_link_send"),
    path("episodes/<int:pk>/outcomes/<slug:measure_id>/", views.response_record, name="outcome_record"),
    path("q/thanks/", views.questionnaire_thanks, name="questionnaire_thanks"),
    path("q/<str:token>/", views.questionnaire, name="questionnaire"),
]
