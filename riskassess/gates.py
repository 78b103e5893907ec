"""What the risk assessment decides about a visit, for the services of other apps to ask.

visits.requests asks before submission and visits.authorisation before authorisation; tracking
asks at sign-out.
Each function returns plain-English problems naming the rule; an empty list means go ahead.
"""

from django.utils import timezone

from schools.models import HouseholdRiskFlag

from .catalogue import SELF_ISOLATING_DECISION
from .doorstep import missing_steps
from .models import DOORSTEP_FIELDS, PREPARATION_REQUIRED, RiskAssessment, RiskLevel


def _assessment(visit) -> RiskAssessment | None:
    return RiskAssessment.objects.filter(visit_id=visit.pk).first()


def _label(name: str) -> str:
    return str(RiskAssessment._meta.get_field(name).verbose_name)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def doorstep_answers_missing(assessment: RiskAssessment) -> list[str]:
    """R-RA-5: the questions of the 000 form not yet answered, by their wording."""
    return [_label(name) for name in DOORSTEP_FIELDS if _blank(getattr(assessment, name))]


def preparation_missing(assessment: RiskAssessment) -> list[str]:
    """R-RA-4: the 003 preparation questions not yet answered."""
    return [_label(name) for name in PREPARATION_REQUIRED if _blank(getattr(assessment, name))]


def flags_not_assessed(assessment: RiskAssessment, household) -> list[HouseholdRiskFlag]:
    """R-RA-2: household risk flags without their row in the assessment."""
    rows = assessment.hazard_rows.filter(risk_flag__isnull=False)
    assessed = set(rows.values_list("risk_flag_id", flat=True))
    return [flag for flag in household.risk_flags.all() if flag.pk not in assessed]


def self_isolating_problem(visit) -> str | None:
    # R-RA-7: a self-isolating household blocks a doorstep visit (000 point 16).
    if visit.is_doorstep and visit.household.self_isolating:
        return (
            f"{SELF_ISOLATING_DECISION}: the family is self-isolating. Consider a follow-up call "
            "to CASS / First Response / MASH instead."
        )
    return None


def assessment_gaps(visit, assessment: RiskAssessment) -> list[str]:
    """What the saved assessment still lacks (R-RA-2, R-RA-4, R-RA-5)."""
    problems = []
    if not assessment.hazard_rows.exists():
        problems.append("The risk assessment has no hazard rows.")
    flags = flags_not_assessed(assessment, visit.household)
    if flags:
        names = ", ".join(flag.get_kind_display() for flag in flags)
        problems.append(
            f"The household's risk flags are not all in the assessment ({names}): open the "
            "assessment and control them."
        )
    missing = preparation_missing(assessment)
    if missing:
        problems.append(f"Answer the preparation questions: {'; '.join(missing)}.")
    if visit.is_doorstep:
        missing = doorstep_answers_missing(assessment)
        if missing:
            problems.append(
                f"Answer every question of the doorstep assessment: {'; '.join(missing)}."
            )
    return problems


def submission_blockers(visit) -> list[str]:
    """Problems that stop a visit being submitted for authorisation."""
    problems = []
    # R-CLO-1: in closure mode staff do not enter homes: only doorstep visits.
    if visit.school.closure_mode and not visit.is_doorstep:
        problems.append(
            "The school is in closure mode: staff do not enter homes, so only doorstep visits "
            "can be requested."
        )
    if not visit.is_doorstep:
        return problems
    isolating = self_isolating_problem(visit)
    if isolating:
        problems.append(isolating)
    # R-RA-5: the doorstep assessment, every question answered, comes before the request.
    assessment = _assessment(visit)
    if assessment is None:
        problems.append(
            "Complete the doorstep risk assessment before submitting: every question of the 000 "
            "form is required."
        )
    else:
        missing = doorstep_answers_missing(assessment)
        if missing:
            problems.append(
                f"Answer every question of the doorstep assessment: {'; '.join(missing)}."
            )
    # R-RA-6: the contact log shows every escalation step of 000 was tried first.
    missing_contact = missing_steps(visit)
    if missing_contact:
        steps = "; ".join(
            f"{step.label} ({step.detail})" if step.detail else step.label
            for step in missing_contact
        )
        problems.append(
            "A doorstep visit is the last resort: the contact log does not yet show these were "
            f"tried: {steps}."
        )
    return problems


def authorisation_blockers(visit) -> list[str]:
    """Problems that stop a visit being authorised."""
    assessment = _assessment(visit)
    # R-RA-1: every visit has a risk assessment before it can be authorised.
    if assessment is None:
        return ["This visit has no risk assessment yet: every visit is risk assessed."]
    problems = assessment_gaps(visit, assessment)
    # R-RA-3: a high-risk assessment is signed off by somebody other than its assessor.
    if assessment.overall_risk == RiskLevel.HIGH and assessment.signed_off_at is None:
        problems.append(
            "This is a high-risk visit: a DSL, the Headteacher or a trust lead who did not make "
            "the risk assessment must sign it off first."
        )
    isolating = self_isolating_problem(visit)
    if isolating:
        problems.append(isolating)
    # R-CLO-1: in closure mode staff do not enter homes, whenever the visit was requested: a
    # home visit submitted before the school closed is not authorised while it is closed.
    if visit.school.closure_mode and not visit.is_doorstep:
        problems.append(
            "The school is in closure mode: staff do not enter homes, so only a doorstep visit "
            "can be authorised. Change this request to a doorstep visit or cancel it."
        )
    return problems


def is_high_risk(visit) -> bool:
    """R-RA-3: a high-risk visit needs two visitors whatever the school minimum."""
    return RiskAssessment.objects.filter(visit_id=visit.pk, overall_risk="high").exists()


def assessment_currency(visit) -> list[str]:
    """R-RA-8: why the visit's assessment must be re-confirmed before sign-out. Empty: current.

    Stale when older than the school's limit (7 days by default) or made before the household's
    risk flags last changed.
    """
    assessment = _assessment(visit)
    if assessment is None:
        return ["This visit has no risk assessment."]
    reasons = []
    limit = visit.school.assessment_max_age_days
    age = timezone.now() - assessment.confirmed_at
    if age.days >= limit:
        reasons.append(
            f"The risk assessment is {age.days} days old; re-confirm it when it is older than "
            f"{limit} days."
        )
    flags_changed = visit.household.risk_flags_changed_at
    if flags_changed is not None and flags_changed > assessment.confirmed_at:
        reasons.append("The household's risk flags changed after the assessment was made.")
    return reasons
