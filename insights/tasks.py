"""Thin Celery adapter: the nightly rebuild of the leaders' day rows (insights.summaries)."""

from celery import shared_task

from .summaries import summaries_refresh


@shared_task(ignore_result=True)
def summaries_rebuild() -> None:
    """Run by beat each night: every day counted again, a safety net for writes made outside
    the services (each dashboard render already brings the rows up to date)."""
    summaries_refresh(rebuild=True)
