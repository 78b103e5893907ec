"""The one seam through which services hand work to Celery workers.

A service never imports its app's `tasks` module (the tasks import the services, so that would
be a cycle): it names the task instead. The task is sent only when the surrounding transaction
commits, so a worker never looks for a row that a rollback took away; outside a transaction it
is sent at once.
"""

from celery import current_app
from django.db import transaction


def enqueue(task_name: str, /, **kwargs) -> None:
    """Run the registered Celery task `task_name` (e.g. "tracking.tasks.notification_send") with
    `kwargs` once the current transaction commits."""
    transaction.on_commit(lambda: current_app.tasks[task_name].delay(**kwargs))


def send_now(task_name: str, /, **kwargs) -> None:
    """Hand `task_name` to the workers now (the caller is already past its commit)."""
    current_app.tasks[task_name].delay(**kwargs)
