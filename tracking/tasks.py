"""Celery adapters: ids in, a service call out. No ETA or countdown tasks: the ladder's times
live in the database and the scan reads them (R-ESC-5)."""

from celery import shared_task

from . import ladder, outbox


@shared_task(ignore_result=True)
def escalation_scan() -> None:
    """Run by beat every ESCALATION_SCAN_SECONDS (expires after one interval, so a backlog of
    scans after an outage collapses into the next one)."""
    ladder.escalation_scan()


@shared_task(ignore_result=True)
def notification_send(*, notification_id: int) -> None:
    """Send one email or SMS of the outbox. A failure is recorded on the row and retried by the
    scan with backoff; a crash mid-send leaves it for the scan to mark in doubt."""
    outbox.notification_send(notification_id=notification_id)
