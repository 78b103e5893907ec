"""Homeward's rules around allauth's social sign-in (SOCIALACCOUNT_ADAPTER).

* Apps come from SignInProvider rows, secrets from the environment (never the database).
* Nobody is signed up or linked by email address: an identity signs in only if an administrator
  or an invitation linked it (allauth's email authentication and auto sign-up are off too).
* The token must come from the school's own tenant (Entra `tid`) or domain (Google `hd`), and
  carry the nonce Homeward sent.
* Deactivated people, people locked out by django-axes, and people who do not work at the
  provider's school are refused; every refusal is audited and counts as a failed sign-in.
"""

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.shortcuts import render

from . import selectors, services
from .models import SignInProvider

INVITATION_SESSION_KEY = "homeward_sso_invitation"
PASSWORD_BACKEND = "django.contrib.auth.backends.ModelBackend"  # noqa: S105 - a class path

REFUSALS = {
    "unknown_identity": "This account is not linked to anyone in Homeward. Ask your school's "
    "Homeward administrator for an invitation link; Homeward never links accounts by email "
    "address alone.",
    "wrong_tenant": "This account belongs to another organisation than the one your school "
    "set up for Homeward.",
    "nonce": "This sign-in could not be verified. Please start again from the sign-in page.",
    "deactivated": "This Homeward account is deactivated.",
    "not_at_school": "This account does not belong to a school that uses this sign-in.",
    "locked_out": "",
    "already_linked": "This account, or your Homeward account, is already linked. Ask your "
    "school's Homeward administrator.",
    "invitation": "This invitation has already been used, has expired, or is for another provider.",
}


def provider_mfa_claimed(claims: dict) -> bool:
    """The identity provider says it used more than one factor: RFC 8176 `amr` contains "mfa"
    (Microsoft Entra puts "mfa" in `amr` too)."""
    amr = claims.get("amr") or []
    if isinstance(amr, str):
        amr = [amr]
    return "mfa" in amr


def _pinned(provider: SignInProvider, claims: dict) -> bool:
    if provider.kind == SignInProvider.Kind.ENTRA:
        return str(claims.get("tid", "")).lower() == provider.tenant_id.lower()
    if provider.kind == SignInProvider.Kind.GOOGLE:
        return str(claims.get("hd", "")).lower() == provider.hosted_domain.lower()
    return True  # another OIDC provider: its issuer (checked by allauth) is the pin


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request, provider=None, client_id=None):
        from allauth.socialaccount.models import SocialApp

        rows = selectors.providers_enabled()
        if provider and provider != "openid_connect":
            rows = rows.filter(provider_id=provider)
        if client_id:
            rows = rows.filter(client_id=client_id)
        return [
            SocialApp(
                provider="openid_connect",
                provider_id=row.provider_id,
                name=row.name,
                client_id=row.client_id,
                secret=row.client_secret(),
                settings={
                    "server_url": row.issuer_url(),
                    "fetch_userinfo": False,  # the claims Homeward checks are in the ID token
                    "oauth_pkce_enabled": True,
                    "uid_field": row.uid_claim,
                    "auth_params": {"hd": row.hosted_domain} if row.hosted_domain else {},
                },
            )
            for row in rows
        ]

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return False

    def is_auto_signup_allowed(self, request, sociallogin) -> bool:
        return False

    def pre_social_login(self, request, sociallogin):
        provider = SignInProvider.objects.select_related("school", "trust").get(
            provider_id=sociallogin.account.provider
        )
        claims = (sociallogin.account.extra_data or {}).get("id_token") or {}
        uid = sociallogin.account.uid
        known = sociallogin.user if sociallogin.is_existing else None

        def refuse(reason, user=None):
            services.sign_in_refused_record(
                provider=provider, reason=reason, user=user, uid=uid, claims=claims
            )
            username = user.get_username() if user is not None else f"sso:{provider.provider_id}"
            user_login_failed.send(
                sender=__name__, credentials={"username": username}, request=request
            )
            request.session.pop(INVITATION_SESSION_KEY, None)
            if reason == "locked_out":
                page = render(request, settings.AXES_LOCKOUT_TEMPLATE, status=429)
            else:
                page = render(
                    request, "sso/refused.html", {"message": REFUSALS[reason]}, status=403
                )
            raise ImmediateHttpResponse(page)

        if not claims.get("nonce") or claims.get("nonce") != sociallogin.state.get("nonce"):
            refuse("nonce", known)
        if not _pinned(provider, claims):
            refuse("wrong_tenant", known)

        invitation_id = request.session.get(INVITATION_SESSION_KEY)
        if known is None and invitation_id is None:
            refuse("unknown_identity")
        user = known
        invitation = None
        if known is None:
            invitation = (
                services.Invitation.objects.select_related("user")
                .filter(pk=invitation_id, provider=provider)
                .first()
            )
            if invitation is None or not invitation.usable:
                refuse("invitation")
            user = invitation.user
        elif invitation_id is not None:
            refuse("already_linked", known)

        if not user.is_active:
            refuse("deactivated", user)
        if not selectors.provider_covers_user(provider, user):
            refuse("not_at_school", user)
        if AxesProxyHandler.is_locked(request, credentials={"username": user.get_username()}):
            refuse("locked_out", user)

        if invitation is not None:
            try:
                account = services.invitation_accept(invitation=invitation, uid=uid)
            except ValidationError:
                refuse("already_linked", user)
            request.session.pop(INVITATION_SESSION_KEY, None)
            sociallogin.account = account
            sociallogin.user = user
            account.extra_data = {"id_token": claims}
            account.save(update_fields=["extra_data"])

        # Signed in as if by password (the session's backend), so that session limits, the
        # two-factor rule and django-axes' success record apply exactly as to passwords.
        sociallogin.user.backend = PASSWORD_BACKEND
        request.homeward_sso = {
            "provider": provider.provider_id,
            "mfa": provider_mfa_claimed(claims),
        }
