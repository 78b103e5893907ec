"""Every change to a sign-out and its ladder (DESIGN.md "Escalation engine").

Each change moves a SignOut with a conditional update (`filter(pk=…, <what we read>).update(…)`)
and checks the row count, so a return racing a step, two scans, two beats or two clicks are
decided once, by the database. Steps and messages are created in the same transaction as the
claim that fired them; messages are handed to the workers after commit (R-ESC-5). Every change
writes its AuditEvent in the same transaction (R-SEC-2).
"""

import datetime
import logging
import smtplib
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import make_msgid

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from audit.services import audit_event_create
from core.enqueue import send_now
from riskassess.gates import assessment_currency
from riskassess.services import assessment_reconfirm
from schools.models import User
from schools.validators import normalise_uk_phone
from visits.models import Status as VisitStatus
from visits.models import Visit
from visits.services import VisitConflict, visit_mark_out, visit_mark_returned

from . import messages as ladder_messages
from .models import (
    CallAttempt,
    CheckInLink,
    EscalationDecision,
    EscalationStep,
    Heartbeat,
    Notification,
    SignOut,
    SignOutVisitor,
    TrackingEvent,
)
from .sms import SmsNotSent, sms_send
from .tokens import checkin_lifetime, checkin_token_make

logger = logging.getLogger(__name__)

ESCALATION_SCAN = "escalation-scan"
Enqueue = Callable[[list[int]], None]


class TrackingBlocked(ValidationError):
    """The rules refuse this; each message names the rule in plain words."""


class TrackingConflict(Exception):
    """Somebody else got there first (the visitor came back, another tab): nothing changed."""


@transaction.atomic
def heartbeat_beat(*, name: str) -> None:
    """Record that a periodic job ran. One UPDATE in the usual case: this runs every scan."""
    from django.db import connection

    if connection.vendor == "postgresql":
        # The one write of an idle scan. Losing the last heartbeat in a crash is harmless (the
        # next scan writes another), so it need not wait for the disk: this makes an idle scan
        # take well under a millisecond instead of one fsync.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
    now = timezone.now()
    if not Heartbeat.objects.filter(name=name).update(last_ran_at=now):
        Heartbeat.objects.get_or_create(name=name, defaults={"last_ran_at": now})


def ladder_minute() -> datetime.timedelta:
    """A minute of the school's ladder settings. Always 60 s, except in bench/escalation.py,
    which compresses minutes to seconds to run hundreds of ladders in a few minutes."""
    return datetime.timedelta(seconds=settings.ESCALATION_MINUTE_SECONDS)


def _seconds(minutes: int) -> int:
    return max(1, round(minutes * ladder_minute().total_seconds()))


def _signout_fresh(signout: SignOut) -> SignOut:
    return SignOut.objects.select_related("school", "visit").get(pk=signout.pk)


# ---------------------------------------------------------------------------------------------
# Sign-out (R-TRK-1, R-RA-8)
# ---------------------------------------------------------------------------------------------


def signout_problems(*, visit: Visit) -> list[str]:
    """Why `visit` cannot be signed out now (R-TRK-1). Empty: it can."""
    if visit.status == VisitStatus.AUTHORISED:
        return []
    if visit.status == VisitStatus.CANCELLED:
        return [
            f"This visit was cancelled by {visit.cancelled_by} on "
            f"{ladder_messages.local_datetime(visit.cancelled_at)}: it cannot be signed out "
            "(R-TRK-1)."
        ]
    if visit.status == VisitStatus.OUT:
        return ["The visitors are already signed out on this visit."]
    if visit.status in (VisitStatus.RETURNED, VisitStatus.RECORDED):
        return ["The visitors have already been out and back on this visit."]
    return [
        "Visitors cannot be signed out of a visit that has not been authorised "
        f"(it is {visit.get_status_display().lower()}) (R-TRK-1)."
    ]


