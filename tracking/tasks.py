from celery import shared_task

from .services import ESCALATION_SCAN, heartbeat_beat


@shared_task(ignore_result=True)
def escalation_scan() -> None:
    """Run by beat every ESCALATION_SCAN_SECONDS. For now it records the heartbeat only."""
    heartbeat_beat(name=ESCALATION_SCAN)
