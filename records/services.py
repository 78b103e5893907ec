"""Writes to the records app. The audit trail is written only through `audit_event_create`."""

from typing import Any

from django.db import models

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


def model_changes(instance: models.Model, fields: list[str], before: dict) -> dict:
    """The fields of `instance` whose value differs from `before`, as {field: [old, new]}."""
    changed = {}
    for name in fields:
        new = getattr(instance, name)
        old = before.get(name)
        if old != new:
            changed[name] = [_jsonable(old), _jsonable(new)]
    return changed


def _jsonable(value):
    if isinstance(value, models.Model):
        return value.pk
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


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
