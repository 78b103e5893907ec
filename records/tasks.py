"""Thin Celery adapters: ids in, records.services and records.notify do the work."""

from celery import shared_task

from . import notify, services


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def concern_alert_send(*, concern_id: int) -> None:
    notify.concern_alert_send(concern_id=concern_id)


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def action_owner_tell(*, action_id: int, name: str) -> None:
    notify.action_owner_tell(action_id=action_id, name=name)


@shared_task(ignore_result=True)
def record_reminders_scan() -> None:
    """Run by beat every RECORD_REMINDER_SCAN_SECONDS (R-REC-3)."""
    services.record_reminders_claim()


@shared_task(ignore_result=True)
def record_reminder_send(*, reminder_id: int) -> None:
    # Not retried automatically: a reminder that may have gone out is never sent again.
    services.record_reminder_send(reminder_id=reminder_id)
