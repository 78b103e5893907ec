"""Reads of records, concerns, actions and the chronology that apply the access rules.

R-SEC-1: only the visitors, the DSLs and the Headteacher (and trust leads) read records and
concerns; office staff and managers never. As everywhere:
- an object of another school: 404;
- an object of the user's school that their role may not read: 403.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from contacts.models import ContactLog
from schools.models import Pupil, School, User
from schools.selectors import (
    object_for_user,
    schools_for_user,
    schools_requiring,
    schools_with_permission,
)
from visits.models import Authorisation, Visit, Visitor
from visits.models import Status as VisitStatus

from .models import Action, ActionReassignment, Concern, PupilSeen, VisitRecord
from .services import ACTION_OWNER_ROLES, record_due_at

READ_RECORDS = "view_records"


def _visit_queryset() -> QuerySet[Visit]:
    return Visit.objects.select_related(
        "school", "household", "requested_by", "authorised_by", "risk_assessment"
    ).prefetch_related(
        "pupils",
        Prefetch(
            "visitors",
            queryset=Visitor.objects.select_related("user__profile").order_by("id"),
        ),
    )


def is_active_visitor(user: User, visit: Visit) -> bool:
    """A visitor who went (not one who withdrew). Reads the prefetched visitors."""
    return any(v.user_id == user.pk and v.withdrawn_at is None for v in visit.visitors.all())


# R-SEC-1: what a visitor may read -----------------------------------------------------------
#
# The DSLs, the Headteacher and trust leads (view_records at the school) read a pupil's whole
# file. Anyone else reads only what belongs to the visits they went on, and only once the visit
# was authorised: a draft, a visit waiting for authorisation, sent back for changes or refused
# opens nothing (anyone can list themself as a visitor on a draft). A cancelled visit stays open
# to its visitors only if they had signed out on it (they went). Of the concerns, a visitor reads
# only the ones they raised themselves; other people's concerns are for the DSLs.

VISITOR_READABLE_STATUSES = (
    VisitStatus.AUTHORISED,
    VisitStatus.OUT,
    VisitStatus.RETURNED,
    VisitStatus.RECORDED,
)


def _opened_to_its_visitors(visit: Visit) -> bool:
    """R-SEC-1: the visit is authorised or later (or was cancelled after they went out)."""
    if visit.status in VISITOR_READABLE_STATUSES:
        return True
    return visit.status == VisitStatus.CANCELLED and visit.signed_out_at is not None


def _visits_opened_to(user: User) -> Q:
    """R-SEC-1, as a filter on Visit: the visits `user` went on that open their file to them.
    One filter() call, so the two visitor conditions apply to the same visitor row."""
    went = Q(visitors__user=user, visitors__withdrawn_at__isnull=True)
    opened = Q(status__in=VISITOR_READABLE_STATUSES) | Q(
        status=VisitStatus.CANCELLED, signed_out_at__isnull=False
    )
    return went & opened


def can_read_records(user: User, visit: Visit) -> bool:
    # R-SEC-1: the DSLs and the Headteacher; the visitors once the visit is authorised; never
    # the office.
    if user.has_perm(f"schools.{READ_RECORDS}", visit.school):
        return True
    return is_active_visitor(user, visit) and _opened_to_its_visitors(visit)


@dataclass(frozen=True)
class PupilFileScope:
    """R-SEC-1: how much of one pupil's file one user reads. `whole`: everything (DSLs, the
    Headteacher, trust leads); otherwise only what belongs to `visit_ids`, and of the concerns
    only those `user_id` raised. Every document route reads a pupil's file through this."""

    user_id: int
    whole: bool
    visit_ids: frozenset[int] = frozenset()

    @property
    def reads_anything(self) -> bool:
        return self.whole or bool(self.visit_ids)


def pupil_file_scope(*, user: User, pupil: Pupil) -> PupilFileScope:
    """R-SEC-1: what `user` may read of `pupil`'s file (see above). Does not raise."""
    if user.has_perm(f"schools.{READ_RECORDS}", pupil.school):
        return PupilFileScope(user_id=user.pk, whole=True)
    visits = Visit.objects.filter(pupils=pupil, school_id=pupil.school_id).filter(
        _visits_opened_to(user)
    )
    return PupilFileScope(
        user_id=user.pk, whole=False, visit_ids=frozenset(visits.values_list("pk", flat=True))
    )


