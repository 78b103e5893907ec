"""What a visit asks of, and announces to, the apps above it (docs/architecture.md).

`visits` sits below risk assessment, tracking and records and never imports them. Where a visit's
rules or pages need them, it sends one of these signals and the higher app answers from a
receiver connected in its `AppConfig.ready()`. Every signal is sent inside the caller's
transaction, so what a receiver writes commits or rolls back with the visit.
"""

from django.dispatch import Signal

# Receivers return a list of messages saying what stops `visit` being submitted (R-RA-1…R-RA-7).
submission_checks = Signal()
# Receivers return a list of messages saying what stops `visit` being authorised (R-RA-3, R-CLO-1).
authorisation_checks = Signal()
# Sent when `visit` (kwargs: visit, actor) has been cancelled: tracking closes its sign-out.
visit_cancelled = Signal()
# Receivers return extra template context for a visits page (sender: "mine", "queue" or "decide";
# kwargs: user, and visit on "decide"): records adds the actions, concerns and overdue records
# panels; risk assessment adds the assessment an authoriser reads before deciding (R-AUTH-6).
page_panels = Signal()
# Receivers return a list of visits.timeline.TimelineEntry for `visit` (kwargs: visit), in a
# fixed number of queries: tracking adds the sign-out, the escalation ladder and its outcome.
timeline_entries = Signal()


def messages_from(signal: Signal, *, visit) -> list[str]:
    """Every message the receivers of `signal` give for `visit`, in the order they answered."""
    return [
        message
        for _, messages in signal.send(sender=type(visit), visit=visit)
        for message in messages
    ]


def panels_for(page: str, *, user, **kwargs) -> dict:
    context: dict = {}
    for _, extra in page_panels.send(sender=page, user=user, **kwargs):
        context.update(extra or {})
    return context
