"""Who is told what at each step of the ladder, rendered once, when the step fires.

The rendered text is stored on the Notification, so what was sent is on the record and a resend
sends the same words. No child's name, date of birth or address in any email or SMS: staff
names, times and a link only (the emergency page behind the link holds the rest, for people
who may see it).
"""

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
        "reply_words": REPLY_WORDS,
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


def overdue_messages(signout: SignOut, *, checkin_urls: dict[int, str]) -> list[Message]:
    """R-ESC-1: the office by email and SMS to the monitor; each visitor an SMS asking them to
    call in, with their own one-time check-in link (`checkin_urls` by SignOutVisitor id)."""
    context = _context(signout)
    messages = [_email("escalation_overdue", r, context) for r in office_emails(signout)]
    messages += [_sms("overdue_office", r, context) for r in monitor_phones(signout)]
    for visitor in signout.visitors.all():
        recipient = Recipient(label=str(visitor.user), address=visitor.mobile, user=visitor.user)
        visitor_context = {**context, "checkin_url": checkin_urls[visitor.pk]}
        messages.append(_sms("overdue_visitor", recipient, visitor_context))
    return messages


def retry_messages(signout: SignOut, *, call_number: int, final: bool) -> list[Message]:
    """R-ESC-2: the office is prompted to call again."""
    context = {
        **_context(signout),
        "call_number": call_number,
        "calls": signout.retries + 1,
        "final": final,
    }
    return [_sms("retry_office", r, context) for r in monitor_phones(signout)]


def manager_messages(signout: SignOut, *, reason: str) -> list[Message]:
    """R-ESC-3: the manager, by email and SMS, with the link to the emergency page."""
    context = {**_context(signout), "reason": reason}
    messages = []
    for manager in managers_for(signout):
        label = f"{manager} (manager)"
        if manager.email:
            recipient = Recipient(label=label, address=manager.email, user=manager)
            messages.append(_email("escalation_manager", recipient, context))
        if _mobile(manager):
            recipient = Recipient(label=label, address=_mobile(manager), user=manager)
            messages.append(_sms("manager", recipient, context))
    return messages


def help_messages(signout: SignOut, *, asked_by: str, from_office: bool) -> list[Message]:
    """R-ESC-7: the manager and the office, at once. `from_office`: the office raised it on the
    visitors' behalf (they phoned, or the office fears for them)."""
    context = {**_context(signout), "asked_by": asked_by, "from_office": from_office}
    messages = []
    for manager in managers_for(signout):
        label = f"{manager} (manager)"
        if manager.email:
            recipient = Recipient(label=label, address=manager.email, user=manager)
            messages.append(_email("escalation_help", recipient, context))
        if _mobile(manager):
            recipient = Recipient(label=label, address=_mobile(manager), user=manager)
            messages.append(_sms("help", recipient, context))
    messages += [_email("escalation_help", r, context) for r in office_emails(signout)]
    messages += [_sms("help", r, context) for r in monitor_phones(signout)]
    return messages
