"""Writes to the records app: the Home Visit record, concerns, actions and the reminders."""

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format

from audit.services import audit_event_create
from records import notify
from records.models import (
    Action,
    ActionReassignment,
    Concern,
    PupilSeen,
    RecordReminder,
    VisitRecord,
)
from schools.models import Membership, Pupil, School, User
from visits.models import Status as VisitStatus
from visits.models import Visit
from visits.progress import visit_mark_recorded

# ---------------------------------------------------------------------------------------------
# The Home Visit record, concerns and actions (R-REC-1..6). Each write checks its rules, moves
# status with a conditional update and writes its audit event in the same transaction; emails
# go on commit (records.notify).
# ---------------------------------------------------------------------------------------------


class RecordBlocked(ValidationError):
    """The rules refuse this; each message names the rule in plain words."""


class ImmediateRiskInstructionNotSeen(RecordBlocked):
    """R-REC-4: "immediate risk of harm" is only recorded once the instruction to call the duty
    team or 999 has been shown and confirmed."""


class RecordConflict(Exception):
    """Somebody else got there first (the other visitor saved or submitted): nothing changed."""


RECORD_FIELDS = (
    "nobody_answered",
    "sealed_note_left",
    "sealed_note_details",
    "others_present",
    "adults_presentation",
    "home_conditions",
    "family_wanted_help",
    "help_offered",
    "acknowledgement",
    "acknowledged_by_name",
    "comments",
    "outcome",
    "outcome_details",
    "action_required",
    "next_contact_on",
    "next_contact_kind",
    "next_contact_notes",
)
PUPIL_FIELDS = (
    "seen",
    "spoken_to",
    "seen_alone",
    "why_not",
    "child_said",
    "physical_presentation",
    "emotional_presentation",
    "clothing",
    "hunger",
    "cleanliness",
)
# Who may own an action: the people who visit and the DSLs (not the office, not a manager).
ACTION_OWNER_ROLES = ("staff", "dsl", "deputy_dsl", "head")


def _local(value: datetime.datetime) -> str:
    return date_format(timezone.localtime(value), "d/m/Y H:i")


def record_due_at(visit: Visit) -> datetime.datetime | None:
    """R-REC-3: the record is due this long after the visitors returned (24 hours by default)."""
    if visit.returned_at is None:
        return None
    return visit.returned_at + datetime.timedelta(hours=visit.school.record_deadline_hours)


def _require_visitor(*, actor: User, visit: Visit) -> None:
    # R-REC-1: the visitors complete the form; a visitor who withdrew did not go.
    if not visit.visitors.filter(user=actor, withdrawn_at__isnull=True).exists():
        raise RecordBlocked("Only the visitors on this visit complete its Home Visit form.")


def _require_senior(*, actor: User, school: School, what: str) -> None:
    if not actor.has_perm("schools.view_records", school):
        raise RecordBlocked(f"Only a DSL or the Headteacher can {what}.")


