"""Writing the contact-attempt log (R-REC-7): every call, message, email or attempt with a family
or a professional, with who, when, channel and outcome. It is the pupil's contact history, the
evidence the doorstep gate reads (R-RA-6) and what closure-mode monitoring counts from (R-CLO-2).

Reads apply access in riskassess.selectors (office staff never see the log, R-SEC-1).
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import audit_event_create

from .models import ContactLog

Counterpart = ContactLog.Counterpart
Outcome = ContactLog.Outcome

FAMILY_OUTCOMES = {
    Outcome.SPOKE_TO_PARENT,
    Outcome.SPOKE_TO_CHILD,
    Outcome.ACKNOWLEDGED,
    Outcome.NO_ANSWER,
    Outcome.VOICEMAIL,
    Outcome.MESSAGE_SENT,
    Outcome.WRONG_NUMBER,
    Outcome.REFUSED,
}
PROFESSIONAL_OUTCOMES = {
    Outcome.SPOKE_TO_PROFESSIONAL,
    Outcome.NO_ANSWER,
    Outcome.VOICEMAIL,
    Outcome.MESSAGE_SENT,
    Outcome.WRONG_NUMBER,
    Outcome.REFUSED,
}
# A little slack for a phone clock ahead of the server's.
FUTURE_SLACK = datetime.timedelta(minutes=5)


class ContactInvalid(ValidationError):
    """The entry does not hang together; each message says which field and why."""


def _check(
    *,
    household,
    pupil,
    visit,
    counterpart,
    channel,
    outcome,
    occurred_at,
    contact_number,
    professional,
    contacted,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if counterpart not in Counterpart.values:
        add("counterpart", "Choose who was contacted.")
    if channel not in ContactLog.Channel.values:
        add("channel", "Choose how they were contacted.")
    if outcome not in Outcome.values:
        add("outcome", "Choose the outcome.")
    if occurred_at is None or timezone.is_naive(occurred_at):
        add("occurred_at", "Give the date and time of the contact.")
    elif occurred_at > timezone.now() + FUTURE_SLACK:
        add("occurred_at", "The contact cannot be in the future: log it once it has happened.")
    if pupil is not None and pupil.household_id != household.pk:
        add("pupil", "That pupil does not live in this household.")
    if visit is not None and visit.household_id != household.pk:
        add("visit", "That visit is to another household.")
    if contact_number is not None and contact_number.household_id != household.pk:
        add("contact_number", "That number belongs to another household.")
    if professional is not None and professional.school_id != household.school_id:
        add("professional", "That professional is not in this school's directory.")

    if counterpart == Counterpart.FAMILY:
        if professional is not None:
            add("professional", "A family contact is not with a professional.")
        if contact_number is None and not contacted.strip():
            add("contact_number", "Choose the family number tried, or say who was contacted.")
        if outcome in Outcome.values and outcome not in FAMILY_OUTCOMES:
            add("outcome", "“Spoke to the professional” is not an outcome of a family contact.")
    elif counterpart in Counterpart.values:
        if contact_number is not None:
            add("contact_number", "A household number is only for a contact with the family.")
        if outcome in Outcome.values and outcome not in PROFESSIONAL_OUTCOMES:
            add("outcome", "Only a contact with the family can be answered by the family.")
        if counterpart in (Counterpart.PROFESSIONAL, Counterpart.SOCIAL_WORKER):
            if professional is None and not contacted.strip():
                add("professional", "Choose the professional, or write who was contacted.")
            if (
                professional is not None
                and counterpart == Counterpart.SOCIAL_WORKER
                and professional.role != professional.Kind.SOCIAL_WORKER
            ):
                add("professional", f"{professional.name} is not a social worker.")
        elif not contacted.strip():
            add("contacted", "Say who was contacted (e.g. MASH duty team, PC Smith).")
    return errors


@transaction.atomic
def contact_log_create(
    *,
    actor,
    household,
    counterpart: str,
    channel: str,
    outcome: str,
    occurred_at: datetime.datetime,
    pupil=None,
    visit=None,
    contact_number=None,
    professional=None,
    contacted: str = "",
    number_or_address: str = "",
    notes: str = "",
) -> ContactLog:
    """Log one contact or attempt (R-REC-7) with its audit event.

    The same entry posted twice (a double-click) is logged once.
    """
    contacted, notes = contacted.strip(), notes.strip()
    number_or_address = number_or_address.strip()
    errors = _check(
        household=household,
        pupil=pupil,
        visit=visit,
        counterpart=counterpart,
        channel=channel,
        outcome=outcome,
        occurred_at=occurred_at,
        contact_number=contact_number,
        professional=professional,
        contacted=contacted,
    )
    if errors:
        raise ContactInvalid(errors)
    if not number_or_address:
        if contact_number is not None:
            number_or_address = contact_number.number
        elif professional is not None:
            number_or_address = professional.phone or professional.email
    entry = {
        "school_id": household.school_id,
        "household": household,
        "pupil": pupil,
        "visit": visit,
        "counterpart": counterpart,
        "contact_number": contact_number,
        "professional": professional,
        "contacted": contacted,
        "number_or_address": number_or_address,
        "channel": channel,
        "outcome": outcome,
        "notes": notes,
        "occurred_at": occurred_at.replace(second=0, microsecond=0),
        "recorded_by": actor,
    }
    existing = ContactLog.objects.filter(**entry).first()
    if existing is not None:
        return existing
    log = ContactLog.objects.create(**entry)
    audit_event_create(
        actor=actor,
        school=household.school,
        obj=log,
        event_type="contact.logged",
        changes={
            "household": household.pk,
            "pupil": pupil.pk if pupil else None,
            "visit": visit.pk if visit else None,
            "counterpart": counterpart,
            "channel": channel,
            "outcome": outcome,
            "occurred_at": log.occurred_at.isoformat(),
        },
    )
    return log
