"""What changed in a model instance, for an audit event's `changes`."""

from django.db import models


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
