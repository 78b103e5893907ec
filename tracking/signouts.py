"""The sign-out lifecycle: every change a person makes to a sign-out (docs/escalation.md).

It owns signing out (R-TRK-1, with a stale assessment re-confirmed, R-RA-8); while out, a
phone-in, a new expected return, a return to school or going straight home, and a call for help
(R-TRK-2, R-ESC-6, R-ESC-7); the office's call attempts (R-ESC-2, R-ESC-3) and the manager's
decision (R-ESC-4); and the audit of a printed briefing (R-SEC-3).

Each change moves a SignOut with a conditional update (`filter(pk=…, <what we read>).update(…)`)
and checks the row count, so a return racing a step or two clicks are decided once, by the
database. Every change writes its AuditEvent in the same transaction (R-SEC-2). A call for help
and a failed final call fire ladder steps through tracking.ladder, whose messages go to the
workers after commit (R-ESC-5).
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit.services import audit_event_create
from riskassess.gates import assessment_currency
from riskassess.services import assessment_reconfirm
from schools.models import EscalationChainMember, User
from schools.services import board_changed, board_changes_at_end
from schools.validators import normalise_uk_phone
from visits.common import VisitConflict
from visits.models import Status as VisitStatus
from visits.models import Visit
from visits.progress import visit_mark_out, visit_mark_returned

from . import messages as ladder_messages
from .acknowledgements import AckUrlMaker, signout_acknowledge, signout_stand_down
from .common import TrackingBlocked, TrackingConflict, _event
from .ladder import (
    _ladder_advance,
    _load_for_messages,
    _notifications_create,
    _seconds,
    checkin_due_for,
    reminder_due_for,
)
from .models import (
    Acknowledgement,
    CallAttempt,
    EscalationDecision,
    EscalationStep,
    SignOut,
    SignOutVisitor,
    TrackingEvent,
)
from .outbox import Enqueue, _after_commit, _cancel_prompts


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
            f"{ladder_messages.local_datetime(visit.cancelled_at)}: it cannot be signed out."
        ]
    if visit.status == VisitStatus.OUT:
        return ["The visitors are already signed out on this visit."]
    if visit.status in (VisitStatus.RETURNED, VisitStatus.RECORDED):
        return ["The visitors have already been out and back on this visit."]
    return [
        "Visitors cannot be signed out of a visit that has not been authorised "
        f"(it is {visit.get_status_display().lower()})."  # R-TRK-1
    ]


@transaction.atomic
@board_changes_at_end()
def signout_create(
    *,
    actor: User,
    visit: Visit,
    expected_return_at: datetime.datetime,
    vehicle: str,
    mobiles: dict[int, str],
    reconfirm_assessment: bool = False,
    wearing: dict[int, str] | None = None,
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
                "are late."  # R-TRK-1
            ]
    vehicle = vehicle.strip()
    if not vehicle:
        errors["vehicle"] = [
            "Give the vehicle (make, colour, registration), or write “on foot”."  # R-TRK-1
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
            "Check the assessment still holds and tick to re-confirm it.",  # R-RA-8
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
        # R-ESC-9: the chain and its intervals as they are now (the manager is never in it).
        chain_user_ids=_chain_of(visit),
        chain_step_seconds=_seconds(school.chain_step_minutes),
        reminder_seconds=_seconds(school.chain_reminder_minutes),
        # R-TRK-6: check-ins during long visits, at the school's interval as it is now.
        checkin_interval_seconds=(
            _seconds(school.checkin_interval_minutes) if school.checkin_interval_minutes else 0
        ),
    )
    board_changed(school.pk)  # issue 15: the board's version, in this transaction
    signout.next_escalation_at = signout.due_times()[0]
    signout.reminder_due_at = reminder_due_for(expected_return_at, now=now)  # R-TRK-6
    signout.checkin_due_at = checkin_due_for(signout, now=now)  # R-TRK-6
    signout.save(update_fields=["next_escalation_at", "reminder_due_at", "checkin_due_at"])
    SignOutVisitor.objects.bulk_create(
        SignOutVisitor(
            signout=signout,
            user=v.user,
            mobile=numbers[v.user_id],
            wearing=(wearing or {}).get(v.user_id, "")[:200],
        )
        for v in visitors
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


def _chain_of(visit: Visit) -> list[int]:
    """R-ESC-9: the school's escalation chain in order, without the visit's manager (who is
    alerted first, at the manager step)."""
    school = visit.school
    managers = {school.designated_manager_id, getattr(visit, "out_of_hours_manager_id", None)}
    members = EscalationChainMember.objects.filter(school=school, user__is_active=True).order_by(
        "position", "pk"
    )
    return [
        user_id for user_id in members.values_list("user_id", flat=True) if user_id not in managers
    ]


def visit_has_assessment(visit: Visit) -> bool:
    from riskassess.models import RiskAssessment

    return RiskAssessment.objects.filter(visit_id=visit.pk).exists()


# ---------------------------------------------------------------------------------------------
# While out (R-TRK-2, R-ESC-6, R-ESC-7)
# ---------------------------------------------------------------------------------------------


def _not_open(signout: SignOut) -> TrackingConflict:
    fresh = SignOut.objects.get(pk=signout.pk)
    when = ladder_messages.local_datetime(fresh.closed_at) if fresh.closed_at else ""
    return TrackingConflict(
        f"Tracking of this visit is closed ({fresh.get_state_display().lower()}"
        f"{', ' + when if when else ''}): nothing was changed."
    )


def _contact(*, actor, signout: SignOut, kind: str, via: str, visitor=None, now) -> SignOut:
    """R-ESC-6: any contact stops the ladder. The visitors are safe and on their way."""
    moved = SignOut.objects.filter(pk=signout.pk, state__in=SignOut.OPEN_STATES).update(
        state=SignOut.State.LEFT_SAFELY,
        next_escalation_at=None,
        last_contact_at=now,
        checkin_due_at=None,  # R-TRK-6: they have left the visit
    )
    if not moved:
        raise _not_open(signout)
    board_changed(signout.school_id)  # issue 15: the board's version, in this transaction
    _cancel_prompts(signout)
    _event(signout, kind, via=via, actor=actor, visitor=visitor, now=now)
    audit_event_create(
        actor=actor,
        school=signout.school,
        obj=signout,
        event_type=f"signout.{kind}",
        changes={"via": via, "visitor": visitor.pk if visitor else None},
    )
    # R-ESC-10: everyone alerted is told, once.
    signout_stand_down(signout=signout, what=kind, recorded_by=_who(actor, visitor, via))
    signout.refresh_from_db()
    return signout


def _who(actor, visitor, via: str) -> str:
    """Who recorded it, in words, for a stand-down message."""
    person = visitor or actor
    if person is not None and getattr(person, "is_authenticated", False):
        return str(person)
    return "the visitor, by the check-in link" if via == TrackingEvent.Via.LINK else "Homeward"


@transaction.atomic
@board_changes_at_end()
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
@board_changes_at_end()
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
        errors["reason"] = ["Say why more time is needed."]  # R-TRK-2
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
        # A new round is a new alert: its chain and its acknowledgement start again.
        chain_base_at=None,
        acknowledged_at=None,
        acknowledged_label="",
        reminder_due_at=reminder_due_for(new_expected_return_at, now=now),  # R-TRK-6
        # R-TRK-6: the next check-in counts from now; the round counts from the new time.
        checkin_due_at=checkin_due_for(signout, now=now, expected_return_at=new_expected_return_at),
        ladder_from_at=None,
    )
    if not moved:
        raise _not_open(signout)
    board_changed(signout.school_id)  # issue 15: the board's version, in this transaction
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
@board_changes_at_end()
def signout_check_in(
    *, actor, signout: SignOut, via: str, visitor=None, _attempt: int = 0
) -> SignOut:
    """R-TRK-6: "I'm OK, still on the visit" — a check-in during a long visit. The next one is
    due a check-in interval from now. If a missed check-in had started the ladder, that round
    stops (everyone alerted is told, R-ESC-10) and a new round counts from the expected return
    again, as it did before the check-in was missed."""
    now = timezone.now()
    # Locked while we decide: a scan finding the check-in missed waits for us, or we for it.
    fresh = (
        SignOut.objects.select_for_update(of=("self",)).select_related("school").get(pk=signout.pk)
    )
    if fresh.state != SignOut.State.OUT:
        raise (
            _not_open(fresh)
            if not fresh.is_open
            else TrackingConflict("You have already left the visit safely: no check-in is needed.")
        )
    update = {
        "last_contact_at": now,
        "checkin_due_at": None if fresh.help_requested_at else checkin_due_for(fresh, now=now),
    }
    missed_round = fresh.ladder_from_at is not None
    if missed_round:
        # R-ESC-10 first: the stand-down belongs to the round that alerted people.
        signout_stand_down(
            signout=fresh, what=TrackingEvent.Kind.CHECKED_IN, recorded_by=_who(actor, visitor, via)
        )
        update.update(
            ladder_round=F("ladder_round") + 1,
            escalation_stage=0,
            ladder_from_at=None,
            next_escalation_at=fresh.expected_return_at
            + datetime.timedelta(seconds=fresh.grace_seconds),
            chain_base_at=None,
            acknowledged_at=None,
            acknowledged_label="",
        )
    moved = SignOut.objects.filter(
        pk=fresh.pk, state=SignOut.State.OUT, ladder_round=fresh.ladder_round
    ).update(**update)
    if not moved:
        # The round moved meanwhile (a scan found the check-in missed, an extension): decide
        # again on the fresh row, as a call for help does.
        if _attempt < 3:
            return signout_check_in(
                actor=actor, signout=signout, via=via, visitor=visitor, _attempt=_attempt + 1
            )
        raise TrackingConflict("Something changed meanwhile: look again, then check in.")
    board_changed(fresh.school_id)  # issue 15: the row's next check-in, in this transaction
    if missed_round:
        _cancel_prompts(fresh)
    _event(fresh, TrackingEvent.Kind.CHECKED_IN, via=via, actor=actor, visitor=visitor, now=now)
    audit_event_create(
        actor=actor,
        school=fresh.school,
        obj=fresh,
        event_type="signout.checked_in",
        changes={
            "via": via,
            "visitor": visitor.pk if visitor else None,
            "after_missed": missed_round,
        },
    )
    fresh.refresh_from_db()
    return fresh


@transaction.atomic
@board_changes_at_end()
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
        checkin_due_at=None,  # R-TRK-6
    )
    if not moved:
        raise _not_open(signout)
    board_changed(signout.school_id)  # issue 15: the board's version, in this transaction
    if Visit.objects.filter(pk=signout.visit_id, status=VisitStatus.OUT).exists():
        # (A visit already recorded stays so when a reopened sign-out closes again, R-TRK-4.)
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
    # R-ESC-10: everyone alerted is told, once.
    signout_stand_down(signout=signout, what=kind, recorded_by=_who(actor, visitor, via))
    signout.refresh_from_db()
    return signout


@transaction.atomic
@board_changes_at_end()
def signout_help_request(
    *,
    actor,
    signout: SignOut,
    via: str,
    visitor=None,
    enqueue: Enqueue | None = None,
    duress: str = "",
    duress_shows: str = "",
    _attempt: int = 0,
) -> SignOut:
    """R-ESC-7: "I need help" skips the ladder: the manager and the office are alerted at once.
    Asking twice alerts once; the case stays open until the manager records an outcome.

    R-TRK-7: `duress` is "duress" (the duress PIN: marked DURESS, and `duress_shows` is what the
    visitor's phone keeps showing) or "wrong_pins" (three wrong PINs in a row); either way the
    alert says not to ring the visitor's phone and to consider 999."""
    now = timezone.now()
    fresh = SignOut.objects.get(pk=signout.pk)
    stage_read = fresh.escalation_stage
    update = {
        "help_requested_at": now,
        "manager_alerted_at": now,
        "resolved_at": None,
        "resolved_by": None,
        "next_escalation_at": None,
        "last_contact_at": now,
        "checkin_due_at": None,  # R-TRK-6: the manager has it now, not a timer
    }
    if duress:  # R-TRK-7: the board marks it; the visitor's phone does not show it
        update.update(duress_at=now, duress_shows=duress_shows)
    if fresh.escalation_stage <= fresh.manager_step and fresh.acknowledged_at is None:
        # R-ESC-9: the manager is alerted now; if nobody acknowledges, the chain follows from
        # now, as after the manager step of the ladder.
        update.update(escalation_stage=fresh.manager_step, chain_base_at=now)
        fresh.escalation_stage, fresh.chain_base_at = fresh.manager_step, now
        update["next_escalation_at"] = fresh.step_due_at(fresh.manager_step + 1)
    elif fresh.escalation_stage > fresh.manager_step and fresh.acknowledged_at is None:
        update.pop("next_escalation_at")  # the chain is already running: it runs on
    moved = SignOut.objects.filter(
        pk=signout.pk,
        state__in=SignOut.OPEN_STATES,
        help_requested_at__isnull=True,
        ladder_round=fresh.ladder_round,
        escalation_stage=stage_read,  # decided on what we read: a scan may have moved it
    ).update(**update)
    if not moved:
        fresh = SignOut.objects.get(pk=signout.pk)
        if fresh.help_requested_at is not None:
            if duress and fresh.duress_at is None:
                # R-TRK-7: help was already raised; the board now marks it DURESS too.
                SignOut.objects.filter(pk=fresh.pk).update(duress_at=now, duress_shows=duress_shows)
                audit_event_create(
                    actor=actor,
                    school=fresh.school,
                    obj=fresh,
                    event_type="signout.duress",
                    changes={"via": via, "visitor": visitor.pk if visitor else None},
                )
            return fresh  # already asked: the manager and the office were alerted then
        if fresh.is_open and _attempt < 3:
            # A scan moved the ladder between our read and our update: decide again.
            return signout_help_request(
                actor=actor,
                signout=signout,
                via=via,
                visitor=visitor,
                enqueue=enqueue,
                duress=duress,
                duress_shows=duress_shows,
                _attempt=_attempt + 1,
            )
        raise _not_open(signout)
    board_changed(signout.school_id)  # issue 15: the board's version, in this transaction
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
            signout,
            asked_by=str(asked_by or "A visitor"),
            from_office=visitor is None,
            ack_url=AckUrlMaker(signout, now=now),
            duress=duress,
        ),
        key=f"signout:{signout.pk}:help",
        supersedable=False,
        now=now,
    )
    reason = {"duress": "DURESS: the duress PIN was used", "wrong_pins": "Three wrong PINs"}
    _event(
        signout,
        TrackingEvent.Kind.HELP,
        via=via,
        actor=actor,
        visitor=visitor,
        now=now,
        reason=reason.get(duress, ""),
    )
    audit_event_create(
        actor=actor,
        school=signout.school,
        obj=signout,
        event_type="signout.help_requested",
        changes={"via": via, "visitor": visitor.pk if visitor else None, "duress": duress},
    )
    _after_commit(created, enqueue)
    signout.refresh_from_db()
    return signout


