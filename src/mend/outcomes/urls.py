from django.urls import path

from mend.outcomes import views

urlpatterns = [
    path("episodes/<int:pk>/progress/", views.progress, name="episode_progress"),
    path("episodes/<int:pk>/outcomes/send/", views.link_send, name="outcome_link_send"),
    path("episodes/<int:pk>/outcomes/<slug:measure_id>/", views.response_record, name="outcome_record"),
    path("q/thanks/", views.questionnaire_thanks, name="questionnaire_thanks"),
    path("q/<str:token>/", views.questionnaire, name="questionnaire"),
]
