"""After an SSO sign-in: remember in the session how the person signed in (for the two-factor
rule) and audit it."""

from django.contrib.auth.signals import user_logged_in

from .session import SSO_SESSION_KEY


def sso_signed_in(sender, request, user, **kwargs):
    sso = getattr(request, "homeward_sso", None) if request is not None else None
    if not sso:
        return
    from . import services
    from .models import SignInProvider

    request.session[SSO_SESSION_KEY] = sso
    provider = SignInProvider.objects.get(provider_id=sso["provider"])
    services.sign_in_recorded(user=user, provider=provider, mfa=sso["mfa"])


def connect() -> None:
    user_logged_in.connect(sso_signed_in, dispatch_uid="sso_signed_in")
