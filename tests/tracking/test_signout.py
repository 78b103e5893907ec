"""Signing out (R-TRK-1) with the assessment re-confirmed when stale (R-RA-8), through the
office's form."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from riskassess.models import RiskAssessment
from tests.factories import visit_draft
from tracking.common import TrackingBlocked
from tracking.models import SignOut
from tracking.signouts import signout_create
from visits.cancellation import visit_cancel

from .conftest import NOON

minute = datetime.timedelta(minutes=1)


def form_data(visit, **changes):
    data = {
        "expected_return_at": "2026-11-25T13:30",
        "vehicle": "Red Vauxhall Corsa YR19 KXT",
        **{f"mobile_{v.user_id}": v.user.profile.work_mobile_display for v in visit.visitors.all()},
    }
    data.update(changes)
    return data


def test_an_authorised_visit_is_signed_out_with_each_mobile_the_vehicle_and_the_return_time(
    clock, visit, olive, sam, tess, signed_in
):
    # R-TRK-1
    client = signed_in(olive)
    url = reverse("tracking:signout", args=[visit.pk])
    page = client.get(url).content.decode()
    assert "Sam Example&#x27;s mobile" in page and "07700 900101" in page
    data = form_data(visit, **{f"mobile_{tess.pk}": "07700 900222"})
    response = client.post(url, data)
    assert response.status_code == 302 and response["Location"] == reverse("tracking:board")
    signout = SignOut.objects.get(visit=visit)
    assert signout.signed_out_at == NOON and signout.signed_out_by == olive
    assert signout.expected_return_at == datetime.datetime(
        2026, 11, 25, 13, 30, tzinfo=datetime.UTC
    )
    assert signout.vehicle == "Red Vauxhall Corsa YR19 KXT"
    assert dict(signout.visitors.values_list("user__username", "mobile")) == {
        "sam": "+447700900101",
        "tess": "+447700900222",
    }
    assert signout.next_escalation_at == signout.expected_return_at + 15 * minute
    visit.refresh_from_db()
    assert visit.status == "out" and visit.signed_out_at == NOON
    audit = AuditEvent.objects.get(event_type="signout.created")
    assert audit.actor == olive and audit.changes["vehicle"] == "Red Vauxhall Corsa YR19 KXT"


def test_a_visit_that_is_not_authorised_cannot_be_signed_out(
    clock, sam, tess, pupil, olive, signed_in
):
    # R-TRK-1
    draft = visit_draft(sam, pupil, [sam, tess])
    client = signed_in(olive)
    url = reverse("tracking:signout", args=[draft.pk])
    assert "has not been authorised" in client.get(url).content.decode()
    response = client.post(url, form_data(draft))
    assert "has not been authorised" in response.content.decode()
    assert "R-TRK-1" not in response.content.decode()  # rule IDs are never shown to users
    assert not SignOut.objects.exists()
    with pytest.raises(TrackingBlocked, match="has not been authorised"):
        signout_create(
            actor=olive,
            visit=draft,
            expected_return_at=NOON + 60 * minute,
            vehicle="On foot",
            mobiles={sam.pk: "07700 900101", tess.pk: "07700 900102"},
        )


def test_a_cancelled_visit_cannot_be_signed_out(clock, visit, dana, olive, signed_in):
    # R-TRK-1, R-REQ-6
    visit_cancel(actor=dana, visit=visit, reason="Family moved")
    response = signed_in(olive).post(reverse("tracking:signout", args=[visit.pk]), form_data(visit))
    assert "was cancelled by Dana Example" in response.content.decode()
    assert not SignOut.objects.exists()


def test_a_stale_assessment_is_reconfirmed_before_sign_out(clock, visit, olive, signed_in):
    # R-RA-8: older than 7 days at sign-out.
    clock.move_to(NOON + datetime.timedelta(days=8))
    client = signed_in(olive)
    url = reverse("tracking:signout", args=[visit.pk])
    data = form_data(visit, expected_return_at="2026-12-03T13:30")
    response = client.post(url, data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "8 days old" in page and "tick to re-confirm it" in page
    assert "R-RA-8" not in page  # rule IDs are never shown to users
    assert not SignOut.objects.exists()
    response = client.post(url, {**data, "reconfirm_assessment": "on"})
    assert response.status_code == 302
    assessment = RiskAssessment.objects.get(visit=visit)
    assert assessment.confirmed_at == NOON + datetime.timedelta(days=8)
    assert AuditEvent.objects.filter(event_type="assessment.reconfirmed", actor=olive).exists()
    assert SignOut.objects.get(visit=visit).visit.status == "out"


def test_risk_flags_changed_after_the_assessment_need_it_reconfirmed(
    clock, visit, olive, household
):
    # R-RA-8
    household.risk_flags_changed_at = NOON + minute
    household.save()
    clock.move_to(NOON + 2 * minute)
    with pytest.raises(TrackingBlocked) as blocked:
        signout_create(
            actor=olive,
            visit=visit,
            expected_return_at=NOON + 60 * minute,
            vehicle="On foot",
            mobiles={v.user_id: "07700 900101" for v in visit.visitors.all()},
        )
    assert "risk flags changed" in " ".join(blocked.value.message_dict["reconfirm_assessment"])


def test_bad_input_shows_the_form_again_with_plain_errors_and_saves_nothing(
    clock, visit, olive, sam, signed_in
):
    data = form_data(
        visit,
        **{f"mobile_{sam.pk}": "12345", "vehicle": " ", "expected_return_at": "2026-11-25T11:00"},
    )
    response = signed_in(olive).post(reverse("tracking:signout", args=[visit.pk]), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Give Sam Example&#x27;s mobile" in page
    assert "The expected return time has already passed" in page
    assert not SignOut.objects.exists()
    visit.refresh_from_db()
    assert visit.status == "authorised"


def test_a_mistyped_date_is_an_error_not_a_crash(clock, visit, olive, signed_in):
    data = form_data(visit, expected_return_at="tomorrow-ish")
    response = signed_in(olive).post(reverse("tracking:signout", args=[visit.pk]), data)
    assert response.status_code == 200
    assert "Give a date and time" in response.content.decode()


def test_signing_out_twice_signs_out_once(clock, visit, olive, signed_in):
    client = signed_in(olive)
    url = reverse("tracking:signout", args=[visit.pk])
    client.post(url, form_data(visit))
    response = client.post(url, form_data(visit), follow=True)
    assert "already signed out" in response.content.decode()
    assert SignOut.objects.count() == 1


def test_the_hour_the_clocks_go_back_is_read_as_the_first_one(
    time_machine, visit, olive, signed_in
):
    time_machine.move_to(datetime.datetime(2026, 10, 24, 23, 50, tzinfo=datetime.UTC), tick=False)
    data = form_data(visit, expected_return_at="2026-10-25T01:30")
    signed_in(olive).post(reverse("tracking:signout", args=[visit.pk]), data)
    signout = SignOut.objects.get(visit=visit)
    assert signout.expected_return_at == datetime.datetime(2026, 10, 25, 0, 30, tzinfo=datetime.UTC)
    assert timezone.localtime(signout.expected_return_at).strftime("%H:%M %Z") == "01:30 BST"
