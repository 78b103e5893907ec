"""Acknowledging an alert (R-ESC-8) and standing down (R-ESC-10).

Acknowledging: every alert to a manager, a chain member or the monitor carries a one-tap link
(`AckUrlMaker`, one `AckLink` per person per round, its id signed and timestamped in
tracking.tokens). The first acknowledgement of a round owns the case: a conditional update on
`SignOut.acknowledged_at` decides, the `Acknowledgement` row (unique per round) is the second
guard, and it stops the escalation chain (R-ESC-9) when the ladder is past the manager. Everyone
else alerted that round is told who owns it, each on the channel that alerted them, under
idempotency keys. Acknowledging is not resolving: the outcome is still needed (R-ESC-4).

Standing down: a return, a phone-in, "left safely" or "found" after anyone was alerted tells
everyone who was alerted, on the channels that alerted them, at once and exactly once per round
(`signout:<id>:round:<r>:standdown:<channel>:<address>`).
"""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, When
from django.urls import reverse
from django.utils import timezone

from audit.services import audit_event_create
from schools.models import User
from schools.services import board_changed, board_changes_at_end

from . import messages as ladder_messages
from .models import AckLink, Acknowledgement, EscalationStep, Notification, SignOut
from .outbox import Enqueue, _after_commit, _notifications_create
from .tokens import ack_lifetime, ack_token_make

logger = logging.getLogger(__name__)

# The messages that alerted somebody (visitors' own prompts and earlier notices are not).
ALERT_TEMPLATES = (
    "escalation_overdue",
    "overdue_office",
    "retry_office",
    "escalation_manager",
    "manager",
    "escalation_help",
    "help",
    "escalation_chain",
    "chain",
    "voice_alert",
    "escalation_fallback",
)


class AckRefused(Exception):
    """The link cannot acknowledge: the message says why, in plain words."""


class AckUrlMaker:
    """Makes each recipient's acknowledgement link once per round (R-ESC-8)."""

    def __init__(self, signout: SignOut, *, now: datetime.datetime):
        self.signout, self.now, self.urls = signout, now, {}

    def __call__(self, recipient: ladder_messages.Recipient) -> str:
        key = recipient.key[:270]
        if key not in self.urls:
            link, _ = AckLink.objects.get_or_create(
                signout=self.signout,
                ladder_round=self.signout.ladder_round,
                recipient_key=key,
                defaults={
                    "user": recipient.user,
                    "label": recipient.label[:150],
                    "created_at": self.now,
                    "expires_at": self.now + ack_lifetime(),
                },
            )
            path = reverse("tracking:acknowledge", args=[ack_token_make(link.pk)])
            self.urls[key] = settings.SITE_URL + path
        return self.urls[key]


def _acknowledgeable() -> Q:
    """A round may be acknowledged once somebody was alerted in it."""
    return Q(escalation_stage__gte=1) | Q(help_requested_at__isnull=False)


@transaction.atomic
@board_changes_at_end()
def signout_acknowledge(
    *,
    signout: SignOut,
    ladder_round: int,
    user: User | None,
    label: str,
    via: str,
    enqueue: Enqueue | None = None,
    detail: dict | None = None,
) -> tuple[Acknowledgement | None, bool]:
    """R-ESC-8: "I am dealing with it". Returns (the round's acknowledgement, whether this call
    made it). The first one owns the case and stops the chain (R-ESC-9); the others alerted are
    told who owns it. A later one changes nothing."""
    now = timezone.now()
    past_manager = Q(escalation_stage__gte=F("retries") + 2)
    moved = (
        SignOut.objects.filter(
            pk=signout.pk, ladder_round=ladder_round, acknowledged_at__isnull=True
        )
        .filter(_acknowledgeable())
        .update(
            acknowledged_at=now,
            acknowledged_label=label[:150],
            # The chain stops; before the manager step the ladder goes on (the manager is
            # still told, R-ESC-3), and stops after it.
            next_escalation_at=Case(When(past_manager, then=None), default=F("next_escalation_at")),
        )
    )
    existing = Acknowledgement.objects.filter(signout=signout, ladder_round=ladder_round).first()
    if not moved:
        return existing, False
    board_changed(signout.school_id)  # issue 15: the board's version, in this transaction
    ack = Acknowledgement.objects.create(
        signout=signout,
        ladder_round=ladder_round,
        user=user,
        label=label[:150],
        via=via,
        acknowledged_at=now,
    )
    audit_event_create(
        actor=user,
        school=signout.school,
        obj=signout,
        event_type="escalation.acknowledged",
        changes={"round": ladder_round, "by": label[:150], "via": via, **(detail or {})},
    )
    fresh = SignOut.objects.select_related("school", "visit").get(pk=signout.pk)
    recipients = _alerted(fresh, rounds=[ladder_round], exclude_user=user, exclude_label=label)
    batch = ladder_messages.notice_messages(
        fresh,
        template="acknowledged",
        recipients=recipients,
        context={"owner": label, "acknowledged_at": ladder_messages.local_time(now)},
    )
    created = _notifications_create(
        fresh,
        None,
        batch,
        key=f"signout:{signout.pk}:round:{ladder_round}:ack",
        supersedable=False,
        now=now,
        once=True,
    )
    _after_commit(created, enqueue)
    return ack, True


