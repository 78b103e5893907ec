"""The visits page: every visit of the school for DSLs, the Headteacher and trust leads, with
search, filters, sorting and pages; and a pupil's visits on their page (R-SEC-1)."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    ContactNumberFactory,
    HouseholdFactory,
    PupilFactory,
    assessment_for,
    visit_draft,
)
from visits.models import Status, Visit, Visitor


@pytest.fixture(autouse=True)
def _a_wednesday_morning_at_school(time_machine):
    time_machine.move_to(
        datetime.datetime(2026, 11, 25, 9, 30, tzinfo=timezone.get_current_timezone()),
        tick=False,
    )


@pytest.fixture
def other_pupil(oakfield):
    household = HouseholdFactory(
        school=oakfield, address_line_1="7 Canal Street", postcode="LS7 3EF"
    )
    ContactNumberFactory(household=household, number="+447700900399")
    return PupilFactory(household=household, first_name="Kacper", last_name="Kowalski")


def _rows(page: str) -> int:
    return len(re.findall(r'href="/visits/\d+/"', page))


def _bulk(count, requester, pupil, visitors, status=Status.SUBMITTED, **fields):
    """`count` visits made in bulk (bypassing the services: this is volume, not behaviour)."""
    start = timezone.now() + datetime.timedelta(days=1)
    visits = Visit.objects.bulk_create(
        Visit(
            school=pupil.school,
            household=pupil.household,
            requested_by=requester,
            status=status,
            reason="attendance",
            purpose="Bulk",
            planned_start=start + datetime.timedelta(minutes=n),
            planned_end=start + datetime.timedelta(minutes=n + 60),
            planned_return=start + datetime.timedelta(minutes=n + 90),
            submitted_at=timezone.now(),
            **fields,
        )
        for n in range(count)
    )
    Visit.pupils.through.objects.bulk_create(
        Visit.pupils.through(visit_id=v.pk, pupil_id=pupil.pk) for v in visits
    )
    Visitor.objects.bulk_create(
        Visitor(visit=v, user=u, role_on_visit="lead") for v in visits for u in visitors
    )


def test_dana_sees_every_visit_of_the_school_newest_first(signed_in, sam, tess, dana, pupil):
    # R-SEC-1: DSLs see all of the school's visits
    older = visit_draft(sam, pupil, [sam, tess])
    newer = visit_draft(tess, pupil, [tess, sam], start=timezone.now() + datetime.timedelta(days=5))
    page = signed_in(dana).get(reverse("visits:all")).content.decode()
    assert page.index(f"#{newer.pk}<") < page.index(f"#{older.pk}<")
    assert "2 visits" in page


def test_staff_the_office_and_the_manager_cannot_open_the_visits_page(
    signed_in, sam, olive, max, pupil
):
    # R-SEC-1: a user without the role gets 403
    for person in (sam, olive, max):
        assert signed_in(person).get(reverse("visits:all")).status_code == 403


def test_another_schools_dsl_sees_none_of_oakfields_visits(signed_in, sam, tess, bea, oscar, pupil):
    # R-SEC-1
    visit = visit_draft(sam, pupil, [sam, tess])
    for outsider in (oscar, bea):
        response = signed_in(outsider).get(reverse("visits:all"))
        assert response.status_code == 200
        assert f"#{visit.pk}<" not in response.content.decode()


def test_search_finds_a_visit_by_pupil_name_street_postcode_or_number(
    signed_in, sam, tess, dana, pupil, other_pupil
):
    aisha = visit_draft(sam, pupil, [sam, tess])
    kacper = visit_draft(sam, other_pupil, [sam, tess])
    client = signed_in(dana)
    for search in ("kowalski", "Kacper Kow", "canal", "LS7 3EF", f"#{kacper.pk}"):
        page = client.get(reverse("visits:all"), {"q": search}).content.decode()
        assert f"#{kacper.pk}<" in page and f"#{aisha.pk}<" not in page, search


def test_filters_narrow_by_status_risk_staff_doorstep_dates_and_household(
    signed_in, sam, tess, dana, hugh, pupil, other_pupil
):
    draft = visit_draft(sam, pupil, [sam, tess])
    submitted = visit_draft(
        hugh, other_pupil, [hugh], start=timezone.now() + datetime.timedelta(days=9)
    )
    assessment_for(submitted, hugh, risk="medium")
    Visit.objects.filter(pk=submitted.pk).update(status=Status.SUBMITTED)
    doorstep = visit_draft(tess, pupil, [tess, sam], kind="doorstep")
    client = signed_in(dana)

    def shown(**filters):
        page = client.get(reverse("visits:all"), filters).content.decode()
        return {v.pk for v in (draft, submitted, doorstep) if f"#{v.pk}<" in page}

    assert shown(status="submitted") == {submitted.pk}
    assert shown(risk="medium") == {submitted.pk}
    assert shown(risk="none") == {draft.pk, doorstep.pk}
    assert shown(staff=hugh.pk) == {submitted.pk}
    assert shown(staff=tess.pk) == {draft.pk, doorstep.pk}
    assert shown(doorstep="on") == {doorstep.pk}
    assert shown(date_from="2026-12-01") == {submitted.pk}
    assert shown(date_to="2026-11-30") == {draft.pk, doorstep.pk}
    assert shown(household=other_pupil.household_id) == {submitted.pk}
    assert shown(pupil=pupil.pk) == {draft.pk, doorstep.pk}


def test_the_overdue_records_filter_shows_visits_back_more_than_24_hours_without_a_record(
    signed_in, sam, tess, dana, pupil
):
    # R-REC-3
    _bulk(1, sam, pupil, [sam, tess], status=Status.RETURNED, returned_at=timezone.now())
    _bulk(
        1,
        sam,
        pupil,
        [sam, tess],
        status=Status.RETURNED,
        returned_at=timezone.now() - datetime.timedelta(hours=30),
    )
    late = Visit.objects.order_by("pk").last()
    page = signed_in(dana).get(reverse("visits:all"), {"overdue_record": "on"}).content.decode()
    assert f"#{late.pk}<" in page and "1 visit<" in page


def test_out_of_hours_only_shows_evening_visits(signed_in, sam, tess, dana, pupil):
    _bulk(2, sam, pupil, [sam, tess])
    _bulk(1, sam, pupil, [sam, tess], out_of_hours=True)
    evening = Visit.objects.filter(out_of_hours=True).get()
    page = signed_in(dana).get(reverse("visits:all"), {"out_of_hours": "on"}).content.decode()
    assert f"#{evening.pk}<" in page and "1 visit<" in page


def test_a_page_holds_25_visits_and_the_next_page_keeps_the_filters(
    signed_in, sam, tess, dana, pupil
):
    _bulk(30, sam, pupil, [sam, tess])
    client = signed_in(dana)
    first = client.get(reverse("visits:all"), {"status": "submitted", "sort": "start"})
    page = first.content.decode()
    assert _rows(page) == 25 and "Page 1 of 2" in page
    assert "status=submitted&amp;sort=start&amp;page=2" in page
    second = client.get(reverse("visits:all"), {"status": "submitted", "sort": "start", "page": 2})
    assert _rows(second.content.decode()) == 5


def test_the_visits_page_costs_the_same_queries_for_30_or_600_visits(
    signed_in, sam, tess, dana, pupil
):
    # Cost bounded by the page, not by the school's history.
    client = signed_in(dana)
    _bulk(30, sam, pupil, [sam, tess])

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert (
                client.get(reverse("visits:all"), {"q": "a", "sort": "status"}).status_code == 200
            )
        return len(captured)

    queries()  # uncounted: the first request fills caches (the navigation bar's, issue 15)
    few = queries()
    _bulk(570, sam, pupil, [sam, tess])
    assert queries() == few


def test_nonsense_filters_are_ignored_not_a_crash(signed_in, dana, pupil):
    response = signed_in(dana).get(
        reverse("visits:all"),
        {"date_from": "yesterday", "staff": "999999", "page": "x", "sort": "drop table"},
    )
    assert response.status_code == 200


# --- A pupil's visits on their page --------------------------------------------------------


def test_a_pupils_page_lists_all_their_visits_for_dana_with_a_link_to_search_them(
    signed_in, sam, tess, dana, hugh, pupil
):
    mine = visit_draft(sam, pupil, [sam, tess])
    hughs = visit_draft(hugh, pupil, [hugh])
    page = signed_in(dana).get(reverse("pupils:pupil_detail", args=[pupil.pk])).content.decode()
    assert f"/visits/{mine.pk}/" in page and f"/visits/{hughs.pk}/" in page
    assert f"/visits/all/?pupil={pupil.pk}" in page


def test_a_member_of_staff_sees_on_a_pupils_page_only_the_visits_they_are_part_of(
    signed_in, sam, tess, hugh, pupil
):
    # R-SEC-1: only DSLs, Heads and trust leads see every visit
    mine = visit_draft(sam, pupil, [sam, tess])
    hughs = visit_draft(hugh, pupil, [hugh])
    page = signed_in(sam).get(reverse("pupils:pupil_detail", args=[pupil.pk])).content.decode()
    assert f"/visits/{mine.pk}/" in page and f"/visits/{hughs.pk}/" not in page
    assert "/visits/all/" not in page


def test_a_pupils_page_is_404_for_another_school_and_403_for_the_office(
    signed_in, oscar, olive, pupil
):
    # R-SEC-1
    url = reverse("pupils:pupil_detail", args=[pupil.pk])
    assert signed_in(oscar).get(url).status_code == 404
    assert signed_in(olive).get(url).status_code == 403


def test_the_household_page_links_dana_to_every_visit_there(signed_in, dana, pupil):
    page = (
        signed_in(dana)
        .get(reverse("pupils:household_detail", args=[pupil.household_id]))
        .content.decode()
    )
    assert f"/visits/all/?household={pupil.household_id}" in page
