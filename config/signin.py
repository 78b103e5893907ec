"""Sign-in with a second factor (django-two-factor-auth), in Homeward's own templates.

The login wizard: username and password, then the six-digit code from the authenticator app
(or a backup code). Users who must use two-factor but have not set it up are sent to the set-up
page by config.middleware.TwoFactorRequiredMiddleware after the first step.
"""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path
from two_factor import views as two_factor_views

CODE_LABELS = {"token": "Six-digit code from your app", "otp_token": "Code"}


def _plain_labels(form):
    for name, label in CODE_LABELS.items():
        if name in form.fields:
            form.fields[name].label = label
    return form


class SignInView(two_factor_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_form(self, step=None, **kwargs):
        return _plain_labels(super().get_form(step=step, **kwargs))


class PasswordResetView(auth_views.PasswordResetView):
    """The reset link in the email starts with SITE_URL, never with the Host header the request
    came with: a forged Host would otherwise send someone a link to the attacker's site."""

    email_template_name = "emails/password_reset-body.txt"
    html_email_template_name = "emails/password_reset-body.html"
    subject_template_name = "emails/password_reset-subject.txt"

    def form_valid(self, form):
        self.extra_email_context = {"site_url": settings.SITE_URL}
        return super().form_valid(form)


class SetUpView(two_factor_views.SetupView):
    template_name = "two_factor/core/setup.html"

    def get_form(self, step=None, **kwargs):
        return _plain_labels(super().get_form(step=step, **kwargs))


two_factor_patterns = (
    [
        path("", two_factor_views.ProfileView.as_view(), name="profile"),
        path("set-up/", SetUpView.as_view(), name="setup"),
        path("set-up/qr-code/", two_factor_views.QRGeneratorView.as_view(), name="qr"),
        path("set-up/done/", two_factor_views.SetupCompleteView.as_view(), name="setup_complete"),
        path("backup-codes/", two_factor_views.BackupTokensView.as_view(), name="backup_tokens"),
        # No "disable" page: nobody turns their own second factor off. An administrator
        # resets a lost phone by deleting the device in the admin (docs/operations.md).
    ],
    "two_factor",
)

urls = include(two_factor_patterns)
