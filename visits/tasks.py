from celery import shared_task

from . import notify


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def visit_email_send(*, visit_id: int, name: str, recipient_ids: list[int]) -> None:
    """Email people about a visit. Thin adapter: ids in, visits.notify does the work."""
    notify.visit_email_send(visit_id=visit_id, name=name, recipient_ids=recipient_ids)
