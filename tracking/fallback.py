"""An alert that did not arrive is repeated by a phone call and by email (R-ESC-11).

Every alert SMS that carries an acknowledgement link (to the monitor, the manager, a chain member,
every DSL and the Head, or a call for help: `FALLBACK_TEMPLATES`) is armed when it is created
(tracking.outbox.fallback_arm): its
`Notification.fallback_due_at` is DELIVERY_FALLBACK_MINUTES (2) ladder minutes later, provided the
SMS provider reports delivery at all (Twilio and GOV.UK Notify do; the console does not). A
delivery receipt "delivered" disarms it (tracking.receipts); "undelivered" or "failed" brings it
forward to now. The escalation scan finds the due rows (a partial index, like the ladder's own due
times) and claims each with a conditional update on the due time it read, so however many scans
run the fallback fires once; the call and the email are outbox rows under unique keys
(<the SMS's key>:fallback:voice and :fallback:email), the second guard. Never a Celery ETA task.

A fallback is not needed, and nothing is sent, when the SMS was delivered after all, somebody
acknowledged that round, a newer round replaced it, or the visitors are safe.

The call says only the school's name and that visitors are overdue, and asks for "press 1"
(tracking.voice_hooks): a person pressing 1 acknowledges exactly as the link does (R-ESC-8); an
answering machine never does.
"""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_event_create
from schools.services import board_changed, board_changes_at_end

from . import messages as ladder_messages
from .acknowledgements import AckUrlMaker, signout_acknowledge
from .models import Acknowledgement, EscalationStep, Notification, SignOut
from .outbox import FALLBACK_TEMPLATES, Enqueue, _after_commit

logger = logging.getLogger(__name__)


def fallbacks_fire_due(
    *, now: datetime.datetime, enqueue: Enqueue | None = None, limit: int = 500
) -> int:
    """The scan's pass over due fallbacks. Returns how many alerts were repeated."""
    due = list(
        Notification.objects.filter(fallback_due_at__lte=now)
        .order_by("fallback_due_at", "pk")
        .values_list("pk", "fallback_due_at")[:limit]
    )
    fired = 0
    for pk, due_at in due:
        try:
            fired += notification_fall_back(
                notification_id=pk, due_at=due_at, now=now, enqueue=enqueue
            )
        except Exception:
            # One alert's failure must not stop the others; its claim rolled back, so the next
            # scan tries it again.
            logger.exception("fallback for notification %s failed", pk)
    return fired


def _not_needed(sms: Notification) -> str:
    """Why the fallback of this SMS is not needed any more ("" when it is)."""
    signout = sms.signout
    round_ = sms.step.ladder_round if sms.step is not None else signout.ladder_round
    if sms.delivery_state == Notification.Delivery.DELIVERED:
        return "delivered"
    if sms.status == Notification.Status.CANCELLED:
        return "cancelled"
    if signout.ladder_round != round_:
        return "replaced by a newer round"
    if signout.acknowledged_at is not None:
        return "acknowledged"
    newer = Notification.objects.filter(
        signout_id=sms.signout_id,
        channel=Notification.Channel.SMS,
        address=sms.address,
        template__in=FALLBACK_TEMPLATES,
        pk__gt=sms.pk,
    ).filter(Q(fallback_due_at__isnull=False) | Q(fallback_fired_at__isnull=False))
    if newer.exists():
        # Several alerts to one phone at once (a scan catching up): one call, not a burst.
        return "a newer alert to the same phone is repeated instead"
    help_alert = sms.step is not None and sms.step.kind == EscalationStep.Kind.HELP
    if signout.state != SignOut.State.OUT and not help_alert:
        return "the visitors are safe"
    return ""


