"""Sign-in with a second factor (django-two-factor-auth), in Homeward's own templates.

The login wizard: username and password, then the six-digit code from the authenticator app
(or a backup code). Users who must use two-factor but have not set it up are sent to the set-up
page by config.middleware.TwoFactorRequiredMiddleware after the first step.
"""

from django import forms
from django.urls import include, path
from two_factor import views as two_factor_views

CODE_LABELS = {"token": "Six-digit code from your app", "otp_token": "Code"}


# A code box is text with a numeric keyboard (no spinner arrows), and the phone may offer the
# code it just received (autocomplete="one-time-code").
CODE_ATTRS = {"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": "autofocus"}


def _plain_labels(form):
    for name, label in CODE_LABELS.items():
        if name in form.fields:
            field = form.fields[name]
            field.label = label
            if isinstance(field.widget, forms.NumberInput):
                field.widget = forms.TextInput(attrs={**CODE_ATTRS, "pattern": "[0-9]*"})
            elif name == "otp_token" and field.widget.attrs.get("pattern"):
                field.widget.attrs.update(CODE_ATTRS)
    return form


class SignInView(two_factor_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_form(self, step=None, **kwargs):
        return _plain_labels(super().get_form(step=step, **kwargs))


class SetUpView(two_factor_views.SetupView):
    template_name = "two_factor/core/setup.html"

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form, **kwargs)
        secret = context.get("secret_key")
        if secret:
            # Typed by hand into an app: groups of four are easier to read and check.
            context["secret_key"] = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
        return context

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
