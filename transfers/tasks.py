"""Thin Celery adapters: ids in, transfers.services and transfers.notify do the work."""

from celery import shared_task

from . import notify, services


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def transfer_email(*, transfer_id: int, name: str) -> None:
    notify.transfer_email(transfer_id=transfer_id, name=name)


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def package_link_email(*, transfer_id: int, token: str) -> None:
    notify.package_link_email(transfer_id=transfer_id, token=token)


@shared_task(ignore_result=True)
def transfer_reminders_scan() -> None:
    """Run by beat every TRANSFER_REMINDER_SCAN_SECONDS (R-REC-8)."""
    services.transfer_reminders_claim()


@shared_task(ignore_result=True)
def transfer_reminder_send(*, reminder_id: int) -> None:
    # Not retried automatically: a reminder that may have gone out is never sent again.
    services.transfer_reminder_send(reminder_id=reminder_id)
