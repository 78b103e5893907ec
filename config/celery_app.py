"""The Celery app. Tasks are thin adapters (each app's tasks.py) that take ids, call services."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("homeward")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
