"""What the visit service modules share, at the bottom of the app: the two refusals every
change can raise (VisitBlocked: the rules say no; VisitConflict: somebody else got there first).

Nothing here imports the other visit service modules; they all import this.
"""

from django.core.exceptions import ValidationError


class VisitBlocked(ValidationError):
    """The rules refuse this; each message names the rule in plain words."""


class VisitConflict(Exception):
    """Somebody else got there first (another DSL, another tab): nothing was changed."""
