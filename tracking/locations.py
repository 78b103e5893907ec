"""Location by choice (R-TRK-8; docs/escalation.md "Sharing where you are").

A check-in from the phone may carry the phone's position, only when the visitor ticks "share
my location with this check-in": static/js/share-location.js asks the browser (the Geolocation
API, which asks the visitor too) only then, never on its own and never in the background, and
fills four hidden fields. The server keeps it only with the box ticked and the numbers sane.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from audit.services import audit_event_create

from .models import CheckInLocation, SignOut

# A position the phone read more than this long ago is not "with this check-in".
OLDEST = datetime.timedelta(minutes=10)


def location_read(data) -> dict | None:
    """The shared position in a POST, or None: not shared (box not ticked, or the browser gave
    nothing), or not sane (off the Earth, accuracy not a distance, taken long ago or later)."""
    if data.get("share_location") != "1":
        return None
    try:
        latitude = Decimal(str(data.get("latitude", "")))
        longitude = Decimal(str(data.get("longitude", "")))
        accuracy = round(float(data.get("accuracy", "")))
        taken_ms = int(data.get("taken_at", ""))
    except (InvalidOperation, ValueError, OverflowError):
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180 and 0 <= accuracy <= 100_000):
        return None
    now = timezone.now()
    try:
        taken_at = datetime.datetime.fromtimestamp(taken_ms / 1000, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return None
    if taken_at > now + datetime.timedelta(minutes=1):
        taken_at = now  # a phone clock a little ahead: the check-in's own time
    if taken_at < now - OLDEST:
        return None
    return {
        "latitude": latitude.quantize(Decimal("0.000001")),
        "longitude": longitude.quantize(Decimal("0.000001")),
        "accuracy_m": accuracy,
        "taken_at": taken_at,
    }


def location_record(*, signout: SignOut, visitor, data, via: str) -> CheckInLocation | None:
    """Keep the position shared with a check-in (R-TRK-8). Audited without the coordinates."""
    position = location_read(data)
    if position is None:
        return None
    location = CheckInLocation.objects.create(
        signout=signout, visitor=visitor, recorded_at=timezone.now(), **position
    )
    audit_event_create(
        actor=None,
        school=signout.school,
        obj=signout,
        event_type="signout.location_shared",
        changes={"visitor": visitor.pk, "via": via, "accuracy_m": position["accuracy_m"]},
    )
    return location


def location_last(signout: SignOut) -> CheckInLocation | None:
    """The last position shared while the sign-out is open (R-TRK-8), for the emergency page
    and the Police briefing."""
    if not signout.is_open:
        return None
    return (
        CheckInLocation.objects.filter(signout=signout)
        .select_related("visitor")
        .order_by("-taken_at", "-pk")
        .first()
    )
