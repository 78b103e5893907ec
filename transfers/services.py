"""Writes of the file transfer (R-REC-8). Each write checks its rules, moves the transfer's status
with a conditional update (so two DSLs acting at once change it once) and writes its audit events
in the same transaction, at the sending school and, where there is one, at the receiving school.
Emails go on commit (transfers.notify).

The data move, through Homeward: the pupil record does not move. A Pupil belongs to a household
of the sending school, and the sending school's visits, records and risk assessments are shared
with the brothers and sisters who stay (a visit is to a household). So the receiving school gets
its own pupil (a new one, or the one it already has with the same UPN) and the file arrives as
sealed documents attached to that pupil: the whole-file PDF, the chronology as CSV, every risk
assessment and whatever files the pupil had brought from earlier schools (those rows are
re-pointed, not copied). The sending school then keeps what its setting says: by default the
transfer receipt and the fact that a file existed, so the rows about this child alone (what
they said and how they presented on each visit, the concerns and actions about them, the
contacts about them) are removed; visits and household-wide entries stay, being the school's
record of its staff's visits and of the siblings.
"""

import csv
import datetime
import hashlib
import io
import secrets

import pyzipper
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_event_create
from contacts.models import ContactLog
from records import pdf as records_pdf
from records import selectors as records_selectors
from records.exports import FORMULA_STARTS
from records.models import Action, Concern, PupilSeen
from schools.models import Household, Pupil, School, User
from schools.services import directory_object_save
from visits.models import Visit

from . import notify
from .calendar import REMINDER_SCHOOL_DAYS, calendars_for, reminder_due_on, transfer_due_on
from .models import FileTransfer, ReceivedDocument, ReceivedFile, TransferReminder

LINK_SALT = "transfers.package-link"


class TransferBlocked(ValidationError):
    """The rules refuse this; the message says why in plain words."""