@transaction.atomic
def record_save(
    *,
    actor: User,
    visit: Visit,
    fields: dict[str, Any],
    pupils: dict[int, dict[str, Any]],
    version: int | None = None,
) -> VisitRecord:
    """Save the Home Visit form as a draft the visitors can come back to (R-REC-1, R-REC-2).

    `pupils` maps each pupil id on the visit to their answers. `version` is the version the form
    was opened at (0 when the record had not been started): when the other visitor saved in
    between, nothing is saved (RecordConflict).
    """
    _require_visitor(actor=actor, visit=visit)
    visit = Visit.objects.select_related("school").get(pk=visit.pk)
    if visit.status not in (VisitStatus.RETURNED, VisitStatus.RECORDED):
        raise RecordBlocked("The Home Visit form is completed after the visitors have returned.")
    record, created = VisitRecord.objects.get_or_create(
        visit=visit, defaults={"school_id": visit.school_id, "started_by": actor}
    )
    record = VisitRecord.objects.select_for_update().get(pk=record.pk)
    if record.is_submitted:
        raise RecordConflict(
            f"This record was submitted by {record.submitted_by} at "
            f"{_local(record.submitted_at)}; it can no longer be changed."
        )
    if version is not None and not created and version != record.version:
        raise RecordConflict(
            "Another visitor saved this record while you were editing it. Your changes were not "
            "saved: the form now shows their version."
        )
    unknown = set(fields) - set(RECORD_FIELDS)
    if unknown:
        raise ValueError(f"Not fields of the record: {sorted(unknown)}")
    changed = [name for name, value in fields.items() if getattr(record, name) != value]
    for name, value in fields.items():
        setattr(record, name, value)
    record.version += 1
    record.save()

    on_visit = set(visit.pupils.values_list("pk", flat=True))
    if set(pupils) - on_visit:
        raise RecordBlocked("Only the pupils on this visit can be recorded on its form.")
    existing = {row.pupil_id: row for row in record.pupils_seen.all()}
    for pupil_id in sorted(on_visit):
        row = existing.get(pupil_id) or PupilSeen(record=record, pupil_id=pupil_id)
        answers = pupils.get(pupil_id, {})
        for name, value in answers.items():
            if name not in PUPIL_FIELDS:
                raise ValueError(f"Not a field of a pupil's answers: {name}")
            if getattr(row, name) != value:
                changed.append(f"pupil {pupil_id} {name}")
            setattr(row, name, value)
        row.save()

    audit_event_create(
        actor=actor,
        school=visit.school,
        obj=record,
        event_type="record.created" if created else "record.changed",
        # The narrative itself stays on the record: the trail says which answers changed.
        changes={"fields": changed, "version": record.version},
    )
    return record


def record_submission_problems(*, record: VisitRecord) -> list[str]:
    """What stops the record being submitted, each naming its rule. Empty: it can be."""
    problems = []
    if not record.outcome:
        problems.append("Choose the outcome of the visit.")
    if not record.outcome_details.strip():
        problems.append("Describe the outcome of the visit.")
    if not record.acknowledgement:
        problems.append(
            "Record the parent or guardian's acknowledgement: their typed name, "
            "“declined”, or that no one was available."
        )
    elif (
        record.acknowledgement == VisitRecord.Acknowledgement.SIGNED
        and not record.acknowledged_by_name.strip()
    ):
        problems.append("Type the name of the parent or guardian who signed.")

    if record.nobody_answered:
        # R-REC-5: no one answered: the sealed, addressed note left (001 §3, 000 point 13).
        if not record.sealed_note_left and not record.sealed_note_details.strip():
            problems.append(
                "No one answered: record the sealed, addressed note you left, or say why none "
                "could be left."
            )
        if record.outcome and record.outcome != VisitRecord.Outcome.NO_ANSWER:
            problems.append("No one answered, so the outcome is “No one answered”.")
        if record.acknowledgement == VisitRecord.Acknowledgement.SIGNED:
            problems.append("No one answered, so no parent or guardian could sign.")
    else:
        if not record.family_wanted_help:
            problems.append(
                "Say whether the family wanted help, and what was offered or signposted."
            )
        elif (
            record.family_wanted_help == VisitRecord.Help.WANTED and not record.help_offered.strip()
        ):
            problems.append("The family wanted help: say what was offered or signposted.")
        if not record.adults_presentation.strip():
            problems.append("Describe how the adults presented.")

    if record.next_contact_on and not record.next_contact_kind:
        problems.append("Say whether the next contact arranged is a visit or a call.")

    rows = list(record.pupils_seen.select_related("pupil"))
    for row in rows:
        problems.extend(_pupil_problems(row=row, nobody_answered=record.nobody_answered))
    return problems


