"""Requesting, submitting and deciding on visits in the browser's terms: forms and pages."""

import datetime
import uuid

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from tests.factories import assessment_for, visit_draft
from visits.models import Authorisation, Status, Visit, Visitor


@pytest.fixture(autouse=True)
def _a_wednesday_morning_at_school(time_machine):
    time_machine.move_to(
        datetime.datetime(2026, 11, 25, 9, 30, tzinfo=timezone.get_current_timezone()),
        tick=False,
    )


def _form(pupil, visitors, **changes):
    data = {
        "request_token": str(uuid.uuid4()),
        "pupil": pupil.pk,
        "kind": "standard",
        "reason": "attendance",
        "purpose": "Ten days absent; no answer on the phone.",
        "announced": "on",
        "parents_told_how": "phone",
        "visit_date": "26/11/2026",
        "start_time": "10:00",
        "end_time": "11:00",
        "return_time": "11:30",
        "returns_to_school": "on",
        "role_1": "lead",
        "role_2": "second",
        "role_3": "second",
        "role_4": "second",
    }
    for slot, user in enumerate(visitors, start=1):
        data[f"visitor_{slot}"] = user.pk
    data.update(changes)
    return data


def test_sam_saves_a_draft_and_comes_back_to_it(signed_in, sam, tess, pupil):
    # R-REQ-1
    client = signed_in(sam)
    response = client.post(reverse("visits:new"), _form(pupil, [sam, tess], save="1"))
    visit = Visit.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/visits/{visit.pk}/"
    assert visit.status == Status.DRAFT
    assert visit.planned_start == datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)
    page = client.get(reverse("visits:edit", args=[visit.pk])).content.decode()
    assert "Ten days absent" in page


def test_sam_submits_a_request_and_the_authorisers_are_emailed(
    signed_in, sam, tess, dana, hugh, pupil, django_capture_on_commit_callbacks
):
    client = signed_in(sam)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("visits:new"), _form(pupil, [sam, tess], submit="1"))
    visit = Visit.objects.get()
    assert visit.status == Status.SUBMITTED
    assert {m.to[0] for m in mail.outbox} == {dana.email, hugh.email}
    queue = signed_in(dana).get(reverse("visits:queue")).content.decode()
    assert f"/visits/{visit.pk}/decide/" in queue
    assert "Not yet assessed" in queue


def test_a_double_click_on_submit_creates_one_visit(signed_in, sam, tess, pupil):
    client = signed_in(sam)
    data = _form(pupil, [sam, tess], submit="1")
    client.post(reverse("visits:new"), data)
    client.post(reverse("visits:new"), data)
    assert Visit.objects.count() == 1
    assert AuditEvent.objects.filter(event_type="visit.submitted").count() == 1


def test_a_lone_visitor_sees_the_pairs_rule_and_the_draft_is_kept(signed_in, sam, pupil):
    # R-REQ-2
    client = signed_in(sam)
    response = client.post(reverse("visits:new"), _form(pupil, [sam], submit="1"), follow=True)
    page = response.content.decode()
    assert "Visits are made in pairs: add a second visitor." in page
    assert Visit.objects.get().status == Status.DRAFT


