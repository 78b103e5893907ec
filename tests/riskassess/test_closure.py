"""R-CLO-2: in closure mode, families with no acknowledged contact for 5 school days are missing
contact (a call due within 24 hours); after 20 days the local authority must be informed."""

import datetime

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from contacts.services import contact_log_create
from riskassess.closure import FastCalendar, SchoolCalendar
from riskassess.models import ClosurePeriod, SchoolHoliday
from riskassess.selectors import closure_monitors
from tests.factories import HouseholdFactory, PupilFactory

LONDON = timezone.get_current_timezone()


def _at(day: datetime.date, hour=10, minute=0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=LONDON)


def _d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


@pytest.fixture
def closed(oakfield):
    oakfield.closure_mode = True
    oakfield.save()
    ClosurePeriod.objects.create(school=oakfield, starts_on=_d("2026-11-02"))
    return oakfield


def _heard_from(household, by, when, outcome="spoke_to_parent"):
    return contact_log_create(
        actor=by,
        household=household,
        counterpart="family",
        contact_number=household.contact_numbers.first(),
        contacted="Mum",
        channel="phone",
        outcome=outcome,
        occurred_at=when,
    )


def _listed(user, today):
    (monitor,) = closure_monitors(user=user, today=today)
    return monitor


def test_school_days_skip_weekends_and_holidays():
    # R-CLO-2
    calendar = SchoolCalendar([(_d("2026-12-21"), _d("2027-01-01"))])
    assert calendar.is_school_day(_d("2026-11-27"))  # Friday
    assert not calendar.is_school_day(_d("2026-11-28"))  # Saturday
    assert not calendar.is_school_day(_d("2026-12-23"))  # Christmas holiday
    # Strictly between Monday 16/11 and Monday 23/11: Tue..Fri = 4.
    assert calendar.school_days_between(_d("2026-11-16"), _d("2026-11-23")) == 4
    assert calendar.school_days_between(_d("2026-12-18"), _d("2027-01-05")) == 1  # 04/01
    assert calendar.nth_school_day_after(_d("2026-12-18"), 1) == _d("2027-01-04")


def test_a_family_silent_for_five_school_days_is_missing_with_a_call_due(
    closed, household, pupil, sam, dana
):
    # R-CLO-2: answered on Monday 16/11; silent Tue, Wed, Thu, Fri, Mon.
    _heard_from(household, sam, _at(_d("2026-11-16")))
    assert _listed(dana, _d("2026-11-23")).total == 0
    monitor = _listed(dana, _d("2026-11-24"))
    (family,) = monitor.call_due
    assert family.household == household and family.pupils == [pupil]
    assert family.school_days == 5
    assert family.call_due_on == _d("2026-11-24")
    assert not family.call_overdue and not family.inform_local_authority
    (family,) = _listed(dana, _d("2026-11-25")).call_due
    assert family.call_overdue, "the call was due within 24 hours and none is logged"


def test_an_attempt_after_the_family_went_missing_is_the_call_made(
    closed, household, pupil, sam, dana
):
    # R-CLO-2: the call is made; no answer is not an acknowledgement.
    _heard_from(household, sam, _at(_d("2026-11-16")))
    _heard_from(household, sam, _at(_d("2026-11-24"), 9), outcome="no_answer")
    (family,) = _listed(dana, _d("2026-11-25")).call_due
    assert not family.call_overdue
    assert family.last_attempt_outcome == "No answer"


def test_an_acknowledgement_takes_the_family_off_the_list(closed, household, pupil, sam, dana):
    # R-CLO-2
    _heard_from(household, sam, _at(_d("2026-11-16")))
    _heard_from(household, sam, _at(_d("2026-11-24"), 9), outcome="acknowledged")
    assert _listed(dana, _d("2026-11-25")).total == 0


