from django.urls import path

from . import pupil_views

app_name = "pupils"

urlpatterns = [
    path("pupils/", pupil_views.pupil_list, name="pupil_list"),
    path("pupils/<int:pk>/", pupil_views.pupil_detail, name="pupil_detail"),
    path("households/<int:pk>/", pupil_views.household_detail, name="household_detail"),
]