def _pupil_problems(*, row: PupilSeen, nobody_answered: bool) -> list[str]:
    # R-REC-2: seen, spoken to, seen alone, and if not why; their words; how they presented.
    name = row.pupil.first_name
    if row.seen is None:
        return [f"Say whether {name} was seen."]
    problems = []
    if row.seen and nobody_answered:
        problems.append(f"No one answered, so {name} cannot have been seen.")
    if not (row.seen and row.spoken_to and row.seen_alone) and not row.why_not.strip():
        what = "seen" if not row.seen else ("spoken to" if not row.spoken_to else "seen alone")
        problems.append(
            f"Say why {name} was not {what}: you cannot insist on seeing a child, but the "
            "record says why."
        )
    if row.spoken_to and not row.seen:
        problems.append(f"{name} was spoken to but not seen: correct one of them.")
    if row.spoken_to and not row.child_said.strip():
        problems.append(f"Write what {name} said, in their own words.")
    if row.seen:
        if not row.physical_presentation.strip() or not row.emotional_presentation.strip():
            problems.append(f"Describe how {name} presented, physically and emotionally.")
        if not (row.clothing and row.hunger and row.cleanliness):
            problems.append(
                f"Record {name}'s clothing, whether they seemed hungry, and cleanliness."
            )
    return problems


@transaction.atomic
def record_submit(*, actor: User, visit: Visit) -> VisitRecord:
    """Submit the completed record and close the visit (R-REC-1, R-REC-3)."""
    _require_visitor(actor=actor, visit=visit)
    record = VisitRecord.objects.select_for_update().filter(visit=visit).first()
    if record is None:
        raise RecordBlocked("Complete the Home Visit form before submitting it.")
    problems = record_submission_problems(record=record)
    if problems:
        raise RecordBlocked(problems)
    now = timezone.now()
    moved = VisitRecord.objects.filter(pk=record.pk, status=VisitRecord.Status.DRAFT).update(
        status=VisitRecord.Status.SUBMITTED,
        submitted_by=actor,
        submitted_at=now,
        updated_at=now,
        version=F("version") + 1,
    )
    record.refresh_from_db()
    if not moved:
        return record  # submitted twice (a double-click, or both visitors): once is enough
    visit_mark_recorded(actor=actor, visit=visit, at=now)
    audit_event_create(
        actor=actor,
        school=record.school,
        obj=record,
        event_type="record.submitted",
        changes={"outcome": record.outcome, "visit": visit.pk},
    )
    return record


# Concerns ------------------------------------------------------------------------------------


@transaction.atomic
def concern_raise(
    *,
    actor: User,
    visit: Visit,
    level: str,
    details: str,
    pupil: Pupil | None = None,
    instruction_seen: bool = False,
) -> Concern:
    """R-REC-4: a concern alerts the school's DSLs at once, by email and on their dashboard.
    "Immediate risk of harm" first shows the instruction to call the duty team or 999."""
    if not details.strip():
        raise RecordBlocked("Describe the concern: what was seen or said, and by whom.")
    if level not in Concern.Level.values:
        raise RecordBlocked("Choose how serious the concern is.")
    if pupil is not None and not visit.pupils.filter(pk=pupil.pk).exists():
        raise RecordBlocked("The concern can only be about a pupil on this visit.")
    if level == Concern.Level.IMMEDIATE and not instruction_seen:
        # R-REC-4: the instruction comes first (001 §4, 004 "CONTACT THE DUTY TEAM").
        raise ImmediateRiskInstructionNotSeen(
            "A child at immediate risk of harm: call the duty team (children's social care) now, "
            "or 999 if the child is in danger. Then confirm below."
        )
    now = timezone.now()
    concern = Concern.objects.create(
        school_id=visit.school_id,
        visit=visit,
        pupil=pupil,
        level=level,
        details=details.strip(),
        instruction_seen_at=now if level == Concern.Level.IMMEDIATE else None,
        raised_by=actor,
        raised_at=now,
    )
    audit_event_create(
        actor=actor,
        school=visit.school,
        obj=concern,
        event_type="concern.raised",
        changes={"level": level, "visit": visit.pk, "pupil": pupil.pk if pupil else None},
    )
    notify.concern_alert_later(concern=concern)
    return concern


