"""How tests sign people in. Use `sign_in(client, user)` (or the `signed_in` fixture), never
`client.force_login` directly, so that sign-in rules (such as a second factor) apply everywhere
in one place.

Everyone signed in here has an authenticator app (a confirmed TOTP device) and a session verified
with it, exactly as django-otp records a verified sign-in, so pages that need two-factor sign-in
(config.middleware.TwoFactorRequiredMiddleware) open for DSLs, Heads and managers in every test.
Tests of the sign-in flow itself go through the real pages (tests/test_sign_in.py).
"""

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice


def authenticator_for(user) -> TOTPDevice:
    """The user's authenticator app, made on first use (django-two-factor-auth asks for the
    code of the device named "default")."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    return device


def sign_in(client, user):
    device = authenticator_for(user)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    # What django_otp.login() records when a code is accepted: this session is verified.
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def sign_in_with_password(client, username: str, password: str, **extra):
    """The sign-in page's first step (username and password), as a person fills it in."""
    from django.urls import reverse

    data = {
        "sign_in_view-current_step": "auth",
        "auth-username": username,
        "auth-password": password,
    }
    return client.post(reverse("login"), data, **extra)


def enrolment_code_typed(client, user):
    """The first step of setting up an authenticator app: an administrator issues a code and
    the person types it on the set-up page (config/enrolment.py)."""
    from django.urls import reverse

    from config.enrolment import enrolment_code_issue

    code = enrolment_code_issue(actor=None, user=user)
    return client.post(reverse("two_factor:setup"), {"enrolment-code": code})
