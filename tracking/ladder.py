"""The escalation engine (R-TRK-3, R-ESC-1..3, R-ESC-5; docs/escalation.md).

It owns the scan (`escalation_scan`, run by beat, or by `manage.py run_escalations` through
`scan_loop`) and its heartbeat, the ladder minute, and firing a sign-out's due steps: each step is
claimed once with a conditional update on what was read (`_ladder_advance`), so a return racing a
step, two scans or two processes are decided once, by the database. A fired step creates its
messages in the outbox and, for the overdue step, each visitor's check-in link, in the same
transaction as the claim; the messages go to the workers after commit (tracking.outbox). A
cancelled visit stops its ladder here too (`signout_close_for_cancelled_visit`), because the scan
itself closes a due sign-out whose visit was cancelled.

The sign-out lifecycle (tracking.signouts) calls into this module (a call for help, a failed
final call); this module never calls the lifecycle.
"""

import datetime
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.services import audit_event_create
from schools.models import User
from schools.services import board_changed, board_changes_at_end
from visits.models import Status as VisitStatus
from visits.models import Visit

from . import messages as ladder_messages
from .acknowledgements import AckUrlMaker
from .common import _event, ladder_minute
from .fallback import fallbacks_fire_due
from .models import (
    CheckInLink,
    EscalationStep,
    Heartbeat,
    Notification,
    SignOut,
    TrackingEvent,
)
from .outbox import (
    Enqueue,
    _after_commit,
    _cancel_prompts,
    _notifications_create,
    notifications_mark_in_doubt,
    notifications_requeue,
    notifications_send_here,
)
from .tokens import checkin_lifetime, checkin_token_make

logger = logging.getLogger(__name__)

ESCALATION_SCAN = "escalation-scan"


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


def _seconds(minutes: int) -> int:
    return max(1, round(minutes * ladder_minute().total_seconds()))