def pupil_file_scope_get(
    *, user: User, pk, whole_file: bool = False
) -> tuple[Pupil, PupilFileScope]:
    """A pupil and what `user` may read of their file (R-SEC-1): another school's pupil 404;
    nothing to read (or `whole_file` wanted and not granted) 403."""
    try:
        pupil = (
            Pupil.objects.select_related("school", "household")
            .filter(school__in=schools_for_user(user))
            .get(pk=pk)
        )
    except Pupil.DoesNotExist as error:
        raise Http404("Not found.") from error
    scope = pupil_file_scope(user=user, pupil=pupil)
    if whole_file and not scope.whole:
        raise PermissionDenied("The whole safeguarding file is for the DSLs and the Headteacher.")
    if not scope.reads_anything:
        raise PermissionDenied(
            "Only the DSLs, the Headteacher and the staff who went on an authorised visit to "
            "this pupil read their records."
        )
    return pupil, scope


def record_visit_get(*, user: User, pk) -> Visit:
    """A visit whose record, concerns and actions `user` may read (R-SEC-1)."""
    try:
        visit = _visit_queryset().filter(school__in=schools_for_user(user)).get(pk=pk)
    except Visit.DoesNotExist as error:
        raise Http404("Not found.") from error
    if not can_read_records(user, visit):
        raise PermissionDenied(
            "Only the visitors, the DSLs and the Headteacher read Home Visit records."
        )
    return visit


def record_visit_get_for_edit(*, user: User, pk) -> Visit:
    """A visit whose Home Visit form `user` completes: its visitors only (R-REC-1). Before the
    visit is authorised the page says the form opens on return; no record exists before return
    (record_save refuses), so nothing of the file is read here (R-SEC-1)."""
    try:
        visit = _visit_queryset().filter(school__in=schools_for_user(user)).get(pk=pk)
    except Visit.DoesNotExist as error:
        raise Http404("Not found.") from error
    if not is_active_visitor(user, visit):
        raise PermissionDenied("Only the visitors on this visit complete its Home Visit form.")
    return visit


def record_for_visit(*, visit: Visit) -> VisitRecord | None:
    return (
        VisitRecord.objects.select_related("started_by", "submitted_by", "school")
        .prefetch_related(
            Prefetch("pupils_seen", queryset=PupilSeen.objects.select_related("pupil"))
        )
        .filter(visit=visit)
        .first()
    )


def record_page(*, visit: Visit, reader: User) -> dict:
    """Everything the record page and the Home Visits form PDF show about a visit to `reader`
    (who may read it: record_visit_get). R-SEC-1: a visitor sees only the concerns they raised."""
    record = record_for_visit(visit=visit)
    concerns = Concern.objects.filter(visit=visit)
    if not reader.has_perm(f"schools.{READ_RECORDS}", visit.school):
        concerns = concerns.filter(raised_by=reader)
    answers = {row.pupil_id: row for row in record.pupils_seen.all()} if record else {}
    return {
        "visit": visit,
        "record": record,
        "pupil_rows": [(pupil, answers.get(pupil.pk)) for pupil in visit.pupils.all()],
        "due_at": record_due_at(visit),
        "now": timezone.now(),
        "concerns": list(concerns.select_related("raised_by", "acknowledged_by", "pupil")),
        "actions": list(
            Action.objects.filter(visit=visit)
            .select_related("owner", "created_by", "pupil")
            .prefetch_related(_reassignments())
        ),
    }


def _reassignments() -> Prefetch:
    return Prefetch(
        "reassignments",
        queryset=ActionReassignment.objects.select_related(
            "from_owner", "to_owner", "reassigned_by"
        ),
    )


def concern_get(*, user: User, pk) -> Concern:
    """A concern for a DSL or the Headteacher to acknowledge."""
    return object_for_user(
        Concern.objects.select_related("school", "visit", "raised_by", "pupil"),
        user,
        pk=pk,
        perm=READ_RECORDS,
    )


