"""Reminders before the expected return (R-TRK-6; docs/escalation.md "Reminders").

Ten minutes before the expected return, each visitor still out is texted a reminder with their
check-in link and the reply words. It is a due time of the same database-driven engine as the
ladder: SignOut.reminder_due_at (a partial index, like the ladder's next_escalation_at), set
when the visitors sign out and again by every new expected time, found by the escalation scan
and claimed with a conditional update; its messages are outbox rows keyed by the expected time,
so a reminder goes once per expected time however many scans run. Never a Celery ETA task.
"""

import datetime

from django.conf import settings
from django.db import transaction

from audit.services import audit_event_create

from . import messages as ladder_messages
from .ladder import _checkin_links_create, _load_for_messages, ladder_minute
from .models import Notification, SignOut
from .outbox import Enqueue, _after_commit


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
