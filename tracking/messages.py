"""Who is told what at each step of the ladder, rendered once, when the step fires.

The rendered text is stored on the Notification, so what was sent is on the record and a resend
sends the same words. No child's name, date of birth or address in any email or SMS: staff
names, times and a link only (the emergency page behind the link holds the rest, for people
who may see it).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from core.emails import email_render
from schools.models import Role, User

from .models import Notification, SignOut


@dataclass(frozen=True)
class Recipient:
    label: str
    address: str
    user: User | None = None

    @property
    def key(self) -> str:
        """Who, for their acknowledgement link: the person, else the address."""
        return f"user:{self.user.pk}" if self.user is not None else self.address


# R-ESC-8: makes (once per person per round) the one-tap acknowledgement link for a recipient.
AckUrl = Callable[[Recipient], str]


def _with_ack(context: dict, recipient: Recipient, ack_url: AckUrl | None) -> dict:
    return {**context, "ack_url": ack_url(recipient)} if ack_url is not None else context


@dataclass(frozen=True)
class Message:
    channel: str
    template: str
    recipient: Recipient
    subject: str
    body: str
    html_body: str = ""


# R-TRK-5: every text to a visitor ends with the words they can reply with (tracking.replies).
REPLY_WORDS = "Reply SAFE, BACK, HOME, HELP, or minutes for more time (e.g. 20)."
# R-TRK-6: at a school that asks for check-ins during long visits, FINE is one of them.
REPLY_WORDS_WITH_CHECKINS = (
    "Reply SAFE, BACK, HOME, FINE (still on the visit, all well), HELP, "
    "or minutes for more time (e.g. 20)."
)


def reply_words_for(school) -> str:
    """The reply words a visitor from `school` can send (R-TRK-5, R-TRK-6)."""
    return REPLY_WORDS_WITH_CHECKINS if school.checkin_interval_minutes else REPLY_WORDS


def local_time(value) -> str:
    return date_format(timezone.localtime(value), "H:i")


def local_datetime(value) -> str:
    return date_format(timezone.localtime(value), "d/m/Y H:i")


def _active_members(school_id: int, role: str):
    return (
        User.objects.filter(
            memberships__school_id=school_id, memberships__role=role, is_active=True
        )
        .select_related("profile")
        .distinct()
        .order_by("pk")
    )


def managers_for(signout: SignOut) -> list[User]:
    """R-ESC-3: the visit's out-of-hours manager for an out-of-hours visit, else the school's
    designated manager, else the Headteacher (and, at a school with none, its DSLs).

    A manager with neither an email address nor a mobile on file cannot be alerted: the ladder
    goes on down the list rather than tell nobody."""
    visit, school = signout.visit, signout.school
    chain = []
    if visit.out_of_hours and visit.out_of_hours_manager_id:
        chain.append(lambda: [visit.out_of_hours_manager])
    if school.designated_manager_id:
        chain.append(lambda: [school.designated_manager])
    chain.append(lambda: list(_active_members(school.pk, Role.HEAD)))
    chain.append(lambda: list(_active_members(school.pk, Role.DSL)))
    first = []
    for candidates in chain:
        active = [user for user in candidates() if user.is_active]
        reachable = [user for user in active if user.email or _mobile(user)]
        if reachable:
            return reachable
        first = first or active
    return first


def _mobile(user: User) -> str:
    profile = getattr(user, "profile", None)
    return profile.work_mobile if profile is not None else ""


def office_emails(signout: SignOut) -> list[Recipient]:
    school = signout.school
    if school.office_email:
        return [Recipient(label=f"{school.name} office", address=school.office_email)]
    return [
        Recipient(label=f"{user} (office)", address=user.email, user=user)
        for user in _active_members(school.pk, Role.OFFICE)
        if user.email
    ]


def monitor_phones(signout: SignOut) -> list[Recipient]:
    """R-ESC-1: the school's designated monitor's phone, else the office staff's mobiles."""
    school = signout.school
    if school.monitor_phone:
        return [Recipient(label="the designated monitor", address=school.monitor_phone)]
    return [
        Recipient(label=f"{user} (office)", address=_mobile(user), user=user)
        for user in _active_members(school.pk, Role.OFFICE)
        if _mobile(user)
    ]


def _context(signout: SignOut) -> dict:
    visitors = [v.user for v in signout.visitors.all()]
    names = [str(user) for user in visitors]
    return {
        "signout": signout,
        "school_name": signout.school.name,
        "visitor_names": " and ".join(names) if len(names) < 3 else ", ".join(names),
        "expected_back": local_time(signout.expected_return_at),
        "expected_back_full": local_datetime(signout.expected_return_at),
        "signed_out_at": local_datetime(signout.signed_out_at),
        "site_url": settings.SITE_URL,
        "board_url": settings.SITE_URL + reverse("tracking:board"),
        "emergency_url": settings.SITE_URL + reverse("tracking:emergency", args=[signout.pk]),
        "monitor_phone": _display_phone(signout.school.monitor_phone),
        "reply_words": reply_words_for(signout.school),
        # R-TRK-6: a round started by a missed check-in says so instead of "due back".
        "missed_checkin_at": local_time(signout.ladder_from_at) if signout.ladder_from_at else "",
    }


def _display_phone(number: str) -> str:
    from schools.validators import format_uk_phone

    return format_uk_phone(number) if number else ""


def _sms(template: str, recipient: Recipient, context: dict) -> Message:
    body = render_to_string(f"sms/{template}.txt", context).strip()
    return Message(
        channel=Notification.Channel.SMS,
        template=template,
        recipient=recipient,
        subject="",
        body=body,
    )


