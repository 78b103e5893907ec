from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from schools.views import home, my_photo, my_photo_image

from . import health, monitoring, signin

auth_patterns = [
    # Username and password, then the authenticator app's code (issue #7).
    path("sign-in/", signin.SignInView.as_view(), name="login"),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        signin.PasswordResetView.as_view(),
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
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password/changed/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("two-factor/", signin.urls),
    # Issue 14: a member of staff's own photo, for the emergency page and the Police briefing.
    path("photo/", my_photo, name="my_photo"),
    path("photo/image.jpg", my_photo_image, name="my_photo_image"),
    # Single sign-on (sso/): the provider's redirect URI and Homeward's own SSO pages.
    path("sso/", include("sso.oidc_urls")),
    path("sso/", include("sso.urls")),
]

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include(auth_patterns)),
    path("visits/", include("visits.urls")),
    path("tracking/", include("tracking.urls")),
    path("directory/", include("records.pupil_urls")),
    path("audit/", include("audit.urls")),
    path("mis/", include("mis.urls")),
    # The admin signs in through Homeward's two-factor sign-in, never its own password-only form.
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="login", query_string=True),
        name="admin_login",
    ),
    path("risk/", include("riskassess.urls")),
    path("records/", include("records.urls")),
    path("transfers/", include("transfers.urls")),
    path("insights/", include("insights.urls")),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", monitoring.metrics, name="metrics"),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
