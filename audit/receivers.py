"""What the audit trail records of the apps below it.

`schools` sits below `audit` and cannot import it, so the directory's writes announce themselves
with `schools.signals.directory_changed`, sent inside their transaction; the audit row is written
here, in the same transaction (docs/architecture.md, "One-way dependencies").
"""

from schools import signals as schools_signals

from .services import audit_event_create


def directory_changed(sender, *, actor, school, obj, event_type, changes=None, **kwargs):
    audit_event_create(actor=actor, school=school, obj=obj, event_type=event_type, changes=changes)


def connect() -> None:
    schools_signals.directory_changed.connect(
        directory_changed, dispatch_uid="audit.directory_changed"
    )