@transaction.atomic
def signout_create(
    *,
    actor: User,
    visit: Visit,
    expected_return_at: datetime.datetime,
    vehicle: str,
    mobiles: dict[int, str],
    reconfirm_assessment: bool = False,
) -> SignOut:
    """Sign the visitors out (R-TRK-1): the time, the expected return, each visitor's mobile and
    the vehicle. A stale assessment is re-confirmed first (R-RA-8). The ladder starts."""
    now = timezone.now()
    problems = signout_problems(visit=visit)
    if problems:
        raise TrackingBlocked(problems)
    errors: dict[str, list[str]] = {}
    visitors = list(visit.visitors.filter(withdrawn_at__isnull=True).select_related("user"))
    if not visitors:
        errors.setdefault("__all__", []).append("This visit has no visitors to sign out.")
    numbers = {}
    for visitor in visitors:
        try:
            numbers[visitor.user_id] = normalise_uk_phone(mobiles.get(visitor.user_id, ""))
        except ValidationError:
            errors[f"mobile_{visitor.user_id}"] = [
                f"Give {visitor.user}'s mobile, like 07700 900123: the office calls it if they "
                "are late (R-TRK-1)."
            ]
    vehicle = vehicle.strip()
    if not vehicle:
        errors["vehicle"] = [
            "Give the vehicle (make, colour, registration), or write “on foot” (R-TRK-1)."
        ]
    if expected_return_at <= now:
        errors["expected_return_at"] = [
            f"The expected return time has already passed: give a time after "
            f"{ladder_messages.local_datetime(now)}."
        ]
    elif expected_return_at > now + datetime.timedelta(hours=24):
        errors["expected_return_at"] = ["Give an expected return within the next 24 hours."]
    stale = assessment_currency(visit)
    if stale and not visit_has_assessment(visit):
        errors.setdefault("__all__", []).extend(stale)
    elif stale and not reconfirm_assessment:
        errors["reconfirm_assessment"] = [
            *stale,
            "Check the assessment still holds and tick to re-confirm it (R-RA-8).",
        ]
    if errors:
        raise TrackingBlocked(errors)

    if stale:
        assessment_reconfirm(actor=actor, visit=visit)  # R-RA-8
    try:
        visit_mark_out(actor=actor, visit=visit, at=now)  # R-TRK-1: authorised visits only
    except VisitConflict as error:
        raise TrackingConflict(str(error)) from error
    school = visit.school
    signout = SignOut.objects.create(
        visit=visit,
        school=school,
        signed_out_by=actor,
        signed_out_at=now,
        vehicle=vehicle,
        expected_return_at=expected_return_at,
        grace_seconds=_seconds(school.overdue_grace_minutes),
        retry_interval_seconds=_seconds(school.retry_interval_minutes),
        retries=school.retries,
    )
    signout.next_escalation_at = signout.due_times()[0]
    signout.save(update_fields=["next_escalation_at"])
    SignOutVisitor.objects.bulk_create(
        SignOutVisitor(signout=signout, user=v.user, mobile=numbers[v.user_id]) for v in visitors
    )
    TrackingEvent.objects.create(
        signout=signout,
        kind=TrackingEvent.Kind.SIGNED_OUT,
        via=TrackingEvent.Via.BOARD,
        occurred_at=now,
        recorded_by=actor,
        new_expected_return_at=expected_return_at,
    )
    audit_event_create(
        actor=actor,
        school=school,
        obj=signout,
        event_type="signout.created",
        changes={
            "visit": visit.pk,
            "expected_return_at": expected_return_at.isoformat(),
            "vehicle": vehicle,
            "mobiles": {str(k): v for k, v in numbers.items()},
            "assessment_reconfirmed": bool(stale),
        },
    )
    return signout


def visit_has_assessment(visit: Visit) -> bool:
    from riskassess.models import RiskAssessment

    return RiskAssessment.objects.filter(visit_id=visit.pk).exists()


# ---------------------------------------------------------------------------------------------
# While out (R-TRK-2, R-ESC-6, R-ESC-7)
# ---------------------------------------------------------------------------------------------


def _event(signout, kind, *, via, actor=None, visitor=None, now, new_expected=None, reason=""):
    TrackingEvent.objects.create(
        signout=signout,
        kind=kind,
        via=via,
        occurred_at=now,
        recorded_by=actor if actor is not None and actor.is_authenticated else None,
        visitor=visitor,
        new_expected_return_at=new_expected,
        reason=reason,
    )


def _not_open(signout: SignOut) -> TrackingConflict:
    fresh = SignOut.objects.get(pk=signout.pk)
    when = ladder_messages.local_datetime(fresh.closed_at) if fresh.closed_at else ""
    return TrackingConflict(
        f"Tracking of this visit is closed ({fresh.get_state_display().lower()}"
        f"{', ' + when if when else ''}): nothing was changed."
    )


def _cancel_prompts(signout: SignOut) -> int:
    """Office and visitor prompts still waiting are not needed once the visitors are back; the
    manager's and help alerts always go. Sends already under way are left alone."""
    return Notification.objects.filter(
        signout=signout,
        supersedable=True,
        status__in=[Notification.Status.PENDING, Notification.Status.FAILED],
    ).update(status=Notification.Status.CANCELLED, retry_at=None)


def _contact(*, actor, signout: SignOut, kind: str, via: str, visitor=None, now) -> SignOut:
    """R-ESC-6: any contact stops the ladder. The visitors are safe and on their way."""
    moved = SignOut.objects.filter(pk=signout.pk, state__in=SignOut.OPEN_STATES).update(
        state=SignOut.State.LEFT_SAFELY, next_escalation_at=None, last_contact_at=now
    )
    if not moved:
        raise _not_open(signout)
    _cancel_prompts(signout)
    _event(signout, kind, via=via, actor=actor, visitor=visitor, now=now)
    audit_event_create(
        actor=actor,
        school=signout.school,
        obj=signout,
        event_type=f"signout.{kind}",
        changes={"via": via, "visitor": visitor.pk if visitor else None},
    )
    signout.refresh_from_db()
    return signout


