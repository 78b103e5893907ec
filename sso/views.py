from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token, user_has_device

from .adapter import INVITATION_SESSION_KEY
from .selectors import form_action_update
from .services import invitation_for_token


class CodeForm(forms.Form):
    token = forms.CharField(
        label="Six-digit code from your app (or a backup code)",
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    """After signing in with Microsoft or Google without the provider's own second factor:
    the code from Homeward's authenticator app (or a backup code), as after a password."""
    if request.user.is_verified():
        return redirect("home")
    if not user_has_device(request.user, confirmed=True):
        return redirect("two_factor:setup")  # no app yet: set one up (which verifies)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"].replace(" ", ""))
        if device is not None:
            otp_login(request, device)
            return redirect("home")
        form.add_error("token", "That code is not right. Check your app and try again.")
    return render(request, "sso/verify.html", {"form": form})


@require_http_methods(["GET", "POST"])
def invitation(request, token):
    """A single-use link from an administrator: link your provider account to this Homeward
    account. Nothing is linked until the provider's token (right tenant, right domain) comes
    back; the token is hashed in the database, so the link is the key."""
    found = invitation_for_token(token)
    if found is None:
        return render(request, "sso/invitation.html", {"invitation": None}, status=404)
    if request.method == "GET":
        response = render(request, "sso/invitation.html", {"invitation": found})
        # R-SEC-4: its button's POST is redirected to the provider (see form_action_update).
        update = form_action_update([found.provider])
        if update:
            response._csp_update = update
        return response
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    from allauth.socialaccount.adapter import get_adapter

    request.session[INVITATION_SESSION_KEY] = found.pk
    provider = get_adapter(request).get_provider(request, found.provider.provider_id)
    return provider.redirect_from_request(request)