def test_missing_fields_and_an_end_before_the_start_show_clear_errors_and_save_nothing(
    signed_in, sam, tess, pupil
):
    # R-REQ-3
    client = signed_in(sam)
    response = client.post(
        reverse("visits:new"), _form(pupil, [sam, tess], purpose="", end_time="09:00")
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in page
    assert "The visit must end after it starts." in page
    assert not Visit.objects.exists()


def test_an_unknown_pupil_id_in_the_post_is_a_form_error_not_a_crash(signed_in, sam, tess, pupil):
    client = signed_in(sam)
    data = {**_form(pupil, [sam, tess]), "pupil": "999999"}
    response = client.post(reverse("visits:new"), data)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Visit.objects.exists()


def test_a_visitor_from_another_school_smuggled_into_the_post_is_refused(
    signed_in, sam, pupil, bea
):
    client = signed_in(sam)
    response = client.post(reverse("visits:new"), _form(pupil, [sam, bea]))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Visit.objects.exists()


def test_a_pupil_of_another_school_cannot_be_requested(signed_in, sam, tess, bea, birchwood):
    from tests.factories import HouseholdFactory, PupilFactory

    other = PupilFactory(household=HouseholdFactory(school=birchwood))
    response = signed_in(sam).post(reverse("visits:new"), _form(other, [sam, tess]))
    assert "Select a valid choice" in response.content.decode()
    assert not Visit.objects.exists()


def test_choosing_a_pupil_offers_their_siblings(signed_in, sam, pupil):
    from tests.factories import PupilFactory

    PupilFactory(household=pupil.household, first_name="Zain", last_name="Ahmed")
    response = signed_in(sam).get(reverse("visits:siblings"), {"pupil": pupil.pk})
    assert "Zain Ahmed" in response.content.decode()


def test_an_evening_visit_asks_for_the_warning_to_be_read_before_submitting(
    signed_in, sam, tess, max, pupil
):
    # R-REQ-4
    client = signed_in(sam)
    data = _form(
        pupil,
        [sam, tess],
        start_time="18:30",
        end_time="19:00",
        return_time="19:30",
        out_of_hours_manager=max.pk,
        submit="1",
    )
    response = client.post(reverse("visits:new"), data)
    assert "Evening visits are strongly discouraged" in response.content.decode()
    visit = Visit.objects.get()
    assert visit.status == Status.DRAFT
    client.post(reverse("visits:submit", args=[visit.pk]), {"confirm_warnings": "yes"})
    visit.refresh_from_db()
    assert visit.status == Status.SUBMITTED and visit.out_of_hours


def test_dana_authorises_with_conditions_and_sam_is_emailed(
    signed_in, sam, tess, dana, pupil, django_capture_on_commit_callbacks
):
    # R-AUTH-4
    from visits import requests

    visit = requests.visit_submit(actor=sam, visit=visit_draft(sam, pupil, [sam, tess]))
    assessment_for(visit, sam)
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(dana).post(
            reverse("visits:decide", args=[visit.pk]),
            {"decision": "authorise", "conditions": "Phone the office on arrival"},
        )
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == Status.AUTHORISED and visit.authorised_by == dana
    assert Authorisation.objects.get().conditions == "Phone the office on arrival"
    assert sam.email in {m.to[0] for m in mail.outbox}
    page = signed_in(sam).get(reverse("visits:detail", args=[visit.pk])).content.decode()
    assert "Authorised by" in page and "Phone the office on arrival" in page


def test_a_refusal_without_a_reason_is_sent_back_with_the_rule(signed_in, sam, tess, dana, pupil):
    # R-AUTH-4
    from visits import requests

    visit = requests.visit_submit(actor=sam, visit=visit_draft(sam, pupil, [sam, tess]))
    response = signed_in(dana).post(
        reverse("visits:decide", args=[visit.pk]), {"decision": "refuse", "reason": ""}
    )
    assert "Give the reason for refusing the visit." in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == Status.SUBMITTED


def test_the_second_dsl_sees_who_authorised_first(signed_in, sam, tess, dana, hugh, pupil):
    # R-AUTH-4
    from visits import authorisation, requests

    visit = requests.visit_submit(actor=sam, visit=visit_draft(sam, pupil, [sam, tess]))
    assessment_for(visit, sam)
    authorisation.visit_authorise(actor=dana, visit=visit)
    response = signed_in(hugh).post(
        reverse("visits:decide", args=[visit.pk]), {"decision": "authorise"}, follow=True
    )
    assert "already authorised by Dana Example at 25/11/2026 09:30" in response.content.decode()


def test_cancelling_from_the_page_needs_a_reason(signed_in, sam, tess, pupil):
    # R-REQ-6
    visit = visit_draft(sam, pupil, [sam, tess])
    client = signed_in(sam)
    response = client.post(reverse("visits:cancel", args=[visit.pk]), {"reason": ""})
    assert "This field is required." in response.content.decode()
    client.post(reverse("visits:cancel", args=[visit.pk]), {"reason": "Family moved"})
    visit.refresh_from_db()
    assert visit.status == Status.CANCELLED


def test_the_data_quality_page_lists_households_with_too_few_numbers(signed_in, dana, pupil):
    # R-REQ-8
    page = signed_in(dana).get(reverse("visits:data_quality")).content.decode()
    assert pupil.household.postcode not in page
    pupil.household.contact_numbers.first().delete()
    page = signed_in(dana).get(reverse("visits:data_quality")).content.decode()
    assert pupil.household.postcode in page and "1 current number" in page


# Constant query counts -----------------------------------------------------------------------


def _many_visits(count, requester, pupil, visitors, status):
    start = timezone.now() + datetime.timedelta(days=1)
    visits = Visit.objects.bulk_create(
        Visit(
            school=pupil.school,
            household=pupil.household,
            requested_by=requester,
            status=status,
            reason="attendance",
            purpose="x",
            planned_start=start,
            planned_end=start + datetime.timedelta(hours=1),
            planned_return=start + datetime.timedelta(hours=2),
            submitted_at=timezone.now(),
        )
        for _ in range(count)
    )
    Visit.pupils.through.objects.bulk_create(
        Visit.pupils.through(visit_id=v.pk, pupil_id=pupil.pk) for v in visits
    )
    Visitor.objects.bulk_create(
        Visitor(visit=v, user=u, role_on_visit="lead") for v in visits for u in visitors
    )


def _queries(client, url):
    """Queries of one GET, after one uncounted GET: a process's first request fills caches once
    (content types, permissions), depending on which tests ran before, not on the page."""
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_queue_needs_the_same_number_of_queries_for_5_or_500_visits(
    signed_in, sam, tess, dana, pupil
):
    client = signed_in(dana)
    _many_visits(5, sam, pupil, [sam, tess], Status.SUBMITTED)
    few = _queries(client, reverse("visits:queue"))
    _many_visits(495, sam, pupil, [sam, tess], Status.SUBMITTED)
    assert _queries(client, reverse("visits:queue")) == few


def test_my_visits_needs_the_same_number_of_queries_for_5_or_500_visits(
    signed_in, sam, tess, pupil
):
    client = signed_in(sam)
    _many_visits(5, sam, pupil, [sam, tess], Status.AUTHORISED)
    few = _queries(client, reverse("visits:mine"))
    _many_visits(495, sam, pupil, [sam, tess], Status.DRAFT)
    assert _queries(client, reverse("visits:mine")) == few
