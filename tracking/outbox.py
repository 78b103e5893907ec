"""The notification outbox (R-ESC-5): the messages a ladder step or a call for help created,
each an outbox row under its idempotency key, and their delivery.

It owns handing messages to the workers after commit (`notifications_enqueue`, or
`notifications_send_here` without Celery), sending each exactly once by claiming its row first
(`notification_send`, with backoff after a refused send), re-enqueueing lost or failed messages
(`notifications_requeue`), marking sends that never finished as in doubt
(`notifications_mark_in_doubt`, never resent automatically), a person's resend
(`notification_resend`) and cancelling the prompts still waiting once the visitors are safe
(`_cancel_prompts`). The escalation scan (tracking.ladder) drives the requeue and in-doubt sweeps.
"""

import datetime
import logging
import smtplib
import socket
from collections.abc import Callable
from email.utils import make_msgid

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from audit.services import audit_event_create
from core.enqueue import send_now
from schools.models import User
from schools.services import board_changed

from .common import TrackingConflict, ladder_minute
from .models import Notification, SignOut
from .sms import SmsNotSent, sms_receipts_expected, sms_send

logger = logging.getLogger(__name__)

Enqueue = Callable[[list[int]], None]


def _cancel_prompts(signout: SignOut) -> int:
    """Office and visitor prompts still waiting are not needed once the visitors are back; the
    manager's and help alerts always go. Sends already under way are left alone."""
    return Notification.objects.filter(
        signout=signout,
        supersedable=True,
        status__in=[Notification.Status.PENDING, Notification.Status.FAILED],
    ).update(status=Notification.Status.CANCELLED, retry_at=None)


def _notifications_create(
    signout, step, batch, *, key: str, supersedable: bool, now, once: bool = False
) -> list[int]:
    """One outbox row per message, each under its idempotency key
    (signout:<id>:round:<r>:step:<n>:<channel>:<address>). `once`: a message whose key exists
    already is not created again (acknowledgement notices and stand-downs, which more than one
    event may ask for), and only the new rows are returned for sending."""
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
                due_at=step.due_at if step is not None else now,
                created_at=now,
                retry_at=requeue_at,
            )
        )
    # R-ESC-11: an alert SMS not delivered in time is repeated by a call and by email.
    fallback_arm(rows, now=now)
    if once:
        existing = set(
            Notification.objects.filter(idempotency_key__in=seen).values_list(
                "idempotency_key", flat=True
            )
        )
        rows = [row for row in rows if row.idempotency_key not in existing]
        seen -= existing
        # Two at once: the unique key keeps one; the send's claim makes a double enqueue harmless.
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
    else:
        Notification.objects.bulk_create(rows)
    if rows:
        board_changed(signout.school_id)  # issue 15: the board's version, in this transaction
    return list(Notification.objects.filter(idempotency_key__in=seen).values_list("pk", flat=True))


# R-ESC-11: the alert SMS that carry an acknowledgement link (tracking.messages); one not
# delivered in time is repeated by a phone call and by email (tracking.fallback).
FALLBACK_TEMPLATES = ("overdue_office", "retry_office", "manager", "chain", "help")


def fallback_delay() -> datetime.timedelta:
    """DELIVERY_FALLBACK_MINUTES in ladder minutes (bench/escalation.py compresses them)."""
    return settings.DELIVERY_FALLBACK_MINUTES * ladder_minute()


def fallback_arm(rows: list[Notification], *, now: datetime.datetime) -> None:
    """R-ESC-11: set the fallback due time on the alert SMS among `rows` (not yet saved), when
    the SMS provider reports delivery at all."""
    if settings.DELIVERY_FALLBACK_MINUTES <= 0:
        return
    alerts = [
        row
        for row in rows
        if row.channel == Notification.Channel.SMS and row.template in FALLBACK_TEMPLATES
    ]
    if not alerts or not sms_receipts_expected():
        return
    due = now + fallback_delay()
    for row in alerts:
        row.fallback_due_at = due


# The order a batch of sends (one ladder step, one reply) is handed to the workers in: first the
# texts and calls that ask a person to act (the office, the manager, the chain; help), then the
# other texts (to visitors; notices), then emails, which copy a text or can wait. Within one
# queue (first in, first out). Celery's message priorities on Redis would also put them ahead of
# other batches' sends; they were tried and withdrawn: the cluster test (a Redis restart among
# its faults) once left 762 of 1,760 messages unsent with them, and why is not yet known.
SEND_FIRST, SEND_SOON, SEND_LATER = 0, 3, 6


