"""What tracking adds to a visit's timeline (visits.signals.timeline_entries, issue 14 point 8):
while the visitors were out, what they and the office recorded, each step of the escalation
ladder, the office's calls, who took the case and how it ended. Six queries whatever happened."""

from visits.timeline import TimelineEntry

from .models import (
    Acknowledgement,
    CallAttempt,
    EscalationDecision,
    EscalationStep,
    SignOut,
    TrackingEvent,
)

# On the timeline already from the audit trail ("Signed out", "Returned").
_FROM_THE_AUDIT_TRAIL = {TrackingEvent.Kind.SIGNED_OUT, TrackingEvent.Kind.RETURNED}


def _who(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def timeline_entries(*, visit) -> list[TimelineEntry]:
    from .messages import local_time

    signout = SignOut.objects.filter(visit=visit).first()
    if signout is None:
        return []
    entries = []
    events = TrackingEvent.objects.filter(signout=signout).select_related("recorded_by", "visitor")
    for event in events:
        if event.kind in _FROM_THE_AUDIT_TRAIL:
            continue
        detail = []
        if event.new_expected_return_at:
            detail.append(f"back by {local_time(event.new_expected_return_at)}")
        if event.reason:
            detail.append(event.reason)
        detail.append(f"via {event.get_via_display()}")
        entries.append(
            TimelineEntry(
                at=event.occurred_at,
                title=event.get_kind_display(),
                actor=_who(event.visitor) or _who(event.recorded_by),
                detail="; ".join(detail),
                kind="out",
            )
        )
    for step in EscalationStep.objects.filter(signout=signout):
        entries.append(
            TimelineEntry(at=step.fired_at, title=step.get_kind_display(), kind="ladder", order=1)
        )
    for call in CallAttempt.objects.filter(signout=signout).select_related(
        "visitor", "recorded_by"
    ):
        to = _who(call.visitor) or "a visitor"
        entries.append(
            TimelineEntry(
                at=call.called_at,
                title=f"Call to {to}: {call.get_outcome_display()}",
                actor=_who(call.recorded_by),
                kind="ladder" if call.failed else "out",
                order=2,
            )
        )
    for ack in Acknowledgement.objects.filter(signout=signout).select_related("user"):
        entries.append(
            TimelineEntry(
                at=ack.acknowledged_at,
                title="Took the case",
                actor=_who(ack.user) or ack.label,
                detail=f"via {ack.get_via_display()}",
                kind="ladder",
                order=3,
            )
        )
    for decision in EscalationDecision.objects.filter(signout=signout).select_related(
        "recorded_by"
    ):
        title = decision.get_action_display()
        if decision.outcome:
            title += f" — {decision.get_outcome_display()}"
        entries.append(
            TimelineEntry(
                at=decision.recorded_at,
                title=title,
                actor=_who(decision.recorded_by),
                kind="outcome" if decision.outcome else "ladder",
                order=4,
            )
        )
    return entries
