from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models


class AuditEvent(models.Model):
    """One thing that happened, append-only (R-SEC-2).

    Written by services in the same transaction as the change they record. Nothing in the
    application updates or deletes a row; on PostgreSQL a trigger refuses it too (made by records
    migration 0002; records migration 0005 moved the table to this app, rows and trigger included).
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty when the system acted (the escalation scan, an import).",
    )
    school = models.ForeignKey(
        "schools.School", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    object_type = models.CharField(max_length=60, help_text="app_label.model of the object.")
    object_id = models.CharField(max_length=40)
    event_type = models.CharField(max_length=60)
    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            # Used by a visit's or pupil's timeline: its events in time order.
            models.Index(fields=["object_type", "object_id", "occurred_at"], name="audit_object"),
            models.Index(fields=["school", "occurred_at"], name="audit_school_time"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.object_type}#{self.object_id} at {self.occurred_at}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionDenied("The audit trail is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("The audit trail is append-only.")