@transaction.atomic
def signout_phone_in(*, actor, signout: SignOut, via: str, visitor=None) -> SignOut:
    """R-TRK-2: "left the visit safely" — a phone-in closes the ladder (R-TRK-3, R-ESC-6)."""
    return _contact(
        actor=actor,
        signout=signout,
        kind=TrackingEvent.Kind.PHONED_IN,
        via=via,
        visitor=visitor,
        now=timezone.now(),
    )


@transaction.atomic
def signout_extend(
    *,
    actor,
    signout: SignOut,
    new_expected_return_at: datetime.datetime,
    reason: str,
    via: str,
    visitor=None,
) -> SignOut:
    """R-TRK-2 "overrun": a new expected return time with a reason restarts the ladder from it
    (R-ESC-6). Steps already fired stay fired; the new round starts again at step one."""
    now = timezone.now()
    reason = reason.strip()
    errors = {}
    if not reason:
        errors["reason"] = ["Say why more time is needed (R-TRK-2)."]
    if new_expected_return_at <= now:
        errors["new_expected_return_at"] = [
            f"That time has already passed: give a time after {ladder_messages.local_time(now)}."
        ]
    elif new_expected_return_at > now + datetime.timedelta(hours=24):
        errors["new_expected_return_at"] = ["Give a time within the next 24 hours."]
    if errors:
        raise TrackingBlocked(errors)
    first_due = new_expected_return_at + datetime.timedelta(seconds=signout.grace_seconds)
    moved = SignOut.objects.filter(pk=signout.pk, state__in=SignOut.OPEN_STATES).update(
        state=SignOut.State.OUT,
        expected_return_at=new_expected_return_at,
        ladder_round=F("ladder_round") + 1,
        escalation_stage=0,
        next_escalation_at=first_due,
        last_contact_at=now,
    )
    if not moved:
        raise _not_open(signout)
    _cancel_prompts(signout)
    _event(
        signout,
        TrackingEvent.Kind.EXTENDED,
        via=via,
        actor=actor,
        visitor=visitor,
        now=now,
        new_expected=new_expected_return_at,
        reason=reason,
    )
    audit_event_create(
        actor=actor,
        school=signout.school,
        obj=signout,
        event_type="signout.extended",
        changes={
            "expected_return_at": [
                signout.expected_return_at.isoformat(),
                new_expected_return_at.isoformat(),
            ],
            "reason": reason,
            "via": via,
            "visitor": visitor.pk if visitor else None,
        },
    )
    signout.refresh_from_db()
    return signout


@transaction.atomic
def signout_return(*, actor, signout: SignOut, went_home: bool, via: str, visitor=None) -> SignOut:
    """R-TRK-2: back at school (signed in), or going straight home. Either closes tracking and
    marks the visit returned, in one transaction (R-ESC-6)."""
    now = timezone.now()
    state = SignOut.State.WENT_HOME if went_home else SignOut.State.RETURNED
    moved = SignOut.objects.filter(pk=signout.pk, state__in=SignOut.OPEN_STATES).update(
        state=state,
        next_escalation_at=None,
        closed_at=now,
        closed_by=actor if actor is not None and actor.is_authenticated else None,
        last_contact_at=now,
    )
    if not moved:
        raise _not_open(signout)
    visit_mark_returned(actor=actor, visit=signout.visit, at=now)
    _cancel_prompts(signout)
    kind = TrackingEvent.Kind.WENT_HOME if went_home else TrackingEvent.Kind.RETURNED
    _event(signout, kind, via=via, actor=actor, visitor=visitor, now=now)
    audit_event_create(
        actor=actor,
        school=signout.school,
        obj=signout,
        event_type=f"signout.{state}",
        changes={"via": via, "visitor": visitor.pk if visitor else None},
    )
    signout.refresh_from_db()
    return signout


@transaction.atomic
def signout_close_for_cancelled_visit(*, actor, visit: Visit) -> SignOut | None:
    """Called by visits.services.visit_cancel: a visit cancelled while out stops its ladder."""
    signout = SignOut.objects.filter(visit_id=visit.pk).select_related("school").first()
    if signout is None:
        return None
    now = timezone.now()
    moved = SignOut.objects.filter(pk=signout.pk, state__in=SignOut.OPEN_STATES).update(
        state=SignOut.State.CANCELLED,
        next_escalation_at=None,
        closed_at=now,
        closed_by=actor if actor is not None and actor.is_authenticated else None,
    )
    if moved:
        _cancel_prompts(signout)
        _event(
            signout, TrackingEvent.Kind.CANCELLED, via=TrackingEvent.Via.BOARD, actor=actor, now=now
        )
        audit_event_create(
            actor=actor, school=signout.school, obj=signout, event_type="signout.cancelled"
        )
    signout.refresh_from_db()
    return signout


