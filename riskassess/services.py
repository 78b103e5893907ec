"""Every change to a risk assessment, with its audit event."""

from django.db import transaction
from django.utils import timezone

from records.services import audit_event_create

from .models import RiskAssessment


@transaction.atomic
def assessment_reconfirm(*, actor, visit) -> RiskAssessment:
    """R-RA-8: the assessor (or whoever signs the visitors out) confirms in one step that the
    assessment still holds; its age counts from now."""
    assessment = RiskAssessment.objects.select_for_update().get(visit_id=visit.pk)
    before = assessment.confirmed_at
    assessment.confirmed_at = timezone.now()
    assessment.save(update_fields=["confirmed_at"])
    audit_event_create(
        actor=actor,
        school=visit.school,
        obj=assessment,
        event_type="assessment.reconfirmed",
        changes={"confirmed_at": [before.isoformat(), assessment.confirmed_at.isoformat()]},
    )
    return assessment
