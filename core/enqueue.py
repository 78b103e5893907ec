"""The one seam through which services hand work to Celery workers.

A service never imports its app's `tasks` module (the tasks import the services, so that would
be a cycle): it names the task instead. The task is sent only when the surrounding transaction
commits, so a worker never looks for a row that a rollback took away; outside a transaction it
is sent at once.
"""

import importlib

from celery import current_app
from django.db import transaction


def enqueue(task_name: str, /, **kwargs) -> None:
    """Run the registered Celery task `task_name` (e.g. "tracking.tasks.notification_send") with
    `kwargs` once the current transaction commits."""
    transaction.on_commit(lambda: task_named(task_name).delay(**kwargs))


def send_now(task_name: str, /, **kwargs) -> None:
    """Hand `task_name` to the workers now (the caller is already past its commit)."""
    task_named(task_name).delay(**kwargs)


def task_named(task_name: str):
    """The registered task; its module is imported first (once), so a web process that never
    loaded `app.tasks` still finds it."""
    importlib.import_module(task_name.rpartition(".")[0])
    return current_app.tasks[task_name]
