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

from core.request_memo import close_memo, open_memo
from sso.session import provider_mfa_verified, signed_in_with_sso

from .security import (
    LAST_SEEN_SESSION_KEY,
    SESSION_TOUCH_SECONDS,
    SIGNED_IN_AT_SESSION_KEY,
    two_factor_required,
)


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


class RequestMemoMiddleware:
    """Opens the request's memo (core.request_memo) and closes it when the response is made."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = open_memo()
        try:
            return self.get_response(request)
        finally:
            close_memo(token)


class SessionIdleMiddleware:
    """A session ends after SESSION_COOKIE_AGE idle (30 minutes), exact to the minute, while it
    is written at most once a minute (issue 15: SESSION_SAVE_EVERY_REQUEST wrote the session row
    on every request, the largest cost of a signed-in page).

    The session keeps when it was last seen active (LAST_SEEN_SESSION_KEY). A request more than
    SESSION_TOUCH_SECONDS after that stamp moves it to now, and so saves the session, which also
    renews its cookie and its stored expiry (both SESSION_COOKIE_AGE from that save). A request
    SESSION_COOKIE_AGE or more after the stamp finds the session idle and ends it: the request
    goes on signed out. The stamp is at most a minute behind the last request, so the idle limit
    never runs longer than SESSION_COOKIE_AGE and at most a minute shorter."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        # No session cookie: nothing to load, nothing to end (anonymous pages, /healthz).
        if session is not None and session.session_key is not None:
            now = time.time()
            last_seen = session.get(LAST_SEEN_SESSION_KEY)
            # A session from before issue 15 (or an anonymous one) starts counting now.
            idle = now - (last_seen if last_seen is not None else now)
            if idle >= settings.SESSION_COOKIE_AGE:
                session.flush()
            elif idle >= SESSION_TOUCH_SECONDS or (last_seen is None and not session.is_empty()):
                session[LAST_SEEN_SESSION_KEY] = now
        return self.get_response(request)


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