@transaction.atomic
def signout_help_request(
    *, actor, signout: SignOut, via: str, visitor=None, enqueue: Enqueue | None = None
) -> SignOut:
    """R-ESC-7: "I need help" skips the ladder: the manager and the office are alerted at once.
    Asking twice alerts once; the case stays open until the manager records an outcome."""
    now = timezone.now()
    moved = SignOut.objects.filter(
        pk=signout.pk, state__in=SignOut.OPEN_STATES, help_requested_at__isnull=True
    ).update(
        help_requested_at=now,
        manager_alerted_at=now,
        resolved_at=None,
        resolved_by=None,
        next_escalation_at=None,
        last_contact_at=now,
    )
    if not moved:
        fresh = SignOut.objects.get(pk=signout.pk)
        if fresh.help_requested_at is not None:
            return fresh  # already asked: the manager and the office were alerted then
        raise _not_open(signout)
    signout = _load_for_messages(signout.pk)
    asked_by = visitor or actor
    step = EscalationStep.objects.create(
        signout=signout,
        ladder_round=signout.ladder_round,
        number=EscalationStep.HELP_NUMBER,
        kind=EscalationStep.Kind.HELP,
        trigger=EscalationStep.Trigger.HELP,
        due_at=now,
        fired_at=now,
    )
    created = _notifications_create(
        signout,
        step,
        ladder_messages.help_messages(
            signout, asked_by=str(asked_by or "A visitor"), from_office=visitor is None
        ),
        key=f"signout:{signout.pk}:help",
        supersedable=False,
        now=now,
    )
    _event(signout, TrackingEvent.Kind.HELP, via=via, actor=actor, visitor=visitor, now=now)
    audit_event_create(
        actor=actor,
        school=signout.school,
        obj=signout,
        event_type="signout.help_requested",
        changes={"via": via, "visitor": visitor.pk if visitor else None},
    )
    _after_commit(created, enqueue)
    signout.refresh_from_db()
    return signout


# ---------------------------------------------------------------------------------------------
# The office's calls (R-ESC-2, R-ESC-3)
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def call_attempt_record(
    *,
    actor: User,
    signout: SignOut,
    number_called: str,
    called_at: datetime.datetime,
    outcome: str,
    visitor: User | None = None,
    notes: str = "",
    enqueue: Enqueue | None = None,
) -> CallAttempt:
    """R-ESC-2: each call with its time, number and outcome. Reaching a visitor stops the ladder
    (R-ESC-6); the final retry recorded as failed alerts the manager at once (R-ESC-3)."""
    now = timezone.now()
    errors = {}
    try:
        number = normalise_uk_phone(number_called)
    except ValidationError:
        number = ""
        errors["number_called"] = ["Give the number you called, like 07700 900123 (R-ESC-2)."]
    if called_at > now + datetime.timedelta(minutes=1):
        errors["called_at"] = ["That time is in the future: give the time you made the call."]
    elif called_at < signout.signed_out_at:
        errors["called_at"] = ["That is before the visitors signed out."]
    if outcome not in CallAttempt.Outcome.values:
        errors["outcome"] = ["Choose what happened on the call."]
    if errors:
        raise TrackingBlocked(errors)
    signout = _signout_fresh(signout)
    if not signout.is_open:
        raise _not_open(signout)
    attempt = CallAttempt.objects.create(
        signout=signout,
        ladder_round=signout.ladder_round,
        visitor=visitor,
        number_called=number,
        called_at=called_at,
        outcome=outcome,
        notes=notes.strip()[:300],
        recorded_by=actor,
        recorded_at=now,
    )
    audit_event_create(
        actor=actor,
        school=signout.school,
        obj=attempt,
        event_type="call_attempt.recorded",
        changes={"signout": signout.pk, "number": number, "outcome": outcome},
    )
    if outcome == CallAttempt.Outcome.SPOKE_SAFE:
        _contact(
            actor=actor,
            signout=signout,
            kind=TrackingEvent.Kind.PHONED_IN,
            via=TrackingEvent.Via.BOARD,
            visitor=visitor,
            now=now,
        )
    elif (
        attempt.failed
        and signout.final_retry_step <= signout.escalation_stage < signout.manager_step
    ):
        # R-ESC-3: the final retry failed: the manager now, not at R+30.
        _ladder_advance(
            _load_for_messages(signout.pk),
            target=signout.manager_step,
            now=now,
            trigger=EscalationStep.Trigger.FINAL_CALL_FAILED,
            enqueue=enqueue,
        )
    return attempt


