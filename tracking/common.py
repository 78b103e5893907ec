"""What the tracking service modules share, at the bottom of the app: the two refusals every
change can raise (TrackingBlocked: the rules say no; TrackingConflict: somebody else got there
first) and `_event`, which puts a change on the sign-out's timeline (a TrackingEvent row).

Nothing here imports the other tracking service modules; they all import this.
"""

from django.core.exceptions import ValidationError

from .models import TrackingEvent


class TrackingBlocked(ValidationError):
    """The rules refuse this; each message names the rule in plain words."""


class TrackingConflict(Exception):
    """Somebody else got there first (the visitor came back, another tab): nothing changed."""


def _event(signout, kind, *, via, actor=None, visitor=None, now, new_expected=None, reason=""):
    TrackingEvent.objects.create(
        signout=signout,
        kind=kind,
        via=via,
        occurred_at=now,
        recorded_by=actor if actor is not None and actor.is_authenticated else None,
        visitor=visitor,
        new_expected_return_at=new_expected,
        reason=reason,
    )
