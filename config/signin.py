"""Sign-in with a second factor (django-two-factor-auth), in Homeward's own templates.

The login wizard: username and password, then the six-digit code from the authenticator app
(or a backup code). Users who must use two-factor but have not set it up are sent to the set-up
page by config.middleware.TwoFactorRequiredMiddleware after the first step.
"""

from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.urls import include, path
from two_factor import views as two_factor_views
from two_factor.forms import AuthenticationTokenForm, BackupTokenForm

from sso.selectors import password_sign_in_allowed, providers_enabled

CODE_LABELS = {"token": "Six-digit code from your app", "otp_token": "Code"}


def _plain_labels(form):
    for name, label in CODE_LABELS.items():
        if name in form.fields:
            form.fields[name].label = label
    return form


class PasswordForm(AuthenticationForm):
    """Username and password, unless every school of the person signs in only through its
    identity provider (sso.models.SignInSettings)."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not password_sign_in_allowed(user):
            raise ValidationError(
                "Your school signs in with its own Microsoft or Google account: use the "
                "button below.",
                code="password_sign_in_off",
            )


class SignInView(two_factor_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True
    form_list = (
        (two_factor_views.LoginView.AUTH_STEP, PasswordForm),
        (two_factor_views.LoginView.TOKEN_STEP, AuthenticationTokenForm),
        (two_factor_views.LoginView.BACKUP_STEP, BackupTokenForm),
    )

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form, **kwargs)
        context["sso_providers"] = list(providers_enabled())
        return context

    def get_form(self, step=None, **kwargs):
        return _plain_labels(super().get_form(step=step, **kwargs))


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
