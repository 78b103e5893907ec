"""What records adds to the pages of the apps below it (visits.signals.page_panels): the
actions panel on a member of staff's "My visits", and concerns, overdue records and overdue
actions on the DSL's queue (R-REC-3, R-REC-4, R-REC-6). Connected in RecordsConfig.ready()."""

from django.urls import reverse

from audit import signals as audit_signals
from visits import signals as visit_signals
from visits.describe import describe_by_visit

from . import selectors


def visits_page_panels(sender, *, user, **kwargs) -> dict:
    if sender == "mine":
        return selectors.my_actions_panel(user=user)
    if sender == "queue":
        return selectors.dsl_panel(user=user)
    return {}


def objects_described(sender, *, wanted, **kwargs) -> dict:
    """Records, concerns and actions named in plain words on the audit trail."""
    from .models import Action, Concern, VisitRecord

    found = describe_by_visit(
        VisitRecord,
        wanted,
        "Home Visit record of {visit}",
        lambda r: reverse("records:record", args=[r.visit_id]),
    )
    found |= describe_by_visit(Concern, wanted, "A concern raised on {visit}")
    found |= describe_by_visit(
        Action, wanted, "An action from {visit}", lambda a: reverse("records:action", args=[a.pk])
    )
    return found


def connect() -> None:
    audit_signals.objects_described.connect(
        objects_described, dispatch_uid="records.objects_described"
    )
    visit_signals.page_panels.connect(visits_page_panels, dispatch_uid="records.page_panels")
