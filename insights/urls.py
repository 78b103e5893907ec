from django.urls import path

from . import views

app_name = "insights"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("table.csv", views.table_csv, name="table_csv"),
    path("report.pdf", views.report_pdf, name="report_pdf"),
]