class LinkRefused(Exception):
    """A package link that does nothing: its reason is audited."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def _audit_both(*, actor, transfer: FileTransfer, event_type: str, changes=None) -> None:
    audit_event_create(
        actor=actor, school=transfer.school, obj=transfer, event_type=event_type, changes=changes
    )
    if transfer.to_school_id and transfer.to_school_id != transfer.school_id:
        audit_event_create(
            actor=actor,
            school=transfer.to_school,
            obj=transfer,
            event_type=event_type,
            changes=changes,
        )


def _require_dsl(*, actor: User, school: School, what: str) -> None:
    if not actor.has_perm("schools.view_records", school):
        raise TransferBlocked(f"Only a DSL or the Headteacher can {what}.")


# Which pupils have a file, and opening the transfer when they leave ---------------------------


def pupil_has_file(pupil: Pupil) -> bool:
    """A safeguarding file: any visit (with its record and assessment), concern, action, contact
    logged, or a file received from an earlier school."""
    return (
        Visit.objects.filter(pupils=pupil).exclude(status="draft").exists()
        or Concern.objects.filter(pupil=pupil).exists()
        or Action.objects.filter(pupil=pupil).exists()
        or ContactLog.objects.filter(pupil=pupil).exists()
        or ReceivedFile.objects.filter(pupil=pupil).exists()
    )


@transaction.atomic
def transfer_open_for_leaver(*, actor: User | None, pupil: Pupil) -> FileTransfer | None:
    """The pupil has been marked as left: open their file transfer (due in 5 school days), or
    move the deadline of the open one if the leaving date changed. None without a file."""
    if pupil.left_on is None or not pupil_has_file(pupil):
        return None
    calendar = calendars_for([pupil.school_id])[pupil.school_id]
    due_on = transfer_due_on(calendar=calendar, left_on=pupil.left_on)
    existing = FileTransfer.objects.filter(pupil=pupil, status__in=FileTransfer.OPEN_STATUSES)
    transfer = existing.first()
    if transfer is not None:
        existing.update(left_on=pupil.left_on, due_on=due_on)
        transfer.refresh_from_db()
        audit_event_create(
            actor=actor,
            school=pupil.school,
            obj=transfer,
            event_type="transfer.deadline_changed",
            changes={"left_on": pupil.left_on.isoformat(), "due_on": due_on.isoformat()},
        )
        return transfer
    transfer = FileTransfer.objects.create(
        pupil=pupil,
        school=pupil.school,
        left_on=pupil.left_on,
        due_on=due_on,
        to_school_name=pupil.leaving_to,
        created_at=timezone.now(),
    )
    audit_event_create(
        actor=actor,
        school=pupil.school,
        obj=transfer,
        event_type="transfer.opened",
        changes={"pupil": pupil.pk, "due_on": due_on.isoformat()},
    )
    return transfer


@transaction.atomic
def transfers_cancel_for_returned(*, actor: User | None, pupil: Pupil) -> int:
    """The pupil is back on the roll: an open transfer is no longer needed. An offered file that
    the new school has not accepted is withdrawn; a package link stops working."""
    cancelled = 0
    for transfer in FileTransfer.objects.filter(
        pupil=pupil, status__in=FileTransfer.OPEN_STATUSES
    ).select_related("school", "to_school"):
        done = FileTransfer.objects.filter(pk=transfer.pk, status=transfer.status).update(
            status=FileTransfer.Status.CANCELLED,
            cancelled_at=timezone.now(),
            package=None,
            link_nonce_hash="",
        )
        if done:
            cancelled += 1
            _audit_both(actor=actor, transfer=transfer, event_type="transfer.cancelled")
    return cancelled


# To a school on Homeward ---------------------------------------------------------------------


@transaction.atomic
def transfer_offer(*, actor: User, transfer: FileTransfer, to_school: School) -> FileTransfer:
    """Offer the file to a school on Homeward (any trust); its DSLs are alerted."""
    _require_dsl(actor=actor, school=transfer.school, what="transfer a file")
    if to_school.pk == transfer.school_id:
        raise TransferBlocked("Choose the school the pupil is moving to, not this one.")
    moved = FileTransfer.objects.filter(pk=transfer.pk, status=FileTransfer.Status.TO_SEND).update(
        status=FileTransfer.Status.OFFERED,
        route=FileTransfer.Route.HOMEWARD,
        to_school=to_school,
        to_school_name=to_school.name,
        started_by=actor,
        started_at=timezone.now(),
    )
    if not moved:
        raise TransferBlocked("This file has already been sent, or is no longer to be sent.")
    transfer.refresh_from_db()
    _audit_both(
        actor=actor, transfer=transfer, event_type="transfer.offered", changes={"to": to_school.pk}
    )
    notify.transfer_offered_later(transfer=transfer)
    return transfer


@transaction.atomic
def transfer_decline(*, actor: User, transfer: FileTransfer, reason: str) -> FileTransfer:
    """The receiving school says the pupil is not coming to them: the file goes back to the
    sending DSL's list, to send elsewhere."""
    _require_dsl(actor=actor, school=transfer.to_school, what="decline a file")
    if not reason.strip():
        raise TransferBlocked("Say why the file is declined (for example: not our pupil).")
    to_school = transfer.to_school
    moved = FileTransfer.objects.filter(pk=transfer.pk, status=FileTransfer.Status.OFFERED).update(
        status=FileTransfer.Status.TO_SEND, route="", to_school=None
    )
    if not moved:
        raise TransferBlocked("This file is no longer waiting for your school.")
    transfer.to_school = to_school  # for the audit at both schools
    _audit_both(
        actor=actor,
        transfer=transfer,
        event_type="transfer.declined",
        changes={"by_school": to_school.pk, "reason": reason.strip()},
    )
    transfer.refresh_from_db()
    notify.transfer_declined_later(transfer=transfer)
    return transfer


