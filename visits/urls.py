from django.urls import path

from . import views

app_name = "visits"

urlpatterns = [
    path("", views.my_visits, name="mine"),
    path("queue/", views.queue, name="queue"),
    path("all/", views.visit_list, name="all"),
    path("new/", views.request_visit, name="new"),
    path("new/siblings/", views.siblings, name="siblings"),
    path("data-quality/", views.data_quality, name="data_quality"),
    path("calendar/", views.calendar_settings, name="calendar"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.request_visit, name="edit"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/decide/", views.decide, name="decide"),
    path("<int:pk>/consult/", views.consult, name="consult"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
]
