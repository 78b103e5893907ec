import datetime

import factory
from factory.django import DjangoModelFactory

from schools import services
from schools.models import Carer, ContactNumber, Household, Pupil, School, User


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.LazyAttribute(lambda o: o.username.capitalize())
    last_name = "Example"
    email = factory.LazyAttribute(lambda o: f"{o.username}@school.example")
    password = factory.django.Password("correct-horse-battery")


def school_create(name: str, urn: str, trust=None, **policy) -> School:
    return services.school_create(actor=None, name=name, urn=urn, trust=trust, **policy)


def person(username: str, school: School, role: str, **profile) -> User:
    user = UserFactory(username=username)
    services.membership_add(actor=None, user=user, school=school, role=role)
    services.staff_profile_save(
        actor=None,
        user=user,
        job_title=profile.pop("job_title", role.title()),
        work_mobile=profile.pop("work_mobile", "+447700900101"),
        next_of_kin_name=f"Next of kin of {username}",
        next_of_kin_phone="+447700900199",
        **profile,
    )
    return user


class HouseholdFactory(DjangoModelFactory):
    class Meta:
        model = Household

    address_line_1 = factory.Sequence(lambda n: f"{n + 1} Acacia Avenue")
    town = "Leeds"
    postcode = "LS6 1AA"


class CarerFactory(DjangoModelFactory):
    class Meta:
        model = Carer

    household = factory.SubFactory(HouseholdFactory)
    name = "Sarah Jones"
    relationship = "Mother"


class ContactNumberFactory(DjangoModelFactory):
    class Meta:
        model = ContactNumber

    household = factory.SubFactory(HouseholdFactory)
    number = factory.Sequence(lambda n: f"+447700900{300 + n % 600:03d}")
    label = "Mother's mobile"


class PupilFactory(DjangoModelFactory):
    class Meta:
        model = Pupil

    school = factory.LazyAttribute(lambda o: o.household.school)
    household = factory.SubFactory(HouseholdFactory)
    first_name = factory.Sequence(lambda n: f"Pupil{n}")
    last_name = "Jones"
    date_of_birth = datetime.date(2017, 3, 14)
    year_group = "4"


def visit_draft(
    requester: User,
    pupil: Pupil,
    visitors: list[User],
    *,
    start: datetime.datetime | None = None,
    minutes: int = 60,
    **data,
):
    """A draft visit requested by `requester`, through the service, starting tomorrow at 10:00
    (school time) unless told otherwise."""
    from django.utils import timezone

    from visits import requests
    from visits.models import Visitor

    if start is None:
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        start = timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time(10, 0)))
    fields = {
        "reason": "attendance",
        "purpose": "Check on welfare after ten days' absence.",
        "planned_start": start,
        "planned_end": start + datetime.timedelta(minutes=minutes),
        "planned_return": start + datetime.timedelta(minutes=minutes + 30),
        **data,
    }
    roles = [Visitor.RoleOnVisit.LEAD] + [Visitor.RoleOnVisit.SECOND] * (len(visitors) - 1)
    return requests.visit_draft_save(
        actor=requester,
        school=pupil.school,
        data=fields,
        pupils=[pupil],
        visitors=list(zip(visitors, roles, strict=True)),
    )


def assessment_for(visit, assessor: User, *, risk: str = "low", **answers):
    """A whole risk assessment on the visit (R-RA-1), made through riskassess.services: 001's five
    hazards as 001 rates them, a controlled row for every household risk flag, the 003
    preparation answered and, on a doorstep visit, every 000 question (R-RA-5). `risk` rates the
    first hazard so that the overall risk comes out low, medium or high; `answers` override."""
    from dataclasses import replace

    from riskassess import services
    from riskassess.models import RiskAssessment

    existing = RiskAssessment.objects.filter(visit_id=visit.pk).first()
    rows = []
    for row in services.rows_to_start_with(visit=visit, assessment=existing):
        if isinstance(row, services.HazardRowInput):
            rows.append(replace(row, likelihood=1, controls=row.controls or ("two-visitors",)))
        else:
            rows.append(
                services.HazardRowInput(
                    key=f"row:{row.pk}",
                    severity=row.severity,
                    likelihood=1,
                    controls=tuple(row.controls) or ("two-visitors",),
                    other_controls=row.other_controls,
                    hazard=row.hazard,
                    category=row.category,
                    harm=row.harm,
                )
            )
    severity, likelihood = {"low": (3, 1), "medium": (2, 2), "high": (3, 3)}[risk]
    rows[0] = replace(rows[0], severity=severity, likelihood=likelihood)
    doorstep = doorstep_answers() if visit.kind == "doorstep" else {}
    return services.assessment_save(
        actor=assessor,
        visit=visit,
        rows=rows,
        answers={**PREPARATION_ANSWERS, **doorstep, **answers},
    )


