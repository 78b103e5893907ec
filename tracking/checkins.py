"""The visitor's check-in link (R-ESC-6, R-TRK-4): answering "I'm safe" or "15 more minutes"
through the one-time link sent with the overdue step, and the audit of every refused use.

A link is used once, within its lifetime; "I'm safe" stops the ladder like a phone-in, "15 more
minutes" restarts it like a new expected return (both in tracking.signouts). Once tracking has
closed (back at school, gone home) the link says so, records nothing and thanks nobody; it offers
"I am still out", which reopens the sign-out and restarts the ladder from now, its overdue step
alerting the office at once (R-TRK-4).
"""

import datetime
import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit.services import audit_event_create
from schools.services import board_changed
from visits.common import VisitConflict
from visits.progress import visit_mark_still_out

from . import messages as ladder_messages
from .common import _event
from .ladder import _ladder_advance, _load_for_messages, ladder_minute
from .models import CheckInLink, EscalationStep, SignOut, TrackingEvent
from .signouts import _contact, signout_check_in, signout_extend

logger = logging.getLogger(__name__)

REOPENABLE = (SignOut.State.RETURNED, SignOut.State.WENT_HOME)


def closed_words(signout: SignOut) -> str:
    """R-TRK-4: what closed tracking, when and by whom, for the visitor's link page."""
    when = ladder_messages.local_time(signout.closed_at) if signout.closed_at else ""
    by = f" by {signout.closed_by}" if signout.closed_by_id else ""
    if signout.state == SignOut.State.RETURNED:
        return f"You were recorded back at school at {when}{by}."
    if signout.state == SignOut.State.WENT_HOME:
        return f"You were recorded as going straight home at {when}{by}."
    if signout.state == SignOut.State.CANCELLED:
        return f"This visit was cancelled at {when}{by}: call the school office if you are out."
    return ""


class CheckInRefused(Exception):
    """The link cannot be used: the message says why, in plain words. `pin_again`: only the
    PIN was wrong or missing, so the page offers the buttons again (R-TRK-7)."""

    def __init__(self, message: str, *, pin_again: bool = False):
        super().__init__(message)
        self.pin_again = pin_again


def checkin_answer_with_pin(*, link: CheckInLink, pin: str, client_ip: str = "", enqueue=None):
    """R-TRK-7: "I'm safe" from the link of a visitor who has set PINs. The check-in PIN
    answers as `checkin_answer`; the duress PIN uses the link exactly the same way, so the page
    is the same, but raises help marked DURESS instead of recording them safe."""
    from .pins import Verdict, pin_verify

    signout = SignOut.objects.select_related("school", "closed_by").get(pk=link.signout_id)
    if not signout.is_open:
        return checkin_answer(link=link, answer=CheckInLink.Answer.SAFE, client_ip=client_ip)
    action = (
        "check_in"
        if signout.ladder_from_at and signout.state == SignOut.State.OUT
        else ("phone_in")
    )
    verdict = pin_verify(
        user=link.visitor.user,
        pin=pin,
        signout=signout,
        action=action,
        via=TrackingEvent.Via.LINK,
        enqueue=enqueue,
    )
    if verdict == Verdict.MISSING:
        raise CheckInRefused("Enter your check-in PIN, then press “I'm safe”.", pin_again=True)
    if verdict == Verdict.WRONG:
        checkin_refusal_audit(link=link, why="wrong PIN", client_ip=client_ip)
        raise CheckInRefused("That PIN is not right: nothing was recorded.", pin_again=True)
    if verdict == Verdict.LOCKED:
        raise CheckInRefused("Too many tries: wait 10 minutes, or call the office.")
    if verdict != Verdict.DURESS:
        return checkin_answer(link=link, answer=CheckInLink.Answer.SAFE, client_ip=client_ip)
    now = timezone.now()
    CheckInLink.objects.filter(pk=link.pk, used_at__isnull=True, expires_at__gt=now).update(
        used_at=now, answer=CheckInLink.Answer.SAFE
    )
    link.refresh_from_db()
    return link