def _receiving_pupil(*, actor: User, pupil: Pupil, school: School) -> Pupil:
    """The receiving school's own pupil: the one with the same UPN, else a new one in a new
    household at the same address (the receiving school's office completes the contacts)."""
    if pupil.upn:
        match = Pupil.objects.filter(school=school, upn=pupil.upn).first()
        if match is not None:
            return match
    old = pupil.household
    household = Household(
        school=school,
        address_line_1=old.address_line_1,
        address_line_2=old.address_line_2,
        town=old.town,
        postcode=old.postcode,
    )
    directory_object_save(actor=actor, instance=household, school=school, before={})
    fields = (
        "first_name",
        "last_name",
        "date_of_birth",
        "year_group",
        "upn",
        "child_protection",
        "child_in_need",
        "looked_after",
        "ehcp",
        "early_help",
        "cultural_notes",
        "interpreter_language",
    )
    new = Pupil(school=school, household=household, **{f: getattr(pupil, f) for f in fields})
    directory_object_save(actor=actor, instance=new, school=school, before={})
    return new


def chronology_csv(*, pupil: Pupil, scope) -> str:
    """The pupil's chronology as CSV (formula-looking cells quoted, as the visits export does)."""

    def cell(value: str) -> str:
        return "'" + value if value.startswith(FORMULA_STARTS) else value

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["When", "What", "Entry", "Who", "Details", "The child's words"])
    for entry in records_selectors.chronology(pupil=pupil, scope=scope):
        writer.writerow(
            [
                timezone.localtime(entry.at).strftime("%d/%m/%Y %H:%M"),
                entry.kind_label,
                cell(entry.title),
                cell(entry.who),
                cell(entry.detail),
                cell(entry.quote),
            ]
        )
    return out.getvalue()


def file_documents(*, pupil: Pupil, printed_by: User) -> list[tuple[str, str, str, bytes]]:
    """(title, filename, content type, bytes) of the whole file: the whole-file PDF, the
    chronology CSV and each visit's risk assessment."""
    # R-REC-8: the whole file goes. The transfer itself is the authority to read all of it (the
    # sending DSL chose to send it, the receiving DSL accepted it; both were checked by the
    # caller), not the printer's own role at the pupil's school. A long file comes in parts,
    # each a bounded render, and every part goes.
    scope = records_selectors.PupilFileScope(user_id=printed_by.pk, whole=True)
    first, parts = records_pdf.pupil_file_pdf(pupil=pupil, scope=scope, printed_by=printed_by)
    pdfs = [first] + [
        records_pdf.pupil_file_pdf(pupil=pupil, scope=scope, printed_by=printed_by, part=part)[0]
        for part in range(2, parts + 1)
    ]
    documents = [
        (
            "Whole safeguarding file" + (f", part {number} of {parts}" if parts > 1 else ""),
            f"safeguarding-file-part-{number}.pdf" if parts > 1 else "safeguarding-file.pdf",
            "application/pdf",
            pdf,
        )
        for number, pdf in enumerate(pdfs, start=1)
    ]
    documents.append(
        (
            "Chronology (CSV)",
            "chronology.csv",
            "text/csv",
            chronology_csv(pupil=pupil, scope=scope).encode("utf-8-sig"),
        )
    )
    visits = (
        Visit.objects.filter(pupils=pupil, risk_assessment__isnull=False)
        .exclude(status="draft")
        .select_related("school", "household", "risk_assessment")
        .order_by("planned_start", "pk")
    )
    for visit in visits:
        documents.append(
            (
                f"Risk assessment, visit of {timezone.localtime(visit.planned_start):%d/%m/%Y}",
                f"risk-assessment-{visit.pk}.pdf",
                "application/pdf",
                records_pdf.assessment_pdf(visit=visit, printed_by=printed_by),
            )
        )
    return documents