def action_get(*, user: User, pk) -> Action:
    """An action its owner, or a DSL or the Headteacher, may see and update."""
    try:
        action = (
            Action.objects.select_related("school", "visit", "owner", "created_by", "pupil")
            .prefetch_related(_reassignments())
            .filter(school__in=schools_for_user(user))
            .get(pk=pk)
        )
    except Action.DoesNotExist as error:
        raise Http404("Not found.") from error
    if action.owner_id != user.pk and not user.has_perm(f"schools.{READ_RECORDS}", action.school):
        raise PermissionDenied("Only the action's owner, a DSL or the Headteacher can see it.")
    return action


def action_owner_choices(*, school: School) -> QuerySet[User]:
    """Who may own an action at `school` (R-REC-6)."""
    return User.objects.filter(
        memberships__school=school, memberships__role__in=ACTION_OWNER_ROLES, is_active=True
    ).distinct()


# The DSL dashboard: overdue records, open concerns, overdue actions -------------------------


def overdue_records(*, user: User, now: datetime.datetime | None = None) -> list[Visit]:
    """R-REC-3: returned visits whose record is more than the deadline (24 h) past return, at
    the schools where `user` reads records, oldest first. Each visit carries `.due_at`."""
    now = now or timezone.now()
    schools = list(schools_requiring(user, READ_RECORDS).only("pk", "record_deadline_hours"))
    overdue = Q(pk__in=[])
    for school in schools:
        deadline = datetime.timedelta(hours=school.record_deadline_hours)
        overdue |= Q(school_id=school.pk, returned_at__lte=now - deadline)
    visits = list(
        _visit_queryset()
        .filter(overdue, status=VisitStatus.RETURNED)
        .select_related("record")
        .order_by("returned_at", "pk")
    )
    for visit in visits:
        visit.due_at = record_due_at(visit)
    return visits


def open_concerns(*, user: User) -> QuerySet[Concern]:
    """R-REC-4: concerns no DSL has acknowledged yet, immediate risk first, then newest."""
    schools = schools_requiring(user, READ_RECORDS)
    return (
        Concern.objects.filter(school__in=schools, acknowledged_at__isnull=True)
        .select_related("school", "visit", "raised_by", "pupil")
        .order_by("-level", "-raised_at")  # "immediate" > "concern": immediate risk first
    )


def overdue_actions(*, user: User, today: datetime.date | None = None) -> QuerySet[Action]:
    """R-REC-6: open actions past their due date at the schools where `user` reads records."""
    today = today or timezone.localdate()
    schools = schools_requiring(user, READ_RECORDS)
    return (
        Action.objects.filter(school__in=schools, status__in=Action.OPEN_STATUSES, due_on__lt=today)
        .select_related("school", "visit", "owner", "pupil")
        .order_by("due_on", "pk")
    )


def my_actions(*, user: User) -> QuerySet[Action]:
    """R-REC-6: the open actions `user` owns, soonest due first."""
    return (
        Action.objects.filter(
            owner=user, status__in=Action.OPEN_STATUSES, school__in=schools_for_user(user)
        )
        .select_related("school", "visit", "owner", "pupil")
        .order_by("due_on", "pk")
    )


def dsl_panel(*, user: User) -> dict:
    """Context for templates/records/includes/dsl_panel.html, for any DSL page to include."""
    return {
        "overdue_records": overdue_records(user=user),
        "open_concerns": list(open_concerns(user=user)),
        "overdue_actions": list(overdue_actions(user=user)),
        "today": timezone.localdate(),
    }


def my_actions_panel(*, user: User) -> dict:
    """Context for templates/records/includes/my_actions.html (the staff dashboard)."""
    return {"my_actions": list(my_actions(user=user)), "today": timezone.localdate()}


def paper_form_schools(*, user: User) -> list[School]:
    """Context for templates/records/includes/paper_forms.html: where `user` may print blanks."""
    return list(schools_with_permission(user, "request_visits"))


def can_read_any_records(user: User) -> bool:
    return schools_with_permission(user, READ_RECORDS).exists()


# The pupil's chronology ---------------------------------------------------------------------


CHRONOLOGY_KINDS = {
    "visit": "Visits",
    "contact": "Contact attempts",
    "authorisation": "Authorisations",
    "record": "Records",
    "concern": "Concerns",
    "action": "Actions",
}


