"""What transfers does when the directory announces a pupil left or came back
(schools.signals.directory_changed, sent inside the write's transaction, by a person or by the
MIS sync): open the file transfer, or cancel it; and the overdue transfers panel on the DSL's
pages (visits.signals.page_panels). Connected in TransfersConfig.ready()."""

from schools import signals as school_signals
from schools.models import Pupil
from visits import signals as visit_signals


def pupil_left_or_returned(sender, *, actor, obj, event_type, **kwargs) -> None:
    if sender is not Pupil:
        return
    if event_type not in ("pupil.left", "pupil.returned"):
        return
    from . import services

    # The announcing service updated the row by a query: read the leaving date as it is now.
    pupil = Pupil.objects.select_related("school", "household").get(pk=obj.pk)
    if event_type == "pupil.left":
        services.transfer_open_for_leaver(actor=actor, pupil=pupil)
    else:
        services.transfers_cancel_for_returned(actor=actor, pupil=pupil)


def overdue_transfers_panel(sender, *, user, **kwargs) -> dict:
    """Overdue file transfers on the DSL's queue and the records dashboard."""
    if sender not in ("queue", "records_dashboard"):
        return {}
    from . import selectors

    return {"overdue_transfers": list(selectors.overdue_transfers(user=user))}


def connect() -> None:
    visit_signals.page_panels.connect(
        overdue_transfers_panel, dispatch_uid="transfers.overdue_transfers_panel"
    )
    school_signals.directory_changed.connect(
        pupil_left_or_returned, dispatch_uid="transfers.pupil_left_or_returned"
    )
