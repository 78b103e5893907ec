"""What the risk assessment decides about a visit, for the services of other apps to ask.

visits.services asks before submission and authorisation; tracking asks at sign-out.
Each function returns plain-English problems naming the rule; an empty list means go ahead.
"""

from .models import RiskAssessment


def submission_blockers(visit) -> list[str]:
    """Problems that stop a visit being submitted for authorisation."""
    return []


def authorisation_blockers(visit) -> list[str]:
    """Problems that stop a visit being authorised."""
    # R-RA-1: every visit has a risk assessment before it can be authorised.
    if not RiskAssessment.objects.filter(visit_id=visit.pk).exists():
        return ["This visit has no risk assessment yet: every visit is risk assessed (R-RA-1)."]
    return []


def is_high_risk(visit) -> bool:
    """R-RA-3: a high-risk visit needs two visitors whatever the school minimum."""
    return RiskAssessment.objects.filter(visit_id=visit.pk, overall_risk="high").exists()


def assessment_currency(visit) -> list[str]:
    """R-RA-8: why the visit's assessment must be re-confirmed before sign-out. Empty: current.

    Stale when older than the school's limit (7 days by default) or made before the household's
    risk flags last changed.
    """
    from django.utils import timezone

    assessment = RiskAssessment.objects.filter(visit_id=visit.pk).first()
    if assessment is None:
        return ["This visit has no risk assessment (R-RA-1)."]
    reasons = []
    limit = visit.school.assessment_max_age_days
    age = timezone.now() - assessment.confirmed_at
    if age.days >= limit:
        reasons.append(
            f"The risk assessment is {age.days} days old; re-confirm it when it is older than "
            f"{limit} days (R-RA-8)."
        )
    flags_changed = visit.household.risk_flags_changed_at
    if flags_changed is not None and flags_changed > assessment.confirmed_at:
        reasons.append("The household's risk flags changed after the assessment was made (R-RA-8).")
    return reasons
