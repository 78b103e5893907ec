from django.urls import path

from . import views

app_name = "sso"

urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
]
