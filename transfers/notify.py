"""Who is told what about file transfers, by email (R-REC-8). Enqueued on commit by
transfers.services; sent by transfers.tasks. No child's name, date of birth or address in any
email: the schools, a date and a link only."""

from django.urls import reverse

from core.emails import email_send
from core.enqueue import enqueue
from schools.models import User

from .models import FileTransfer, TransferReminder

DSL_ROLES = ("dsl", "deputy_dsl", "head")


def _dsls(school_id: int) -> list[str]:
    users = User.objects.filter(
        memberships__school_id=school_id, memberships__role__in=DSL_ROLES, is_active=True
    ).distinct()
    return [user.email for user in users]


def transfer_offered_later(*, transfer: FileTransfer) -> None:
    enqueue("transfers.tasks.transfer_email", transfer_id=transfer.pk, name="transfer_offered")


def transfer_declined_later(*, transfer: FileTransfer) -> None:
    enqueue("transfers.tasks.transfer_email", transfer_id=transfer.pk, name="transfer_declined")


def transfer_received_later(*, transfer: FileTransfer) -> None:
    enqueue("transfers.tasks.transfer_email", transfer_id=transfer.pk, name="transfer_received")


def transfer_email(*, transfer_id: int, name: str) -> int:
    transfer = (
        FileTransfer.objects.select_related("school", "to_school").filter(pk=transfer_id).first()
    )
    if transfer is None:
        return 0
    # The offer goes to the receiving school's DSLs; the rest to the sending school's.
    school_id = transfer.to_school_id if name == "transfer_offered" else transfer.school_id
    if school_id is None:
        return 0
    return email_send(
        name=name,
        to=_dsls(school_id),
        context={"transfer": transfer, "path": reverse("transfers:dashboard")},
    )


def package_link_later(*, transfer: FileTransfer, token: str) -> None:
    enqueue("transfers.tasks.package_link_email", transfer_id=transfer.pk, token=token)


def package_link_email(*, transfer_id: int, token: str) -> int:
    transfer = FileTransfer.objects.select_related("school").filter(pk=transfer_id).first()
    if transfer is None or transfer.status != FileTransfer.Status.SENT:
        return 0
    return email_send(
        name="transfer_package",
        to=[transfer.recipient_email],
        context={
            "transfer": transfer,
            "path": reverse("transfers:package_link", args=[token]),
        },
    )


def transfer_reminder_later(*, reminder_id: int) -> None:
    enqueue("transfers.tasks.transfer_reminder_send", reminder_id=reminder_id)


def transfer_reminder_email(*, reminder: TransferReminder) -> int:
    transfer = reminder.transfer
    return email_send(
        name="transfer_reminder",
        to=_dsls(transfer.school_id),
        context={
            "transfer": transfer,
            "reminder": reminder,
            "path": reverse("transfers:dashboard"),
        },
    )
