"""Sign-in with a second factor (django-two-factor-auth), in Homeward's own templates.

The login wizard: username and password, then the six-digit code from the authenticator app
(or a backup code). Users who must use two-factor but have not set it up are sent to the set-up
page by config.middleware.TwoFactorRequiredMiddleware after the first step.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import include, path
from two_factor import views as two_factor_views
from two_factor.forms import AuthenticationTokenForm, BackupTokenForm

from sso.selectors import form_action_update, password_sign_in_allowed, providers_enabled

from .enrolment import (
    ENROLMENT_SESSION_KEY,
    enrolment_code_email,
    enrolment_code_redeem,
    second_factor_changed_notify,
)

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
        self.sso_providers = list(providers_enabled())
        context["sso_providers"] = self.sso_providers
        return context

    def render(self, form=None, **kwargs):
        response = super().render(form, **kwargs)
        # R-SEC-4: each sign-in button's POST is redirected to its provider; without the
        # provider in form-action the browser stops there.
        update = form_action_update(getattr(self, "sso_providers", []))
        if update:
            response._csp_update = update
        return response

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


class EnrolmentCodeForm(forms.Form):
    code = forms.CharField(label="Enrolment code", max_length=40, strip=True)


class SetUpView(two_factor_views.SetupView):
    """Setting up an authenticator app. Before the first one is bound, the person types an
    enrolment code that reached her another way than her password (an administrator's, or one
    emailed to her school address): her password alone never binds someone else's app."""

    template_name = "two_factor/core/setup.html"

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and not (
            user.is_verified() or request.session.get(ENROLMENT_SESSION_KEY) == user.pk
        ):
            return self.enrolment_code(request)
        return super().dispatch(request, *args, **kwargs)

    def enrolment_code(self, request):
        """The page before the wizard: type an enrolment code, or have one emailed."""
        if request.method == "POST" and "email_me" in request.POST:
            if enrolment_code_email(actor=request.user, user=request.user):
                messages.success(request, "We have emailed a code to your school email address.")
            else:
                messages.error(request, "You have no email address: ask your administrator.")
            return redirect("two_factor:setup")
        if request.method == "POST" and "enrolment-code" in request.POST:
            form = EnrolmentCodeForm(request.POST, prefix="enrolment")
            if form.is_valid() and enrolment_code_redeem(
                user=request.user, code=form.cleaned_data["code"]
            ):
                request.session[ENROLMENT_SESSION_KEY] = request.user.pk
                return redirect("two_factor:setup")
            if form.is_valid():
                form.add_error("code", "That code is not valid: it may be used or expired.")
        else:
            form = EnrolmentCodeForm(prefix="enrolment")
        return render(request, "two_factor/core/enrolment_code.html", {"form": form})

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form, **kwargs)
        secret = context.get("secret_key")
        if secret:
            # Typed by hand into an app: groups of four are easier to read and check.
            context["secret_key"] = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
        return context

    def get_form(self, step=None, **kwargs):
        return _plain_labels(super().get_form(step=step, **kwargs))

    def done(self, form_list, **kwargs):
        response = super().done(form_list, **kwargs)
        self.request.session.pop(ENROLMENT_SESSION_KEY, None)
        second_factor_changed_notify(user=self.request.user, what="an authenticator app was set up")
        return response


class BackupTokensView(two_factor_views.BackupTokensView):
    def form_valid(self, form):
        response = super().form_valid(form)
        second_factor_changed_notify(
            user=self.request.user, what="new backup codes were made (the old ones stop working)"
        )
        return response


two_factor_patterns = (
    [
        path("", two_factor_views.ProfileView.as_view(), name="profile"),
        path("set-up/", SetUpView.as_view(), name="setup"),
        path("set-up/qr-code/", two_factor_views.QRGeneratorView.as_view(), name="qr"),
        path("set-up/done/", two_factor_views.SetupCompleteView.as_view(), name="setup_complete"),
        path("backup-codes/", BackupTokensView.as_view(), name="backup_tokens"),
        # No "disable" page: nobody turns their own second factor off. An administrator
        # resets a lost phone by deleting the device in the admin (docs/operations.md).
    ],
    "two_factor",
)

urls = include(two_factor_patterns)