@transaction.atomic
def transfer_accept(*, actor: User, transfer: FileTransfer) -> FileTransfer:
    """A DSL of the receiving school accepts the file: it becomes the receiving school's."""
    school = transfer.to_school
    _require_dsl(actor=actor, school=school, what="accept a file")
    now = timezone.now()
    moved = FileTransfer.objects.filter(pk=transfer.pk, status=FileTransfer.Status.OFFERED).update(
        status=FileTransfer.Status.RECEIVED,
        received_at=now,
        received_by=actor,
        received_by_name=actor.get_full_name() or actor.username,
        receipt_method=FileTransfer.ReceiptMethod.HOMEWARD,
        recorded_by=actor,
    )
    if not moved:
        raise TransferBlocked("This file is no longer waiting for your school.")
    transfer.refresh_from_db()
    pupil = transfer.pupil
    new_pupil = _receiving_pupil(actor=actor, pupil=pupil, school=school)
    received = ReceivedFile.objects.create(
        school=school,
        pupil=new_pupil,
        kind=ReceivedFile.Kind.HOMEWARD,
        transfer=transfer,
        from_school_name=transfer.school.name,
        received_on=timezone.localdate(now),
        recorded_by=actor,
        recorded_at=now,
    )
    for title, filename, content_type, content in file_documents(pupil=pupil, printed_by=actor):
        ReceivedDocument.objects.create(
            received_file=received,
            title=title,
            filename=filename,
            content_type=content_type,
            content=content,
            size=len(content),
        )
    # Files the pupil brought from earlier schools follow them: re-pointed, not copied.
    earlier = ReceivedFile.objects.filter(pupil=pupil).exclude(pk=received.pk)
    brought = earlier.update(school=school, pupil=new_pupil)
    FileTransfer.objects.filter(pk=transfer.pk).update(received_pupil=new_pupil)
    transfer.received_pupil = new_pupil
    _audit_both(
        actor=actor,
        transfer=transfer,
        event_type="transfer.accepted",
        changes={"received_pupil": new_pupil.pk, "earlier_files": brought},
    )
    _sender_keeps_what_it_must(actor=actor, transfer=transfer)
    notify.transfer_received_later(transfer=transfer)
    return transfer


def _sender_keeps_what_it_must(*, actor, transfer: FileTransfer) -> None:
    """After the file has reached the new school: by default (School.transfer_sender_keeps)
    remove the rows about this child alone; visits and household-wide entries stay."""
    if transfer.school.transfer_sender_keeps != "receipt":
        return
    pupil = transfer.pupil
    removed = {
        "pupil_seen": PupilSeen.objects.filter(pupil=pupil).delete()[0],
        "concerns": Concern.objects.filter(pupil=pupil).delete()[0],
        "actions": Action.objects.filter(pupil=pupil).delete()[0],
        "contacts": ContactLog.objects.filter(pupil=pupil).delete()[0],
        "received_files": ReceivedFile.objects.filter(pupil=pupil).delete()[0],
    }
    FileTransfer.objects.filter(pk=transfer.pk).update(rows_removed=removed, package=None)
    transfer.rows_removed = removed
    audit_event_create(
        actor=actor,
        school=transfer.school,
        obj=transfer,
        event_type="transfer.sender_file_removed",
        changes=removed,
    )


# To any other school: the encrypted package --------------------------------------------------