def send_priority(channel: str, template: str) -> int:
    if channel == Notification.Channel.VOICE:
        return SEND_FIRST
    if channel == Notification.Channel.SMS:
        return SEND_FIRST if template in FALLBACK_TEMPLATES else SEND_SOON
    return SEND_LATER


def notifications_enqueue(ids: list[int]) -> None:
    """Hand messages to the workers, those that ask a person to act first (`send_priority`). If
    the broker is down they stay PENDING and the scan re-enqueues them after
    NOTIFICATION_REQUEUE_AFTER_SECONDS."""
    ordered = ids
    if len(ids) > 1:  # one message (a reply's answer) has no order to find: no query
        rows = Notification.objects.filter(pk__in=ids).values_list("pk", "channel", "template")
        ordered = [pk for _, pk in sorted((send_priority(c, t), pk) for pk, c, t in rows)]
    for notification_id in ordered:
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
    """Re-enqueue messages still PENDING NOTIFICATION_REQUEUE_AFTER_SECONDS after they were
    enqueued (a lost broker message) and FAILED ones whose backoff has passed. Sending claims
    the row first, so a message enqueued twice is still sent once."""
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
    stuck = Notification.objects.filter(status=Notification.Status.SENDING, claimed_at__lt=cutoff)
    with transaction.atomic():
        # The boards of the schools whose messages turn "in doubt" (issue 15), in the same
        # transaction; a send finishing meanwhile just bumps a board for nothing.
        board_changed(*stuck.values_list("signout__school_id", flat=True).distinct())
        count = stuck.update(
            status=Notification.Status.UNKNOWN,
            last_error="The send started and never finished: it may or may not have been "
            "delivered.",
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
    if notification.channel == Notification.Channel.VOICE:
        # R-ESC-11: the fallback call; Twilio fetches what to say from the signed URL.
        from django.urls import reverse

        from .tokens import voice_token_make
        from .voice import voice_call

        token = voice_token_make(notification.pk)
        return voice_call(
            to=notification.address,
            script=notification.body,
            url=settings.SITE_URL + reverse("tracking:voice_twiml", args=[token]),
            status_callback=settings.SITE_URL + reverse("tracking:twilio_call_status"),
        )
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
    notification = Notification.objects.select_related("signout").get(pk=notification_id)
    school_id = notification.signout.school_id
    mine = Notification.objects.filter(pk=notification_id, claimed_at=claimed_at)
    try:
        provider_ref = _deliver(notification)
    except (SmsNotSent, EmailNotSent, ImproperlyConfigured) as error:
        gave_up = notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS
        with transaction.atomic():
            if mine.filter(status=Notification.Status.SENDING).update(
                status=Notification.Status.FAILED,
                last_error=str(error)[:500],
                retry_at=None if gave_up else timezone.now() + _backoff(notification.attempts),
            ):
                board_changed(school_id)  # issue 15: given up on shows on the board
        logger.warning("notification %s not sent: %s", notification_id, error)
        return Notification.Status.FAILED
    except Exception as error:
        # The provider may have it: never resend automatically (R-ESC-5).
        logger.exception("notification %s in doubt", notification_id)
        with transaction.atomic():
            if mine.filter(status=Notification.Status.SENDING).update(
                status=Notification.Status.UNKNOWN, last_error=f"In doubt: {error}"[:500]
            ):
                board_changed(school_id)  # issue 15
        return Notification.Status.UNKNOWN
    # Sent: record it even if the scan meanwhile thought the send had died.
    with transaction.atomic():
        if mine.filter(
            status__in=[Notification.Status.SENDING, Notification.Status.UNKNOWN]
        ).update(
            status=Notification.Status.SENT,
            sent_at=timezone.now(),
            provider_ref=str(provider_ref)[:100],
            last_error="",
        ):
            board_changed(school_id)  # issue 15: the board counts the texts sent
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
    board_changed(notification.signout.school_id)  # issue 15: in this transaction
    audit_event_create(
        actor=actor,
        school=notification.signout.school,
        obj=notification,
        event_type="notification.resent",
        changes={"to": notification.recipient_label, "channel": notification.channel},
    )
    _after_commit([notification.pk], enqueue)
    return notification
