"""Reads of file transfers that apply the access rules (R-SEC-1): the DSLs, Deputy DSLs, the
Headteacher and trust leads of a school. Another school's transfer: 404; a role that may not
read records: 403."""

import datetime
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from schools.models import Pupil, School, User
from schools.selectors import (
    object_for_user,
    require_permission,
    schools_for_user,
    schools_requiring,
    schools_with_permission,
)

from .models import FileTransfer, ReceivedDocument, ReceivedFile

READ_RECORDS = "view_records"


def _transfers() -> QuerySet[FileTransfer]:
    return FileTransfer.objects.select_related(
        "pupil", "school", "to_school", "started_by", "received_pupil"
    )


def transfer_get(*, user: User, pk) -> FileTransfer:
    """A transfer the sending school's DSL acts on."""
    return object_for_user(_transfers(), user, pk=pk, perm=READ_RECORDS)


def offered_transfer_get(*, user: User, pk) -> FileTransfer:
    """A transfer offered to one of the user's schools, for its DSL to accept or decline."""
    return object_for_user(
        _transfers().filter(status=FileTransfer.Status.OFFERED),
        user,
        pk=pk,
        perm=READ_RECORDS,
        school_path="to_school",
    )


def transfer_pupil_get(*, user: User, pk) -> Pupil:
    return object_for_user(
        Pupil.objects.select_related("school", "household"), user, pk=pk, perm=READ_RECORDS
    )


def document_get(*, user: User, pk) -> ReceivedDocument:
    return object_for_user(
        ReceivedDocument.objects.select_related("received_file__school", "received_file__pupil"),
        user,
        pk=pk,
        perm=READ_RECORDS,
        school_path="received_file__school",
    )


@dataclass
class TransferRow:
    transfer: FileTransfer
    overdue: bool
    school_days_left: int | None


def dashboard(*, user: User, today: datetime.date | None = None) -> dict:
    """The DSL's file transfer page: files to send (with their deadlines, overdue first), files
    offered to the user's schools, and the last receipts. A constant number of queries."""
    from .calendar import calendars_for

    schools = schools_requiring(user, READ_RECORDS)
    today = today or timezone.localdate()
    open_transfers = list(
        _transfers()
        .filter(school__in=schools, status__in=FileTransfer.OPEN_STATUSES)
        .order_by("due_on", "pk")
    )
    calendars = calendars_for({t.school_id for t in open_transfers})
    rows = []
    for transfer in open_transfers:
        overdue = today > transfer.due_on
        left = (
            None
            if overdue
            else calendars[transfer.school_id].school_days_between(
                today - datetime.timedelta(days=1), transfer.due_on + datetime.timedelta(days=1)
            )
        )
        rows.append(TransferRow(transfer=transfer, overdue=overdue, school_days_left=left))
    offered = list(
        _transfers()
        .filter(to_school__in=schools, status=FileTransfer.Status.OFFERED)
        .order_by("due_on")
    )
    done = list(
        _transfers()
        .filter(school__in=schools)
        .exclude(status__in=FileTransfer.OPEN_STATUSES)
        .order_by("-received_at", "-cancelled_at", "-pk")[:20]
    )
    return {
        "to_send": rows,
        "overdue_count": sum(row.overdue for row in rows),
        "offered": offered,
        "done": done,
        "today": today,
    }


def overdue_transfers(*, user: User, today: datetime.date | None = None) -> QuerySet:
    """Open transfers past their deadline at the user's schools (the DSL queue and the trust
    view), none when their role reads no records."""
    today = today or timezone.localdate()
    return _transfers().filter(
        school__in=schools_with_permission(user, READ_RECORDS),
        status__in=FileTransfer.OPEN_STATUSES,
        due_on__lt=today,
    )


def pupil_page(*, pupil: Pupil) -> dict:
    transfers = list(_transfers().filter(pupil=pupil).order_by("-created_at", "-pk"))
    received = list(
        ReceivedFile.objects.filter(pupil=pupil)
        .select_related("recorded_by")
        .prefetch_related("documents")
    )
    return {
        "pupil": pupil,
        "transfers": transfers,
        "open_transfer": next((t for t in transfers if t.is_open), None),
        "received_files": received,
    }


def receiving_schools(*, transfer: FileTransfer) -> QuerySet[School]:
    """Every school on Homeward but the sender (a pupil may move to any trust)."""
    return School.objects.exclude(pk=transfer.school_id).order_by("name")


def require_dsl(*, user: User, school: School) -> None:
    if school not in schools_for_user(user):
        raise Http404("Not found.")
    require_permission(user, READ_RECORDS, school)


def can_read_transfers(user: User) -> bool:
    return schools_with_permission(user, READ_RECORDS).exists()
