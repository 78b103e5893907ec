"""R-TRK-6: a school may ask visitors on a long visit to check in every N minutes (off by
default). A missed check-in starts the ladder exactly like an overdue return, counting from when
it was missed; a check-in moves the next due time. A due time of the escalation scan, walked
minute by minute with the clock stopped."""

import datetime

import pytest

from tracking import sms
from tracking.ladder import escalation_scan
from tracking.messages import reply_words_for
from tracking.models import EscalationStep, SignOut
from tracking.replies import sms_reply_receive
from tracking.signouts import signout_check_in, signout_extend, signout_phone_in

from .conftest import NOON, sign_out

pytestmark = pytest.mark.django_db

MINUTE = datetime.timedelta(minutes=1)
SAM = "+447700900101"


@pytest.fixture
def long_visit(clock, visit, olive, max, oakfield):
    """Check-ins every 30 minutes; Sam and Tess out at 12:00, back by 15:00."""
    oakfield.designated_manager = max
    oakfield.office_email = "office@oakfield.example"
    oakfield.monitor_phone = "+447700900500"
    oakfield.checkin_interval_minutes = 30
    oakfield.save()
    return sign_out(visit, olive, back_in=datetime.timedelta(hours=3))


def steps(signout):
    return list(
        EscalationStep.objects.filter(signout=signout)
        .order_by("fired_at", "number")
        .values_list("ladder_round", "number", "kind", "due_at")
    )


def test_check_ins_are_off_by_default(clock, signout):
    # R-TRK-6: a school that has not asked for check-ins sets no due time.
    assert signout.checkin_interval_seconds == 0 and signout.checkin_due_at is None


def test_a_missed_check_in_starts_the_ladder_once_from_when_it_was_missed(long_visit, clock, scan):
    # R-TRK-6, R-ESC-1: due at 12:30; nothing until then; at 12:30 the office is alerted and
    # each visitor asked to call in, exactly like an overdue return; later scans do not repeat it.
    assert long_visit.checkin_due_at == NOON + 30 * MINUTE
    for minute in range(0, 35):
        clock.move_to(NOON + minute * MINUTE)
        report = scan()
        fired = steps(long_visit)
        if minute < 30:
            assert (minute, fired) == (minute, [])
        else:
            assert (minute, fired) == (minute, [(2, 1, "overdue", NOON + 30 * MINUTE)])
            assert report.checkins_missed == (1 if minute == 30 else 0)
    long_visit.refresh_from_db()
    assert long_visit.ladder_from_at == NOON + 30 * MINUTE and long_visit.checkin_due_at is None
    assert long_visit.events.filter(kind="missed_checkin").count() == 1
    visitor_texts = [m.body for m in sms.outbox if m.to == SAM]
    assert len(visitor_texts) == 1 and "missed your check-in due at 12:30" in visitor_texts[0]


def test_a_visitors_texts_name_fine_only_where_the_school_asks_for_check_ins(
    long_visit, clock, scan, tess
):
    # R-TRK-5, R-TRK-6: the missed check-in text tells Sam every word he can reply with,
    # FINE included; at a school without check-ins FINE would mean nothing and is not offered.
    clock.move_to(NOON + 30 * MINUTE)
    scan()
    [text] = [m.body for m in sms.outbox if m.to == SAM]
    assert "Reply SAFE, BACK, HOME, FINE (still on the visit, all well), HELP" in text
    school = long_visit.school
    school.checkin_interval_minutes = 0
    assert (
        reply_words_for(school)
        == "Reply SAFE, BACK, HOME, HELP, or minutes for more time (e.g. 20)."
    )


def test_the_ladder_of_a_missed_check_in_runs_to_the_manager_like_an_overdue_return(
    long_visit, clock, scan
):
    # R-TRK-6, R-ESC-2, R-ESC-3: retries every 5 minutes from 12:30, the manager at 12:45.
    for minute in range(0, 46):
        clock.move_to(NOON + minute * MINUTE)
        scan()
    assert [(n, kind, due - NOON) for _, n, kind, due in steps(long_visit)] == [
        (1, "overdue", 30 * MINUTE),
        (2, "retry", 35 * MINUTE),
        (3, "final_retry", 40 * MINUTE),
        (4, "manager", 45 * MINUTE),
    ]


def test_a_check_in_moves_the_next_due_time(long_visit, clock, scan, sam):
    # R-TRK-6: checked in at 12:20: the next is due at 12:50, and nothing fires at 12:30.
    clock.move_to(NOON + 20 * MINUTE)
    signout = signout_check_in(actor=sam, signout=long_visit, via="phone", visitor=sam)
    assert signout.checkin_due_at == NOON + 50 * MINUTE
    for minute in range(20, 50):
        clock.move_to(NOON + minute * MINUTE)
        scan()
        assert (minute, steps(long_visit)) == (minute, [])
    clock.move_to(NOON + 50 * MINUTE)
    scan()
    assert [kind for _, _, kind, _ in steps(long_visit)] == ["overdue"]


