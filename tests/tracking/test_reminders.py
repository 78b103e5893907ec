"""R-TRK-6: ten minutes before the expected return each visitor out is texted a reminder with
their check-in link and the reply words, once per expected time; a new time moves it. A due time
of the escalation scan, minute by minute with the clock stopped."""

import datetime

import pytest

from tracking import sms
from tracking.ladder import escalation_scan
from tracking.models import Notification, SignOut
from tracking.signouts import signout_extend, signout_phone_in, signout_return

from .conftest import NOON

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reminders_on(settings):
    settings.CHECKIN_REMINDER_MINUTES = 10  # the production default (tests/settings.py: off)


MINUTE = datetime.timedelta(minutes=1)
SAM, TESS = "+447700900101", "+447700900102"
WORDS = "Reply SAFE, BACK, HOME, HELP, or minutes for more time (e.g. 20)."


def reminders(number=None):
    return [
        m.body
        for m in sms.outbox
        if "you are due back" in m.body and (number is None or m.to == number)
    ]


def test_each_visitor_is_reminded_ten_minutes_before_the_return_and_only_once(clock, signout, scan):
    # R-TRK-6: out at 12:00, back by 13:00: the reminder goes at 12:50, not a minute before.
    for minute in range(0, 61):
        clock.move_to(NOON + minute * MINUTE)
        scan()
        expected = 0 if minute < 50 else 1
        assert (minute, len(reminders(SAM)), len(reminders(TESS))) == (
            minute,
            expected,
            expected,
        )
    [text] = reminders(SAM)
    assert "13:00" in text and "/tracking/check-in/" in text and text.endswith(WORDS)


def test_a_new_expected_time_moves_the_reminder(clock, signout, scan, sam):
    # R-TRK-6: extended at 12:30 to 13:30: no reminder at 12:50; one at 13:20.
    clock.move_to(NOON + 30 * MINUTE)
    signout_extend(
        actor=None,
        signout=signout,
        new_expected_return_at=NOON + 90 * MINUTE,
        reason="Longer than planned",
        via="sms",
        visitor=sam,
    )
    for minute in range(30, 91):
        clock.move_to(NOON + minute * MINUTE)
        scan()
        assert (minute, len(reminders(SAM))) == (minute, 0 if minute < 80 else 1)
    assert "13:30" in reminders(SAM)[0]


def test_an_extension_after_the_reminder_earns_another_for_the_new_time(clock, signout, scan, sam):
    # R-TRK-6: once per expected time.
    clock.move_to(NOON + 50 * MINUTE)
    scan()
    clock.move_to(NOON + 55 * MINUTE)
    signout_extend(
        actor=None,
        signout=signout,
        new_expected_return_at=NOON + 80 * MINUTE,
        reason="20 more minutes, by text",
        via="sms",
        visitor=sam,
    )
    for minute in range(55, 71):
        clock.move_to(NOON + minute * MINUTE)
        scan()
    texts = reminders(SAM)
    assert len(texts) == 2 and "13:00" in texts[0] and "13:20" in texts[1]


def test_an_extension_less_than_ten_minutes_ahead_sends_no_reminder(clock, signout, scan, sam):
    # R-TRK-6: the reminder time has already passed.
    clock.move_to(NOON + 45 * MINUTE)
    signout_extend(
        actor=None,
        signout=signout,
        new_expected_return_at=NOON + 50 * MINUTE,
        reason="Nearly done",
        via="board",
        visitor=sam,
    )
    assert SignOut.objects.get(pk=signout.pk).reminder_due_at is None
    clock.move_to(NOON + 50 * MINUTE)
    scan()
    assert reminders() == []


@pytest.mark.parametrize("how", ["phone_in", "back", "home"])
def test_visitors_no_longer_out_are_not_reminded(clock, signout, scan, olive, how):
    # R-TRK-6
    clock.move_to(NOON + 40 * MINUTE)
    if how == "phone_in":
        signout_phone_in(actor=olive, signout=signout, via="board")
    else:
        signout_return(actor=olive, signout=signout, went_home=how == "home", via="board")
    clock.move_to(NOON + 50 * MINUTE)
    scan()
    assert reminders() == []


def test_two_scans_at_once_remind_once(clock, signout, django_capture_on_commit_callbacks):
    # R-TRK-6, R-ESC-5: claimed with a conditional update; outbox rows keyed by the time.
    clock.move_to(NOON + 50 * MINUTE)
    with django_capture_on_commit_callbacks(execute=True):
        first = escalation_scan()
        second = escalation_scan()
    assert (first.reminded, second.reminded) == (1, 0)
    assert Notification.objects.filter(template="reminder_visitor").count() == 2
    assert len(reminders()) == 2


def test_a_scan_after_downtime_still_reminds_before_the_ladder_starts(clock, signout, scan):
    # R-TRK-6: the scan was down from 12:45 to 12:58: the reminder goes at 12:58.
    clock.move_to(NOON + 58 * MINUTE)
    scan()
    assert len(reminders(SAM)) == 1


def test_a_reminder_is_cancelled_if_they_are_back_before_it_is_sent(clock, signout, olive):
    # R-TRK-6: reminders are prompts, not needed once the visitors are back.
    clock.move_to(NOON + 50 * MINUTE)
    escalation_scan(enqueue=lambda ids: None)  # a broker that lost the message
    signout_return(actor=olive, signout=signout, went_home=False, via="board")
    statuses = set(
        Notification.objects.filter(template="reminder_visitor").values_list("status", flat=True)
    )
    assert statuses == {"cancelled"}


def test_the_overdue_text_gives_the_reminders_link_a_fresh_hour(clock, signout, scan):
    # R-TRK-6, R-ESC-6: the link made for the reminder at 12:50 still works an hour after the
    # overdue text at 13:15.
    from tracking.models import CheckInLink

    clock.move_to(NOON + 50 * MINUTE)
    scan()
    clock.move_to(NOON + 75 * MINUTE)
    scan()
    link = CheckInLink.objects.filter(visitor__mobile=SAM).get()
    assert link.expires_at == NOON + 135 * MINUTE
