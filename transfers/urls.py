from django.urls import path

from . import views

app_name = "transfers"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("pupil/<int:pk>/", views.pupil, name="pupil"),
    path("pupil/<int:pk>/leaving/", views.pupil_leaving, name="pupil_leaving"),
    path("pupil/<int:pk>/returned/", views.pupil_returned, name="pupil_returned"),
    path("pupil/<int:pk>/paper-file/", views.paper_file, name="paper_file"),
    path("<int:pk>/offer/", views.offer, name="offer"),
    path("<int:pk>/package/", views.package, name="package"),
    path("<int:pk>/receipt/", views.receipt, name="receipt"),
    path("<int:pk>/accept/", views.accept, name="accept"),
    path("<int:pk>/decline/", views.decline, name="decline"),
    path("document/<int:pk>/", views.document, name="document"),
    path("link/<str:token>/", views.package_link, name="package_link"),
]