@transaction.atomic
def concern_acknowledge(*, actor: User, concern: Concern, notes: str = "") -> Concern:
    """A DSL or the Headteacher has read the concern; it leaves the dashboard (R-REC-4)."""
    _require_senior(actor=actor, school=concern.school, what="acknowledge a concern")
    now = timezone.now()
    moved = Concern.objects.filter(pk=concern.pk, acknowledged_at__isnull=True).update(
        acknowledged_by=actor, acknowledged_at=now, acknowledgement_notes=notes.strip()
    )
    concern.refresh_from_db()
    if moved:
        audit_event_create(
            actor=actor,
            school=concern.school,
            obj=concern,
            event_type="concern.acknowledged",
            changes={"notes": notes.strip()},
        )
    return concern


# Actions -------------------------------------------------------------------------------------


def _check_owner(*, owner: User, school: School) -> None:
    if not Membership.objects.filter(
        user=owner, school=school, role__in=ACTION_OWNER_ROLES, user__is_active=True
    ).exists():
        raise RecordBlocked(
            f"{owner} cannot own an action at {school}: choose a member of staff or a DSL."
        )


@transaction.atomic
def action_create(
    *,
    actor: User,
    visit: Visit,
    description: str,
    owner: User,
    due_on: datetime.date,
    pupil: Pupil | None = None,
) -> Action:
    """R-REC-6: an action from a visit has an owner, a due date and a status."""
    problems = []
    if not description.strip():
        problems.append("Say what needs to be done.")
    if due_on < timezone.localdate():
        problems.append("The due date cannot be in the past.")
    if pupil is not None and not visit.pupils.filter(pk=pupil.pk).exists():
        problems.append("The action can only be about a pupil on this visit.")
    if problems:
        raise RecordBlocked(problems)
    _check_owner(owner=owner, school=visit.school)
    action = Action.objects.create(
        school_id=visit.school_id,
        visit=visit,
        pupil=pupil,
        description=description.strip(),
        owner=owner,
        due_on=due_on,
        created_by=actor,
        created_at=timezone.now(),
    )
    audit_event_create(
        actor=actor,
        school=visit.school,
        obj=action,
        event_type="action.created",
        changes={"owner": owner.pk, "due_on": due_on.isoformat(), "visit": visit.pk},
    )
    if owner.pk != actor.pk:
        notify.action_owner_tell_later(action=action, name="action_assigned")
    return action


@transaction.atomic
def action_status_set(*, actor: User, action: Action, status: str, notes: str = "") -> Action:
    """The owner (or a DSL) moves an open action on; a done or cancelled action is closed."""
    if actor.pk != action.owner_id:
        _require_senior(actor=actor, school=action.school, what="update someone else's action")
    if status not in Action.Status.values:
        raise RecordBlocked("Choose the action's status.")
    if status == Action.Status.CANCELLED and not notes.strip():
        raise RecordBlocked("Say why the action is no longer needed.")
    now = timezone.now()
    closing = status in (Action.Status.DONE, Action.Status.CANCELLED)
    before = action.status
    moved = Action.objects.filter(pk=action.pk, status__in=Action.OPEN_STATUSES).update(
        status=status, status_notes=notes.strip(), closed_at=now if closing else None
    )
    action.refresh_from_db()
    if not moved:
        raise RecordConflict(
            f"This action is already {action.get_status_display().lower()} and closed."
        )
    audit_event_create(
        actor=actor,
        school=action.school,
        obj=action,
        event_type="action.status_changed",
        changes={"status": [before, status], "notes": notes.strip()},
    )
    return action