# ---------------------------------------------------------------------------------------------
# The manager's decision (R-ESC-4)
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def escalation_decision_record(
    *, actor: User, signout: SignOut, action: str, notes: str = "", outcome: str = ""
) -> EscalationDecision:
    """R-ESC-4: the manager records what they decided and did; an outcome resolves the case,
    which stays open on the board until then."""
    now = timezone.now()
    errors = {}
    if action not in EscalationDecision.Action.values:
        errors["action"] = ["Choose what you did (R-ESC-4)."]
    if outcome and outcome not in EscalationDecision.Outcome.values:
        errors["outcome"] = ["Choose an outcome from the list."]
    if (action == EscalationDecision.Action.OTHER or outcome == "other") and not notes.strip():
        errors["notes"] = ["Say what happened in the notes."]
    if errors:
        raise TrackingBlocked(errors)
    signout = _signout_fresh(signout)
    if signout.manager_alerted_at is None:
        raise TrackingBlocked(
            "The manager has not been alerted about this visit: there is nothing to decide yet."
        )
    if signout.resolved_at is not None:
        raise TrackingConflict(
            f"This case was resolved by {signout.resolved_by} at "
            f"{ladder_messages.local_datetime(signout.resolved_at)}."
        )
    decision = EscalationDecision.objects.create(
        signout=signout,
        action=action,
        notes=notes.strip(),
        outcome=outcome,
        recorded_by=actor,
        recorded_at=now,
    )
    audit_event_create(
        actor=actor,
        school=signout.school,
        obj=signout,
        event_type="escalation.decision_recorded",
        changes={"action": action, "outcome": outcome, "notes": notes.strip()},
    )
    if outcome:
        moved = SignOut.objects.filter(pk=signout.pk, resolved_at__isnull=True).update(
            resolved_at=now, resolved_by=actor
        )
        if not moved:
            raise TrackingConflict("Somebody else resolved this case a moment ago.")
        audit_event_create(
            actor=actor,
            school=signout.school,
            obj=signout,
            event_type="escalation.resolved",
            changes={"outcome": outcome},
        )
    return decision


# ---------------------------------------------------------------------------------------------
# The ladder (R-TRK-3, R-ESC-1..3, R-ESC-5)
# ---------------------------------------------------------------------------------------------


@dataclass
class ScanReport:
    due: int = 0
    steps_fired: int = 0
    requeued: int = 0
    marked_in_doubt: int = 0
    errors: int = 0
    claimed_by_others: int = 0
    fired: list[tuple[int, int, int]] = field(default_factory=list)  # (signout, round, step)


def escalation_scan(
    *, now: datetime.datetime | None = None, enqueue: Enqueue | None = None, limit: int = 500
) -> ScanReport:
    """One pass of the escalation engine, run by beat every ESCALATION_SCAN_SECONDS (and by
    `manage.py run_escalations`). Fires every due step of every due sign-out — after downtime,
    all of them at once, manager included — re-enqueues lost or failed messages and marks sends
    that never finished as in doubt. Safe to run twice, or in two processes at once."""
    now = now or timezone.now()
    report = ScanReport()
    for _ in range(20):  # batches of `limit`: after a long outage, thousands may be due
        due = list(
            SignOut.objects.filter(next_escalation_at__lte=now)
            .order_by("next_escalation_at")
            .values_list("pk", flat=True)[:limit]
        )
        report.due += len(due)
        _escalate_batch(due, now=now, enqueue=enqueue, report=report)
        if len(due) < limit:
            break
    report.requeued = notifications_requeue(now=now, enqueue=enqueue)
    report.marked_in_doubt = notifications_mark_in_doubt(now=now)
    heartbeat_beat(name=ESCALATION_SCAN)
    return report


def _escalate_batch(due: list[int], *, now, enqueue, report: ScanReport) -> None:
    for signout_id in due:
        try:
            fired = signout_escalate(signout_id=signout_id, now=now, enqueue=enqueue)
        except Exception:
            # One sign-out's failure must not stop the others; its claim rolled back, so the
            # next scan tries it again.
            report.errors += 1
            logger.exception("escalation of sign-out %s failed", signout_id)
            continue
        if fired:
            report.steps_fired += len(fired)
            report.fired += [(signout_id, step.ladder_round, step.number) for step in fired]
        else:
            report.claimed_by_others += 1


@transaction.atomic
def signout_escalate(
    *, signout_id: int, now: datetime.datetime, enqueue: Enqueue | None = None
) -> list[EscalationStep]:
    """Fire the steps of one sign-out that are due at `now`. Returns them; empty when nothing
    was due any more (the visitor came back, or another scan got there first)."""
    signout = _load_for_messages(signout_id)
    if signout.next_escalation_at is None or signout.next_escalation_at > now:
        return []
    if signout.visit.status == VisitStatus.CANCELLED:
        # visit_cancel closes the ladder itself; this covers a visit cancelled by any other way.
        signout_close_for_cancelled_visit(actor=None, visit=signout.visit)
        return []
    target = signout.steps_due_by(now)
    return _ladder_advance(
        signout, target=target, now=now, trigger=EscalationStep.Trigger.SCAN, enqueue=enqueue
    )


