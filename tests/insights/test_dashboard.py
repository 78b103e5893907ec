"""The leaders' dashboard: each figure against a world counted by hand, small numbers shown as
"fewer than 5" across the trust, each school seeing only itself, and a constant number of
queries however many schools and visits."""

import datetime
import io

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from schools.models import Pupil, Role
from tests.auth import sign_in
from tests.factories import person, school_create

from .conftest import at, autumn, decide, row_of, table_of, visit


def test_each_figure_for_oakfield_matches_the_hand_count(client, world, dana):
    response = autumn(client, dana)
    assert response.context["scope"].schools == [world["oakfield"]]
    assert row_of(response, "requests") == [4, 3, 1, 1]
    # Waits 1, 2, 3 and 10 hours: median (rank 2) 2 h, 90th percentile (rank 4) 10 h.
    assert row_of(response, "decisions") == [4, "2.0 h", "10.0 h"]
    reasons = dict(
        zip(table_of(response, "reasons").columns, row_of(response, "reasons"), strict=True)
    )
    assert reasons["Welfare or safeguarding concern"] == 2
    assert reasons["Attendance issues or concerns"] == 2
    assert sum(reasons.values()) == 4
    outcomes = dict(
        zip(table_of(response, "outcomes").columns, row_of(response, "outcomes"), strict=True)
    )
    assert outcomes["Child seen, concerns raised"] == 1 and outcomes["No one answered"] == 1
    assert row_of(response, "children") == [1, 2, 1]
    assert row_of(response, "escalations") == [1, 0, 1, 0]
    assert row_of(response, "records") == [2, 1]
    assert row_of(response, "concerns") == [1, 1]
    assert row_of(response, "actions") == [2, 1]
    assert row_of(response, "closure") == [0, 0]
    # Due 9, 10 and 11 November (5 school days after leaving): on time, late, overdue.
    assert row_of(response, "transfers") == [3, 1, 1, 1]
    assert "Birchwood" not in response.content.decode()


def test_across_the_trust_small_numbers_show_as_fewer_than_5(client, world, tina):
    response = autumn(client, tina)
    assert [s.name for s in response.context["scope"].schools] == [
        "Birchwood Academy",
        "Oakfield Primary School",
    ]
    assert row_of(response, "requests") == [
        "fewer than 5",
        "fewer than 5",
        1 and "fewer than 5",
        1 and "fewer than 5",
    ]
    assert row_of(response, "requests", "Birchwood Academy") == [6, 0, 0, 0]
    assert row_of(response, "requests", "All schools") == [
        10,
        "fewer than 5",
        "fewer than 5",
        "fewer than 5",
    ]
    # Fewer than 5 decisions: not even their median is shown.
    assert row_of(response, "decisions") == ["fewer than 5"] * 3
    page = response.content.decode()
    assert "fewer than 5" in page
    csv = client.get(reverse("insights:table_csv"), {"table": "requests", "term": "2026-09-01"})
    lines = csv.content.decode().splitlines()
    assert lines[2] == "Birchwood Academy,6,0,0,0"
    assert lines[3].startswith("Oakfield Primary School,fewer than 5")


def test_a_trust_lead_can_look_at_one_school_in_full(client, world, tina):
    response = autumn(client, tina, school=world["oakfield"].pk)
    assert row_of(response, "requests") == [4, 3, 1, 1]


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


def test_the_charts_are_accessible_svg_with_their_figures_in_atable_of(client, world, dana):
    page = autumn(client, dana).content.decode()
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


def _queries(client, url, **params) -> int:
    """The queries of one GET. The log is emptied first: it keeps the last 9,000 queries, and
    building these worlds takes more, which would leave nothing to count."""
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured)


def test_the_trust_dashboard_takes_the_same_number_of_queries_for_more_schools_and_visits(
    client, world, tina, trust, time_machine
):
    """After a change, the render counts the changed days again: the same queries whether one
    visit changed in two schools or nine in five. With nothing changed it makes fewer."""
    sign_in(client, tina)
    url = reverse("insights:dashboard")
    term = {"term": "2026-09-01"}
    _queries(client, url, **term)  # counts every day
    oakfield_head = person("head", world["oakfield"], Role.HEAD)
    visit(world["oakfield"], oakfield_head, submitted=at(10, 20))
    small = _queries(client, url, **term)
    for n in range(3):
        school = school_create(f"School {n}", f"20000{n}", trust=trust)
        head = person(f"head{n}", school, Role.HEAD)
        for day in range(3):
            decide(visit(school, head, submitted=at(10, 5 + day)), head, "authorised", at(10, 9))
    assert _queries(client, url, **term) == small
    # Ten minutes on, once past the refresh's look-back (insights.summaries.OVERLAP):
    time_machine.shift(datetime.timedelta(minutes=10))
    _queries(client, url, **term)
    assert _queries(client, url, **term) < small


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
    response = autumn(client, dana)
    assert row_of(response, "decisions") == [10, "5.0 h", "9.0 h"]


def test_a_school_with_no_decisions_shows_none_and_three_decisions_have_the_second_as_median(
    client, oakfield, birchwood, sam, dana, hugh, tina
):
    for hours in (3, 1, 2):
        v = visit(oakfield, sam, submitted=at(10, 12))
        decide(v, dana, "refused", at(10, 12) + datetime.timedelta(hours=hours))
    response = autumn(client, hugh)
    assert row_of(response, "decisions") == [3, "2.0 h", "3.0 h"]
    # Across the trust: Birchwood decided nothing; Oakfield's three are "fewer than 5".
    response = autumn(client, tina)
    assert row_of(response, "decisions", "Birchwood Academy") == [0, "—", "—"]
    assert row_of(response, "decisions") == ["fewer than 5"] * 3


def test_each_week_counts_the_visits_requested_from_monday_in_school_time(client, world, dana, sam):
    """Weeks begin on Monday at midnight, UK time, even across the clock change: a request at
    23:30 on Sunday 25 October (GMT, the night the clocks went back) is in the week of 19
    October; one at 00:15 on Monday 26 October in the week of 26 October."""
    oakfield = world["oakfield"]
    visit(oakfield, sam, submitted=at(10, 25, 23).replace(minute=30))
    visit(oakfield, sam, submitted=at(10, 26, 0).replace(minute=15))
    weeks = dict(autumn(client, dana).context["weeks"])
    assert min(weeks) == datetime.date(2026, 8, 31), "the Monday of the term's first week"
    assert weeks[datetime.date(2026, 9, 28)] == 2  # Thursday 1 and Friday 2 October
    assert weeks[datetime.date(2026, 10, 5)] == 2  # Monday 5 and Tuesday 6 October
    assert weeks[datetime.date(2026, 10, 19)] == 1
    assert weeks[datetime.date(2026, 10, 26)] == 1
    assert sum(weeks.values()) == 6
