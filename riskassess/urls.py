from django.urls import path

from . import views

app_name = "riskassess"

urlpatterns = [
    path("visits/<int:visit_pk>/assessment/", views.assessment, name="assessment"),
    path("visits/<int:visit_pk>/assessment/sign-off/", views.sign_off, name="sign_off"),
    path("visits/<int:visit_pk>/assessment/reconfirm/", views.reconfirm, name="reconfirm"),
    path("visits/<int:visit_pk>/doorstep/", views.doorstep, name="doorstep"),
    path("households/<int:household_pk>/contacts/", views.contact_log, name="contact_log"),
    path("missing-contact/", views.missing_contact, name="missing_contact"),
]
