from datetime import timedelta

from django.utils import timezone

from .models import Heartbeat
from .services import ESCALATION_SCAN

STALE_AFTER = timedelta(minutes=2)


def escalation_heartbeat() -> dict:
    """How long ago the escalation scan last ran, and whether that is too long."""
    beat = Heartbeat.objects.filter(name=ESCALATION_SCAN).first()
    if beat is None:
        return {"last_ran_at": None, "seconds_ago": None, "stale": True}
    ago = timezone.now() - beat.last_ran_at
    return {
        "last_ran_at": beat.last_ran_at,
        "seconds_ago": int(ago.total_seconds()),
        "stale": ago > STALE_AFTER,
    }
