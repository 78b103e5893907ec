from django.utils import timezone

from .models import Heartbeat

ESCALATION_SCAN = "escalation-scan"


def heartbeat_beat(*, name: str) -> Heartbeat:
    beat, _ = Heartbeat.objects.update_or_create(
        name=name, defaults={"last_ran_at": timezone.now()}
    )
    return beat