def test_the_schools_holidays_are_not_school_days(closed, household, pupil, sam, dana):
    # R-CLO-2: weekends and the school's holiday dates are skipped.
    SchoolHoliday.objects.create(
        school=closed, name="Staff training", starts_on=_d("2026-11-18"), ends_on=_d("2026-11-19")
    )
    _heard_from(household, sam, _at(_d("2026-11-16")))
    assert _listed(dana, _d("2026-11-24")).total == 0  # Tue, Fri, Mon = 3
    assert _listed(dana, _d("2026-11-26")).total == 1  # + Tue, Wed = 5


def test_after_twenty_days_the_local_authority_must_be_informed(
    closed, household, pupil, sam, dana
):
    # R-CLO-2: 20 days (calendar days, so holidays never delay it).
    _heard_from(household, sam, _at(_d("2026-11-03")))
    monitor = _listed(dana, _d("2026-11-22"))
    assert monitor.inform_local_authority == [] and len(monitor.call_due) == 1
    monitor = _listed(dana, _d("2026-11-23"))
    (family,) = monitor.inform_local_authority
    assert family.calendar_days == 20 and monitor.call_due == []


def test_a_family_never_heard_from_is_counted_from_the_closure(closed, household, pupil, dana):
    # R-CLO-2: closure began Monday 02/11; before that the children were in school. Silent
    # school days Mon 02/11 .. Fri 06/11: missing from Saturday, the call due on Monday.
    assert _listed(dana, _d("2026-11-06")).total == 0
    (family,) = _listed(dana, _d("2026-11-07")).call_due
    assert family.last_acknowledged_at is None and family.school_days == 5
    assert family.call_due_on == _d("2026-11-09")


def test_without_a_closure_date_a_family_never_heard_from_is_listed_at_once(
    oakfield, household, pupil, dana
):
    # R-CLO-2: better a call too many than a family missed.
    oakfield.closure_mode = True
    oakfield.save()
    (family,) = _listed(dana, _d("2026-11-25")).call_due
    assert family.school_days is None and family.call_due_on == _d("2026-11-25")


def test_an_old_acknowledgement_before_the_closure_counts_from_the_closure(
    closed, household, pupil, sam, dana
):
    _heard_from(household, sam, _at(_d("2026-09-10")))
    assert _listed(dana, _d("2026-11-06")).total == 0
    assert _listed(dana, _d("2026-11-07")).total == 1


def test_the_count_uses_london_dates_across_the_clock_change(closed, household, pupil, sam, dana):
    # R-CLO-2: answered at 00:30 BST on Friday 23/10 (23:30 UTC on Thursday). Silent school days
    # Mon 26/10 .. Fri 30/10, after the clocks went back: missing from Saturday 31/10.
    ClosurePeriod.objects.all().delete()
    ClosurePeriod.objects.create(school=closed, starts_on=_d("2026-10-01"))
    _heard_from(household, sam, datetime.datetime(2026, 10, 22, 23, 30, tzinfo=datetime.UTC))
    assert _listed(dana, _d("2026-10-30")).total == 0
    (family,) = _listed(dana, _d("2026-10-31")).call_due
    assert family.counted_from == _d("2026-10-23")
    assert family.call_due_on == _d("2026-11-02")


def test_schools_not_in_closure_mode_are_not_monitored(oakfield, household, pupil, dana):
    # R-CLO-2 applies in closure mode.
    assert closure_monitors(user=dana, today=_d("2026-11-25")) == []


def test_households_without_pupils_are_not_families_to_monitor(closed, dana):
    HouseholdFactory(school=closed)
    assert _listed(dana, _d("2026-11-25")).total == 0


def test_another_schools_families_are_not_listed(closed, household, pupil, bea, oscar, birchwood):
    # R-SEC-1
    birchwood.closure_mode = True
    birchwood.save()
    (monitor,) = closure_monitors(user=bea, today=_d("2026-11-25"))
    assert monitor.school == birchwood and monitor.total == 0
    assert closure_monitors(user=oscar, today=_d("2026-11-25")) == []


def _families(school, count):
    for _ in range(count):
        PupilFactory(household=HouseholdFactory(school=school))


