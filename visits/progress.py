"""A visit's progress after authorisation, in steps owned by other apps: tracking signs the
visitors out (R-TRK-1: authorised visits only) and back, records closes the visit once its record
is submitted. Each step is a conditional move from the status it expects, audited in the same
transaction; any other status is a VisitConflict.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from audit.services import audit_event_create
from schools.models import User
from schools.services import board_changed

from .common import VisitConflict
from .models import Status, Visit


def _move(*, actor, visit: Visit, old: tuple[str, ...], new: str, event: str, **fields) -> Visit:
    moved = Visit.objects.filter(pk=visit.pk, status__in=old).update(
        status=new, updated_at=timezone.now(), **fields
    )
    visit.refresh_from_db()
    if not moved:
        raise VisitConflict(
            f"This visit is {visit.get_status_display().lower()}: it cannot be {event}."
        )
    board_changed(visit.school_id)  # issue 15: the board's version, in this transaction
    audit_event_create(
        actor=actor,
        school=visit.school,
        obj=visit,
        event_type=f"visit.{event.replace(' ', '_')}",
        changes={k: str(v) for k, v in fields.items()},
    )
    return visit


@transaction.atomic
def visit_mark_out(*, actor: User | None, visit: Visit, at: datetime.datetime) -> Visit:
    # R-TRK-1: visitors cannot be signed out of an unauthorised visit.
    return _move(
        actor=actor,
        visit=visit,
        old=(Status.AUTHORISED,),
        new=Status.OUT,
        event="signed out",
        signed_out_at=at,
    )


@transaction.atomic
def visit_mark_returned(*, actor: User | None, visit: Visit, at: datetime.datetime) -> Visit:
    return _move(
        actor=actor,
        visit=visit,
        old=(Status.OUT,),
        new=Status.RETURNED,
        event="returned",
        returned_at=at,
    )


@transaction.atomic
def visit_mark_still_out(*, actor: User | None, visit: Visit) -> Visit:
    """R-TRK-4: the return was recorded by mistake: the visitors are still out."""
    return _move(
        actor=actor,
        visit=visit,
        old=(Status.RETURNED,),
        new=Status.OUT,
        event="still out",
        returned_at=None,
    )


@transaction.atomic
def visit_mark_recorded(*, actor: User | None, visit: Visit, at: datetime.datetime) -> Visit:
    return _move(
        actor=actor,
        visit=visit,
        old=(Status.RETURNED,),
        new=Status.RECORDED,
        event="recorded",
        recorded_at=at,
    )
