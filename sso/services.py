"""Writes for single sign-on: linking a person to a provider identity (by an administrator or an
invitation), and the audit trail of every SSO sign-in and refusal (R-SEC-4)."""

import hashlib
import secrets
from datetime import timedelta

from allauth.socialaccount.models import SocialAccount
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import audit_event_create

from .models import Invitation, SignInProvider

INVITATION_DAYS = 7


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _school_of(provider: SignInProvider, user=None):
    if provider.school_id:
        return provider.school
    if user is not None:
        membership = user.memberships.filter(school__trust_id=provider.trust_id).first()
        if membership:
            return membership.school
    return None


@transaction.atomic
def identity_link(
    *, actor, user, provider: SignInProvider, uid: str, via: str = "administrator"
) -> SocialAccount:
    """Link `user` to the provider identity `uid` (Entra object ID or OIDC subject). Once: a
    person has at most one identity per provider, an identity belongs to one person."""
    uid = uid.strip()
    if not uid:
        raise ValidationError("The identity's ID is required.")
    if SocialAccount.objects.filter(provider=provider.provider_id, uid=uid).exists():
        raise ValidationError("That identity is already linked to a Homeward account.")
    if SocialAccount.objects.filter(provider=provider.provider_id, user=user).exists():
        raise ValidationError(f"{user} is already linked to an identity at {provider}.")
    account = SocialAccount.objects.create(
        user=user, provider=provider.provider_id, uid=uid, extra_data={}
    )
    audit_event_create(
        actor=actor,
        school=_school_of(provider, user),
        obj=user,
        event_type="sso.identity_linked",
        changes={"provider": provider.provider_id, "uid": uid, "via": via},
    )
    return account


@transaction.atomic
def identity_unlink(*, actor, account: SocialAccount) -> None:
    provider = SignInProvider.objects.filter(provider_id=account.provider).first()
    audit_event_create(
        actor=actor,
        school=_school_of(provider, account.user) if provider else None,
        obj=account.user,
        event_type="sso.identity_unlinked",
        changes={"provider": account.provider, "uid": account.uid},
    )
    account.delete()


@transaction.atomic
def invitation_create(*, actor, user, provider: SignInProvider) -> tuple[Invitation, str]:
    """A single-use link, valid INVITATION_DAYS days; returns (invitation, token). Only the
    token's hash is stored: the link is shown once, to the administrator who made it."""
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        user=user,
        provider=provider,
        token_hash=_hash(token),
        created_by=actor,
        expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
    )
    audit_event_create(
        actor=actor,
        school=_school_of(provider, user),
        obj=user,
        event_type="sso.invitation_created",
        changes={"provider": provider.provider_id, "invitation": invitation.pk},
    )
    return invitation, token


def invitation_for_token(token: str) -> Invitation | None:
    invitation = (
        Invitation.objects.select_related("user", "provider")
        .filter(token_hash=_hash(token))
        .first()
    )
    return invitation if invitation is not None and invitation.usable else None


@transaction.atomic
def invitation_accept(*, invitation: Invitation, uid: str) -> SocialAccount:
    """Use the invitation (once: a conditional update) and link the identity."""
    used = Invitation.objects.filter(
        pk=invitation.pk, used_at__isnull=True, expires_at__gt=timezone.now()
    ).update(used_at=timezone.now())
    if not used:
        raise ValidationError("This invitation has already been used or has expired.")
    return identity_link(
        actor=None,
        user=invitation.user,
        provider=invitation.provider,
        uid=uid,
        via=f"invitation {invitation.pk}",
    )


def sign_in_recorded(*, user, provider: SignInProvider, mfa: bool) -> None:
    audit_event_create(
        actor=user,
        school=_school_of(provider, user),
        obj=user,
        event_type="sign_in.sso",
        changes={"provider": provider.provider_id, "provider_mfa": mfa},
    )


def sign_in_refused_record(
    *, provider: SignInProvider, reason: str, user=None, uid: str = "", claims=None
) -> None:
    """An SSO sign-in Homeward refused, with why. `claims` keeps only what identifies the
    attempt (issuer, tenant or domain, subject), never the whole token."""
    kept = {k: (claims or {}).get(k) for k in ("iss", "tid", "hd", "sub", "oid") if claims}
    audit_event_create(
        actor=None,
        school=_school_of(provider, user),
        obj=user if user is not None else provider,
        event_type="sign_in.sso_refused",
        changes={"provider": provider.provider_id, "reason": reason, "uid": uid, **kept},
    )
