from django.urls import path

from . import views

app_name = "tracking"

urlpatterns = [
    path("board/", views.board, name="board"),
    path("escalations/", views.escalations, name="escalations"),
]
