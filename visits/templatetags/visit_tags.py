from django import template

from visits.timeline import event_label as _event_label

register = template.Library()


@register.filter
def event_label(event_type: str) -> str:
    """How an audit trail event type reads on a visit's page (visits.timeline.EVENT_LABELS)."""
    return _event_label(event_type)
