"""The leaders' dashboard: each figure against a world counted by hand, small numbers shown as
"fewer than 5" across the trust, each school seeing only itself, and a constant number of
queries however many schools and visits."""

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from records.models import Action, Concern, PupilSeen, VisitRecord
from schools.models import Pupil, Role
from schools.services import trust_role_add
from tests.auth import sign_in
from tests.factories import HouseholdFactory, PupilFactory, UserFactory, person, school_create
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


def _table(response, key):
    return next(t for t in response.context["tables"] if t.key == key)


def _row(response, key, name="Oakfield Primary School"):
    return dict(_table(response, key).rows)[name]


def _autumn(client, user, **params):
    sign_in(client, user)
    return client.get(reverse("insights:dashboard"), {"term": "2026-09-01", **params})


def test_each_figure_for_oakfield_matches_the_hand_count(client, world, dana):
    response = _autumn(client, dana)
    assert response.context["scope"].schools == [world["oakfield"]]
    assert _row(response, "requests") == [4, 3, 1, 1]
    # Waits 1, 2, 3 and 10 hours: median (rank 2) 2 h, 90th percentile (rank 4) 10 h.
    assert _row(response, "decisions") == [4, "2.0 h", "10.0 h"]
    reasons = dict(zip(_table(response, "reasons").columns, _row(response, "reasons"), strict=True))
    assert reasons["Welfare or safeguarding concern"] == 2
    assert reasons["Attendance issues or concerns"] == 2
    assert sum(reasons.values()) == 4
    outcomes = dict(
        zip(_table(response, "outcomes").columns, _row(response, "outcomes"), strict=True)
    )
    assert outcomes["Child seen, concerns raised"] == 1 and outcomes["No one answered"] == 1
    assert _row(response, "children") == [1, 2, 1]
    assert _row(response, "escalations") == [1, 0, 1, 0]
    assert _row(response, "records") == [2, 1]
    assert _row(response, "concerns") == [1, 1]
    assert _row(response, "actions") == [2, 1]
    assert _row(response, "closure") == [0, 0]
    # Due 9, 10 and 11 November (5 school days after leaving): on time, late, overdue.
    assert _row(response, "transfers") == [3, 1, 1, 1]
    assert "Birchwood" not in response.content.decode()


def test_across_the_trust_small_numbers_show_as_fewer_than_5(client, world, tina):
    response = _autumn(client, tina)
    assert [s.name for s in response.context["scope"].schools] == [
        "Birchwood Academy",
        "Oakfield Primary School",
    ]
    assert _row(response, "requests") == [
        "fewer than 5",
        "fewer than 5",
        1 and "fewer than 5",
        1 and "fewer than 5",
    ]
    assert _row(response, "requests", "Birchwood Academy") == [6, 0, 0, 0]
    assert _row(response, "requests", "All schools") == [
        10,
        "fewer than 5",
        "fewer than 5",
        "fewer than 5",
    ]
    # Fewer than 5 decisions: not even their median is shown.
    assert _row(response, "decisions") == ["fewer than 5"] * 3
    page = response.content.decode()
    assert "fewer than 5" in page
    csv = client.get(reverse("insights:table_csv"), {"table": "requests", "term": "2026-09-01"})
    lines = csv.content.decode().splitlines()
    assert lines[2] == "Birchwood Academy,6,0,0,0"
    assert lines[3].startswith("Oakfield Primary School,fewer than 5")


def test_a_trust_lead_can_look_at_one_school_in_full(client, world, tina):
    response = _autumn(client, tina, school=world["oakfield"].pk)
    assert _row(response, "requests") == [4, 3, 1, 1]


def test_a_school_sees_only_itself(client, world, dana, oscar):
    sign_in(client, dana)
    assert (
        client.get(reverse("insights:dashboard"), {"school": world["birchwood"].pk}).status_code
        == 404
    )
    sign_in(client, oscar)
    response = client.get(reverse("insights:dashboard"), {"term": "2026-09-01"})
    assert [s.name for s in response.context["scope"].schools] == ["Riverside Community School"]
    assert (
        client.get(reverse("insights:dashboard"), {"school": world["oakfield"].pk}).status_code
        == 404
    )


