"""Who is told what about records, concerns and actions, by email. Enqueued on commit by
records.services; sent by records.tasks.

No child's name, date of birth or address in any email: staff names, times and a link only.
"""

from django.urls import reverse
from django.utils import timezone

from core.emails import email_send
from core.enqueue import enqueue
from schools.models import User

from .models import Action, Concern, RecordReminder

CONCERN_ALERT_ROLES = ("dsl", "deputy_dsl", "head")


def concern_alert_later(*, concern: Concern) -> None:
    enqueue("records.tasks.concern_alert_send", concern_id=concern.pk)


def concern_alert_send(*, concern_id: int) -> int:
    """R-REC-4: email the school's DSLs, Deputy DSLs and Headteacher at once."""
    concern = Concern.objects.select_related("school", "raised_by").filter(pk=concern_id).first()
    if concern is None:
        return 0
    recipients = (
        User.objects.filter(
            memberships__school_id=concern.school_id,
            memberships__role__in=CONCERN_ALERT_ROLES,
            is_active=True,
        )
        .exclude(pk=concern.raised_by_id)
        .distinct()
    )
    return email_send(
        name="concern_raised",
        to=[user.email for user in recipients],
        context={
            "concern": concern,
            "raised_at": timezone.localtime(concern.raised_at),
            "concern_path": reverse("records:record", args=[concern.visit_id]),
        },
    )


def action_owner_tell_later(*, action: Action, name: str) -> None:
    enqueue("records.tasks.action_owner_tell", action_id=action.pk, name=name)


def action_owner_tell(*, action_id: int, name: str) -> int:
    action = Action.objects.select_related("school", "owner").filter(pk=action_id).first()
    if action is None or not action.owner.is_active:
        return 0
    return email_send(
        name=name,
        to=[action.owner.email],
        context={"action": action, "actions_path": reverse("records:my_actions")},
    )


def record_reminder_later(*, reminder_id: int) -> None:
    enqueue("records.tasks.record_reminder_send", reminder_id=reminder_id)


def record_reminder_email(*, reminder: RecordReminder) -> int:
    """R-REC-3: remind the visitors (those who went) that the record falls due."""
    visit = reminder.visit
    visitors = User.objects.filter(
        visits_as_visitor__visit=visit, visits_as_visitor__withdrawn_at__isnull=True, is_active=True
    )
    return email_send(
        name="record_reminder",
        to=[user.email for user in visitors],
        context={
            "visit": visit,
            "due_at": timezone.localtime(reminder.due_at),
            "record_path": reverse("records:record_edit", args=[visit.pk]),
        },
    )
