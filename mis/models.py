"""The school's Wonde connection, each sync run with what it did, and the links between Wonde's
records and Homeward's (docs/mis-sync.md). The Wonde token is never stored: it is read from the
environment variable WondeConnection.token_variable."""

import os

from django.conf import settings
from django.db import models

from schools.models import School


class WondeConnection(models.Model):
    school = models.OneToOneField(School, on_delete=models.CASCADE, related_name="wonde")
    wonde_school_id = models.CharField(
        "Wonde school ID", max_length=20, unique=True, help_text="e.g. A1930499544"
    )
    enabled = models.BooleanField(default=True, help_text="Off: no nightly sync.")
    base_url = models.URLField(default="https://api.wonde.com/v1.0")
    synced_until = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the last completed run started: the next run asks Wonde for what "
        "changed after it.",
    )

    def __str__(self) -> str:
        return f"Wonde for {self.school}"

    @property
    def token_variable(self) -> str:
        return f"WONDE_TOKEN_{self.wonde_school_id.upper()}"

    def token(self) -> str:
        return os.environ.get(self.token_variable, "")


class SyncRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed, nothing changed"

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="mis_runs")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    updated_after = models.DateTimeField(
        null=True, blank=True, help_text="Empty: a full sync; else only what changed since."
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    left = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    review = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"MIS sync of {self.school} at {self.started_at:%d/%m/%Y %H:%M}"

    @property
    def full(self) -> bool:
        return self.updated_after is None


class SyncItem(models.Model):
    """One thing a run did, or refused to do and why."""

    class Action(models.TextChoices):
        ADDED = "added", "Added"
        CHANGED = "changed", "Changed"
        LEFT = "left", "Marked as left"
        REFUSED = "refused", "Refused"
        REVIEW = "review", "To review"

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="items")
    action = models.CharField(max_length=10, choices=Action.choices)
    kind = models.CharField(max_length=20)
    wonde_id = models.CharField(max_length=40, blank=True)
    label = models.CharField(max_length=200, blank=True)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.kind} {self.label}"


class MisLink(models.Model):
    """Wonde record `wonde_id` of `kind` is Homeward object `object_id`; `synced` holds the values
    the sync last wrote, so a value a Homeward user changed since is never overwritten."""

    class Kind(models.TextChoices):
        PUPIL = "pupil"
        HOUSEHOLD = "household"
        CARER = "carer"
        STAFF = "staff"

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    wonde_id = models.CharField(max_length=60)
    object_id = models.BigIntegerField()
    synced = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["school", "kind", "wonde_id"], name="mis_link_unique_wonde_record"
            )
        ]
        indexes = [models.Index(fields=["school", "kind", "object_id"], name="mis_link_object")]

    def __str__(self) -> str:
        return f"{self.kind} {self.wonde_id} → {self.object_id}"