def _ladder_advance(
    signout: SignOut,
    *,
    target: int,
    now: datetime.datetime,
    trigger: str,
    enqueue: Enqueue | None,
) -> list[EscalationStep]:
    """Claim steps (stage+1 … target) of the sign-out's current round and fire them.

    The claim is a conditional update on what we read (round and stage): if a return, a phone-in,
    a new expected time or another scan changed the row since, it updates nothing and this call
    fires nothing. On PostgreSQL the loser waits for the winner's row lock, then re-reads and
    finds the stage moved on; on SQLite writers take turns."""
    stage, round_ = signout.escalation_stage, signout.ladder_round
    if target <= stage or signout.next_escalation_at is None:
        return []  # nothing new is due, or the ladder is stopped
    # `now` decided what is due; the step records when it really fired (a long scan, or one
    # that waited for a row lock, fires later than it started).
    fired_at = max(now, timezone.now())
    due_times = signout.due_times()
    next_due = due_times[target] if target < len(due_times) else None
    update = {"escalation_stage": target, "next_escalation_at": next_due}
    reaches_manager = target >= signout.manager_step
    if reaches_manager:
        update.update(manager_alerted_at=fired_at, resolved_at=None, resolved_by=None)
    claimed = SignOut.objects.filter(
        pk=signout.pk,
        ladder_round=round_,
        escalation_stage=stage,
        # A phone-in or a call for help stops the ladder (NULL) without closing tracking.
        next_escalation_at=signout.next_escalation_at,
        state__in=SignOut.OPEN_STATES,
    ).update(**update)
    if not claimed:
        return []  # another process got there first, or tracking closed meanwhile
    steps, created = [], []
    for number in range(stage + 1, target + 1):
        due_at = due_times[number - 1]
        if trigger == EscalationStep.Trigger.FINAL_CALL_FAILED and number == target:
            due_at = now
        step, notes = _step_fire(
            signout, number=number, due_at=due_at, now=fired_at, trigger=trigger
        )
        steps.append(step)
        created += notes
    _after_commit(created, enqueue)
    return steps


def _load_for_messages(signout_id: int) -> SignOut:
    return (
        SignOut.objects.select_related(
            "school__designated_manager__profile",
            "visit__out_of_hours_manager__profile",
        )
        .prefetch_related("visitors__user")
        .get(pk=signout_id)
    )


def _step_kind(signout: SignOut, number: int) -> str:
    if number == 1:
        return EscalationStep.Kind.OVERDUE
    if number == signout.manager_step:
        return EscalationStep.Kind.MANAGER
    if number == signout.final_retry_step:
        return EscalationStep.Kind.FINAL_RETRY
    return EscalationStep.Kind.RETRY


def _step_fire(signout: SignOut, *, number: int, due_at, now, trigger) -> tuple:
    kind = _step_kind(signout, number)
    step = EscalationStep.objects.create(
        signout=signout,
        ladder_round=signout.ladder_round,
        number=number,
        kind=kind,
        trigger=trigger,
        due_at=due_at,
        fired_at=now,
    )
    if kind == EscalationStep.Kind.OVERDUE:
        # R-TRK-3, R-ESC-1: overdue. The office is alerted; each visitor is asked to call in.
        urls = _checkin_links_create(signout, now=now)
        batch = ladder_messages.overdue_messages(signout, checkin_urls=urls)
    elif kind == EscalationStep.Kind.MANAGER:
        # R-ESC-3: the manager, with the emergency page.
        reason = (
            "The office recorded the final call as failed."
            if trigger == EscalationStep.Trigger.FINAL_CALL_FAILED
            else "Nobody has reached them since they became overdue."
        )
        batch = ladder_messages.manager_messages(signout, reason=reason)
    else:
        # R-ESC-2: the office calls again.
        batch = ladder_messages.retry_messages(
            signout, call_number=number, final=kind == EscalationStep.Kind.FINAL_RETRY
        )
    created = _notifications_create(
        signout,
        step,
        batch,
        key=f"signout:{signout.pk}:round:{signout.ladder_round}:step:{number}",
        supersedable=kind != EscalationStep.Kind.MANAGER,
        now=now,
    )
    audit_event_create(
        actor=None,
        school=signout.school,
        obj=signout,
        event_type=f"escalation.{kind}",
        changes={
            "round": signout.ladder_round,
            "step": number,
            "due_at": due_at.isoformat(),
            "trigger": trigger,
            "messages": len(created),
        },
    )
    return step, created


