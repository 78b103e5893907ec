"""Tracking's answers to what a visit announces (visits.signals). Connected in
TrackingConfig.ready()."""

from audit import signals as audit_signals
from visits import signals as visit_signals
from visits.describe import describe_by_visit

from . import ladder, visit_timeline


def visit_cancelled(sender, *, visit, actor, **kwargs) -> None:
    """A visit cancelled while out stops its escalation ladder (R-REQ-6, R-ESC-6)."""
    if visit.signed_out_at is not None:
        ladder.signout_close_for_cancelled_visit(actor=actor, visit=visit)


def timeline_entries(sender, *, visit, **kwargs) -> list:
    """The sign-out and the escalation ladder on the visit's timeline (issue 14)."""
    return visit_timeline.timeline_entries(visit=visit)


def objects_described(sender, *, wanted, **kwargs) -> dict:
    """Sign-outs named in plain words on the audit trail."""
    from .models import SignOut

    return describe_by_visit(SignOut, wanted, "Sign-out for {visit}")


def connect() -> None:
    audit_signals.objects_described.connect(
        objects_described, dispatch_uid="tracking.objects_described"
    )
    visit_signals.timeline_entries.connect(
        timeline_entries, dispatch_uid="tracking.timeline_entries"
    )
    visit_signals.visit_cancelled.connect(visit_cancelled, dispatch_uid="tracking.visit_cancelled")