def _email(template: str, recipient: Recipient, context: dict) -> Message:
    subject, body, html = email_render(template, context)
    return Message(
        channel=Notification.Channel.EMAIL,
        template=template,
        recipient=recipient,
        subject=subject,
        body=body,
        html_body=html or "",
    )


def overdue_messages(
    signout: SignOut, *, checkin_urls: dict[int, str], ack_url: AckUrl | None = None
) -> list[Message]:
    """R-ESC-1: the office by email and SMS to the monitor; each visitor an SMS asking them to
    call in, with their own one-time check-in link (`checkin_urls` by SignOutVisitor id). The
    office and the monitor get the one-tap acknowledgement link (R-ESC-8)."""
    context = _context(signout)
    messages = [
        _email("escalation_overdue", r, _with_ack(context, r, ack_url))
        for r in office_emails(signout)
    ]
    messages += [
        _sms("overdue_office", r, _with_ack(context, r, ack_url)) for r in monitor_phones(signout)
    ]
    for visitor in signout.visitors.all():
        recipient = Recipient(label=str(visitor.user), address=visitor.mobile, user=visitor.user)
        visitor_context = {**context, "checkin_url": checkin_urls[visitor.pk]}
        messages.append(_sms("overdue_visitor", recipient, visitor_context))
    return messages


def retry_messages(
    signout: SignOut, *, call_number: int, final: bool, ack_url: AckUrl | None = None
) -> list[Message]:
    """R-ESC-2: the office is prompted to call again."""
    context = {
        **_context(signout),
        "call_number": call_number,
        "calls": signout.retries + 1,
        "final": final,
    }
    return [
        _sms("retry_office", r, _with_ack(context, r, ack_url)) for r in monitor_phones(signout)
    ]


def _person_messages(
    users, *, role: str, email: str, sms: str, context: dict, ack_url: AckUrl | None
) -> list[Message]:
    """An email and an SMS to each person, with their own acknowledgement link (R-ESC-8)."""
    messages = []
    for user in users:
        label = f"{user} ({role})"
        if user.email:
            recipient = Recipient(label=label, address=user.email, user=user)
            messages.append(_email(email, recipient, _with_ack(context, recipient, ack_url)))
        if _mobile(user):
            recipient = Recipient(label=label, address=_mobile(user), user=user)
            messages.append(_sms(sms, recipient, _with_ack(context, recipient, ack_url)))
    return messages


def manager_messages(
    signout: SignOut, *, reason: str, ack_url: AckUrl | None = None
) -> list[Message]:
    """R-ESC-3: the manager, by email and SMS, with the link to the emergency page."""
    context = {**_context(signout), "reason": reason}
    return _person_messages(
        managers_for(signout),
        role="manager",
        email="escalation_manager",
        sms="manager",
        context=context,
        ack_url=ack_url,
    )


def chain_messages(signout: SignOut, *, users, ack_url: AckUrl | None = None) -> list[Message]:
    """R-ESC-9: nobody acknowledged in time: the next person in the school's chain."""
    context = {**_context(signout), "alerted_at": local_time(signout.manager_alerted_at)}
    return _person_messages(
        [user for user in users if user.is_active],
        role="escalation chain",
        email="escalation_chain",
        sms="chain",
        context=context,
        ack_url=ack_url,
    )


def everyone(signout: SignOut) -> list[User]:
    """R-ESC-9: the chain used up: every DSL and the Headteacher, together."""
    users = {}
    for role in (Role.DSL, Role.HEAD):
        for user in _active_members(signout.school_id, role):
            users.setdefault(user.pk, user)
    return list(users.values())


def everyone_messages(
    signout: SignOut, *, reminder: bool, ack_url: AckUrl | None = None
) -> list[Message]:
    """R-ESC-9: every DSL and the Headteacher, then reminded until somebody acknowledges."""
    context = {
        **_context(signout),
        "alerted_at": local_time(signout.manager_alerted_at),
        "reminder": reminder,
    }
    return _person_messages(
        everyone(signout),
        role="DSL or Headteacher",
        email="escalation_chain",
        sms="chain",
        context=context,
        ack_url=ack_url,
    )


def help_messages(
    signout: SignOut,
    *,
    asked_by: str,
    from_office: bool,
    ack_url: AckUrl | None = None,
    duress: str = "",
) -> list[Message]:
    """R-ESC-7: the manager and the office, at once. `from_office`: the office raised it on the
    visitors' behalf (they phoned, or the office fears for them). R-TRK-7: `duress` is
    "duress" (the duress PIN) or "wrong_pins" (three wrong PINs): do not ring their phone."""
    context = {
        **_context(signout),
        "asked_by": asked_by,
        "from_office": from_office,
        "duress": duress == "duress",
        "wrong_pins": duress == "wrong_pins",
    }
    messages = _person_messages(
        managers_for(signout),
        role="manager",
        email="escalation_help",
        sms="help",
        context=context,
        ack_url=ack_url,
    )
    messages += [
        _email("escalation_help", r, _with_ack(context, r, ack_url)) for r in office_emails(signout)
    ]
    messages += [_sms("help", r, _with_ack(context, r, ack_url)) for r in monitor_phones(signout)]
    return messages


def notice_messages(
    signout: SignOut, *, template: str, recipients: list[tuple[str, Recipient]], context: dict
) -> list[Message]:
    """A notice to people already alerted, each on the channel that alerted them:
    `recipients` is (channel, recipient) pairs. `template` names sms/<t>.txt and
    emails/escalation_<t>-*."""
    context = {**_context(signout), **context}
    messages = []
    for channel, recipient in recipients:
        if channel == Notification.Channel.EMAIL:
            messages.append(_email(f"escalation_{template}", recipient, context))
        else:
            messages.append(_sms(template, recipient, context))
    return messages
