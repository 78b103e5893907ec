"""Checking in by replying to a text (R-TRK-5; docs/escalation.md "Replying by text").

A visitor with no data signal can answer any text from Homeward with a word: SAFE or OK (left
the visit safely), BACK (back at school), HOME (going straight home), HELP (R-ESC-7), or a
number of minutes ("20", "+20", "20 mins") for more time, up to the school's maximum. Case,
spaces and punctuation do not matter; anything else is answered with the list of words.

The providers post each text to a webhook (tracking.hooks); `sms_reply_receive` does the rest in
one transaction:

- one SmsReply row per provider message id, created first: a provider posting the same message
  twice finds the row, and the second post changes nothing (exactly once);
- the sender's mobile, in E.164, is matched to the visitor of an open sign-out; two open
  sign-outs for one mobile are refused and each school's office is told, never guessed;
- the word calls the same services as the board and the phone page (tracking.signouts), so a
  reply racing the manager step is decided by the database;
- every reply is answered by SMS through the outbox (one row per reply, so idempotent), and
  audited; the text itself is never stored. A number Homeward does not know changes nothing, is
  audited without its text or its number, and is not answered (Homeward is no free SMS relay).
"""

import datetime
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from audit.services import audit_event_create
from schools.services import board_changes_at_end
from schools.validators import normalise_uk_phone

from . import messages as ladder_messages
from .common import TrackingBlocked, TrackingConflict
from .ladder import checkin_due_for, ladder_minute
from .models import Notification, SignOut, SignOutVisitor, SmsReply, TrackingEvent
from .outbox import Enqueue, _after_commit
from .pins import Verdict, pin_required, pin_verify
from .signouts import (
    signout_check_in,
    signout_extend,
    signout_help_request,
    signout_phone_in,
    signout_return,
)

# The longest text read at all: a provider concatenates long messages; nobody types a reply
# word in more than a few characters, so anything longer is "not understood" without parsing.
LONGEST_TEXT = 160

WORDS = {
    "SAFE": SmsReply.Word.SAFE,
    "OK": SmsReply.Word.SAFE,
    "OKAY": SmsReply.Word.SAFE,
    "BACK": SmsReply.Word.BACK,
    "HOME": SmsReply.Word.HOME,
    "HELP": SmsReply.Word.HELP,
    "FINE": SmsReply.Word.FINE,  # R-TRK-6: a check-in during a long visit
}
_MINUTES = re.compile(r"^\+?(\d{1,4})(M|MIN|MINS|MINUTE|MINUTES)?$")
_WORD_AND_PIN = re.compile(r"^([A-Z]+)(\d{4,6})$")


@dataclass(frozen=True)
class ReadReply:
    """What a text says: the word, the minutes of a MORE_TIME, and a PIN typed after a word."""

    word: str
    minutes: int | None = None
    pin: str = ""


def reply_read(text: str) -> ReadReply:
    """Read a visitor's text. Case, spaces and punctuation are forgiven: "Safe!", " ok. ",
    "+20 mins", "20mins" all read; "SAFE 4821" is SAFE with a PIN."""
    if len(text) > LONGEST_TEXT:
        return ReadReply(SmsReply.Word.NOT_UNDERSTOOD)
    squeezed = re.sub(r"[^A-Z0-9+]", "", text.upper())
    if squeezed.replace("+", "") in WORDS:
        return ReadReply(WORDS[squeezed.replace("+", "")])
    minutes = _MINUTES.match(squeezed)
    if minutes:
        return ReadReply(SmsReply.Word.MORE_TIME, minutes=int(minutes.group(1)))
    with_pin = _WORD_AND_PIN.match(squeezed.replace("+", ""))
    if with_pin and with_pin.group(1) in WORDS:
        return ReadReply(WORDS[with_pin.group(1)], pin=with_pin.group(2))
    return ReadReply(SmsReply.Word.NOT_UNDERSTOOD)


def sender_number(raw: str) -> str:
    """The sender in E.164, or "" when it is not a UK number. Notify sends 447700900123, Twilio
    +447700900123."""
    raw = (raw or "").strip()[:32]
    if raw.isdigit() and raw.startswith("44"):
        raw = "+" + raw
    try:
        return normalise_uk_phone(raw)
    except ValidationError:
        return ""