def test_the_page_makes_as_many_queries_for_many_families_as_for_few(
    client, signed_in, closed, dana, sam
):
    # R-CLO-2, computed from the contact log with a constant number of queries.
    signed_in(dana)
    url = reverse("riskassess:missing_contact")
    _families(closed, 2)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _families(closed, 30)
    for household in closed.households.all()[:10]:
        contact_log_create(
            actor=sam,
            household=household,
            counterpart="family",
            contacted="Mum",
            channel="text",
            outcome="acknowledged",
            occurred_at=_at(_d("2026-11-10")),
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.context["monitors"][0].total == 32
    assert len(many) == len(few)


def test_the_page_says_what_to_do(client, signed_in, closed, household, pupil, sam, dana):
    # R-CLO-2
    _heard_from(household, sam, _at(_d("2026-11-02")))
    other = PupilFactory(household=HouseholdFactory(school=closed, address_line_1="3 Mill Lane"))
    _heard_from(other.household, sam, _at(_d("2026-11-17")), outcome="acknowledged")
    signed_in(dana)
    page = client.get(reverse("riskassess:missing_contact")).content.decode()
    assert "Inform the local authority and ask for advice." in page
    assert "12 Elm Grove" in page
    assert "the Senior DSL decides whether to contact social care" in page
    assert "Call by the end of Wed 25/11/2026" in page
    assert "3 Mill Lane" in page


def test_the_compact_monitor_for_the_dsl_queue(closed, household, pupil, sam, dana, olive):
    # R-CLO-2: the include the DSL queue shows; nothing for anyone who cannot read records.
    _heard_from(household, sam, _at(_d("2026-11-02")))
    template = Template("{% load riskassess_tags %}{% closure_monitor %}")
    request = RequestFactory().get("/")
    request.user = dana
    html = template.render(Context({"request": request}))
    assert "Families missing contact · Oakfield Primary School" in html
    assert "inform the local authority" in html
    request.user = olive
    assert template.render(Context({"request": request})).strip() == ""


@given(
    start=st.dates(datetime.date(2026, 1, 1), datetime.date(2027, 12, 31)),
    span=st.integers(0, 120),
    holidays=st.lists(
        st.tuples(
            st.dates(datetime.date(2026, 1, 1), datetime.date(2027, 12, 31)), st.integers(0, 20)
        ),
        max_size=4,
    ),
)
def test_the_fast_calendar_counts_school_days_like_the_plain_one(start, span, holidays):
    # R-CLO-2: the page's running count is the same arithmetic as counting day by day.
    ranges = [(day, day + datetime.timedelta(days=length)) for day, length in holidays]
    end = start + datetime.timedelta(days=span)
    fast = FastCalendar(ranges, start, end)
    plain = SchoolCalendar(ranges)
    for after in (start, start + datetime.timedelta(days=span // 2)):
        assert fast.school_days_between(after, end) == plain.school_days_between(after, end)


def test_the_school_office_records_holidays_in_the_admin_and_it_is_audited(client, oakfield):
    # R-CLO-2 (the calendar) and R-SEC-2
    from audit.models import AuditEvent
    from tests.auth import sign_in
    from tests.factories import UserFactory

    admin_user = UserFactory(username="root", is_staff=True, is_superuser=True)
    sign_in(client, admin_user)
    response = client.post(
        reverse("admin:riskassess_schoolholiday_add"),
        {
            "school": oakfield.pk,
            "name": "Christmas",
            "starts_on": "21/12/2026",
            "ends_on": "01/01/2027",
        },
    )
    assert response.status_code == 302
    holiday = SchoolHoliday.objects.get()
    assert holiday.ends_on == datetime.date(2027, 1, 1)
    assert AuditEvent.objects.filter(event_type="schoolholiday.created").exists()
    response = client.post(
        reverse("admin:riskassess_schoolholiday_add"),
        {
            "school": oakfield.pk,
            "name": "Back to front",
            "starts_on": "05/01/2027",
            "ends_on": "01/01/2027",
        },
    )
    assert response.status_code == 200
    assert SchoolHoliday.objects.count() == 1
