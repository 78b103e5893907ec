"""The visitor's check-in link (R-ESC-6): answering "I'm safe" or "15 more minutes" through
the one-time link sent with the overdue step, and the audit of every refused use.

A link is used once, within its lifetime; "I'm safe" stops the ladder like a phone-in, "15 more
minutes" restarts it like a new expected return (both in tracking.signouts).
"""

from django.db import transaction
from django.utils import timezone

from audit.services import audit_event_create

from .ladder import ladder_minute
from .models import CheckInLink, SignOut, TrackingEvent
from .signouts import _contact, signout_extend


class CheckInRefused(Exception):
    """The link cannot be used: the message says why, in plain words."""


def checkin_answer(*, link: CheckInLink, answer: str, client_ip: str = "") -> CheckInLink:
    """The visitor's answer through the one-time link: "I'm safe" stops the ladder, "15 more
    minutes" restarts it from 15 minutes from now (R-ESC-6). Used once, within the hour; every
    use and every refusal is audited."""
    now = timezone.now()
    if answer not in CheckInLink.Answer.values:
        raise CheckInRefused("This link can only say “I'm safe” or “15 more minutes”.")
    with transaction.atomic():
        used = CheckInLink.objects.filter(
            pk=link.pk, used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now, answer=answer)
        if used:
            _checkin_apply(link=link, answer=answer, client_ip=client_ip, now=now)
            link.refresh_from_db()
            return link
    link.refresh_from_db()
    why = "has already been used" if link.used_at else "has expired"
    checkin_refusal_audit(link=link, why=why, client_ip=client_ip)
    raise CheckInRefused(f"This link {why}. If you need to, call the school office.")


def _checkin_apply(*, link: CheckInLink, answer: str, client_ip: str, now) -> None:
    signout = SignOut.objects.select_related("school", "visit").get(pk=link.signout_id)
    visitor = link.visitor.user
    audit_event_create(
        actor=None,
        school=signout.school,
        obj=link,
        event_type="checkin.answered",
        changes={"answer": answer, "visitor": visitor.pk, "ip": client_ip},
    )
    if not signout.is_open:
        return  # they are back already: thank them, change nothing
    if answer == CheckInLink.Answer.SAFE:
        _contact(
            actor=None,
            signout=signout,
            kind=TrackingEvent.Kind.CHECKED_IN_SAFE,
            via=TrackingEvent.Via.LINK,
            visitor=visitor,
            now=now,
        )
    else:
        signout_extend(
            actor=None,
            signout=signout,
            new_expected_return_at=now + 15 * ladder_minute(),
            reason="15 more minutes, from the check-in link",
            via=TrackingEvent.Via.LINK,
            visitor=visitor,
        )


def checkin_refusal_audit(*, link: CheckInLink, why: str, client_ip: str = "") -> None:
    audit_event_create(
        actor=None,
        school=link.signout.school,
        obj=link,
        event_type="checkin.refused",
        changes={"why": why, "ip": client_ip},
    )
