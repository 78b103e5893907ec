"""What the tracking service modules share, at the bottom of the app: the two refusals every
change can raise (TrackingBlocked: the rules say no; TrackingConflict: somebody else got there
first), `_event`, which puts a change on the sign-out's timeline (a TrackingEvent row), and
`ladder_minute` (tracking.ladder and tracking.outbox both count in it).

Nothing here imports the other tracking service modules; they all import this.
"""

import datetime

from django.conf import settings
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


def ladder_minute() -> datetime.timedelta:
    """A minute of the school's ladder settings. Always 60 s, except in bench/escalation.py,
    which compresses minutes to seconds to run hundreds of ladders in a few minutes."""
    return datetime.timedelta(seconds=settings.ESCALATION_MINUTE_SECONDS)
