"""The request form says clearly what happened (issue 14, point 7)."""

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from visits.models import Status, Visit


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
    }
    for slot, user in enumerate(visitors, start=1):
        data[f"visitor_{slot}"] = user.pk
    data.update(changes)
    return data


def test_save_and_submit_that_is_blocked_says_it_is_a_draft_and_shows_the_reason_once(
    signed_in, sam, pupil
):
    # R-REQ-2: a lone visitor; the request is kept as a draft, and says so
    response = signed_in(sam).post(
        reverse("visits:new"), _form(pupil, [sam], submit="1"), follow=True
    )
    page = response.content.decode()
    assert page.count("Visits are made in pairs: add a second visitor.") == 1
    assert "Saved as a draft — not sent for authorisation because of what is listed" in page
    assert "Before this can be submitted" in page
    assert Visit.objects.get().status == Status.DRAFT


def test_the_role_of_an_unchosen_visitor_is_not_required(signed_in, sam, tess, pupil):
    # No role_2…role_4 posted (the fields are optional when nobody is chosen).
    client = signed_in(sam)
    response = client.post(reverse("visits:new"), _form(pupil, [sam, tess], save="1"))
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert {v.role_on_visit for v in visit.visitors.all()} == {"lead", "second"}
    page = client.get(reverse("visits:new")).content.decode()
    role_2 = next(tag for tag in page.split("<select") if 'name="role_2"' in tag)
    assert "required" not in role_2.split(">")[0]
