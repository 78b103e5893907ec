"""Writing the audit trail (R-SEC-2, R-SEC-3). Every app records its changes and its reads of a
child's data here, inside the transaction of the change."""

from typing import Any

from django.db import models, transaction

from schools.models import School, User

from .models import AuditEvent


def audit_event_create(
    *,
    actor,
    school,
    obj: models.Model,
    event_type: str,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that `actor` did `event_type` to `obj`. Call it inside the change's transaction."""
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        school=school,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        event_type=event_type,
        changes=changes or {},
    )


def audit_events_create_many(*, actor, school, events) -> None:
    """Record many events at once, e.g. a sync run's: `events` are (obj, event_type, changes).
    Call it inside the changes' transaction."""
    AuditEvent.objects.bulk_create(
        (
            AuditEvent(
                actor=actor if actor is not None and actor.is_authenticated else None,
                school=school,
                object_type=obj._meta.label_lower,
                object_id=str(obj.pk),
                event_type=event_type,
                changes=changes or {},
            )
            for obj, event_type, changes in events
        ),
        batch_size=500,
    )


@transaction.atomic
def document_download_record(
    *, actor: User, school: School, obj: models.Model, document: str, details: dict | None = None
) -> AuditEvent:
    """R-SEC-3: printing or downloading a PDF (or an export) with personal data is audited."""
    return audit_event_create(
        actor=actor,
        school=school,
        obj=obj,
        event_type="document.downloaded",
        changes={"document": document, **(details or {})},
    )


def audit_read(*, actor, obj: models.Model, what: str, school=None) -> AuditEvent:
    """Record that `actor` opened `what` about `obj`: a visit, a pupil's page, a record, a concern,
    an assessment narrative, or a PDF ("pdf", R-SEC-3). Reads are audited like changes (R-SEC-2),
    as event type `read.<what>`; the school is the object's own unless given."""
    return audit_event_create(
        actor=actor,
        school=school if school is not None else _school_of(obj),
        obj=obj,
        event_type=f"read.{what}",
    )


def _school_of(obj: models.Model):
    for path in ("school", "visit.school", "household.school"):
        value = obj
        for part in path.split("."):
            value = getattr(value, part, None)
        if value is not None:
            return value
    return None