def checkin_answer(
    *, link: CheckInLink, answer: str, client_ip: str = "", enqueue=None
) -> CheckInLink:
    """The visitor's answer through the one-time link: "I'm safe" stops the ladder, "15 more
    minutes" restarts it from 15 minutes from now (R-ESC-6). Used once, within the hour; every
    use and every refusal is audited."""
    now = timezone.now()
    if answer == CheckInLink.Answer.STILL_OUT:
        return checkin_still_out(link=link, client_ip=client_ip, enqueue=enqueue)
    if answer not in CheckInLink.Answer.values:
        raise CheckInRefused("This link can only say “I'm safe” or “15 more minutes”.")
    signout = SignOut.objects.select_related("closed_by").get(pk=link.signout_id)
    if not signout.is_open:
        # R-TRK-4: nothing is recorded, so nobody is thanked.
        checkin_refusal_audit(link=link, why="tracking had closed", client_ip=client_ip)
        raise CheckInRefused(closed_words(signout) + " Nothing was recorded.")
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
        # Closed between the check above and the claim: say so rather than thank them.
        raise CheckInRefused(closed_words(signout) + " Nothing was recorded.")
    if (
        answer == CheckInLink.Answer.SAFE
        and signout.ladder_from_at is not None
        and signout.state == SignOut.State.OUT
    ):
        # R-TRK-6: the link of a missed check-in: "I'm safe" is the check-in they missed.
        signout_check_in(actor=None, signout=signout, via=TrackingEvent.Via.LINK, visitor=visitor)
    elif answer == CheckInLink.Answer.SAFE:
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


def checkin_still_out(*, link: CheckInLink, client_ip: str = "", enqueue=None) -> CheckInLink:
    """R-TRK-4: "I am still out" after tracking closed by mistake. Reopens the sign-out as a new
    round whose overdue step falls due now, so the office is alerted at once and the ladder runs
    from now; the link is used. Refused (and audited) when tracking is open, the visit was
    cancelled, or the link is used or expired."""
    now = timezone.now()
    with transaction.atomic():
        signout = SignOut.objects.select_related("closed_by", "school", "visit").get(
            pk=link.signout_id
        )
        # Once per link, even one used earlier for "15 more minutes": the mistaken return came
        # after it.
        used = (
            CheckInLink.objects.filter(pk=link.pk, expires_at__gt=now)
            .exclude(answer=CheckInLink.Answer.STILL_OUT)
            .update(used_at=now, answer=CheckInLink.Answer.STILL_OUT)
        )
        if used:
            grace = datetime.timedelta(seconds=signout.grace_seconds)
            reopened = SignOut.objects.filter(pk=signout.pk, state__in=REOPENABLE).update(
                state=SignOut.State.OUT,
                closed_at=None,
                closed_by=None,
                # A new round whose overdue step is due now (R + grace = now).
                expected_return_at=now - grace,
                ladder_round=F("ladder_round") + 1,
                escalation_stage=0,
                next_escalation_at=now,
                chain_base_at=None,
                acknowledged_at=None,
                acknowledged_label="",
                stood_down_at=None,
            )
            if reopened:
                board_changed(signout.school_id)  # issue 15: the board's version
                _reopen_apply(signout=signout, link=link, client_ip=client_ip, now=now)
                link.refresh_from_db()
                _ladder_advance(
                    _load_for_messages(signout.pk),
                    target=1,
                    now=now,
                    trigger=EscalationStep.Trigger.SCAN,
                    enqueue=enqueue,
                )
                return link
            transaction.set_rollback(True)  # nothing to reopen: the link stays unused
    link.refresh_from_db()
    signout.refresh_from_db()
    if signout.is_open:
        why, text = "tracking was open", "The office still has you as out: nothing was changed."
    elif signout.state not in REOPENABLE:
        why, text = "the visit was cancelled", closed_words(signout)
    else:
        why = (
            "has already been used"
            if link.answer == CheckInLink.Answer.STILL_OUT
            else "has expired"
        )
        text = f"This link {why}. Call the school office now if you are still out."
    checkin_refusal_audit(link=link, why=f"still out: {why}", client_ip=client_ip)
    raise CheckInRefused(text)


def _reopen_apply(*, signout: SignOut, link: CheckInLink, client_ip: str, now) -> None:
    visitor = link.visitor.user
    try:
        visit_mark_still_out(actor=None, visit=signout.visit)
    except VisitConflict:
        # The record was already written: the visit stays recorded; tracking reopens anyway,
        # because the alarm must not stay silent.
        logger.warning("sign-out %s reopened; its visit is past returned", signout.pk)
    _event(
        signout,
        TrackingEvent.Kind.STILL_OUT,
        via=TrackingEvent.Via.LINK,
        actor=None,
        visitor=visitor,
        now=now,
    )
    audit_event_create(
        actor=None,
        school=signout.school,
        obj=signout,
        event_type="signout.reopened",
        changes={
            "visitor": visitor.pk,
            "was": signout.state,
            "closed_by": signout.closed_by_id,
            "ip": client_ip,
        },
    )
