from django import template

register = template.Library()

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


@register.filter
def event_label(event_type: str) -> str:
    return EVENT_LABELS.get(
        event_type, event_type.replace(".", ": ").replace("_", " ").capitalize()
    )
