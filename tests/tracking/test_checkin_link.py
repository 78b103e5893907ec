"""The visitor's check-in link: signed, expires in an hour, single use, no sign-in, only "I'm
safe" or "15 more minutes", rate-limited, audited. Public by design (urls_under_test PUBLIC)."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from audit.models import AuditEvent
from tracking import sms
from tracking.models import CheckInLink, EscalationStep
from tracking.tokens import checkin_token_make

from .conftest import NOON

R = NOON + datetime.timedelta(hours=1)
minute = datetime.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def overdue(clock, signout, scan, sam):
    """Sam and Tess are overdue: each has had a text with a link."""
    clock.move_to(R + 15 * minute)
    scan()
    return signout


def link_path(visitor):
    (text,) = [m for m in sms.outbox if m.to == visitor.profile.work_mobile]
    url = re.search(r"https?://\S+", text.body).group(0)
    return url.removeprefix("http://127.0.0.1:8000")


def test_the_link_in_the_text_opens_without_signing_in(client, overdue, sam):
    response = client.get(link_path(sam))
    page = response.content.decode()
    assert response.status_code == 200
    assert "I'm safe" in page and "15 more minutes" in page
    assert "999" in page


def test_opening_the_link_does_not_use_it(client, overdue, sam):
    # Phones and mail scanners fetch links to preview them: only the button press counts.
    client.get(link_path(sam))
    client.get(link_path(sam))
    assert CheckInLink.objects.filter(used_at__isnull=False).count() == 0


def test_im_safe_stops_the_ladder_and_is_audited(client, overdue, scan, clock, sam):
    # R-ESC-6: any contact stops the ladder.
    response = client.post(link_path(sam), {"answer": "safe"})
    assert "the office knows you are safe" in response.content.decode()
    overdue.refresh_from_db()
    assert overdue.state == "left_safely" and overdue.next_escalation_at is None
    event = AuditEvent.objects.get(event_type="checkin.answered")
    assert event.actor is None and event.changes["visitor"] == sam.pk
    assert event.changes["answer"] == "safe"
    clock.move_to(R + 40 * minute)
    assert scan().steps_fired == 0


def test_fifteen_more_minutes_restarts_the_ladder_fifteen_minutes_from_now(
    client, overdue, scan, clock, tess
):
    # R-ESC-6: a new expected return time restarts the ladder.
    client.post(link_path(tess), {"answer": "more_time"})
    overdue.refresh_from_db()
    assert overdue.expected_return_at == R + 30 * minute
    assert (overdue.ladder_round, overdue.escalation_stage) == (2, 0)
    clock.move_to(R + 45 * minute)
    scan()
    assert EscalationStep.objects.filter(signout=overdue, ladder_round=2, number=1).exists()


def test_the_link_works_once(client, overdue, sam):
    client.post(link_path(sam), {"answer": "safe"})
    again = client.post(link_path(sam), {"answer": "more_time"})
    assert "already been used" in again.content.decode()
    assert CheckInLink.objects.get(visitor__user=sam).answer == "safe"
    assert "already been used" in client.get(link_path(sam)).content.decode()
    assert AuditEvent.objects.filter(event_type="checkin.refused").count() == 1


def test_the_link_expires_after_an_hour(client, overdue, clock, sam):
    path = link_path(sam)
    clock.move_to(R + 15 * minute + 60 * minute + datetime.timedelta(seconds=1))
    response = client.post(path, {"answer": "safe"})
    assert "expired" in response.content.decode()
    assert CheckInLink.objects.filter(used_at__isnull=False).count() == 0
    assert AuditEvent.objects.get(event_type="checkin.refused").changes["why"] == "has expired"


def test_the_link_still_works_just_before_the_hour(client, overdue, clock, sam):
    path = link_path(sam)
    clock.move_to(R + 15 * minute + 59 * minute)
    client.post(path, {"answer": "safe"})
    assert CheckInLink.objects.get(visitor__user=sam).used_at is not None


def test_a_tampered_or_forged_token_is_refused(client, overdue, sam):
    path = link_path(sam)
    token = path.split("/")[-2]
    link_id, stamp, signature = token.split(":")
    forged = [
        f"{int(link_id) + 1}:{stamp}:{signature}",  # someone else's link
        f"{link_id}:{stamp}:{signature[:-2]}AA",  # a changed signature
        f"{link_id}:{stamp}",  # no signature
        "not-a-token",
    ]
    for token in forged:
        response = client.post(reverse("tracking:checkin", args=[token]), {"answer": "safe"})
        assert "not valid" in response.content.decode()
    assert CheckInLink.objects.filter(used_at__isnull=False).count() == 0


def test_a_token_signed_with_another_key_is_refused(client, overdue, settings, sam):
    link = CheckInLink.objects.get(visitor__user=sam)
    settings.SECRET_KEY = "another-key-entirely-" * 3
    token = checkin_token_make(link.pk)
    settings.SECRET_KEY = "homeward-insecure-development-key-change-me"
    response = client.post(reverse("tracking:checkin", args=[token]), {"answer": "safe"})
    assert "not valid" in response.content.decode()


def test_the_link_can_only_say_safe_or_more_time(client, overdue, sam):
    for answer in ("help", "returned", ""):
        response = client.post(link_path(sam), {"answer": answer})
        assert response.status_code == 400
    assert CheckInLink.objects.filter(used_at__isnull=False).count() == 0


def test_the_link_is_rate_limited_per_address(client, overdue, sam, tess):
    paths = [link_path(sam), link_path(tess)]
    statuses = [client.get(path).status_code for path in paths for _ in range(10)]
    assert set(statuses) == {200}
    assert client.get(paths[0]).status_code == 429
    assert client.post(paths[1], {"answer": "safe"}).status_code == 429
    assert CheckInLink.objects.filter(used_at__isnull=False).count() == 0


def test_guessing_tokens_is_rate_limited_too(client, overdue):
    for number in range(20):
        client.get(reverse("tracking:checkin", args=[f"{number}:guess:guess"]))
    assert client.get(reverse("tracking:checkin", args=["1:guess:guess"])).status_code == 429


def test_each_link_is_rate_limited_whoever_asks(client, overdue, sam):
    path = link_path(sam)
    for number in range(10):
        assert client.get(path, REMOTE_ADDR=f"10.0.0.{number}").status_code == 200
    assert client.get(path, REMOTE_ADDR="10.0.1.1").status_code == 429


def test_after_the_visitors_are_back_the_link_says_so_records_nothing_and_thanks_nobody(
    client, overdue, olive, sam
):
    # R-TRK-4
    from tracking.signouts import signout_return

    clock_time = "13:15"
    signout_return(actor=olive, signout=overdue, went_home=False, via="board")
    page = client.get(link_path(sam)).content.decode()
    assert f"You were recorded back at school at {clock_time} by Olive Example." in page
    assert "I am still out" in page
    response = client.post(link_path(sam), {"answer": "more_time"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Thank you" not in page and "Nothing was recorded" in page
    overdue.refresh_from_db()
    assert overdue.state == "returned" and overdue.ladder_round == 1
    assert AuditEvent.objects.filter(
        event_type="checkin.refused", changes__why="tracking had closed"
    ).exists()


def test_i_am_still_out_reopens_tracking_alerts_the_office_at_once_and_restarts_the_ladder(
    client, overdue, olive, sam, clock, scan, django_capture_on_commit_callbacks
):
    # R-TRK-4: a mistaken return never silences the alarm.
    from tracking.signouts import signout_return

    signout_return(actor=olive, signout=overdue, went_home=False, via="board")
    clock.move_to(R + 20 * minute)
    path = link_path(sam)
    sms.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path, {"answer": "still_out"})
    assert "The office has been alerted that you are still out" in response.content.decode()
    overdue.refresh_from_db()
    assert (overdue.state, overdue.ladder_round, overdue.escalation_stage) == ("out", 2, 1)
    assert overdue.closed_at is None
    # The office is alerted at once (the new round's overdue step), and the ladder runs on
    # from now: the office prompted again at +5, the manager at +15.
    assert [m.to for m in sms.outbox if m.to == "+447700900500"] == ["+447700900500"]
    assert overdue.next_escalation_at == R + 25 * minute
    clock.move_to(R + 35 * minute)
    scan()
    overdue.refresh_from_db()
    assert overdue.escalation_stage == 4 and overdue.manager_alerted_at == R + 35 * minute
    reopened = AuditEvent.objects.get(event_type="signout.reopened")
    assert reopened.changes["was"] == "returned"


def test_i_am_still_out_works_once_and_not_while_tracking_is_open(
    client, overdue, olive, sam, tess
):
    # R-TRK-4
    from tracking.signouts import signout_return

    response = client.post(link_path(tess), {"answer": "still_out"})
    assert "nothing was changed" in response.content.decode()
    signout_return(actor=olive, signout=overdue, went_home=False, via="board")
    path = link_path(sam)
    client.post(path, {"answer": "still_out"})
    overdue.refresh_from_db()
    assert overdue.ladder_round == 2 and overdue.visit.status == "out"
    signout_return(actor=olive, signout=overdue, went_home=False, via="board")
    response = client.post(path, {"answer": "still_out"})
    assert "already been used" in response.content.decode()
    overdue.refresh_from_db()
    assert overdue.state == "returned" and overdue.ladder_round == 2
    assert AuditEvent.objects.filter(
        event_type="checkin.refused", changes__why="still out: tracking was open"
    ).exists()