@dataclass
class ReplyResult:
    reply: SmsReply
    replayed: bool = False


def sms_reply_receive(
    *,
    provider: str,
    provider_message_id: str,
    sender: str,
    text: str,
    enqueue: Enqueue | None = None,
) -> ReplyResult:
    """Act on one text from a provider's webhook, exactly once per provider message id."""
    now = timezone.now()
    read = reply_read(text)
    mobile = sender_number(sender)
    with transaction.atomic(), board_changes_at_end():
        try:
            with transaction.atomic():
                reply = SmsReply.objects.create(
                    provider=provider,
                    provider_message_id=provider_message_id,
                    received_at=now,
                    word=read.word,
                    minutes=read.minutes,
                    outcome=SmsReply.Outcome.NOT_UNDERSTOOD,
                )
        except IntegrityError:
            # The provider sent this message before: it was acted on then.
            reply = SmsReply.objects.get(provider=provider, provider_message_id=provider_message_id)
            return ReplyResult(reply=reply, replayed=True)
        visitors = (
            list(
                SignOutVisitor.objects.filter(
                    mobile=mobile, signout__state__in=SignOut.OPEN_STATES
                ).select_related("signout__school", "user")
            )
            if mobile
            else []
        )
        if not visitors:
            _no_open_signout(reply, mobile=mobile, now=now, enqueue=enqueue)
        elif len({v.signout_id for v in visitors}) > 1:
            _ambiguous(reply, visitors=visitors, now=now, enqueue=enqueue)
        else:
            _apply(reply, visitor=visitors[0], read=read, now=now, enqueue=enqueue)
    return ReplyResult(reply=reply)


def _apply(reply: SmsReply, *, visitor: SignOutVisitor, read: ReadReply, now, enqueue) -> None:
    signout = visitor.signout
    school = signout.school  # read before acting: a service refreshes the sign-out in place
    reply.signout, reply.visitor = signout, visitor
    outcome, answer = _act(signout=signout, visitor=visitor, read=read, now=now, enqueue=enqueue)
    reply.outcome = outcome
    reply.save(update_fields=["signout", "visitor", "outcome"])
    audit_event_create(
        actor=None,
        school=school,
        obj=reply,
        event_type="sms_reply.received",
        changes={
            "provider": reply.provider,
            "signout": signout.pk,
            "visitor": visitor.user_id,
            "word": read.word,
            "minutes": read.minutes,
            "outcome": outcome,
        },
    )
    _answer(
        reply,
        signout=signout,
        school=school,
        visitor=visitor,
        body=answer,
        now=now,
        enqueue=enqueue,
    )


def _act(*, signout: SignOut, visitor: SignOutVisitor, read: ReadReply, now, enqueue):
    """Call the sign-out service the word stands for. Returns (outcome, the answer's text)."""
    user, via = visitor.user, TrackingEvent.Via.SMS
    word = read.word
    if word == SmsReply.Word.NOT_UNDERSTOOD:
        return SmsReply.Outcome.NOT_UNDERSTOOD, "Sorry, that reply was not understood."
    duress = False
    if word in PIN_WORDS and pin_required(user):
        # R-TRK-7: "SAFE 4821". The duress PIN gets exactly the answer the check-in PIN would.
        verdict = pin_verify(
            user=user,
            pin=read.pin,
            signout=signout,
            action=PIN_WORDS[word],
            via=via,
            enqueue=enqueue,
        )
        if verdict in PIN_REFUSED:
            return SmsReply.Outcome.REFUSED, PIN_REFUSED[verdict].format(word=word.upper())
        duress = verdict == Verdict.DURESS
    if duress:
        return SmsReply.Outcome.APPLIED, _answer_as_if_done(signout, word=word, now=now)
    try:
        if word == SmsReply.Word.SAFE:
            signout_phone_in(actor=None, signout=signout, via=via, visitor=user)
            answer = DONE_ANSWERS[word]
        elif word == SmsReply.Word.BACK:
            signout_return(actor=None, signout=signout, went_home=False, via=via, visitor=user)
            answer = DONE_ANSWERS[word]
        elif word == SmsReply.Word.HOME:
            signout_return(actor=None, signout=signout, went_home=True, via=via, visitor=user)
            answer = DONE_ANSWERS[word]
        elif word == SmsReply.Word.FINE:
            signout = signout_check_in(actor=None, signout=signout, via=via, visitor=user)
            answer = _checked_in_answer(signout.checkin_due_at)
        elif word == SmsReply.Word.HELP:
            signout_help_request(
                actor=None, signout=signout, via=via, visitor=user, enqueue=enqueue
            )
            answer = (
                "Help is being raised: your manager and the school office have been alerted. "
                "In danger? Call 999."
            )
        else:
            return _extend(signout=signout, user=user, minutes=read.minutes or 0, now=now)
    except TrackingConflict:
        return SmsReply.Outcome.CLOSED, _closed_answer(signout)
    return SmsReply.Outcome.APPLIED, answer


