from django.urls import path

from . import views

app_name = "visits"

urlpatterns = [
    path("", views.my_visits, name="mine"),
    path("queue/", views.queue, name="queue"),
    path("<int:pk>/", views.detail, name="detail"),
]
