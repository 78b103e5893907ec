"""Risk assessments (R-RA-*). The risk assessment issue grows this into the standard and doorstep
assessments with their hazard rows; visits reads it only through riskassess.gates."""

from django.conf import settings
from django.db import models


class RiskLevel(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class RiskAssessment(models.Model):
    class Kind(models.TextChoices):
        STANDARD = "standard", "Standard (lone working)"
        DOORSTEP = "doorstep", "COVID-19 doorstep"

    visit = models.OneToOneField(
        "visits.Visit", on_delete=models.CASCADE, related_name="risk_assessment"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.STANDARD)
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # When the assessor last made or re-confirmed it: its age is counted from here (R-RA-8).
    confirmed_at = models.DateTimeField()
    overall_risk = models.CharField(max_length=6, choices=RiskLevel.choices, default=RiskLevel.LOW)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} assessment of visit #{self.visit_id}"