def _checkin_links_create(signout: SignOut, *, now) -> dict[int, str]:
    urls = {}
    for visitor in signout.visitors.all():
        link, _ = CheckInLink.objects.get_or_create(
            visitor=visitor,
            ladder_round=signout.ladder_round,
            defaults={
                "signout": signout,
                "created_at": now,
                "expires_at": now + checkin_lifetime(),
            },
        )
        path = reverse("tracking:checkin", args=[checkin_token_make(link.pk)])
        urls[visitor.pk] = settings.SITE_URL + path
    return urls


def _notifications_create(signout, step, batch, *, key: str, supersedable: bool, now) -> list[int]:
    """One outbox row per message, each under its idempotency key
    (signout:<id>:round:<r>:step:<n>:<channel>:<address>)."""
    rows, seen = [], set()
    requeue_at = now + datetime.timedelta(seconds=settings.NOTIFICATION_REQUEUE_AFTER_SECONDS)
    for message in batch:
        idempotency_key = f"{key}:{message.channel}:{message.recipient.address}"
        if idempotency_key in seen:
            continue  # the same person twice in one step (the monitor is also the manager)
        seen.add(idempotency_key)
        rows.append(
            Notification(
                signout=signout,
                step=step,
                idempotency_key=idempotency_key,
                channel=message.channel,
                template=message.template,
                recipient=message.recipient.user,
                recipient_label=message.recipient.label[:150],
                address=message.recipient.address,
                subject=message.subject[:200],
                body=message.body,
                html_body=message.html_body,
                supersedable=supersedable,
                due_at=step.due_at,
                created_at=now,
                retry_at=requeue_at,
            )
        )
    Notification.objects.bulk_create(rows)
    return list(Notification.objects.filter(idempotency_key__in=seen).values_list("pk", flat=True))


# ---------------------------------------------------------------------------------------------
# Sending (the outbox)
# ---------------------------------------------------------------------------------------------


def notifications_enqueue(ids: list[int]) -> None:
    """Hand messages to the workers. If the broker is down they stay PENDING and the scan
    re-enqueues them after NOTIFICATION_REQUEUE_AFTER_SECONDS."""
    for notification_id in ids:
        try:
            send_now("tracking.tasks.notification_send", notification_id=notification_id)
        except Exception:
            logger.exception(
                "could not enqueue notification %s; the scan will retry", notification_id
            )


def notifications_send_here(ids: list[int]) -> None:
    """Send in this process (manage.py run_escalations, when Celery is not running)."""
    for notification_id in ids:
        notification_send(notification_id=notification_id)


def _after_commit(ids: list[int], enqueue: Enqueue | None) -> None:
    if ids:
        handler = enqueue or notifications_enqueue
        transaction.on_commit(lambda: handler(ids))


def notifications_requeue(
    *, now: datetime.datetime, enqueue: Enqueue | None = None, limit: int = 500
) -> int:
    """Re-enqueue messages still PENDING a minute after they were enqueued (a lost broker
    message) and FAILED ones whose backoff has passed. Sending claims the row first, so a
    message enqueued twice is still sent once."""
    rows = list(
        Notification.objects.filter(retry_at__lte=now)
        .order_by("retry_at")
        .values_list("pk", "retry_at")[:limit]
    )
    if not rows:
        return 0
    again = now + datetime.timedelta(seconds=settings.NOTIFICATION_REQUEUE_AFTER_SECONDS)
    ids = []
    with transaction.atomic():
        for pk, retry_at in rows:
            if Notification.objects.filter(pk=pk, retry_at=retry_at).update(retry_at=again):
                ids.append(pk)
        _after_commit(ids, enqueue)
    return len(ids)


def notifications_mark_in_doubt(*, now: datetime.datetime) -> int:
    """A send that started NOTIFICATION_IN_DOUBT_AFTER_SECONDS ago and never finished (the
    worker died mid-send) may or may not have reached the phone: mark it UNKNOWN for a person
    to decide. Never resent automatically (R-ESC-5)."""
    cutoff = now - datetime.timedelta(seconds=settings.NOTIFICATION_IN_DOUBT_AFTER_SECONDS)
    count = Notification.objects.filter(
        status=Notification.Status.SENDING, claimed_at__lt=cutoff
    ).update(
        status=Notification.Status.UNKNOWN,
        last_error="The send started and never finished: it may or may not have been delivered.",
    )
    if count:
        logger.warning("%s notification(s) marked in doubt", count)
    return count


class EmailNotSent(Exception):
    """The mail server refused the message or could not be reached: safe to try again."""


_EMAIL_NOT_SENT = (
    smtplib.SMTPConnectError,
    smtplib.SMTPHeloError,
    smtplib.SMTPAuthenticationError,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPRecipientsRefused,
    ConnectionRefusedError,
    socket.gaierror,
)


