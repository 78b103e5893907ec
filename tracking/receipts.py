"""Delivery receipts (R-ESC-11): what Twilio and GOV.UK Notify say became of each SMS.

Only the providers' authenticated callbacks (tracking.webhooks.provider_webhook) change a
message's delivery state. A receipt is matched on the provider's message id
(Notification.provider_ref) and applied with a conditional update that only moves forward:
queued → sent → delivered / not delivered / failed. The same receipt twice, or an old one after a
newer (out of order), changes nothing; a receipt for an id Homeward never sent is audited and
ignored.
"""

import logging

from django.db import transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_event_create
from schools.services import board_changed, board_changes_at_end

from .models import Notification

logger = logging.getLogger(__name__)

D = Notification.Delivery
RANK = {D.QUEUED: 1, D.SENT: 2, D.DELIVERED: 3, D.UNDELIVERED: 3, D.FAILED: 3}

# Twilio's MessageStatus values, in Homeward's words.
TWILIO_STATES = {
    "accepted": D.QUEUED,
    "scheduled": D.QUEUED,
    "queued": D.QUEUED,
    "sending": D.SENT,
    "sent": D.SENT,
    "delivered": D.DELIVERED,
    "read": D.DELIVERED,
    "undelivered": D.UNDELIVERED,
    "failed": D.FAILED,
    "canceled": D.FAILED,
}

# GOV.UK Notify's callback statuses.
NOTIFY_STATES = {
    "created": D.QUEUED,
    "sending": D.SENT,
    "pending": D.SENT,
    "sent": D.SENT,
    "delivered": D.DELIVERED,
    "temporary-failure": D.UNDELIVERED,
    "permanent-failure": D.FAILED,
    "technical-failure": D.FAILED,
}


@transaction.atomic
@board_changes_at_end()
def notification_delivery_record(
    *, provider: str, provider_ref: str, state: str, error_code: str = ""
) -> str:
    """Apply one receipt. Returns "applied", "ignored" (already as far or further: a repeat or
    out of order), "unknown" (no such message: audited) or "invalid" (a state we do not know)."""
    provider_ref = (provider_ref or "").strip()[:100]
    if state not in RANK or not provider_ref:
        _receipt_audit(provider=provider, provider_ref=provider_ref, why="not understood")
        return "invalid"
    notification = (
        Notification.objects.filter(provider_ref=provider_ref).select_related("signout").first()
    )
    if notification is None:
        _receipt_audit(provider=provider, provider_ref=provider_ref, why="unknown message")
        return "unknown"
    behind = [s for s, rank in RANK.items() if rank < RANK[state]]
    now = timezone.now()
    update = {
        "delivery_state": state,
        "provider_error_code": str(error_code or "")[:20],
        "delivery_updated_at": now,
    }
    if state == D.DELIVERED:
        update["delivered_at"] = now
    # R-ESC-11: a delivered alert needs no fallback call; one not delivered gets it at once
    # (tracking.fallback; only an armed alert has a due time to move).
    armed = notification.fallback_due_at is not None
    if armed and state == D.DELIVERED:
        update["fallback_due_at"] = None
    elif armed and state in (D.UNDELIVERED, D.FAILED):
        update["fallback_due_at"] = Case(
            When(fallback_due_at__isnull=False, then=Value(now)), default=None
        )
    moved = (
        Notification.objects.filter(pk=notification.pk)
        .filter(Q(delivery_state="") | Q(delivery_state__in=behind))
        .update(**update)
    )
    if not moved:
        return "ignored"
    board_changed(notification.signout.school_id)  # issue 15: the board counts deliveries
    audit_event_create(
        actor=None,
        school=notification.signout.school,
        obj=notification,
        event_type="notification.delivery",
        changes={"provider": provider, "state": state, "error_code": update["provider_error_code"]},
    )
    return "applied"


def _receipt_audit(*, provider: str, provider_ref: str, why: str) -> None:
    """A receipt that matched nothing: worth knowing about, never its body."""
    logger.warning("%s receipt for %r ignored: %s", provider, provider_ref, why)
    AuditEvent.objects.create(
        actor=None,
        school=None,
        object_type="tracking.receipt",
        object_id=provider_ref[:40] or "-",
        event_type="notification.receipt_ignored",
        changes={"provider": provider, "why": why},
    )