@transaction.atomic
@board_changes_at_end()
def notification_fall_back(
    *,
    notification_id: int,
    due_at: datetime.datetime,
    now: datetime.datetime,
    enqueue: Enqueue | None = None,
) -> bool:
    """R-ESC-11: claim one alert's fallback and, if it is still needed, repeat it by a phone call
    and by email. False when another scan claimed it or it is not needed any more."""
    claimed = Notification.objects.filter(pk=notification_id, fallback_due_at=due_at).update(
        fallback_due_at=None
    )
    if not claimed:
        return False
    sms = Notification.objects.select_related("signout__school", "step", "recipient").get(
        pk=notification_id
    )
    if _not_needed(sms):
        return False
    signout = (
        SignOut.objects.select_related("school", "visit")
        .prefetch_related("visitors__user")
        .get(pk=sms.signout_id)
    )
    if sms.delivery_state in (Notification.Delivery.UNDELIVERED, Notification.Delivery.FAILED):
        why = "reported not delivered"
    else:
        why = f"not delivered within {settings.DELIVERY_FALLBACK_MINUTES} minutes"
    Notification.objects.filter(pk=sms.pk).update(fallback_fired_at=now)
    board_changed(signout.school_id)  # issue 15: the row's messages, in this transaction
    recipient = ladder_messages.Recipient(
        label=sms.recipient_label, address=sms.address, user=sms.recipient
    )
    requeue_at = now + datetime.timedelta(seconds=settings.NOTIFICATION_REQUEUE_AFTER_SECONDS)
    common = {
        "signout": signout,
        "step": sms.step,
        "fallback_of": sms,
        "recipient": sms.recipient,
        "recipient_label": sms.recipient_label,
        "supersedable": False,
        "due_at": sms.due_at,
        "created_at": now,
        "retry_at": requeue_at,
    }
    rows = [
        Notification(
            idempotency_key=f"{sms.idempotency_key}:fallback:voice"[:200],
            channel=Notification.Channel.VOICE,
            template="voice_alert",
            address=sms.address,
            body=voice_script(signout),
            **common,
        )
    ]
    email = _fallback_email_address(sms, signout)
    if email:
        context = {
            **ladder_messages._context(signout),
            "ack_url": AckUrlMaker(signout, now=now)(recipient),
            "sent_at": ladder_messages.local_time(sms.created_at),
            "why": why,
        }
        message = ladder_messages._email(
            "escalation_fallback",
            ladder_messages.Recipient(label=sms.recipient_label, address=email, user=sms.recipient),
            context,
        )
        rows.append(
            Notification(
                idempotency_key=f"{sms.idempotency_key}:fallback:email"[:200],
                channel=Notification.Channel.EMAIL,
                template=message.template,
                address=email,
                subject=message.subject[:200],
                body=message.body,
                html_body=message.html_body,
                **common,
            )
        )
    # The unique keys are the second guard: a row that exists already is not made again.
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    created = list(
        Notification.objects.filter(
            idempotency_key__in=[row.idempotency_key for row in rows],
            created_at=now,
            status=Notification.Status.PENDING,
        ).values_list("pk", flat=True)
    )
    audit_event_create(
        actor=None,
        school=signout.school,
        obj=signout,
        event_type="escalation.fallback",
        changes={"to": sms.recipient_label, "why": why, "messages": len(created)},
    )
    _after_commit(created, enqueue)
    return True


def _fallback_email_address(sms: Notification, signout: SignOut) -> str:
    """The person's own email; for the school's monitor phone (nobody's own), the office's."""
    if sms.recipient is not None and sms.recipient.email:
        return sms.recipient.email
    if sms.recipient is None:
        return signout.school.office_email
    return ""


def voice_script(signout: SignOut) -> str:
    """What the call says: the school's name, "visitors overdue", press 1. No child, no
    address, no names (R-ESC-11; the leak scanner reads every script)."""
    return render_to_string("voice/alert.txt", {"school_name": signout.school.name}).strip()


# ---------------------------------------------------------------------------------------------
# The call's progress and its key press (tracking.voice_hooks; R-ESC-11, R-ESC-8)
# ---------------------------------------------------------------------------------------------

C = Notification.CallState
CALL_RANK = {
    C.QUEUED: 1,
    C.RINGING: 2,
    C.IN_PROGRESS: 3,
    C.COMPLETED: 4,
    C.BUSY: 4,
    C.NO_ANSWER: 4,
    C.FAILED: 4,
    C.CANCELED: 4,
}
TWILIO_CALL_STATES = {"initiated": C.QUEUED, **{state.value: state for state in C}}


