from django.urls import path

from mend.clinical.views import assessments, episodes, intake, notes, plans, referrals, screening

urlpatterns = [
    # Episodes and the chart
    path("clients/<int:client_id>/episodes/new/", episodes.episode_create, name="episode_create"),
    path("episodes/<int:pk>/", episodes.chart, name="chart"),
    path("episodes/<int:pk>/edit/", episodes.episode_edit, name="episode_edit"),
    path("episodes/<int:pk>/timeline/", episodes.timeline, name="episode_timeline"),
    path("episodes/<int:pk>/discharge/", episodes.discharge, name="episode_discharge"),
    # Referrals
    path("episodes/<int:pk>/referrals/new/", referrals.referral_edit, name="referral_create"),
    path("referrals/<int:referral_id>/edit/", referrals.referral_edit, name="referral_edit"),
    path("referrals/<int:referral_id>/close/", referrals.referral_close, name="referral_close"),
    path("referrals/<int:referral_id>/document/", referrals.referral_document, name="referral_document"),
    path("icd10/", referrals.icd10_search, name="icd10_search"),
    # Intake and screening
    path("episodes/<int:pk>/intake/", screening.health_history, name="health_history"),
    path("episodes/<int:pk>/check/", screening.pre_session_check, name="pre_session_check"),
    path("episodes/<int:pk>/findings/new/", screening.finding_add, name="finding_add"),
    path("findings/<int:finding_id>/resolve/", screening.finding_resolve, name="finding_resolve"),
    path("episodes/<int:pk>/clearances/new/", screening.clearance_add, name="clearance_add"),
    path("clearances/<int:clearance_id>/document/", screening.clearance_document, name="clearance_document"),
    # The health history a client reports from home (emailed link, signed out), and its review
    path("intake/thanks/", intake.client_intake_thanks, name="client_intake_thanks"),
    path("intake/<str:token>/", intake.client_intake, name="client_intake"),
    path("intakes/<int:pk>/review/", intake.client_intake_review, name="client_intake_review"),
    # Assessment
    path("episodes/<int:pk>/assessments/new/", assessments.assessment_edit, name="assessment_create"),
    path("assessments/<int:assessment_id>/", assessments.assessment_detail, name="assessment_detail"),
    path("assessments/<int:assessment_id>/edit/", assessments.assessment_edit, name="assessment_edit"),
    # Goals and plan of care
    path("episodes/<int:pk>/plan/", plans.plan_edit, name="plan_edit"),
    path("episodes/<int:pk>/plan/home-program/", plans.home_program, name="home_program"),
    path("episodes/<int:pk>/goals/new/", plans.goal_edit, name="goal_create"),
    path("goals/<int:goal_id>/edit/", plans.goal_edit, name="goal_edit"),
    path("goals/<int:goal_id>/delete/", plans.goal_delete, name="goal_delete"),
    # Treatment notes
    path("episodes/<int:pk>/notes/new/", notes.note_start, name="note_start"),
    path("notes/<int:note_id>/", notes.note_detail, name="note_detail"),
    path("notes/<int:note_id>/edit/", notes.note_edit, name="note_edit"),
    path("notes/<int:note_id>/autosave/", notes.note_autosave, name="note_autosave"),
    path("notes/<int:note_id>/sign/", notes.note_sign, name="note_sign"),
    path("notes/<int:note_id>/delete/", notes.note_delete, name="note_delete"),
    path("notes/<int:note_id>/addenda/new/", notes.addendum_add, name="addendum_add"),
]