@dataclass(frozen=True)
class ChronologyEntry:
    kind: str
    at: datetime.datetime
    title: str
    who: str = ""
    detail: str = ""
    quote: str = ""  # the child's own words, kept as typed
    url: str = ""
    urgent: bool = False

    @property
    def kind_label(self) -> str:
        return CHRONOLOGY_KINDS[self.kind]


def _when(value) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")


def chronology(
    *, pupil: Pupil, scope: PupilFileScope, kinds: list[str] | None = None
) -> list[ChronologyEntry]:
    """Everything about `pupil` in time order (R-REC-7): visits, contact attempts, the
    authorisations, the records, concerns and actions, cut down to what `scope` reads (R-SEC-1:
    a visitor, only their visits' part). One query per kind, whatever the rows."""
    wanted = set(kinds or CHRONOLOGY_KINDS) & set(CHRONOLOGY_KINDS)
    entries: list[ChronologyEntry] = []
    builders = {
        "visit": _visit_entries,
        "contact": _contact_entries,
        "authorisation": _authorisation_entries,
        "record": _record_entries,
        "concern": _concern_entries,
        "action": _action_entries,
    }
    for kind in CHRONOLOGY_KINDS:
        if kind in wanted:
            entries.extend(builders[kind](pupil, scope))
    # At the same minute, things happen in the order a visit runs: authorised, then out.
    order = ("contact", "authorisation", "visit", "record", "concern", "action")
    entries.sort(key=lambda entry: (entry.at, order.index(entry.kind)))
    return entries


def _visit_entries(pupil: Pupil, scope: PupilFileScope):
    visits = (
        Visit.objects.filter(pupils=pupil)
        .exclude(status=VisitStatus.DRAFT)
        .select_related("requested_by", "cancelled_by")
        .prefetch_related(Prefetch("visitors", queryset=Visitor.objects.select_related("user")))
    )
    if not scope.whole:
        visits = visits.filter(pk__in=scope.visit_ids)
    for visit in visits:
        names = ", ".join(str(v.user) for v in visit.visitors.all() if v.withdrawn_at is None)
        detail = visit.purpose
        if visit.status == VisitStatus.CANCELLED:
            detail = f"Cancelled by {visit.cancelled_by}: {visit.cancel_reason}"
        yield ChronologyEntry(
            kind="visit",
            at=visit.signed_out_at or visit.planned_start,
            title=f"{visit.get_kind_display()} #{visit.pk} — {visit.get_status_display()}",
            who=f"Visitors: {names}" if names else f"Requested by {visit.requested_by}",
            detail=f"{visit.reason_text}. {detail}",
        )


def _contact_entries(pupil: Pupil, scope: PupilFileScope):
    # R-REC-7: every contact or attempt with the family, for the pupil or their household.
    contacts = ContactLog.objects.filter(
        Q(pupil=pupil) | Q(pupil__isnull=True, household_id=pupil.household_id)
    ).select_related("recorded_by", "contact_number", "professional")
    if not scope.whole:
        contacts = contacts.filter(visit_id__in=scope.visit_ids)
    for contact in contacts:
        whom = (
            str(contact.contact_number)
            if contact.contact_number
            else str(contact.professional or contact.contacted or contact.number_or_address)
        )
        yield ChronologyEntry(
            kind="contact",
            at=contact.occurred_at,
            title=f"{contact.get_channel_display()} — {contact.get_outcome_display()}",
            who=f"By {contact.recorded_by}",
            detail=" · ".join(
                part for part in (contact.get_counterpart_display(), whom, contact.notes) if part
            ),
        )


def _authorisation_entries(pupil: Pupil, scope: PupilFileScope):
    decisions = Authorisation.objects.filter(visit__pupils=pupil).select_related("decided_by")
    if not scope.whole:
        decisions = decisions.filter(visit_id__in=scope.visit_ids)
    for decision in decisions:
        yield ChronologyEntry(
            kind="authorisation",
            at=decision.decided_at,
            title=f"Visit #{decision.visit_id} {decision.get_decision_display().lower()}",
            who=f"By {decision.decided_by}",
            detail=decision.conditions or decision.reason,
        )