@transaction.atomic
def action_reassign(*, actor: User, action: Action, to_owner: User, reason: str) -> Action:
    """R-REC-6: a DSL or the Headteacher (the Senior DSL, 004) reassigns an action; who, when
    and why are kept."""
    _require_senior(actor=actor, school=action.school, what="reassign an action")
    if not reason.strip():
        raise RecordBlocked("Say why the action is being reassigned.")
    if to_owner.pk == action.owner_id:
        raise RecordBlocked(f"{to_owner} already owns this action.")
    _check_owner(owner=to_owner, school=action.school)
    from_owner_id = action.owner_id
    now = timezone.now()
    moved = Action.objects.filter(
        pk=action.pk, owner_id=from_owner_id, status__in=Action.OPEN_STATUSES
    ).update(owner=to_owner)
    action.refresh_from_db()
    if not moved:
        raise RecordConflict(
            "This action changed while you were reassigning it "
            f"(it is {action.get_status_display().lower()}, owned by {action.owner}). "
            "Nothing was changed."
        )
    ActionReassignment.objects.create(
        action=action,
        from_owner_id=from_owner_id,
        to_owner=to_owner,
        reassigned_by=actor,
        reassigned_at=now,
        reason=reason.strip(),
    )
    audit_event_create(
        actor=actor,
        school=action.school,
        obj=action,
        event_type="action.reassigned",
        changes={"owner": [from_owner_id, to_owner.pk], "reason": reason.strip()},
    )
    if to_owner.pk != actor.pk:
        notify.action_owner_tell_later(action=action, name="action_assigned")
    return action


# The reminder before the record falls due (R-REC-3) -------------------------------------------


def record_reminders_claim(*, now: datetime.datetime | None = None) -> list[int]:
    """Create the reminder of every returned visit whose record falls due within
    RECORD_REMINDER_HOURS_BEFORE hours, once per visit, and enqueue their sends on commit.

    Run by beat (records.tasks.record_reminders_scan). Safe to run twice or concurrently: the
    unique reminder row decides who claimed a visit. Also re-enqueues reminders still PENDING a
    few minutes after they were claimed (a lost broker message); sending claims each row, so a
    second enqueue never sends twice. Returns the ids enqueued.
    """
    now = now or timezone.now()
    lead = datetime.timedelta(hours=settings.RECORD_REMINDER_HOURS_BEFORE)
    due_soon = Q(pk__in=[])
    for school in School.objects.only("pk", "record_deadline_hours"):
        deadline = datetime.timedelta(hours=school.record_deadline_hours)
        due_soon |= Q(school_id=school.pk, returned_at__lte=now - deadline + lead)
    visits = Visit.objects.filter(
        due_soon, status=VisitStatus.RETURNED, record_reminder__isnull=True
    ).select_related("school")
    enqueue = []
    for visit in visits:
        try:
            with transaction.atomic():
                reminder = RecordReminder.objects.create(visit=visit, due_at=record_due_at(visit))
        except IntegrityError:
            continue  # another scan claimed it first
        enqueue.append(reminder.pk)
    stale = RecordReminder.objects.filter(
        status=RecordReminder.Status.PENDING, created_at__lt=now - datetime.timedelta(minutes=3)
    ).values_list("pk", flat=True)
    enqueue.extend(pk for pk in stale if pk not in enqueue)
    for reminder_id in enqueue:
        notify.record_reminder_later(reminder_id=reminder_id)
    return enqueue


def record_reminder_send(*, reminder_id: int) -> bool:
    """Send one reminder to the visitors, at most once. Returns whether it was sent."""
    claimed = RecordReminder.objects.filter(
        pk=reminder_id, status=RecordReminder.Status.PENDING
    ).update(status=RecordReminder.Status.SENDING)
    if not claimed:
        return False  # already sent, or being sent by another worker
    reminder = RecordReminder.objects.select_related("visit__school").get(pk=reminder_id)
    if reminder.visit.status != VisitStatus.RETURNED:
        RecordReminder.objects.filter(pk=reminder_id).update(status=RecordReminder.Status.SKIPPED)
        return False
    notify.record_reminder_email(reminder=reminder)
    RecordReminder.objects.filter(pk=reminder_id).update(
        status=RecordReminder.Status.SENT, sent_at=timezone.now()
    )
    return True
