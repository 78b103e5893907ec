"""Project-wide records that belong to no app: two-factor enrolment codes (issue 19)."""

from django.conf import settings
from django.db import models


class TwoFactorEnrolmentCode(models.Model):
    """A single-use, expiring code a person types before binding her first authenticator app, so
    that her password alone is not enough to set one up. Only a hash of the code is stored; an
    administrator issues it (admin action, `manage.py enrolment_code`) or the person has it
    emailed to her school address (config.enrolment)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolment_codes"
    )
    code_hash = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return f"Enrolment code for {self.user} (issued {self.issued_at:%d/%m/%Y %H:%M})"