def test_no_check_in_is_due_after_the_expected_return(clock, visit, olive, oakfield):
    # R-TRK-6: out 12:00-12:40 with check-ins every 30 minutes: one at 12:30, then the return.
    oakfield.checkin_interval_minutes = 30
    oakfield.save()
    short = sign_out(visit, olive, back_in=datetime.timedelta(minutes=40))
    assert short.checkin_due_at == NOON + 30 * MINUTE
    clock.move_to(NOON + 25 * MINUTE)
    assert signout_check_in(actor=None, signout=short, via="board").checkin_due_at is None


def test_checking_in_after_a_missed_one_stops_its_ladder_and_restores_the_return(
    long_visit, clock, scan, sam
):
    # R-TRK-6, R-ESC-6, R-ESC-10: missed at 12:30; FINE by text at 12:33: the office's prompts
    # stop, the ladder counts from the return (15:15) again, the next check-in is due at 13:03.
    clock.move_to(NOON + 30 * MINUTE)
    scan()
    clock.move_to(NOON + 33 * MINUTE)
    result = sms_reply_receive(
        provider="twilio", provider_message_id="SMfine", sender=SAM, text="Fine", enqueue=None
    )
    assert result.reply.outcome == "applied"
    signout = SignOut.objects.get(pk=long_visit.pk)
    assert signout.ladder_from_at is None and signout.state == "out"
    assert signout.next_escalation_at == NOON + 195 * MINUTE
    assert signout.checkin_due_at == NOON + 63 * MINUTE
    assert signout.ladder_round == 3
    for minute in range(33, 63):
        clock.move_to(NOON + minute * MINUTE)
        scan()
    assert [kind for _, _, kind, _ in steps(long_visit)] == ["overdue"]


@pytest.mark.parametrize("how", ["left_safely", "extended"])
def test_leaving_or_a_new_time_moves_or_clears_the_check_in(long_visit, clock, sam, how):
    # R-TRK-6: left safely: no more check-ins; a new time: the next counts from now.
    clock.move_to(NOON + 10 * MINUTE)
    if how == "left_safely":
        signout = signout_phone_in(actor=None, signout=long_visit, via="sms", visitor=sam)
        assert signout.checkin_due_at is None
    else:
        signout = signout_extend(
            actor=None,
            signout=long_visit,
            new_expected_return_at=NOON + 240 * MINUTE,
            reason="Longer",
            via="sms",
            visitor=sam,
        )
        assert signout.checkin_due_at == NOON + 40 * MINUTE


def test_two_scans_at_once_start_the_ladder_once(
    long_visit, clock, django_capture_on_commit_callbacks
):
    # R-TRK-6, R-ESC-5: claimed with a conditional update.
    clock.move_to(NOON + 31 * MINUTE)
    with django_capture_on_commit_callbacks(execute=True):
        first = escalation_scan()
        second = escalation_scan()
    assert (first.checkins_missed, second.checkins_missed) == (1, 0)
    assert [kind for _, _, kind, _ in steps(long_visit)] == ["overdue"]


from .test_replies import hooks, provider, texts_to  # noqa: E402, F401 - fixtures


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("via", ["twilio", "notify"])
def test_fine_by_a_real_webhook_is_a_check_in(  # noqa: F811
    hooks,  # noqa: F811 - the fixture from test_replies
    provider,  # noqa: F811
    visit,
    olive,
    oakfield,
    via,
):
    # R-TRK-6, R-TRK-5: the fake provider posts "fine." to the live server; the next check-in
    # moves to 30 minutes from now and the answer says when.
    oakfield.checkin_interval_minutes = 30
    oakfield.save()
    signout = sign_out(visit, olive, back_in=datetime.timedelta(hours=3))
    before = signout.checkin_due_at
    hooks.send(via, body="fine.")
    signout.refresh_from_db()
    assert signout.checkin_due_at > before and signout.state == "out"
    assert signout.events.filter(kind="checked_in", via="sms").count() == 1
    [answer] = texts_to(provider, SAM)
    assert answer.startswith("Homeward: Thank you: checked in. Next check-in by ")
    # R-TRK-5: the answer ends with the reply words, FINE among them at this school.
    assert answer.endswith(
        "Reply SAFE, BACK, HOME, FINE (still on the visit, all well), HELP, "
        "or minutes for more time (e.g. 20)."
    )


def test_a_check_in_and_a_missed_one_move_the_boards_version(long_visit, clock, oakfield, sam):
    # R-TRK-6, issue 15: the office's board polls see a check-in and a missed one at once.
    from schools.models import BoardVersion
    from tracking.ladder import signout_checkin_missed

    def version():
        return BoardVersion.objects.get(school=oakfield).version

    before = version()
    clock.move_to(NOON + 20 * MINUTE)
    signout_check_in(actor=sam, signout=long_visit, via="phone", visitor=sam)
    checked_in = version()
    assert checked_in > before
    missed = NOON + 50 * MINUTE
    clock.move_to(missed)
    assert signout_checkin_missed(signout_id=long_visit.pk, due_at=missed, now=missed)
    assert version() > checked_in
