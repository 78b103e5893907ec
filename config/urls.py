from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from schools.views import home

from . import views

auth_patterns = [
    path(
        "sign-in/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            email_template_name="emails/password_reset-body.txt",
            html_email_template_name="emails/password_reset-body.html",
            subject_template_name="emails/password_reset-subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include(auth_patterns)),
    path("visits/", include("visits.urls")),
    path("tracking/", include("tracking.urls")),
    path("directory/", include("schools.urls")),
    path("risk/", include("riskassess.urls")),
    path("records/", include("records.urls")),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