def test_the_charts_are_accessible_svg_with_their_figures_in_a_table(client, world, dana):
    page = _autumn(client, dana).content.decode()
    assert page.count("<svg") == 2
    assert '<title id="chart-weekly-title">' in page and '<desc id="chart-reasons-desc">' in page
    assert "Welfare or safeguarding concern: 2" in page
    assert "style=" not in page and "<style" not in page


def test_the_governors_report_is_one_page(client, world, dana):
    sign_in(client, dana)
    response = client.get(reverse("insights:report_pdf"), {"term": "2026-09-01"})
    assert response["Content-Type"] == "application/pdf"
    pdf = PdfReader(io.BytesIO(response.content))
    assert len(pdf.pages) == 1
    text = pdf.pages[0].extract_text()
    assert "Termly safeguarding visits report" in text and "Autumn term 2026" in text
    # Figures only: none of the children on the visits is named.
    for pupil in Pupil.objects.all():
        assert pupil.last_name not in text


def test_the_trust_dashboard_takes_the_same_number_of_queries_for_more_schools_and_visits(
    client, world, tina, trust, sam
):
    sign_in(client, tina)
    url = reverse("insights:dashboard")
    with CaptureQueriesContext(connection) as before:
        assert client.get(url, {"term": "2026-09-01"}).status_code == 200
    for n in range(3):
        school = school_create(f"School {n}", f"20000{n}", trust=trust)
        head = person(f"head{n}", school, Role.HEAD)
        for day in range(3):
            decide(visit(school, head, submitted=at(10, 5 + day)), head, "authorised", at(10, 9))
    with CaptureQueriesContext(connection) as after:
        assert client.get(url, {"term": "2026-09-01"}).status_code == 200
    assert len(after) == len(before)


def test_the_median_and_90th_percentile_are_the_nearest_rank_on_every_database(
    client, oakfield, birchwood, sam, dana, bea
):
    """Ten decisions at Oakfield, made after 1 to 10 hours (in no particular order): the median
    is the 5th (5 hours), the 90th percentile the 9th (9 hours); Birchwood's own decision
    counts only for Birchwood. The same figures from PostgreSQL's percentile_disc and from
    SQLite's registered aggregate."""
    for hours in (7, 2, 10, 1, 5, 9, 3, 8, 4, 6):
        v = visit(oakfield, sam, submitted=at(10, 12))
        decide(v, dana, "authorised", at(10, 12) + datetime.timedelta(hours=hours))
    decide(visit(birchwood, bea, submitted=at(10, 12)), bea, "refused", at(10, 14))
    response = _autumn(client, dana)
    assert _row(response, "decisions") == [10, "5.0 h", "9.0 h"]


def test_a_school_with_no_decisions_shows_none_and_three_decisions_have_the_second_as_median(
    client, oakfield, birchwood, sam, dana, hugh, tina
):
    for hours in (3, 1, 2):
        v = visit(oakfield, sam, submitted=at(10, 12))
        decide(v, dana, "refused", at(10, 12) + datetime.timedelta(hours=hours))
    response = _autumn(client, hugh)
    assert _row(response, "decisions") == [3, "2.0 h", "3.0 h"]
    # Across the trust: Birchwood decided nothing; Oakfield's three are "fewer than 5".
    response = _autumn(client, tina)
    assert _row(response, "decisions", "Birchwood Academy") == [0, "—", "—"]
    assert _row(response, "decisions") == ["fewer than 5"] * 3


def test_each_week_counts_the_visits_requested_from_monday_in_school_time(client, world, dana, sam):
    """Weeks begin on Monday at midnight, UK time, even across the clock change: a request at
    23:30 on Sunday 25 October (GMT, the night the clocks went back) is in the week of 19
    October; one at 00:15 on Monday 26 October in the week of 26 October."""
    oakfield = world["oakfield"]
    visit(oakfield, sam, submitted=at(10, 25, 23).replace(minute=30))
    visit(oakfield, sam, submitted=at(10, 26, 0).replace(minute=15))
    weeks = dict(_autumn(client, dana).context["weeks"])
    assert min(weeks) == datetime.date(2026, 8, 31), "the Monday of the term's first week"
    assert weeks[datetime.date(2026, 9, 28)] == 2  # Thursday 1 and Friday 2 October
    assert weeks[datetime.date(2026, 10, 5)] == 2  # Monday 5 and Tuesday 6 October
    assert weeks[datetime.date(2026, 10, 19)] == 1
    assert weeks[datetime.date(2026, 10, 26)] == 1
    assert sum(weeks.values()) == 6
