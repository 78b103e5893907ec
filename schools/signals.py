"""What the directory announces to the apps above it (docs/architecture.md).

`directory_changed` is sent inside the transaction of every write to the directory (a school, a
role given or taken, a pupil, a household, an import) so that `audit` records it in the same
transaction (R-SEC-2): `directory_changed.send(sender=type(obj), actor=…, school=…, obj=…,
event_type=…, changes=…)`.
"""

from django.dispatch import Signal

directory_changed = Signal()


def directory_change_announce(*, actor, school, obj, event_type: str, changes=None) -> None:
    """Send `directory_changed` for `obj`; call it inside the write's transaction."""
    directory_changed.send(
        sender=type(obj),
        actor=actor,
        school=school,
        obj=obj,
        event_type=event_type,
        changes=changes,
    )
