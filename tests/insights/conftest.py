"""The leaders' dashboards' world: Oakfield's visits of the autumn term counted by hand, and the
helpers that build and read it (tests/insights)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from records.models import Action, Concern, PupilSeen, VisitRecord
from schools.services import trust_role_add
from tests.auth import sign_in
from tests.factories import HouseholdFactory, PupilFactory, UserFactory
from tests.transfers.conftest import transfer_to_send
from tracking.models import EscalationStep, SignOut
from transfers.models import FileTransfer
from visits.models import Authorisation, Visit

TZ = timezone.get_current_timezone()


def at(month, day, hour=9, year=2026):
    return datetime.datetime(year, month, day, hour, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _late_in_the_autumn_term(time_machine):
    time_machine.move_to(at(11, 26), tick=False)


def visit(school, requester, *, submitted, reason="welfare", status="submitted", **fields):
    household = HouseholdFactory(school=school)
    start = submitted + datetime.timedelta(days=1)
    v = Visit.objects.create(
        school=school,
        household=household,
        requested_by=requester,
        reason=reason,
        purpose="A visit.",
        planned_start=start,
        planned_end=start + datetime.timedelta(hours=1),
        planned_return=start + datetime.timedelta(hours=1),
        submitted_at=submitted,
        status=status,
        **fields,
    )
    return v


def decide(v, by, decision, when):
    reason = "Not needed." if decision == "refused" else ""
    Authorisation.objects.create(
        visit=v, decided_by=by, decided_at=when, decision=decision, reason=reason
    )


def record(v, by, *, submitted, outcome, children):
    r = VisitRecord.objects.create(
        visit=v,
        school=v.school,
        status="submitted",
        outcome=outcome,
        started_by=by,
        submitted_by=by,
        submitted_at=submitted,
    )
    for seen, alone in children:
        pupil = PupilFactory(household=v.household)
        PupilSeen.objects.create(record=r, pupil=pupil, seen=seen, seen_alone=alone)


@pytest.fixture
def tina(trust):
    """Tina, the trust's safeguarding lead."""
    user = UserFactory(username="tina")
    trust_role_add(actor=None, user=user, trust=trust)
    return user


@pytest.fixture
def world(oakfield, birchwood, sam, dana, bea):
    # Oakfield: 4 visits requested in the autumn term, and one in August (not counted).
    v1 = visit(
        oakfield,
        sam,
        submitted=at(10, 1),
        status="recorded",
        authorised_at=at(10, 1, 10),
        returned_at=at(10, 2, 12),
    )
    decide(v1, dana, "authorised", at(10, 1, 10))  # 1 hour
    record(
        v1,
        sam,
        submitted=at(10, 2, 20),
        outcome="seen_concerns",
        children=[(True, True), (False, False)],
    )
    v2 = visit(oakfield, sam, submitted=at(10, 2), reason="attendance", status="refused")
    decide(v2, dana, "refused", at(10, 2, 12))  # 3 hours
    v3 = visit(
        oakfield,
        sam,
        submitted=at(10, 5),
        reason="attendance",
        status="cancelled",
        authorised_at=at(10, 5, 11),
        cancelled_at=at(10, 5, 12),
        cancelled_by=sam,
        cancel_reason="Family moved.",
    )
    decide(v3, dana, "authorised", at(10, 5, 11))  # 2 hours
    v4 = visit(
        oakfield,
        sam,
        submitted=at(10, 6),
        status="recorded",
        authorised_at=at(10, 6, 19),
        returned_at=at(10, 7, 12),
    )
    decide(v4, dana, "authorised", at(10, 6, 19))  # 10 hours
    record(v4, sam, submitted=at(10, 9, 12), outcome="no_answer", children=[(False, False)])
    visit(oakfield, sam, submitted=at(8, 20))  # the summer: outside the term
    # v1 came back late: overdue, then the manager was alerted.
    signout = SignOut.objects.create(
        visit=v1,
        school=oakfield,
        signed_out_by=sam,
        signed_out_at=at(10, 2, 10),
        vehicle="On foot",
        expected_return_at=at(10, 2, 11),
        grace_seconds=900,
        retry_interval_seconds=300,
        retries=2,
        state="returned",
    )
    for number, kind in ((1, "overdue"), (4, "manager")):
        EscalationStep.objects.create(
            signout=signout,
            ladder_round=1,
            number=number,
            kind=kind,
            trigger="scan",
            due_at=at(10, 2, 11),
            fired_at=at(10, 2, 11),
        )
    Concern.objects.create(
        school=oakfield,
        visit=v1,
        level="concern",
        details="x",
        raised_by=sam,
        raised_at=at(10, 2, 20),
    )
    Concern.objects.create(
        school=oakfield,
        visit=v1,
        level="immediate",
        details="y",
        raised_by=sam,
        raised_at=at(10, 2, 20),
        instruction_seen_at=at(10, 2, 20),
    )
    for due, status in (
        (datetime.date(2026, 11, 25), "open"),
        (datetime.date(2026, 12, 3), "in_progress"),
        (datetime.date(2026, 11, 1), "done"),
    ):
        Action.objects.create(
            school=oakfield,
            visit=v1,
            description="Call",
            owner=dana,
            due_on=due,
            status=status,
            created_by=sam,
            created_at=at(10, 2, 20),
            closed_at=at(11, 2) if status == "done" else None,
        )
    # File transfers due this term: on time, late, overdue and still open, cancelled (not counted).
    on_time = transfer_to_send(oakfield, left_on=datetime.date(2026, 11, 2))
    late = transfer_to_send(oakfield, left_on=datetime.date(2026, 11, 3))
    transfer_to_send(oakfield, left_on=datetime.date(2026, 11, 4))
    cancelled = transfer_to_send(oakfield, left_on=datetime.date(2026, 11, 5))
    FileTransfer.objects.filter(pk=on_time.pk).update(status="received", received_at=at(11, 6))
    FileTransfer.objects.filter(pk=late.pk).update(status="received", received_at=at(11, 20))
    FileTransfer.objects.filter(pk=cancelled.pk).update(status="cancelled")
    # Birchwood: 6 attendance visits waiting for a decision.
    for day in range(6):
        visit(birchwood, bea, submitted=at(11, 2 + day), reason="attendance")
    return {"oakfield": oakfield, "birchwood": birchwood}


def table_of(response, key):
    return next(t for t in response.context["tables"] if t.key == key)


def row_of(response, key, name="Oakfield Primary School"):
    return dict(table_of(response, key).rows)[name]


def autumn(client, user, **params):
    sign_in(client, user)
    return client.get(reverse("insights:dashboard"), {"term": "2026-09-01", **params})
