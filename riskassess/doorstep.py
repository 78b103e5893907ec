"""The 000 escalation steps a doorstep visit rests on (R-RA-6), read from the contact log.

000: before a doorstep visit, try all the family's numbers including emergency contacts, all the
other professionals involved with the family, the allocated social worker for CP / CiN / LAC /
EHCP / Early Help pupils, and the local social-care front door (MASH / CASS / First Response).
"""

import datetime
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.utils import timezone

from contacts.models import ContactLog
from schools.models import Professional, Pupil

Counterpart = ContactLog.Counterpart


@dataclass
class DoorstepStep:
    code: str
    label: str
    detail: str = ""
    done: bool = False
    attempts: list[ContactLog] = field(default_factory=list)
    # What the "log an attempt" link pre-fills on the contact log form.
    prefill: dict = field(default_factory=dict)

    @property
    def query(self) -> str:
        return urlencode(self.prefill)


def evidence_window(visit, now: datetime.datetime) -> datetime.datetime:
    """Attempts count when made within the school's assessment age limit (7 days by default):
    the evidence is as fresh as the assessment it supports (002 "as close to the visit as
    possible", R-RA-8)."""
    return now - datetime.timedelta(days=visit.school.assessment_max_age_days)


def doorstep_steps(visit, *, now: datetime.datetime | None = None) -> list[DoorstepStep]:
    """R-RA-6: each step of 000 for this visit's family, and whether the contact log shows it."""
    now = now or timezone.now()
    household = visit.household
    logs = list(
        ContactLog.objects.filter(
            household_id=household.pk,
            occurred_at__gte=evidence_window(visit, now),
            occurred_at__lte=now,
        ).select_related("recorded_by")
    )
    pupils = list(Pupil.objects.filter(household_id=household.pk).prefetch_related("professionals"))
    steps: list[DoorstepStep] = []
    base = {"visit": visit.pk}

    # All the family's numbers, including every emergency contact.
    for number in household.contact_numbers.filter(current=True).order_by(
        "-emergency_contact", "label"
    ):
        attempts = [log for log in logs if log.contact_number_id == number.pk]
        steps.append(
            DoorstepStep(
                code=f"number:{number.pk}",
                label=f"Call {number.label}"
                + (
                    " (emergency contact)"
                    if number.emergency_contact and "emergency contact" not in number.label.lower()
                    else ""
                ),
                detail=number.display,
                done=bool(attempts),
                attempts=attempts,
                prefill={**base, "counterpart": Counterpart.FAMILY, "contact_number": number.pk},
            )
        )

    # Every professional involved with the family; a social worker of a CP / CiN / LAC / EHCP /
    # Early Help pupil is their allocated social worker.
    in_category = [p for p in pupils if p.categories]
    professionals: dict[int, Professional] = {}
    for pupil in pupils:
        for professional in pupil.professionals.all():
            professionals[professional.pk] = professional
    for professional in professionals.values():
        attempts = [log for log in logs if log.professional_id == professional.pk]
        is_social_worker = professional.role == Professional.Kind.SOCIAL_WORKER
        steps.append(
            DoorstepStep(
                code=f"professional:{professional.pk}",
                label=f"Contact {professional.name}, "
                + ("the allocated social worker" if is_social_worker else "who works with them"),
                detail=", ".join(
                    part for part in (professional.get_role_display(), professional.agency) if part
                ),
                done=bool(attempts),
                attempts=attempts,
                prefill={
                    **base,
                    "counterpart": Counterpart.SOCIAL_WORKER
                    if is_social_worker
                    else Counterpart.PROFESSIONAL,
                    "professional": professional.pk,
                },
            )
        )
    has_social_worker = any(
        p.role == Professional.Kind.SOCIAL_WORKER for p in professionals.values()
    )
    if in_category and not has_social_worker:
        categories = sorted({c for p in in_category for c in p.categories})
        attempts = [log for log in logs if log.counterpart == Counterpart.SOCIAL_WORKER]
        steps.append(
            DoorstepStep(
                code="social_worker",
                label="Speak to the allocated social worker",
                detail=f"{', '.join(categories)}: no social worker is recorded in the directory",
                done=bool(attempts),
                attempts=attempts,
                prefill={**base, "counterpart": Counterpart.SOCIAL_WORKER},
            )
        )

    # The local social-care front door.
    attempts = [log for log in logs if log.counterpart == Counterpart.SOCIAL_CARE]
    steps.append(
        DoorstepStep(
            code="social_care",
            label="Speak to the local social-care front door",
            detail="MASH, CASS or First Response",
            done=bool(attempts),
            attempts=attempts,
            prefill={**base, "counterpart": Counterpart.SOCIAL_CARE},
        )
    )
    return steps


def missing_steps(visit, *, now: datetime.datetime | None = None) -> list[DoorstepStep]:
    return [step for step in doorstep_steps(visit, now=now) if not step.done]