def _deliver(notification: Notification) -> str:
    if notification.channel == Notification.Channel.SMS:
        return sms_send(
            to=notification.address,
            body=notification.body,
            reference=notification.idempotency_key,
        )
    message_id = make_msgid(domain="homeward")
    message = EmailMultiAlternatives(
        notification.subject,
        notification.body,
        settings.DEFAULT_FROM_EMAIL,
        [notification.address],
        headers={"Message-ID": message_id},
    )
    if notification.html_body:
        message.attach_alternative(notification.html_body, "text/html")
    try:
        message.send()
    except _EMAIL_NOT_SENT as error:
        raise EmailNotSent(str(error)) from error
    return message_id


def _backoff(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=15 * 2 ** max(0, attempts - 1))


def notification_send(*, notification_id: int) -> str | None:
    """Send one message, exactly once. Returns its status, or None when it was not ours to send
    (already sent, being sent, cancelled or in doubt)."""
    claimed_at = timezone.now()
    claimed = (
        Notification.objects.filter(pk=notification_id)
        .filter(
            Q(status=Notification.Status.PENDING)
            | Q(status=Notification.Status.FAILED, retry_at__isnull=False)
        )
        .update(
            status=Notification.Status.SENDING,
            claimed_at=claimed_at,
            attempts=F("attempts") + 1,
            retry_at=None,
        )
    )
    if not claimed:
        return None  # another worker has it, or it is done
    notification = Notification.objects.get(pk=notification_id)
    mine = Notification.objects.filter(pk=notification_id, claimed_at=claimed_at)
    try:
        provider_ref = _deliver(notification)
    except (SmsNotSent, EmailNotSent, ImproperlyConfigured) as error:
        gave_up = notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS
        mine.filter(status=Notification.Status.SENDING).update(
            status=Notification.Status.FAILED,
            last_error=str(error)[:500],
            retry_at=None if gave_up else timezone.now() + _backoff(notification.attempts),
        )
        logger.warning("notification %s not sent: %s", notification_id, error)
        return Notification.Status.FAILED
    except Exception as error:
        # The provider may have it: never resend automatically (R-ESC-5).
        logger.exception("notification %s in doubt", notification_id)
        mine.filter(status=Notification.Status.SENDING).update(
            status=Notification.Status.UNKNOWN, last_error=f"In doubt: {error}"[:500]
        )
        return Notification.Status.UNKNOWN
    # Sent: record it even if the scan meanwhile thought the send had died.
    mine.filter(status__in=[Notification.Status.SENDING, Notification.Status.UNKNOWN]).update(
        status=Notification.Status.SENT,
        sent_at=timezone.now(),
        provider_ref=str(provider_ref)[:100],
        last_error="",
    )
    return Notification.Status.SENT


@transaction.atomic
def notification_resend(
    *, actor: User, notification: Notification, enqueue: Enqueue | None = None
) -> Notification:
    """A person decided a message in doubt (or given up on) should go again."""
    now = timezone.now()
    moved = (
        Notification.objects.filter(pk=notification.pk)
        .filter(
            Q(status=Notification.Status.UNKNOWN)
            | Q(status=Notification.Status.FAILED, retry_at__isnull=True)
        )
        .update(
            status=Notification.Status.PENDING,
            resent_by=actor,
            resent_at=now,
            attempts=0,
            retry_at=now + datetime.timedelta(seconds=settings.NOTIFICATION_REQUEUE_AFTER_SECONDS),
        )
    )
    notification.refresh_from_db()
    if not moved:
        raise TrackingConflict(
            f"This message is {notification.get_status_display().lower()}: it was not resent."
        )
    audit_event_create(
        actor=actor,
        school=notification.signout.school,
        obj=notification,
        event_type="notification.resent",
        changes={"to": notification.recipient_label, "channel": notification.channel},
    )
    _after_commit([notification.pk], enqueue)
    return notification


# ---------------------------------------------------------------------------------------------
# The visitor's check-in link
# ---------------------------------------------------------------------------------------------


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


def briefing_printed_audit(*, actor: User, signout: SignOut) -> None:
    """R-SEC-3: printing or downloading personal data is audited."""
    audit_event_create(
        actor=actor, school=signout.school, obj=signout, event_type="signout.briefing_printed"
    )


def scan_loop(*, interval: float, send_here: bool, stop: Callable[[], bool]) -> None:
    """`manage.py run_escalations --loop`: the same scan as beat's, without Celery."""
    enqueue = notifications_send_here if send_here else None
    while not stop():
        started = time.monotonic()
        report = escalation_scan(enqueue=enqueue)
        if report.steps_fired or report.errors:
            logger.info("escalation scan: %s", report)
        while not stop() and time.monotonic() - started < interval:
            time.sleep(0.2)