DONE_ANSWERS = {
    SmsReply.Word.SAFE: "Thank you: you have left the visit safely. Let the office know when back.",
    SmsReply.Word.BACK: "Thank you: you are signed back in at school. Tracking has stopped.",
    SmsReply.Word.HOME: "Thank you: you are going straight home. Tracking has stopped.",
}

# R-TRK-7: the words that say "I'm OK" need the PIN once one is set; each as a phone action.
PIN_WORDS = {
    SmsReply.Word.SAFE: "phone_in",
    SmsReply.Word.BACK: "returned",
    SmsReply.Word.HOME: "going_home",
    SmsReply.Word.FINE: "check_in",
}
PIN_REFUSED = {
    Verdict.MISSING: "Add your check-in PIN after the word, like {word} and then your PIN. "
    "Nothing was changed.",
    Verdict.WRONG: "That PIN is not right: nothing was changed.",
    Verdict.LOCKED: "Too many tries: wait 10 minutes, or call the office.",
}


def _checked_in_answer(next_due) -> str:
    return "Thank you: checked in." + (
        f" Next check-in by {ladder_messages.local_time(next_due)}." if next_due else ""
    )


def _answer_as_if_done(signout: SignOut, *, word: str, now) -> str:
    """R-TRK-7: the duress PIN's answer, word for word the one the check-in PIN gets."""
    if word == SmsReply.Word.FINE:
        return _checked_in_answer(checkin_due_for(signout, now=now))
    return DONE_ANSWERS[word]


def _extend(*, signout: SignOut, user, minutes: int, now):
    most = signout.school.reply_extension_max_minutes
    if minutes < 1:
        return SmsReply.Outcome.REFUSED, "Send the minutes you need, like 20."
    if minutes > most:
        return (
            SmsReply.Outcome.REFUSED,
            f"You can add up to {most} minutes by text. For longer, call the office.",
        )
    start = max(now, signout.expected_return_at)
    new_time = start + minutes * ladder_minute()
    try:
        signout_extend(
            actor=None,
            signout=signout,
            new_expected_return_at=new_time,
            reason=f"{minutes} more minutes, by text",
            via=TrackingEvent.Via.SMS,
            visitor=user,
        )
    except TrackingBlocked as error:
        return SmsReply.Outcome.REFUSED, " ".join(error.messages)
    except TrackingConflict:
        return SmsReply.Outcome.CLOSED, _closed_answer(signout)
    return (
        SmsReply.Outcome.APPLIED,
        f"Thank you: you are now due back at {ladder_messages.local_time(new_time)}.",
    )


def _closed_answer(signout: SignOut) -> str:
    return "Tracking of your visit is already closed: nothing was changed."


def _no_open_signout(reply: SmsReply, *, mobile: str, now, enqueue) -> None:
    """Nobody out with this mobile: nothing changes; the text is not stored. A visitor Homeward
    knows (an earlier sign-out) is told; a stranger's number is not even kept."""
    last = (
        SignOutVisitor.objects.filter(mobile=mobile)
        .select_related("signout__school", "user")
        .order_by("-signout__signed_out_at", "-pk")
        .first()
        if mobile
        else None
    )
    if last is None:
        reply.outcome = SmsReply.Outcome.UNKNOWN_NUMBER
        reply.save(update_fields=["outcome"])
        audit_event_create(
            actor=None,
            school=None,
            obj=reply,
            event_type="sms_reply.unknown_number",
            changes={"provider": reply.provider},
        )
        return
    reply.outcome = SmsReply.Outcome.NO_OPEN_SIGNOUT
    reply.visitor = last
    reply.save(update_fields=["outcome", "visitor"])
    audit_event_create(
        actor=None,
        school=last.signout.school,
        obj=reply,
        event_type="sms_reply.no_open_signout",
        changes={"provider": reply.provider, "visitor": last.user_id},
    )
    _answer(
        reply,
        signout=last.signout,
        school=last.signout.school,
        visitor=last,
        body="You have no visit open in Homeward: nothing was changed. Questions? Call the office.",
        now=now,
        enqueue=enqueue,
    )