def _record_entries(pupil: Pupil, scope: PupilFileScope):
    rows = PupilSeen.objects.filter(
        pupil=pupil, record__status=VisitRecord.Status.SUBMITTED
    ).select_related("record__submitted_by")
    if not scope.whole:
        rows = rows.filter(record__visit_id__in=scope.visit_ids)
    for row in rows:
        record = row.record
        seen = "Seen" if row.seen else "Not seen"
        if row.seen:
            seen += ", spoken to" if row.spoken_to else ", not spoken to"
            seen += ", seen alone" if row.seen_alone else ", not seen alone"
        detail = f"{seen}. {row.why_not}".strip() + f" Outcome: {record.get_outcome_display()}."
        yield ChronologyEntry(
            kind="record",
            at=record.submitted_at,
            title=f"Home Visit record of visit #{record.visit_id}",
            who=f"By {record.submitted_by}",
            detail=detail,
            quote=row.child_said,
            url=reverse("records:record", args=[record.visit_id]),
        )


def _concern_entries(pupil: Pupil, scope: PupilFileScope):
    concerns = (
        Concern.objects.filter(Q(pupil=pupil) | Q(pupil__isnull=True, visit__pupils=pupil))
        .select_related("raised_by", "acknowledged_by")
        .distinct()
    )
    if not scope.whole:  # R-SEC-1: never other people's concerns
        concerns = concerns.filter(visit_id__in=scope.visit_ids, raised_by_id=scope.user_id)
    for concern in concerns:
        seen = (
            f" Acknowledged by {concern.acknowledged_by}, {_when(concern.acknowledged_at)}."
            if concern.acknowledged_at
            else " Not yet acknowledged by a DSL."
        )
        yield ChronologyEntry(
            kind="concern",
            at=concern.raised_at,
            title=concern.get_level_display(),
            who=f"Raised by {concern.raised_by}",
            detail=concern.details + seen,
            url=reverse("records:record", args=[concern.visit_id]),
            urgent=concern.is_immediate,
        )


def _action_entries(pupil: Pupil, scope: PupilFileScope):
    actions = (
        Action.objects.filter(Q(pupil=pupil) | Q(pupil__isnull=True, visit__pupils=pupil))
        .select_related("owner", "created_by")
        .prefetch_related(_reassignments())
        .distinct()
    )
    if not scope.whole:
        actions = actions.filter(visit_id__in=scope.visit_ids)
    for action in actions:
        yield ChronologyEntry(
            kind="action",
            at=action.created_at,
            title=(
                f"Action for {action.owner}, due {action.due_on:%d/%m/%Y} — "
                f"{action.get_status_display()}"
            ),
            who=f"Set by {action.created_by}",
            detail=action.description,
            url=reverse("records:action", args=[action.pk]),
        )
        for move in action.reassignments.all():
            yield ChronologyEntry(
                kind="action",
                at=move.reassigned_at,
                title=f"Action reassigned from {move.from_owner} to {move.to_owner}",
                who=f"By {move.reassigned_by}",
                detail=move.reason,
                url=reverse("records:action", args=[action.pk]),
            )


# The export for the school's safeguarding system ---------------------------------------------


def export_visits(*, school: School, start: datetime.date, end: datetime.date) -> QuerySet[Visit]:
    """Visits planned to start between `start` and `end` (inclusive, school time), with what the
    CSV export needs, in a constant number of queries."""
    tz = timezone.get_current_timezone()
    since = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    day_after = end + datetime.timedelta(days=1)
    until = datetime.datetime.combine(day_after, datetime.time.min, tzinfo=tz)
    return (
        Visit.objects.filter(school=school, planned_start__gte=since, planned_start__lt=until)
        .exclude(status=VisitStatus.DRAFT)
        .select_related("school", "household", "authorised_by", "record__submitted_by")
        .prefetch_related(
            "pupils",
            Prefetch("visitors", queryset=Visitor.objects.select_related("user")),
            Prefetch("record__pupils_seen"),
            "concerns",
            "actions",
        )
        .order_by("planned_start", "pk")
    )


def export_schools(*, user: User) -> QuerySet[School]:
    return schools_requiring(user, READ_RECORDS)
