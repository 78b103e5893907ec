"""Who is told what about a visit, by email. Enqueued on commit by the visit services."""

from django.urls import reverse

from core.emails import email_send
from core.enqueue import enqueue
from schools.models import User

from .models import Visit


def visit_email_later(*, visit: Visit, name: str, recipients) -> None:
    """Send `name` to `recipients` once the current transaction commits."""
    ids = sorted({user.pk for user in recipients})
    if ids:
        enqueue("visits.tasks.visit_email_send", visit_id=visit.pk, name=name, recipient_ids=ids)


def visit_email_send(*, visit_id: int, name: str, recipient_ids: list[int]) -> None:
    visit = (
        Visit.objects.select_related("school", "requested_by", "authorised_by", "cancelled_by")
        .filter(pk=visit_id)
        .first()
    )
    if visit is None:
        return
    decision = visit.authorisations.select_related("decided_by").order_by("-decided_at").first()
    recipients = User.objects.filter(pk__in=recipient_ids, is_active=True)
    email_send(
        name=name,
        to=[user.email for user in recipients],
        context={
            "visit": visit,
            "decision": decision,
            "visit_path": reverse("visits:detail", args=[visit.pk]),
        },
    )