# R-RA-4: the 003 preparation questions, answered.
PREPARATION_ANSWERS = {
    "refused_entry_plan": "Leave, record it and tell the DSL; no emergency action is expected.",
    "expected_present": "Mother (Sarah) and the pupil.",
    "must_not_be_present": "None known.",
    "child_seen": "with_carer",
    "others_attending": "Nobody else.",
    "contingency_plan": "Leave at once if anyone is aggressive; Tess calls the office.",
    "complete_by": datetime.date(2030, 1, 31),
    "no_access_plan": "Sealed note through the door; return visit within two days.",
}
# R-RA-5: every question of the 000 doorstep form, answered.
DOORSTEP_ANSWERS = {
    "vulnerable_because": "History of domestic violence; mother has had suicidal thoughts.",
    "last_contact_on": None,  # filled in by doorstep_answers(): four weeks before today
    "last_contact_details": "Phone call with mother: all well, work collected.",
    "no_contact_typical": "no",
    "why_escalated": "No answer for ten days and work not collected.",
    "contact_methods_tried": "Phone, email, text and the learning platform.",
    "professionals_involved": "Family support worker: told and shares our concern.",
    "agencies_told": "MASH: advised a doorstep visit, then call back.",
    "dsl_and_head_consulted": "Dana (DSL) and Hugh (Head) agreed on 23/11.",
    "sibling_schools_considered": "No siblings at other schools.",
}


def doorstep_answers() -> dict:
    """DOORSTEP_ANSWERS with the last contact four weeks before today (school time), so that it is
    never in the future whatever the clock says."""
    from django.utils import timezone

    return {
        **DOORSTEP_ANSWERS,
        "last_contact_on": timezone.localdate() - datetime.timedelta(weeks=4),
    }


def doorstep_contacts_logged(visit, by: User):
    """Log one attempt for every 000 step the doorstep gate still misses (R-RA-6), through
    contacts.services, ten minutes ago."""
    from django.utils import timezone

    from contacts.services import contact_log_create
    from riskassess.doorstep import missing_steps
    from schools.models import ContactNumber, Professional

    when = timezone.now() - datetime.timedelta(minutes=10)
    for step in missing_steps(visit):
        prefill = step.prefill
        number = prefill.get("contact_number")
        professional = prefill.get("professional")
        contact_log_create(
            actor=by,
            household=visit.household,
            visit=visit,
            counterpart=prefill["counterpart"],
            channel="phone",
            outcome="no_answer",
            occurred_at=when,
            contact_number=ContactNumber.objects.get(pk=number) if number else None,
            professional=Professional.objects.get(pk=professional) if professional else None,
            contacted="" if number or professional else "Duty desk",
        )


def visit_returned(requester: User, pupil: Pupil, visitors: list[User], authoriser: User, **data):
    """A visit authorised by `authoriser`, signed out and returned now: its record is due."""
    from django.utils import timezone

    from visits import authorisation, progress, requests

    visit = visit_draft(requester, pupil, visitors, **data)
    assessment_for(visit, requester)
    requests.visit_submit(actor=requester, visit=visit, warnings_confirmed=True)
    authorisation.visit_authorise(actor=authoriser, visit=visit)
    progress.visit_mark_out(actor=None, visit=visit, at=timezone.now())
    return progress.visit_mark_returned(actor=None, visit=visit, at=timezone.now())