# ---------------------------------------------------------------------------------------------
# A cancelled visit stops its ladder (R-REQ-6, R-ESC-6)
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def signout_close_for_cancelled_visit(*, actor, visit: Visit) -> SignOut | None:
    """Called by visits.cancellation.visit_cancel: a visit cancelled while out stops its ladder."""
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
        board_changed(signout.school_id)  # issue 15: the board's version, in this transaction
        _cancel_prompts(signout)
        _event(
            signout, TrackingEvent.Kind.CANCELLED, via=TrackingEvent.Via.BOARD, actor=actor, now=now
        )
        audit_event_create(
            actor=actor, school=signout.school, obj=signout, event_type="signout.cancelled"
        )
    signout.refresh_from_db()
    return signout


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
    reminded: int = 0  # R-TRK-6 (issue 13)
    checkins_missed: int = 0  # R-TRK-6 (issue 13)
    fallbacks: int = 0  # R-ESC-11 (issue 12): alerts repeated by a call and email
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
    # R-TRK-6 (issue 13): missed check-ins first: each starts a round from when it was missed,
    # whose due steps the batches below (or this call) fire.
    report.checkins_missed = checkins_missed_send_due(now=now, enqueue=enqueue, limit=limit)
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
    # R-TRK-6 (issue 13): reminders before the return, a due time of the same engine.
    report.reminded = reminders_send_due(now=now, enqueue=enqueue, limit=limit)
    # R-ESC-11 (issue 12): alerts not delivered in time, repeated by a call and by email.
    report.fallbacks = fallbacks_due_fire(now=now, enqueue=enqueue, limit=limit)
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
@board_changes_at_end()
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
    update = {"escalation_stage": target}
    reaches_manager = stage < signout.manager_step <= target
    if reaches_manager:
        # R-ESC-9: the chain counts from when the manager step fell due (at once, when the
        # final call failed), so a scan that was down fires every due chain step together.
        manager_due = (
            now
            if trigger == EscalationStep.Trigger.FINAL_CALL_FAILED
            else signout.step_due_at(signout.manager_step)
        )
        signout.chain_base_at = manager_due
        update.update(
            manager_alerted_at=fired_at,
            resolved_at=None,
            resolved_by=None,
            chain_base_at=manager_due,
        )
    # R-ESC-9: past the manager the ladder runs on until somebody acknowledges (R-ESC-8).
    acknowledged = signout.acknowledged_at is not None
    next_due = signout.step_due_at(target + 1)
    if acknowledged and target >= signout.manager_step:
        next_due = None
    update["next_escalation_at"] = next_due
    claimed = SignOut.objects.filter(
        pk=signout.pk,
        ladder_round=round_,
        escalation_stage=stage,
        # A phone-in or a call for help stops the ladder (NULL) without closing tracking.
        next_escalation_at=signout.next_escalation_at,
        # An acknowledgement meanwhile stops the chain: decided again on the fresh row.
        acknowledged_at__isnull=not acknowledged,
        state__in=SignOut.OPEN_STATES,
    ).update(**update)
    if not claimed:
        return []  # another process got there first, or tracking closed meanwhile
    board_changed(signout.school_id)  # issue 15: the board's version, in this transaction
    if reaches_manager:
        signout.manager_alerted_at = fired_at
    steps, created = [], []
    ack_url = AckUrlMaker(signout, now=fired_at)
    for number in range(stage + 1, target + 1):
        kind = _step_kind(signout, number)
        if kind == EscalationStep.Kind.REMINDER and number != target:
            continue  # catching up after downtime: one reminder now, not a burst of them
        due_at = signout.step_due_at(number)
        if trigger == EscalationStep.Trigger.FINAL_CALL_FAILED and number == target:
            due_at = now
        step, notes = _step_fire(
            signout, number=number, due_at=due_at, now=fired_at, trigger=trigger, ack_url=ack_url
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
    if number > signout.everyone_step:
        return EscalationStep.Kind.REMINDER
    if number == signout.everyone_step:
        return EscalationStep.Kind.EVERYONE
    if number > signout.manager_step:
        return EscalationStep.Kind.CHAIN
    if number == signout.final_retry_step:
        return EscalationStep.Kind.FINAL_RETRY
    return EscalationStep.Kind.RETRY


# Office prompts are not needed once the visitors are back; alerts to managers always go.
SUPERSEDABLE = (
    EscalationStep.Kind.OVERDUE,
    EscalationStep.Kind.RETRY,
    EscalationStep.Kind.FINAL_RETRY,
)


def _step_fire(signout: SignOut, *, number: int, due_at, now, trigger, ack_url) -> tuple:
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
        batch = ladder_messages.overdue_messages(signout, checkin_urls=urls, ack_url=ack_url)
    elif kind == EscalationStep.Kind.MANAGER:
        # R-ESC-3: the manager, with the emergency page.
        reason = (
            "The office recorded the final call as failed."
            if trigger == EscalationStep.Trigger.FINAL_CALL_FAILED
            else "Nobody has reached them since they became overdue."
        )
        batch = ladder_messages.manager_messages(signout, reason=reason, ack_url=ack_url)
    elif kind == EscalationStep.Kind.CHAIN:
        # R-ESC-9: nobody acknowledged: the next person in the chain copied at sign-out.
        user_id = signout.chain_user_ids[number - signout.manager_step - 1]
        users = list(User.objects.filter(pk=user_id).select_related("profile"))
        batch = ladder_messages.chain_messages(signout, users=users, ack_url=ack_url)
    elif kind in (EscalationStep.Kind.EVERYONE, EscalationStep.Kind.REMINDER):
        # R-ESC-9: the chain is used up: every DSL and the Headteacher, then reminders.
        batch = ladder_messages.everyone_messages(
            signout, reminder=kind == EscalationStep.Kind.REMINDER, ack_url=ack_url
        )
    else:
        # R-ESC-2: the office calls again.
        batch = ladder_messages.retry_messages(
            signout,
            call_number=number,
            final=kind == EscalationStep.Kind.FINAL_RETRY,
            ack_url=ack_url,
        )
    created = _notifications_create(
        signout,
        step,
        batch,
        key=f"signout:{signout.pk}:round:{signout.ladder_round}:step:{number}",
        supersedable=kind in SUPERSEDABLE,
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
    """Each visitor's check-in link for this round, made once (R-TRK-3, R-ESC-6). A link made
    for the reminder before the return (R-TRK-6) and not yet used gets an hour from this text
    too. At most three queries however many visitors: the scan makes these in a storm."""
    visitors = list(signout.visitors.all())
    expires_at = now + checkin_lifetime()
    links = CheckInLink.objects.filter(signout=signout, ladder_round=signout.ladder_round)
    existing = set(links.values_list("visitor_id", flat=True))
    # Two makers at once (a scan and a reminder): the unique (visitor, round) keeps one.
    CheckInLink.objects.bulk_create(
        [
            CheckInLink(
                signout=signout,
                visitor=visitor,
                ladder_round=signout.ladder_round,
                created_at=now,
                expires_at=expires_at,
            )
            for visitor in visitors
            if visitor.pk not in existing
        ],
        ignore_conflicts=True,
    )
    if existing:
        links.filter(visitor_id__in=existing, used_at__isnull=True).update(expires_at=expires_at)
    ids = dict(links.values_list("visitor_id", "pk"))
    return {
        visitor.pk: settings.SITE_URL
        + reverse("tracking:checkin", args=[checkin_token_make(ids[visitor.pk])])
        for visitor in visitors
    }


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


# ---------------------------------------------------------------------------------------------
# Reminders before the expected return (R-TRK-6, issue 13; docs/escalation.md)
# ---------------------------------------------------------------------------------------------
#
# Ten minutes before the expected return, each visitor still out is texted a reminder with their
# check-in link and the reply words. A due time of the same engine as the ladder:
# SignOut.reminder_due_at (a partial index, like next_escalation_at), set when the visitors sign
# out and again by every new expected time, found by the escalation scan and claimed with a
# conditional update; its messages are outbox rows keyed by the expected time, so a reminder
# goes once per expected time however many scans run. Never a Celery ETA task.


def reminder_due_for(
    expected_return_at: datetime.datetime, *, now: datetime.datetime
) -> datetime.datetime | None:
    """When to remind the visitors of `expected_return_at`: CHECKIN_REMINDER_MINUTES (ten)
    before it, or never when that has already passed (a new time set less than ten minutes
    ahead)."""
    if settings.CHECKIN_REMINDER_MINUTES <= 0:
        return None
    due = expected_return_at - settings.CHECKIN_REMINDER_MINUTES * ladder_minute()
    return due if due > now else None


def reminders_send_due(
    *, now: datetime.datetime, enqueue: Enqueue | None = None, limit: int = 500
) -> int:
    """Send the reminders due at `now` (called by the escalation scan). Returns how many
    sign-outs were reminded."""
    due = list(
        SignOut.objects.filter(reminder_due_at__lte=now)
        .order_by("reminder_due_at")
        .values_list("pk", "reminder_due_at")[:limit]
    )
    return sum(
        signout_remind(signout_id=pk, due_at=due_at, now=now, enqueue=enqueue) for pk, due_at in due
    )


@transaction.atomic
@board_changes_at_end()
def signout_remind(
    *, signout_id: int, due_at: datetime.datetime, now: datetime.datetime, enqueue=None
) -> bool:
    """Claim one sign-out's reminder and text each visitor. False when another scan claimed it,
    or the visitors are no longer out (nothing is sent then)."""
    claimed = SignOut.objects.filter(pk=signout_id, reminder_due_at=due_at).update(
        reminder_due_at=None
    )
    if not claimed:
        return False
    signout = _load_for_messages(signout_id)
    if signout.state != SignOut.State.OUT:
        return False  # they phoned in, came back or the visit was cancelled
    board_changed(signout.school_id)  # issue 15: the board's version, in this transaction
    urls = _checkin_links_create(signout, now=now)
    context = ladder_messages._context(signout)
    expected = signout.expected_return_at.isoformat()
    rows = []
    for visitor in signout.visitors.all():
        message = ladder_messages._sms(
            "reminder_visitor",
            ladder_messages.Recipient(
                label=str(visitor.user), address=visitor.mobile, user=visitor.user
            ),
            {**context, "checkin_url": urls[visitor.pk]},
        )
        rows.append(
            Notification(
                signout=signout,
                idempotency_key=f"signout:{signout.pk}:reminder:{expected}:sms:{visitor.mobile}",
                channel=message.channel,
                template=message.template,
                recipient=visitor.user,
                recipient_label=message.recipient.label[:150],
                address=visitor.mobile,
                body=message.body,
                supersedable=True,  # not needed once they are back
                due_at=due_at,
                created_at=now,
                retry_at=now
                + datetime.timedelta(seconds=settings.NOTIFICATION_REQUEUE_AFTER_SECONDS),
            )
        )
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    keys = [row.idempotency_key for row in rows]
    created = list(
        Notification.objects.filter(
            idempotency_key__in=keys, created_at=now, status=Notification.Status.PENDING
        ).values_list("pk", flat=True)
    )
    audit_event_create(
        actor=None,
        school=signout.school,
        obj=signout,
        event_type="signout.reminded",
        changes={"expected_return_at": expected, "messages": len(created)},
    )
    _after_commit(created, enqueue)
    return True


# ---------------------------------------------------------------------------------------------
# Check-ins during long visits (R-TRK-6, issue 13; docs/escalation.md)
# ---------------------------------------------------------------------------------------------
#
# A school may ask visitors out on a long visit to check in every N minutes (My visit's "I'm OK"
# button, or a text reply FINE). SignOut.checkin_due_at is the next one's due time: set at
# sign-out, moved by every check-in and new expected time, cleared once they have left, asked
# for help or come back. The escalation scan finds it through a partial index, like
# next_escalation_at, and claims it with a conditional update: a missed check-in starts a new
# round of the ladder exactly like an overdue return, counting from when it was missed
# (SignOut.ladder_from_at), once however many scans run. Never a Celery ETA task.


def checkin_due_for(
    signout: SignOut,
    *,
    now: datetime.datetime,
    expected_return_at: datetime.datetime | None = None,
) -> datetime.datetime | None:
    """When the next check-in is due: one interval from `now`, or none when check-ins are off
    for this sign-out or the next would fall at or after the expected return (the ladder
    watches the return itself)."""
    if not signout.checkin_interval_seconds:
        return None
    due = now + datetime.timedelta(seconds=signout.checkin_interval_seconds)
    return due if due < (expected_return_at or signout.expected_return_at) else None


def checkins_missed_send_due(
    *, now: datetime.datetime, enqueue: Enqueue | None = None, limit: int = 500
) -> int:
    """Start the ladder of every sign-out whose check-in was missed by `now` (called by the
    escalation scan). Returns how many ladders it started."""
    due = list(
        SignOut.objects.filter(checkin_due_at__lte=now)
        .order_by("checkin_due_at")
        .values_list("pk", "checkin_due_at")[:limit]
    )
    started = 0
    for pk, due_at in due:
        try:
            started += signout_checkin_missed(
                signout_id=pk, due_at=due_at, now=now, enqueue=enqueue
            )
        except Exception:
            # Like the ladder: one failure must not stop the others; the claim rolled back.
            logger.exception("missed check-in of sign-out %s failed", pk)
    return started


def _checkin_read(signout_id: int) -> SignOut:
    return SignOut.objects.get(pk=signout_id)


@transaction.atomic
@board_changes_at_end()
def signout_checkin_missed(
    *, signout_id: int, due_at: datetime.datetime, now: datetime.datetime, enqueue=None
) -> bool:
    """Claim one missed check-in and start a round of the ladder from `due_at`, firing the
    steps due by `now` (the overdue step at once). False when another scan claimed it, or the
    visitors checked in, left or asked for help meanwhile."""
    signout = _checkin_read(signout_id)
    if signout.checkin_due_at != due_at:
        return False
    if signout.state != SignOut.State.OUT or signout.escalation_stage or signout.help_requested_at:
        # A ladder is already running (or they left): the missed check-in adds nothing.
        SignOut.objects.filter(pk=signout_id, checkin_due_at=due_at).update(checkin_due_at=None)
        return False
    claimed = SignOut.objects.filter(
        pk=signout_id,
        checkin_due_at=due_at,
        state=SignOut.State.OUT,
        ladder_round=signout.ladder_round,
        escalation_stage=0,
    ).update(
        checkin_due_at=None,
        ladder_from_at=due_at,
        ladder_round=signout.ladder_round + 1,
        escalation_stage=0,
        next_escalation_at=due_at,
        chain_base_at=None,
        acknowledged_at=None,
        acknowledged_label="",
    )
    if not claimed:
        return False
    board_changed(signout.school_id)  # issue 15: a new round starts, in this transaction
    signout = _load_for_messages(signout_id)
    _event(signout, TrackingEvent.Kind.MISSED_CHECKIN, via=TrackingEvent.Via.SYSTEM, now=due_at)
    audit_event_create(
        actor=None,
        school=signout.school,
        obj=signout,
        event_type="signout.checkin_missed",
        changes={"due_at": due_at.isoformat(), "round": signout.ladder_round},
    )
    _ladder_advance(
        signout,
        target=signout.steps_due_by(now),
        now=now,
        trigger=EscalationStep.Trigger.SCAN,
        enqueue=enqueue,
    )
    return True


# ---------------------------------------------------------------------------------------------
# Fallback calls for alerts not delivered (R-ESC-11, issue 12; tracking/fallback.py)
# ---------------------------------------------------------------------------------------------


def fallbacks_due_fire(*, now: datetime.datetime, enqueue: Enqueue | None, limit: int) -> int:
    """The scan's pass over alert SMS whose fallback is due (a due time of this engine, claimed
    in tracking.fallback)."""
    return fallbacks_fire_due(now=now, enqueue=enqueue, limit=limit)