# ---------------------------------------------------------------------------------------------
# The office's calls (R-ESC-2, R-ESC-3)
# ---------------------------------------------------------------------------------------------


@transaction.atomic
@board_changes_at_end()
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
        errors["number_called"] = ["Give the number you called, like 07700 900123."]  # R-ESC-2
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
    board_changed(signout.school_id)  # issue 15: the board's version, in this transaction
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
@board_changes_at_end()
def escalation_decision_record(
    *, actor: User, signout: SignOut, action: str, notes: str = "", outcome: str = ""
) -> EscalationDecision:
    """R-ESC-4: the manager records what they decided and did; an outcome resolves the case,
    which stays open on the board until then."""
    now = timezone.now()
    errors = {}
    if action not in EscalationDecision.Action.values:
        errors["action"] = ["Choose what you did."]  # R-ESC-4
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
    board_changed(signout.school_id)  # issue 15: the board's version, in this transaction
    audit_event_create(
        actor=actor,
        school=signout.school,
        obj=signout,
        event_type="escalation.decision_recorded",
        changes={"action": action, "outcome": outcome, "notes": notes.strip()},
    )
    if signout.acknowledged_at is None:
        # R-ESC-8: a manager recording a decision is dealing with it: that owns the case and
        # stops the chain (R-ESC-9), if nobody did before.
        signout_acknowledge(
            signout=signout,
            ladder_round=signout.ladder_round,
            user=actor,
            label=str(actor),
            via=Acknowledgement.Via.PAGE,
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
    if outcome in (EscalationDecision.Outcome.SAFE, EscalationDecision.Outcome.HELPED):
        # R-ESC-10: found: everyone alerted is told, once.
        signout_stand_down(signout=signout, what="found", recorded_by=str(actor))
    return decision


# ---------------------------------------------------------------------------------------------
# The printed briefing (R-SEC-3)
# ---------------------------------------------------------------------------------------------


def briefing_printed_audit(*, actor: User, signout: SignOut) -> None:
    """R-SEC-3: printing or downloading personal data is audited."""
    audit_event_create(
        actor=actor, school=signout.school, obj=signout, event_type="signout.briefing_printed"
    )
