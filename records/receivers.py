"""What records adds to the pages of the apps below it (visits.signals.page_panels): the
actions panel on a member of staff's "My visits", and concerns, overdue records and overdue
actions on the DSL's queue (R-REC-3, R-REC-4, R-REC-6). Connected in RecordsConfig.ready()."""

from visits import signals as visit_signals

from . import selectors


def visits_page_panels(sender, *, user, **kwargs) -> dict:
    if sender == "mine":
        return selectors.my_actions_panel(user=user)
    if sender == "queue":
        return selectors.dsl_panel(user=user)
    return {}


def connect() -> None:
    visit_signals.page_panels.connect(visits_page_panels, dispatch_uid="records.page_panels")
