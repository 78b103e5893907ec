from django.urls import path

from . import views

app_name = "schools"

urlpatterns = [
    path("pupils/", views.pupil_list, name="pupil_list"),
    path("pupils/<int:pk>/", views.pupil_detail, name="pupil_detail"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
]