def _alerted(
    signout: SignOut, *, rounds=None, exclude_user=None, exclude_label: str = ""
) -> list[tuple[str, ladder_messages.Recipient]]:
    """Everyone an alert went (or is going) to, once per channel and address. A voice call's
    person is told by SMS (a notice is not worth a phone call)."""
    rows = Notification.objects.filter(signout=signout, template__in=ALERT_TEMPLATES).exclude(
        status=Notification.Status.CANCELLED
    )
    if rounds is not None:
        rows = rows.filter(
            Q(step__ladder_round__in=rounds) | Q(step__kind=EscalationStep.Kind.HELP)
        )
    seen, out = set(), []
    for row in rows.select_related("recipient").order_by("pk"):
        if exclude_user is not None and row.recipient_id == exclude_user.pk:
            continue
        if exclude_user is None and exclude_label and row.recipient_label == exclude_label:
            continue
        channel = Notification.Channel.SMS if row.channel == "voice" else row.channel
        if (channel, row.address) in seen:
            continue
        seen.add((channel, row.address))
        recipient = ladder_messages.Recipient(
            label=row.recipient_label, address=row.address, user=row.recipient
        )
        out.append((channel, recipient))
    return out


def ack_link_use(*, link: AckLink, client_ip: str = "") -> tuple[Acknowledgement | None, bool]:
    """The one-tap link, used once within its lifetime (R-ESC-8). Returns (the round's
    acknowledgement, whether this tap made it). A link already used or expired is refused and
    audited; a link of a round somebody else acknowledged says who owns it."""
    now = timezone.now()
    with transaction.atomic():
        used = AckLink.objects.filter(pk=link.pk, used_at__isnull=True, expires_at__gt=now).update(
            used_at=now
        )
        signout = SignOut.objects.select_related("school").get(pk=link.signout_id)
        if used and signout.ladder_round == link.ladder_round:
            ack, won = signout_acknowledge(
                signout=signout,
                ladder_round=link.ladder_round,
                user=link.user,
                label=link.label,
                via=Acknowledgement.Via.LINK,
                detail={"ip": client_ip},
            )
            if not won:
                ack_refusal_audit(
                    link=link, why="was used after somebody else acknowledged", client_ip=client_ip
                )
            return ack, won
        if used:
            ack_refusal_audit(link=link, why="is for an earlier alert", client_ip=client_ip)
            refused = "This alert was replaced by a newer one: use the link in the newest."
        else:
            link.refresh_from_db()
            why = "has already been used" if link.used_at else "has expired"
            ack_refusal_audit(link=link, why=why, client_ip=client_ip)
            refused = f"This link {why}."
    raise AckRefused(refused)


def ack_refusal_audit(*, link: AckLink, why: str, client_ip: str = "") -> None:
    audit_event_create(
        actor=None,
        school=link.signout.school,
        obj=link.signout,
        event_type="escalation.ack_refused",
        changes={"why": why, "link": link.pk, "ip": client_ip},
    )


# ---------------------------------------------------------------------------------------------
# Standing down (R-ESC-10)
# ---------------------------------------------------------------------------------------------

SAFE_WORDS = {
    "phoned_in": "have left the visit safely",
    "checked_in_safe": "checked in: they are safe",
    "checked_in": "checked in: they are safe and still on the visit",  # R-TRK-6
    "returned": "are back at school",
    "went_home": "are going straight home",
    "found": "have been found",
}


def signout_stand_down(
    *, signout: SignOut, what: str, recorded_by: str, enqueue: Enqueue | None = None
) -> int:
    """R-ESC-10: the visitors are safe. If anyone was alerted, tell each of them, on the
    channel that alerted them, once per round: who is safe, who recorded it, when. Called in
    the transaction of the return, phone-in or outcome that made them safe. Returns how many
    messages it created (0 when nobody was alerted, or they were told already)."""
    now = timezone.now()
    recipients = _alerted(signout)
    if not recipients:
        return 0  # nobody was alerted: the everyday return costs one query here
    fresh = SignOut.objects.select_related("school", "visit").get(pk=signout.pk)
    batch = ladder_messages.notice_messages(
        fresh,
        template="standdown",
        recipients=recipients,
        context={
            "safe_text": SAFE_WORDS.get(what, "are safe"),
            "recorded_by": recorded_by,
            "safe_at": ladder_messages.local_time(now),
            "case_open": fresh.case_open,
        },
    )
    created = _notifications_create(
        fresh,
        None,
        batch,
        key=f"signout:{fresh.pk}:round:{fresh.ladder_round}:standdown",
        supersedable=False,
        now=now,
        once=True,
    )
    if created:
        SignOut.objects.filter(pk=fresh.pk).update(stood_down_at=now)
        board_changed(fresh.school_id)  # issue 15: the board's version, in this transaction
        audit_event_create(
            actor=None,
            school=fresh.school,
            obj=fresh,
            event_type="escalation.stood_down",
            changes={"what": what, "recorded_by": recorded_by, "messages": len(created)},
        )
    _after_commit(created, enqueue)
    return len(created)