def _package_bytes(*, transfer: FileTransfer, printed_by: User, password: str) -> bytes:
    buffer = io.BytesIO()
    with pyzipper.AESZipFile(
        buffer, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as package:
        package.setpassword(password.encode())
        for _title, filename, _type, content in file_documents(
            pupil=transfer.pupil, printed_by=printed_by
        ):
            package.writestr(filename, content)
        earlier = ReceivedDocument.objects.filter(received_file__pupil=transfer.pupil)
        for document in earlier.select_related("received_file"):
            folder = f"earlier-file-{document.received_file_id}"
            package.writestr(f"{folder}/{document.filename}", bytes(document.content))
    return buffer.getvalue()


def _nonce_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def _password() -> str:
    # Four groups of four letters and digits: easy to read out on the phone, ~82 bits.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


@transaction.atomic
def transfer_package_send(
    *, actor: User, transfer: FileTransfer, to_school_name: str, recipient_email: str
) -> tuple[FileTransfer, str, str]:
    """Build the encrypted package and email the receiving DSL a signed link to download it
    once. Returns (transfer, password, token): the password is shown to the sending DSL once,
    to give the receiving DSL by another way (a phone call), and is never stored."""
    _require_dsl(actor=actor, school=transfer.school, what="transfer a file")
    if not to_school_name.strip() or not recipient_email.strip():
        raise TransferBlocked("Give the receiving school and its DSL's email address.")
    password, nonce = _password(), secrets.token_urlsafe(24)
    content = _package_bytes(transfer=transfer, printed_by=actor, password=password)
    now = timezone.now()
    moved = FileTransfer.objects.filter(pk=transfer.pk, status=FileTransfer.Status.TO_SEND).update(
        status=FileTransfer.Status.SENT,
        route=FileTransfer.Route.PACKAGE,
        to_school_name=to_school_name.strip(),
        recipient_email=recipient_email.strip().lower(),
        started_by=actor,
        started_at=now,
        package=content,
        link_nonce_hash=_nonce_hash(nonce),
        link_expires_at=now + datetime.timedelta(days=settings.TRANSFER_LINK_DAYS),
        downloaded_at=None,
    )
    if not moved:
        raise TransferBlocked("This file has already been sent, or is no longer to be sent.")
    transfer.refresh_from_db()
    token = signing.dumps({"t": transfer.pk, "n": nonce}, salt=LINK_SALT)
    audit_event_create(
        actor=actor,
        school=transfer.school,
        obj=transfer,
        event_type="transfer.package_sent",
        changes={"to": transfer.to_school_name, "email": transfer.recipient_email},
    )
    notify.package_link_later(transfer=transfer, token=token)
    return transfer, password, token


def _refuse(transfer: FileTransfer | None, reason: str, message: str, details=None):
    if transfer is not None:
        audit_event_create(
            actor=None,
            school=transfer.school,
            obj=transfer,
            event_type="transfer.link_refused",
            changes={"reason": reason, **(details or {})},
        )
    return LinkRefused(reason, message)


def package_link_check(*, token: str, email: str | None = None) -> FileTransfer:
    """The transfer a package link is for, or LinkRefused (audited): a link that was tampered
    with, expired, replaced, already used, or opened by someone who is not its recipient."""
    try:
        payload = signing.loads(token, salt=LINK_SALT)
        transfer = FileTransfer.objects.select_related("school").get(pk=payload["t"])
    except (signing.BadSignature, KeyError, TypeError, FileTransfer.DoesNotExist):
        raise LinkRefused("invalid", "This link is not valid.") from None
    if transfer.status != FileTransfer.Status.SENT:
        raise _refuse(transfer, "closed", "This file transfer is closed.")
    if transfer.link_nonce_hash != _nonce_hash(str(payload.get("n"))):
        raise _refuse(transfer, "replaced", "This link is no longer valid: ask for a new one.")
    if transfer.link_expires_at is None or timezone.now() >= transfer.link_expires_at:
        raise _refuse(transfer, "expired", "This link has expired: ask the school for a new one.")
    if email is not None and email.strip().lower() != transfer.recipient_email:
        raise _refuse(
            transfer,
            "wrong_recipient",
            "That is not the email address this file was sent to.",
        )
    return transfer


def package_download(*, token: str, email: str) -> tuple[FileTransfer, bytes]:
    """The receiving DSL downloads the package: once. Not one transaction: a refusal is
    audited and stays audited."""
    transfer = package_link_check(token=token, email=email)
    with transaction.atomic():
        taken = FileTransfer.objects.filter(
            pk=transfer.pk, status=FileTransfer.Status.SENT, downloaded_at__isnull=True
        ).update(downloaded_at=timezone.now())
        if taken:
            content = bytes(transfer.package)
            audit_event_create(
                actor=None,
                school=transfer.school,
                obj=transfer,
                event_type="document.downloaded",
                changes={"document": "transfer-package", "by_email": transfer.recipient_email},
            )
    if not taken:
        raise _refuse(transfer, "replayed", "This file has already been downloaded.")
    return transfer, content


def package_receipt_confirm(*, token: str, email: str, name: str) -> FileTransfer:
    """After downloading, the receiving DSL confirms they have the file: the transfer is done
    and the package is deleted. Refusals are audited outside the transaction of the change."""
    transfer = package_link_check(token=token, email=email)
    if not name.strip():
        raise LinkRefused("no_name", "Give your name to confirm receipt.")
    if transfer.downloaded_at is None:
        raise _refuse(transfer, "not_downloaded", "Download the file before confirming.")
    if not _receipt_confirm(transfer=transfer, name=name):
        raise _refuse(transfer, "replayed", "Receipt has already been confirmed.")
    transfer.refresh_from_db()
    return transfer


@transaction.atomic
def _receipt_confirm(*, transfer: FileTransfer, name: str) -> bool:
    done = FileTransfer.objects.filter(pk=transfer.pk, status=FileTransfer.Status.SENT).update(
        status=FileTransfer.Status.RECEIVED,
        received_at=timezone.now(),
        received_by_name=name.strip()[:200],
        receipt_method=FileTransfer.ReceiptMethod.LINK,
        package=None,
        link_nonce_hash="",
    )
    if not done:
        return False
    transfer.refresh_from_db()
    audit_event_create(
        actor=None,
        school=transfer.school,
        obj=transfer,
        event_type="transfer.receipt_confirmed",
        changes={"name": transfer.received_by_name, "email": transfer.recipient_email},
    )
    _sender_keeps_what_it_must(actor=None, transfer=transfer)
    notify.transfer_received_later(transfer=transfer)
    return True


@transaction.atomic
def transfer_receipt_record(
    *,
    actor: User,
    transfer: FileTransfer,
    to_school_name: str,
    received_by_name: str,
    received_on: datetime.date,
    method: str,
    notes: str = "",
) -> FileTransfer:
    """The sending DSL records by hand who received the file, when and how."""
    _require_dsl(actor=actor, school=transfer.school, what="record a receipt")
    if method not in FileTransfer.ReceiptMethod.values or method in ("homeward", "link"):
        raise TransferBlocked("Say how the file was handed over.")
    if not received_by_name.strip() or not (to_school_name.strip() or transfer.to_school_name):
        raise TransferBlocked("Say who received the file, and at which school.")
    if received_on > timezone.localdate():
        raise TransferBlocked("The date of receipt cannot be in the future.")
    if received_on < transfer.left_on - datetime.timedelta(days=60):
        raise TransferBlocked("The date of receipt is long before the pupil left: check it.")
    received_at = timezone.make_aware(datetime.datetime.combine(received_on, datetime.time(12)))
    done = FileTransfer.objects.filter(
        pk=transfer.pk, status__in=(FileTransfer.Status.TO_SEND, FileTransfer.Status.SENT)
    ).update(
        status=FileTransfer.Status.RECEIVED,
        route=transfer.route or FileTransfer.Route.BY_HAND,
        to_school_name=to_school_name.strip() or transfer.to_school_name,
        received_at=received_at,
        received_by_name=received_by_name.strip(),
        receipt_method=method,
        receipt_notes=notes.strip(),
        recorded_by=actor,
        package=None,
        link_nonce_hash="",
    )
    if not done:
        raise TransferBlocked("This file transfer is no longer open.")
    transfer.refresh_from_db()
    audit_event_create(
        actor=actor,
        school=transfer.school,
        obj=transfer,
        event_type="transfer.receipt_recorded",
        changes={
            "received_by": transfer.received_by_name,
            "received_on": received_on.isoformat(),
            "method": method,
        },
    )
    _sender_keeps_what_it_must(actor=actor, transfer=transfer)
    return transfer


# Receiving on paper --------------------------------------------------------------------------


@transaction.atomic
def paper_file_record(
    *,
    actor: User,
    pupil: Pupil,
    from_school_name: str,
    received_on: datetime.date,
    kept_where: str,
    notes: str = "",
) -> ReceivedFile:
    _require_dsl(actor=actor, school=pupil.school, what="record a file received")
    if not from_school_name.strip() or not kept_where.strip():
        raise TransferBlocked("Say which school the file came from and where it is kept.")
    if received_on > timezone.localdate():
        raise TransferBlocked("The date it arrived cannot be in the future.")
    received = ReceivedFile.objects.create(
        school=pupil.school,
        pupil=pupil,
        kind=ReceivedFile.Kind.PAPER,
        from_school_name=from_school_name.strip(),
        received_on=received_on,
        kept_where=kept_where.strip(),
        notes=notes.strip(),
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    audit_event_create(
        actor=actor,
        school=pupil.school,
        obj=received,
        event_type="transfer.paper_file_recorded",
        changes={"pupil": pupil.pk, "from": received.from_school_name},
    )
    return received


# Reminders at 3 and 5 school days -------------------------------------------------------------


def transfer_reminders_claim(*, now: datetime.datetime | None = None) -> list[int]:
    """Create the reminders due for every open transfer, once per step, and enqueue their sends.
    Run by beat (transfers.tasks.transfer_reminders_scan); safe to run twice at once: the unique
    (transfer, step) row is the claim. A step overtaken by a later one is created as skipped, so
    a late first scan sends one reminder, not two."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    transfers = list(
        FileTransfer.objects.filter(status__in=FileTransfer.OPEN_STATUSES).prefetch_related(
            "reminders"
        )
    )
    calendars = calendars_for({t.school_id for t in transfers})
    enqueue = []
    for transfer in transfers:
        have = {r.school_days for r in transfer.reminders.all()}
        due = [
            step
            for step in REMINDER_SCHOOL_DAYS
            if reminder_due_on(
                calendar=calendars[transfer.school_id], left_on=transfer.left_on, school_days=step
            )
            <= today
        ]
        for step in due:
            if step in have:
                continue
            status = (
                TransferReminder.Status.SKIPPED
                if step != due[-1]
                else TransferReminder.Status.PENDING
            )
            try:
                with transaction.atomic():
                    reminder = TransferReminder.objects.create(
                        transfer=transfer, school_days=step, status=status
                    )
            except IntegrityError:
                continue  # another scan claimed it first
            if status == TransferReminder.Status.PENDING:
                enqueue.append(reminder.pk)
    stale = TransferReminder.objects.filter(
        status=TransferReminder.Status.PENDING, created_at__lt=now - datetime.timedelta(minutes=3)
    ).values_list("pk", flat=True)
    enqueue.extend(pk for pk in stale if pk not in enqueue)
    for reminder_id in enqueue:
        notify.transfer_reminder_later(reminder_id=reminder_id)
    return enqueue


def transfer_reminder_send(*, reminder_id: int) -> bool:
    claimed = TransferReminder.objects.filter(
        pk=reminder_id, status=TransferReminder.Status.PENDING
    ).update(status=TransferReminder.Status.SENDING)
    if not claimed:
        return False
    reminder = TransferReminder.objects.select_related("transfer__school").get(pk=reminder_id)
    if not reminder.transfer.is_open:
        TransferReminder.objects.filter(pk=reminder_id).update(
            status=TransferReminder.Status.SKIPPED
        )
        return False
    notify.transfer_reminder_email(reminder=reminder)
    TransferReminder.objects.filter(pk=reminder_id).update(
        status=TransferReminder.Status.SENT, sent_at=timezone.now()
    )
    audit_event_create(
        actor=None,
        school=reminder.transfer.school,
        obj=reminder.transfer,
        event_type="transfer.reminder_sent",
        changes={"school_days": reminder.school_days},
    )
    return True
