"""Two-factor enrolment codes and the emails that tell a person her second factor changed
(issue 19, item 6).

Binding a first authenticator app needs, besides the password, a code that reached the person by
another way: issued by an administrator, or emailed to her school address. A code is random, is
stored only as a keyed hash, works once, and expires after TWO_FACTOR_ENROLMENT_CODE_HOURS."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from audit.services import audit_event_create
from core.emails import email_send

from .models import TwoFactorEnrolmentCode

# Letters and digits that cannot be mistaken for one another when read aloud or typed.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
# Set by a valid code: this session may bind an authenticator for this user.
ENROLMENT_SESSION_KEY = "homeward_enrolment_allowed_for"


def _normalised(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


def _hash(code: str) -> str:
    return salted_hmac(
        "homeward.two_factor_enrolment_code", _normalised(code), algorithm="sha256"
    ).hexdigest()


def _school_of(user):
    membership = user.memberships.select_related("school").order_by("pk").first()
    return membership.school if membership else None


@transaction.atomic
def enrolment_code_issue(*, actor, user) -> str:
    """A new code for `user` (her earlier unused codes stop working). Returns the code itself,
    which is never stored: give it to her, or call enrolment_code_email."""
    now = timezone.now()
    TwoFactorEnrolmentCode.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    code = TwoFactorEnrolmentCode.objects.create(
        user=user,
        code_hash=_hash(raw),
        issued_by=actor if actor is not None and actor.is_authenticated else None,
        issued_at=now,
        expires_at=now + timedelta(hours=settings.TWO_FACTOR_ENROLMENT_CODE_HOURS),
    )
    audit_event_create(
        actor=actor,
        school=_school_of(user),
        obj=code,
        event_type="two_factor.enrolment_code_issued",
        changes={"user": user.pk},
    )
    return f"{raw[:5]}-{raw[5:]}"


def enrolment_code_email(*, actor, user) -> bool:
    """Issue a code and email it to the person's own (school) address. False if she has none."""
    if not user.email:
        return False
    code = enrolment_code_issue(actor=actor, user=user)
    email_send(
        name="two_factor_enrolment_code",
        to=[user.email],
        context={
            "user": user,
            "code": code,
            "hours": settings.TWO_FACTOR_ENROLMENT_CODE_HOURS,
        },
    )
    return True


@transaction.atomic
def enrolment_code_redeem(*, user, code: str) -> bool:
    """Use `code` for `user`: True once, for an unexpired code issued to her; False otherwise."""
    now = timezone.now()
    used = TwoFactorEnrolmentCode.objects.filter(
        user=user, code_hash=_hash(code), used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if used:
        audit_event_create(
            actor=user,
            school=_school_of(user),
            obj=user,
            event_type="two_factor.enrolment_code_used",
            changes={},
        )
    return bool(used)


def second_factor_changed_notify(*, user, what: str) -> None:
    """Tell the person that her second factor changed, so she notices one she did not make."""
    if user is None or not user.email:
        return
    email_send(name="two_factor_changed", to=[user.email], context={"user": user, "what": what})
