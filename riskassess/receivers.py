"""Risk assessment's answers to what a visit asks (visits.signals): what blocks submitting or
authorising it, and the assessment shown on the decision page. Connected in
RiskassessConfig.ready()."""

from django.urls import reverse

from audit import signals as audit_signals
from audit.describe import Described
from contacts.models import ContactLog
from core.numbers import is_whole_number
from visits import signals as visit_signals
from visits.describe import describe_by_visit

from . import gates


def submission_blockers(sender, *, visit, **kwargs) -> list[str]:
    blockers = []
    # R-RA-3: a high-risk visit is made in pairs whatever the school's minimum (visits itself
    # enforces the school minimum and the doorstep pair, R-REQ-2).
    if (
        visit.school.minimum_visitors < 2
        and not visit.is_doorstep
        and gates.is_high_risk(visit)
        and visit.visitors.filter(withdrawn_at__isnull=True).count() < 2
    ):
        blockers.append("Visits are made in pairs: add a second visitor.")
    return blockers + gates.submission_blockers(visit)


def authorisation_blockers(sender, *, visit, **kwargs) -> list[str]:
    return gates.authorisation_blockers(visit)


def visits_page_panels(sender, *, user, visit=None, **kwargs) -> dict:
    # R-AUTH-6: the authoriser reads the whole assessment on the decision page.
    if sender == "decide" and visit is not None:
        from .selectors import assessment_of

        return {
            "assessment": assessment_of(visit),
            "assessment_template": "riskassess/includes/decision_summary.html",
        }
    return {}


def objects_described(sender, *, wanted, **kwargs) -> dict:
    """Assessments and contact log entries named in plain words on the audit trail."""
    from .models import RiskAssessment

    found = describe_by_visit(
        RiskAssessment,
        wanted,
        "Risk assessment for {visit}",
        lambda a: reverse("riskassess:assessment", args=[a.visit_id]),
    )
    ids = [int(i) for i in wanted.get(ContactLog._meta.label_lower, ()) if is_whole_number(str(i))]
    for entry in ContactLog.objects.filter(pk__in=ids).select_related("household"):
        found[(ContactLog._meta.label_lower, str(entry.pk))] = Described(
            f"A contact with the household at {entry.household}",
            reverse("riskassess:contact_log", args=[entry.household_id]),
        )
    return found


def connect() -> None:
    audit_signals.objects_described.connect(
        objects_described, dispatch_uid="riskassess.objects_described"
    )
    visit_signals.page_panels.connect(visits_page_panels, dispatch_uid="riskassess.page_panels")
    visit_signals.submission_checks.connect(submission_blockers, dispatch_uid="riskassess.submit")
    visit_signals.authorisation_checks.connect(
        authorisation_blockers, dispatch_uid="riskassess.authorise"
    )
