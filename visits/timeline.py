"""A visit's timeline in plain words (issue 14, point 8): what happened to the request and its
risk assessment (from the audit trail), and what the apps above add through
visits.signals.timeline_entries (tracking: the sign-out, the escalation ladder, calls and the
outcome). Reads are summed up in one line ("opened 6 times by 3 people"), and the same change
made again and again by one person shows once with a count. A fixed number of queries."""

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q

from audit.models import AuditEvent

from .models import Visit

# How the audit trail's event types read on a visit's timeline.
EVENT_LABELS = {
    "visit.created": "Request drafted",
    "visit.changed": "Request changed",
    "visit.submitted": "Submitted for authorisation",
    "visit.authorised": "Authorised",
    "visit.refused": "Refused",
    "visit.changes_requested": "Changes requested",
    "visit.returned_for_authorisation": "Sent back for authorisation after a change",
    "visit.head_consulted": "Headteacher consulted",
    "visit.cancelled": "Cancelled",
    "visit.visitor_withdrew": "A visitor withdrew",
    "visit.signed_out": "Signed out",
    "visit.returned": "Returned",
    "visit.recorded": "Home Visit record completed",
    "assessment.created": "Risk assessment made",
    "assessment.changed": "Risk assessment changed",
    "assessment.signed_off": "Risk assessment signed off",
    "assessment.reconfirmed": "Risk assessment re-confirmed",
}

# Changes made again and again read as one line with a count when nothing else came between.
REPEATABLE = {"visit.changed", "assessment.changed"}


def event_label(event_type: str) -> str:
    return EVENT_LABELS.get(
        event_type, event_type.replace(".", ": ").replace("_", " ").capitalize()
    )


@dataclass
class TimelineEntry:
    """One line of the timeline. `kind` says where it comes from ("request", "out" for the
    sign-out, "ladder" for an escalation step, "outcome"), for the page's styling."""

    at: datetime.datetime
    title: str
    actor: str = ""
    detail: str = ""
    kind: str = "request"
    times: int = 1
    first_at: datetime.datetime | None = None
    order: int = 0


@dataclass
class ReadSummary:
    """Who opened the visit or its assessment, how often, and when last."""

    times: int
    people: list[tuple[str, int]] = field(default_factory=list)
    last_at: datetime.datetime | None = None

    @property
    def words(self) -> str:
        people = len(self.people)
        return (
            f"Opened {self.times} time{'s' if self.times != 1 else ''} by {people} "
            f"{'person' if people == 1 else 'people'}"
        )


def _who(user) -> str:
    if user is None:
        return "Homeward"
    return user.get_full_name() or user.get_username()


def visit_timeline(*, visit: Visit) -> dict:
    """{"entries": [TimelineEntry…] in time order, "reads": ReadSummary | None}."""
    from . import signals

    objects = Q(object_type=Visit._meta.label_lower, object_id=str(visit.pk))
    try:
        assessment = visit.risk_assessment
    except ObjectDoesNotExist:
        assessment = None
    if assessment is not None:
        objects |= Q(object_type=assessment._meta.label_lower, object_id=str(assessment.pk))
    events = (
        AuditEvent.objects.filter(objects).select_related("actor").order_by("occurred_at", "pk")
    )
    entries: list[TimelineEntry] = []
    readers: Counter = Counter()
    last_read = None
    for event in events:
        if event.event_type.startswith("read."):
            readers[_who(event.actor)] += 1
            last_read = event.occurred_at
            continue
        previous = entries[-1] if entries else None
        if (
            previous is not None
            and event.event_type in REPEATABLE
            and previous.title == event_label(event.event_type)
            and previous.actor == _who(event.actor)
        ):
            previous.times += 1
            previous.first_at = previous.first_at or previous.at
            previous.at = event.occurred_at
            continue
        entries.append(
            TimelineEntry(
                at=event.occurred_at, title=event_label(event.event_type), actor=_who(event.actor)
            )
        )
    for _, extra in signals.timeline_entries.send(sender=Visit, visit=visit):
        entries.extend(extra or [])
    entries.sort(key=lambda entry: (entry.at, entry.order))
    reads = None
    if readers:
        reads = ReadSummary(
            times=sum(readers.values()), people=readers.most_common(), last_at=last_read
        )
    return {"entries": entries, "reads": reads}