def _ambiguous(reply: SmsReply, *, visitors: list[SignOutVisitor], now, enqueue) -> None:
    """Two sign-outs open for one mobile (should never happen): refuse, tell each office."""
    reply.outcome = SmsReply.Outcome.AMBIGUOUS
    reply.save(update_fields=["outcome"])
    first = visitors[0]
    created = []
    for visitor in visitors:
        signout = visitor.signout
        audit_event_create(
            actor=None,
            school=signout.school,
            obj=reply,
            event_type="sms_reply.ambiguous",
            changes={
                "provider": reply.provider,
                "signouts": sorted(v.signout_id for v in visitors),
                "visitor": visitor.user_id,
            },
        )
        body = (
            f"Homeward: {visitor.user} replied to a text, but has {len(visitors)} visits open "
            "at once. Nothing was changed: call them, and check the board. "
            + settings.SITE_URL
            + reverse("tracking:board")
        )
        for recipient in ladder_messages.monitor_phones(signout):
            created += _outbox(
                reply, signout=signout, recipient=recipient, body=body, kind="office", now=now
            )
    created += _outbox(
        reply,
        signout=first.signout,
        recipient=ladder_messages.Recipient(
            label=str(first.user), address=first.mobile, user=first.user
        ),
        body=_visitor_body(
            "You have more than one visit open, so nothing was changed. "
            "The office has been told: call them.",
            school=first.signout.school,
        ),
        kind="visitor",
        now=now,
    )
    _after_commit(created, enqueue)


def _visitor_body(text: str, *, school) -> str:
    """R-TRK-5: every text to a visitor ends with the reply words (FINE too where the school
    asks for check-ins during long visits, R-TRK-6)."""
    return f"Homeward: {text} {ladder_messages.reply_words_for(school)}"


def _answer(reply, *, signout, school, visitor: SignOutVisitor, body: str, now, enqueue) -> None:
    """The answer to the visitor. Its outbox key is the reply row's, which this transaction
    created: no row can hold the key yet, so it is inserted without looking first."""
    notification = Notification.objects.create(
        **_outbox_fields(
            reply,
            signout=signout,
            recipient=ladder_messages.Recipient(
                label=str(visitor.user), address=visitor.mobile, user=visitor.user
            ),
            body=_visitor_body(body, school=school),
            kind="visitor",
            now=now,
        )
    )
    _after_commit([notification.pk], enqueue)


def _outbox(reply, *, signout, recipient, body: str, kind: str, now) -> list[int]:
    """One outbox row, keyed by the reply's row: a replayed message never answers twice, and
    one office phone told about two sign-outs is told once."""
    fields = _outbox_fields(
        reply, signout=signout, recipient=recipient, body=body, kind=kind, now=now
    )
    notification, created = Notification.objects.get_or_create(
        idempotency_key=fields.pop("idempotency_key"), defaults=fields
    )
    return [notification.pk] if created else []


def _outbox_fields(reply, *, signout, recipient, body: str, kind: str, now) -> dict:
    return {
        "idempotency_key": f"smsreply:{reply.pk}:{kind}:sms:{recipient.address}",
        "signout": signout,
        "channel": Notification.Channel.SMS,
        "template": f"reply_{kind}",
        "recipient": recipient.user,
        "recipient_label": recipient.label[:150],
        "address": recipient.address,
        "body": body,
        "supersedable": False,
        "due_at": now,
        "created_at": now,
        "retry_at": now + datetime.timedelta(seconds=settings.NOTIFICATION_REQUEUE_AFTER_SECONDS),
    }
