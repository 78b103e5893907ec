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
