from django.urls import path

from . import views

app_name = "records"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("overdue/", views.overdue_records, name="overdue_records"),
    path("concerns/", views.concerns, name="concerns"),
    path("concerns/<int:pk>/acknowledge/", views.concern_acknowledge, name="concern_acknowledge"),
    path("actions/mine/", views.my_actions, name="my_actions"),
    path("actions/overdue/", views.overdue_actions, name="overdue_actions"),
    path("actions/<int:pk>/", views.action, name="action"),
    path("actions/<int:pk>/reassign/", views.action_reassign, name="action_reassign"),
    path("visits/<int:visit_pk>/", views.record, name="record"),
    path("visits/<int:visit_pk>/edit/", views.record_edit, name="record_edit"),
    path("visits/<int:visit_pk>/concern/", views.concern_raise, name="concern_raise"),
    path("visits/<int:visit_pk>/actions/new/", views.action_add, name="action_add"),
    path("visits/<int:visit_pk>/home-visit-form.pdf", views.record_pdf, name="record_pdf"),
    path("visits/<int:visit_pk>/risk-assessment.pdf", views.assessment_pdf, name="assessment_pdf"),
    path("pupils/<int:pk>/chronology/", views.chronology, name="chronology"),
    path("pupils/<int:pk>/chronology.pdf", views.chronology_pdf, name="chronology_pdf"),
    path("pupils/<int:pk>/safeguarding-file.pdf", views.pupil_file_pdf, name="pupil_file_pdf"),
    path("schools/<int:school_pk>/blank/<slug:form>.pdf", views.blank_pdf, name="blank_pdf"),
    path("export/", views.export, name="export"),
]
