"""Visits' answers to what the apps below announce (audit.signals). Connected in
VisitsConfig.ready()."""

from audit import signals as audit_signals

from . import describe


def connect() -> None:
    audit_signals.objects_described.connect(
        describe.objects_described, dispatch_uid="visits.objects_described"
    )