def call_status_record(*, call_sid: str, status: str, answered_by: str = "") -> str:
    """Apply one of Twilio's call status callbacks, only forward: "applied", "ignored" (a
    repeat, or older than what we have), "unknown" (no such call: audited), "invalid"."""
    call_sid = (call_sid or "").strip()[:100]
    state = TWILIO_CALL_STATES.get(status)
    if state is None or not call_sid:
        _call_audit(call_sid, why="not understood")
        return "invalid"
    call = Notification.objects.filter(
        provider_ref=call_sid, channel=Notification.Channel.VOICE
    ).first()
    if call is None:
        _call_audit(call_sid, why="unknown call")
        return "unknown"
    now = timezone.now()
    behind = [s for s, rank in CALL_RANK.items() if rank < CALL_RANK[state]]
    update = {"call_state": state, "delivery_updated_at": now}
    if answered_by:
        update["answered_by"] = answered_by[:24]
    if state in (C.IN_PROGRESS, C.COMPLETED) and call.call_answered_at is None:
        update["call_answered_at"] = now
    moved = (
        Notification.objects.filter(pk=call.pk, call_state__in=["", *behind])
        .exclude(call_state=state)
        .update(**update)
    )
    if not moved:
        return "ignored"
    audit_event_create(
        actor=None,
        school=call.signout.school,
        obj=call,
        event_type="notification.call_status",
        changes={"state": state, "answered_by": update.get("answered_by", "")},
    )
    return "applied"


def _call_audit(call_sid: str, *, why: str) -> None:
    logger.warning("call status for %r ignored: %s", call_sid, why)
    AuditEvent.objects.create(
        actor=None,
        school=None,
        object_type="tracking.call",
        object_id=call_sid[:40] or "-",
        event_type="notification.receipt_ignored",
        changes={"provider": "twilio", "why": why},
    )


def is_machine(answered_by: str) -> bool:
    return (answered_by or "").startswith(("machine", "fax"))


def call_answered(*, call: Notification, answered_by: str) -> None:
    """Twilio asked what to say: the call was answered, by a person or a machine."""
    update = {"answered_by": (answered_by or "unknown")[:24]}
    if call.call_answered_at is None:
        update["call_answered_at"] = timezone.now()
    Notification.objects.filter(pk=call.pk).update(**update)
    # Never move a call back from a final state.
    Notification.objects.filter(pk=call.pk, call_state__in=["", C.QUEUED, C.RINGING]).update(
        call_state=C.IN_PROGRESS
    )


class KeypressRefused(Exception):
    """Said to the caller; audited."""


def call_keypress(
    *, call: Notification, digits: str, answered_by: str, call_sid: str, enqueue=None
) -> tuple[Acknowledgement | None, bool]:
    """R-ESC-8 on the phone: "1" from a person acknowledges exactly as the link does (the first
    acknowledgement owns the case; the others alerted are told). An answering machine never
    acknowledges, nor does a key press from another call. Returns (the round's
    acknowledgement, whether this key press made it)."""
    signout = SignOut.objects.select_related("school").get(pk=call.signout_id)
    if call.provider_ref and call_sid != call.provider_ref:
        _keypress_refusal(call, signout, why="a key press from another call")
        raise KeypressRefused("This call cannot acknowledge.")
    if is_machine(answered_by) or is_machine(call.answered_by):
        _keypress_refusal(call, signout, why="answered by a machine")
        raise KeypressRefused("An answering machine cannot acknowledge.")
    if digits != "1":
        raise KeypressRefused("")  # not 1: asked again, nothing recorded
    round_ = call.step.ladder_round if call.step_id else signout.ladder_round
    ack, won = signout_acknowledge(
        signout=signout,
        ladder_round=round_,
        user=call.recipient,
        label=call.recipient_label,
        via=Acknowledgement.Via.VOICE,
        enqueue=enqueue,
        detail={"call": call.pk},
    )
    if won:
        Notification.objects.filter(pk=call.pk, call_acknowledged_at__isnull=True).update(
            call_acknowledged_at=ack.acknowledged_at
        )
    else:
        _keypress_refusal(call, signout, why="pressed after the case was acknowledged")
    return ack, won


def _keypress_refusal(call: Notification, signout: SignOut, *, why: str) -> None:
    audit_event_create(
        actor=None,
        school=signout.school,
        obj=signout,
        event_type="escalation.ack_refused",
        changes={"why": why, "call": call.pk},
    )
