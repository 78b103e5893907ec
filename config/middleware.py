import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django_htmx.http import HttpResponseClientRedirect
from django_otp import user_has_device

from sso.session import provider_mfa_verified, signed_in_with_sso

from .security import SIGNED_IN_AT_SESSION_KEY, two_factor_required


class NoStoreForSignedInMiddleware:
    """Signed-in pages carry safeguarding data: never let a browser or proxy keep them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
            response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
        return response


class SessionAbsoluteLimitMiddleware:
    """A signed-in session ends SESSION_ABSOLUTE_SECONDS after sign-in however busy it is (the
    idle limit is SESSION_COOKIE_AGE). Signing in stamps the time (config.apps), so a new
    sign-in always starts a new period."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            signed_in_at = request.session.setdefault(SIGNED_IN_AT_SESSION_KEY, now)
            if now - signed_in_at > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                hours = settings.SESSION_ABSOLUTE_SECONDS // 3600
                messages.info(request, f"For safety you are signed out after {hours} hours.")
                return _to_sign_in(request)
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """Nobody who must use two-factor sign-in (config.security) reaches a page until their
    session is verified with their authenticator app or a backup code. Not enrolled yet: the
    set-up page, with no way round it. Enrolled, but this session was never verified: signed
    out, to sign in again with a code.

    Signed in with the school's Microsoft or Google account (sso/): verified when the provider's
    ID token said it used more than one factor; otherwise the code is asked for on sso:verify,
    exactly the second step a password sign-in has."""

    # All an unverified user may open: setting up the app, and signing in or out.
    ALLOWED_UNVERIFIED = frozenset(
        {"two_factor:setup", "two_factor:qr", "login", "logout", "sso:verify"}
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_verified():
            return None
        if request.resolver_match.view_name in self.ALLOWED_UNVERIFIED:
            return None
        if provider_mfa_verified(request):
            return None
        if not two_factor_required(user):
            return None
        if user_has_device(user, confirmed=True):
            if signed_in_with_sso(request):
                return _go(request, reverse("sso:verify"))
            logout(request)
            return _to_sign_in(request)
        return _go(request, reverse("two_factor:setup"))


def _to_sign_in(request):
    if getattr(request, "htmx", False):
        return _go(request, reverse("login"))
    return redirect_to_login(request.get_full_path())


def _go(request, url: str):
    if getattr(request, "htmx", False):
        # A redirect would be swapped into a fragment of the page: load the whole page instead.
        return HttpResponseClientRedirect(url)
    return redirect(url)
