"""The escalation ladder (R-TRK-3, R-ESC-1…7), walked with time-machine; never by sleeping."""

import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from schools.models import Role
from tests.factories import person
from tracking import sms
from tracking.common import TrackingBlocked, TrackingConflict
from tracking.forms import london_aware
from tracking.ladder import signout_escalate
from tracking.models import CallAttempt, EscalationStep, Notification, SignOut
from tracking.signouts import (
    call_attempt_record,
    escalation_decision_record,
    signout_extend,
    signout_help_request,
    signout_phone_in,
    signout_return,
)
from visits.cancellation import visit_cancel

from .conftest import NOON, authorised_visit, sign_out

R = NOON + datetime.timedelta(hours=1)  # the expected return of the `signout` fixture
minute = datetime.timedelta(minutes=1)


def steps(signout):
    return list(
        EscalationStep.objects.filter(signout=signout)
        .order_by("ladder_round", "number")
        .values_list("ladder_round", "number", "kind")
    )


def sms_to(number):
    return [m for m in sms.outbox if m.to == number]


def test_the_ladder_walks_minute_by_minute_from_overdue_to_the_manager(clock, signout, scan):
    """R-TRK-3 at R+15, R-ESC-1 at once, R-ESC-2 at R+20 and R+25, R-ESC-3 at R+30: each step
    and each message exactly once, at the minute it falls due and not a minute before."""
    expected = []  # (minutes after R, SMS so far, emails so far, stage)
    for m in range(-5, 35):
        if m < 15:
            expected.append((m, 0, 0, 0))
        elif m < 20:
            expected.append((m, 3, 1, 1))  # monitor + 2 visitors; office email
        elif m < 25:
            expected.append((m, 4, 1, 2))  # + monitor: call again
        elif m < 30:
            expected.append((m, 5, 1, 3))  # + monitor: final call
        else:
            expected.append((m, 6, 2, 4))  # + manager SMS and email
    for m, texts, emails, stage in expected:
        clock.move_to(R + m * minute)
        scan()
        signout.refresh_from_db()
        assert (m, len(sms.outbox), len(mail.outbox), signout.escalation_stage) == (
            m,
            texts,
            emails,
            stage,
        )
    assert steps(signout) == [
        (1, 1, "overdue"),
        (1, 2, "retry"),
        (1, 3, "final_retry"),
        (1, 4, "manager"),
    ]
    fired = EscalationStep.objects.filter(signout=signout).order_by("number")
    assert [(s.due_at - R, s.fired_at - s.due_at) for s in fired] == [
        (datetime.timedelta(minutes=15), datetime.timedelta(0)),
        (datetime.timedelta(minutes=20), datetime.timedelta(0)),
        (datetime.timedelta(minutes=25), datetime.timedelta(0)),
        (datetime.timedelta(minutes=30), datetime.timedelta(0)),
    ]
    # R-ESC-9: nobody acknowledged: the ladder does not end at the manager.
    assert signout.next_escalation_at == R + 35 * minute
    assert signout.manager_alerted_at == R + 30 * minute
    assert Notification.objects.filter(signout=signout).count() == 8
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}


def test_a_visit_is_not_overdue_one_second_before_the_grace_ends(clock, signout, scan):
    # R-TRK-3
    clock.move_to(R + 15 * minute - datetime.timedelta(seconds=1))
    assert scan().steps_fired == 0
    clock.move_to(R + 15 * minute)
    assert scan().steps_fired == 1


def test_the_overdue_step_alerts_the_monitor_and_asks_each_visitor_to_call_in(
    clock, signout, scan, sam, tess
):
    # R-ESC-1
    clock.move_to(R + 15 * minute)
    scan()
    assert [m.subject for m in mail.outbox] == [
        "Homeward: Sam Example and Tess Example are overdue from a home visit"
    ]
    assert mail.outbox[0].to == ["office@oakfield.example"]
    (monitor,) = sms_to("+447700900500")
    assert "Sam Example and Tess Example are overdue" in monitor.body
    assert "due back 13:00" in monitor.body
    for visitor in (sam, tess):
        (text,) = sms_to(visitor.profile.work_mobile)
        assert "due back from your visit at 13:00" in text.body
        assert "/tracking/check-in/" in text.body
        assert "999" in text.body
    assert sms_to(sam.profile.work_mobile)[0].body != sms_to(tess.profile.work_mobile)[0].body


def test_a_scan_that_runs_twice_fires_each_step_once(clock, signout, scan):
    # R-ESC-5
    clock.move_to(R + 16 * minute)
    assert scan().steps_fired == 1
    assert scan().steps_fired == 0
    assert scan().steps_fired == 0
    assert steps(signout) == [(1, 1, "overdue")]
    assert len(sms.outbox) == 3


def test_after_hours_of_downtime_every_due_step_fires_at_once_manager_included(
    clock, signout, scan, max
):
    # R-ESC-5: the ladder is driven by stored times; a restart runs every due step, once.
    clock.move_to(R + datetime.timedelta(hours=3))
    report = scan()
    # R-ESC-9: nobody acknowledged, so the chain (empty here) and everyone follow; of the
    # fourteen reminders missed, one goes now, not a burst of fourteen.
    assert report.steps_fired == 6
    assert steps(signout) == [
        (1, 1, "overdue"),
        (1, 2, "retry"),
        (1, 3, "final_retry"),
        (1, 4, "manager"),
        (1, 5, "everyone"),
        (1, 19, "reminder"),
    ]
    assert len(sms_to(max.profile.work_mobile)) == 1
    assert [m.to for m in mail.outbox if "cannot be reached" in m.subject] == [[max.email]]
    # The steps keep the times they were due at; lateness is visible.
    late = EscalationStep.objects.get(signout=signout, number=4)
    assert late.due_at == R + 30 * minute and late.fired_at == R + datetime.timedelta(hours=3)
    assert scan().steps_fired == 0


def test_the_ladder_crosses_the_october_clock_change_by_the_minute(
    time_machine, visit, olive, scan
):
    """Clocks go back at 02:00 BST on Sunday 25/10/2026 (01:00 UTC). A visitor due back at
    01:30 (the first 01:30, BST) is overdue at 01:45 BST; the manager step falls at 01:00 GMT,
    30 real minutes after R, although the wall clock shows an earlier time."""
    time_machine.move_to(datetime.datetime(2026, 10, 24, 23, 50, tzinfo=datetime.UTC), tick=False)
    back_at = london_aware(datetime.datetime(2026, 10, 25, 1, 30))
    assert back_at.astimezone(datetime.UTC) == datetime.datetime(
        2026, 10, 25, 0, 30, tzinfo=datetime.UTC
    )
    from tracking.signouts import signout_create

    signout = signout_create(
        actor=olive,
        visit=visit,
        expected_return_at=back_at,
        vehicle="On foot",
        mobiles={v.user_id: v.user.profile.work_mobile for v in visit.visitors.all()},
    )
    fired_at = {}
    start = datetime.datetime(2026, 10, 25, 0, 25, tzinfo=datetime.UTC)
    for m in range(0, 50):
        time_machine.move_to(start + m * minute)
        for _, _, number in scan().fired:
            fired_at[number] = start + m * minute
    utc = datetime.UTC
    assert fired_at == {
        1: datetime.datetime(2026, 10, 25, 0, 45, tzinfo=utc),  # 01:45 BST
        2: datetime.datetime(2026, 10, 25, 0, 50, tzinfo=utc),  # 01:50 BST
        3: datetime.datetime(2026, 10, 25, 0, 55, tzinfo=utc),  # 01:55 BST
        4: datetime.datetime(2026, 10, 25, 1, 0, tzinfo=utc),  # 01:00 GMT, after the change
        5: datetime.datetime(2026, 10, 25, 1, 5, tzinfo=utc),  # R-ESC-9: nobody acknowledged
    }
    manager_text = Notification.objects.get(signout=signout, step__number=4, channel="sms")
    assert "due back 01:30" in manager_text.body


def test_an_hour_that_does_not_exist_in_march_is_refused():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="clocks went forward"):
        london_aware(datetime.datetime(2026, 3, 29, 1, 30))


def test_a_phone_in_stops_the_ladder(clock, signout, scan, sam):
    # R-TRK-2, R-TRK-3, R-ESC-6: a phone-in closes the ladder.
    clock.move_to(R + 16 * minute)
    scan()
    signout_phone_in(actor=sam, signout=signout, via="phone", visitor=sam)
    for m in range(17, 60):
        clock.move_to(R + m * minute)
        assert scan().steps_fired == 0
    signout.refresh_from_db()
    assert signout.state == "left_safely" and signout.next_escalation_at is None
    assert steps(signout) == [(1, 1, "overdue")]


def test_a_new_expected_time_restarts_the_ladder_from_it(clock, signout, scan, sam):
    # R-ESC-6
    clock.move_to(R + 16 * minute)
    scan()
    new_r = R + 50 * minute
    signout_extend(
        actor=sam,
        signout=signout,
        new_expected_return_at=new_r,
        reason="The family arrived late",
        via="phone",
        visitor=sam,
    )
    signout.refresh_from_db()
    assert (signout.ladder_round, signout.escalation_stage) == (2, 0)
    assert signout.next_escalation_at == new_r + 15 * minute
    for m in range(17, 66):
        clock.move_to(R + m * minute)
        scan()
    assert steps(signout) == [(1, 1, "overdue"), (2, 1, "overdue")]
    clock.move_to(new_r + 30 * minute)
    scan()
    assert [s[1] for s in steps(signout) if s[0] == 2] == [1, 2, 3, 4]


def test_a_new_expected_time_needs_a_reason_and_a_time_to_come(clock, signout, sam):
    # R-TRK-2
    with pytest.raises(TrackingBlocked) as blocked:
        signout_extend(
            actor=sam,
            signout=signout,
            new_expected_return_at=NOON - minute,
            reason=" ",
            via="phone",
            visitor=sam,
        )
    assert set(blocked.value.message_dict) == {"reason", "new_expected_return_at"}


def test_a_return_closes_tracking_and_marks_the_visit_returned(clock, signout, scan, olive):
    # R-TRK-2, R-ESC-6
    clock.move_to(R + 5 * minute)
    signout_return(actor=olive, signout=signout, went_home=False, via="board")
    signout.refresh_from_db()
    assert signout.state == "returned" and signout.next_escalation_at is None
    assert signout.visit.status == "returned" and signout.visit.returned_at == R + 5 * minute
    clock.move_to(R + 2 * datetime.timedelta(hours=1))
    assert scan().steps_fired == 0
    with pytest.raises(TrackingConflict):
        signout_return(actor=olive, signout=signout, went_home=True, via="board")


def test_going_straight_home_closes_tracking(clock, signout, tess):
    # R-TRK-2
    signout_return(actor=tess, signout=signout, went_home=True, via="phone", visitor=tess)
    signout.refresh_from_db()
    assert signout.state == "went_home" and signout.visit.status == "returned"


def test_a_return_racing_a_step_is_decided_once_by_the_database(clock, signout, scan, olive):
    """R-ESC-5, R-ESC-6: whichever commits first wins; the other changes nothing."""
    clock.move_to(R + 15 * minute)
    signout_return(actor=olive, signout=signout, went_home=False, via="board")
    assert scan().steps_fired == 0  # the return won: no step
    assert steps(signout) == []


def test_a_step_that_won_the_race_is_kept_and_the_return_still_closes(clock, signout, scan, olive):
    clock.move_to(R + 15 * minute)
    assert scan().steps_fired == 1  # the step won
    signout_return(actor=olive, signout=signout, went_home=False, via="board")
    clock.move_to(R + 40 * minute)
    assert scan().steps_fired == 0
    assert steps(signout) == [(1, 1, "overdue")]


def test_prompts_not_yet_sent_are_not_sent_once_the_visitors_are_back(clock, signout, olive):
    """Office and visitor prompts still queued are cancelled by the return; the manager's are
    never cancelled."""
    clock.move_to(R + 30 * minute)
    signout_escalate(signout_id=signout.pk, now=R + 30 * minute)  # on_commit not run: queued
    signout_return(actor=olive, signout=signout, went_home=False, via="board")
    statuses = dict(
        Notification.objects.filter(signout=signout).values_list("template", "status").distinct()
    )
    assert statuses["overdue_visitor"] == "cancelled"
    assert statuses["retry_office"] == "cancelled"
    assert statuses["manager"] == "pending"
    assert statuses["escalation_manager"] == "pending"


def test_a_visit_cancelled_while_out_stops_its_ladder(clock, signout, scan, dana):
    # R-REQ-6 with R-ESC-6: tracking.ladder.signout_close_for_cancelled_visit, from visit_cancel
    clock.move_to(R + 10 * minute)
    visit_cancel(actor=dana, visit=signout.visit, reason="The family moved away")
    signout.refresh_from_db()
    assert signout.state == "cancelled" and signout.next_escalation_at is None
    clock.move_to(R + 60 * minute)
    assert scan().steps_fired == 0


def test_the_final_retry_recorded_as_failed_alerts_the_manager_at_once(
    clock, signout, scan, olive, max, committed
):
    # R-ESC-3: the moment the office records the final retry as failed, not at R+30.
    clock.move_to(R + 25 * minute)
    scan()
    clock.move_to(R + 26 * minute)
    committed(
        call_attempt_record,
        actor=olive,
        signout=signout,
        number_called="07700 900101",
        called_at=R + 26 * minute,
        outcome=CallAttempt.Outcome.NO_ANSWER,
    )
    signout.refresh_from_db()
    assert signout.escalation_stage == 4 and signout.manager_alerted_at == R + 26 * minute
    manager = EscalationStep.objects.get(signout=signout, number=4)
    assert manager.trigger == "final_call_failed" and manager.due_at == R + 26 * minute
    assert len(sms_to(max.profile.work_mobile)) == 1
    clock.move_to(R + 30 * minute)
    assert scan().steps_fired == 0
    assert len(sms_to(max.profile.work_mobile)) == 1


def test_an_early_failed_call_does_not_skip_the_retries(clock, signout, scan, olive):
    # R-ESC-2: before the final retry a failed call is logged; the ladder goes on.
    clock.move_to(R + 16 * minute)
    scan()
    call_attempt_record(
        actor=olive,
        signout=signout,
        number_called="07700 900101",
        called_at=R + 16 * minute,
        outcome=CallAttempt.Outcome.NO_ANSWER,
    )
    signout.refresh_from_db()
    assert signout.escalation_stage == 1


def test_a_call_that_reaches_the_visitor_stops_the_ladder(clock, signout, scan, olive, sam):
    # R-ESC-6: any contact stops the ladder.
    clock.move_to(R + 21 * minute)
    scan()
    call_attempt_record(
        actor=olive,
        signout=signout,
        number_called="07700 900101",
        called_at=R + 21 * minute,
        outcome=CallAttempt.Outcome.SPOKE_SAFE,
        visitor=sam,
    )
    clock.move_to(R + 40 * minute)
    assert scan().steps_fired == 0
    signout.refresh_from_db()
    assert signout.state == "left_safely" and signout.last_contact_at == R + 21 * minute


def test_each_call_records_its_time_number_and_outcome(clock, signout, olive):
    # R-ESC-2
    clock.move_to(NOON + 6 * minute)
    attempt = call_attempt_record(
        actor=olive,
        signout=signout,
        number_called="07700 900102",
        called_at=NOON + 5 * minute,
        outcome=CallAttempt.Outcome.VOICEMAIL,
        notes="Rang twice",
    )
    assert (attempt.number_called, attempt.called_at, attempt.outcome) == (
        "+447700900102",
        NOON + 5 * minute,
        "voicemail",
    )
    assert AuditEvent.objects.filter(event_type="call_attempt.recorded").count() == 1
    with pytest.raises(TrackingBlocked) as blocked:
        call_attempt_record(
            actor=olive,
            signout=signout,
            number_called="not a number",
            called_at=NOON + 90 * minute,
            outcome="maybe",
        )
    assert set(blocked.value.message_dict) == {"number_called", "called_at", "outcome"}


def test_asking_for_help_alerts_the_manager_and_the_office_at_once(
    clock, signout, sam, max, committed
):
    # R-ESC-7: skips the ladder.
    clock.move_to(NOON + 20 * minute)
    committed(signout_help_request, actor=sam, signout=signout, via="phone", visitor=sam)
    signout.refresh_from_db()
    assert signout.help_requested_at == NOON + 20 * minute
    # R-ESC-9: if nobody acknowledges the call for help, the chain follows it.
    assert signout.next_escalation_at == NOON + 25 * minute and signout.case_open
    assert len(sms_to(max.profile.work_mobile)) == 1
    assert len(sms_to("+447700900500")) == 1  # the monitor
    assert sorted(m.to[0] for m in mail.outbox) == [max.email, "office@oakfield.example"]
    assert "Sam Example asked for help" in sms_to(max.profile.work_mobile)[0].body
    # Asking again alerts nobody twice.
    committed(signout_help_request, actor=sam, signout=signout, via="phone", visitor=sam)
    assert len(sms.outbox) == 2 and len(mail.outbox) == 2


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("out_of_hours", "hugh"),
        ("designated", "max"),
        ("nobody_named", "hugh"),
    ],
)
def test_the_manager_is_the_out_of_hours_manager_else_the_designated_manager_else_the_head(
    clock, scan, sam, tess, dana, hugh, max, olive, pupil, oakfield, setup, expected
):
    # R-ESC-3
    if setup == "out_of_hours":
        oakfield.designated_manager = max
        oakfield.save()
        evening = datetime.datetime(2026, 11, 26, 18, 30, tzinfo=datetime.UTC)
        visit = authorised_visit(
            sam, pupil, [sam, tess], dana, start=evening, out_of_hours_manager=hugh
        )
        assert visit.out_of_hours
    else:
        if setup == "designated":
            oakfield.designated_manager = max
            oakfield.save()
        visit = authorised_visit(sam, pupil, [sam, tess], dana)
    signout = sign_out(visit, olive)
    clock.move_to(signout.expected_return_at + 30 * minute)
    scan()
    people = {"hugh": hugh, "max": max}
    alerted = set(
        Notification.objects.filter(signout=signout, step__kind="manager").values_list(
            "recipient__username", flat=True
        )
    )
    assert alerted == {expected}
    assert len(sms_to(people[expected].profile.work_mobile)) == 1


def test_the_case_stays_open_until_the_manager_records_an_outcome(clock, signout, scan, max):
    # R-ESC-4
    with pytest.raises(TrackingBlocked, match="nothing to decide"):
        escalation_decision_record(actor=max, signout=signout, action="contacted_visitor")
    clock.move_to(R + 30 * minute)
    scan()
    escalation_decision_record(
        actor=max, signout=signout, action="next_of_kin", notes="Spoke to Sam's partner"
    )
    signout.refresh_from_db()
    assert signout.case_open
    escalation_decision_record(
        actor=max, signout=signout, action="contacted_visitor", outcome="safe"
    )
    signout.refresh_from_db()
    assert not signout.case_open and signout.resolved_by == max
    with pytest.raises(TrackingConflict):
        escalation_decision_record(actor=max, signout=signout, action="other", notes="again")
    assert list(
        AuditEvent.objects.filter(event_type__startswith="escalation.").values_list(
            "event_type", flat=True
        )
    ) == [
        "escalation.overdue",
        "escalation.retry",
        "escalation.final_retry",
        "escalation.manager",
        "escalation.decision_recorded",
        "escalation.acknowledged",  # R-ESC-8: deciding is dealing with it
        "escalation.decision_recorded",
        "escalation.resolved",
        "escalation.stood_down",  # R-ESC-10: found safe: everyone alerted is told
    ]


def test_no_email_or_sms_names_the_child_or_gives_the_address(
    clock, signout, scan, sam, pupil, household, committed
):
    # No child's name, date of birth or address in any message: staff names, times, a link.
    clock.move_to(R + 40 * minute)
    scan()
    committed(signout_help_request, actor=sam, signout=signout, via="phone", visitor=sam)
    texts = [m.body for m in sms.outbox]
    texts += [m.subject + m.body + m.alternatives[0][0] for m in mail.outbox]
    assert len(texts) >= 8 + 4  # the ladder, the chain's everyone step, the call for help
    forbidden = [pupil.first_name, pupil.last_name, household.address_line_1, household.postcode]
    forbidden += [pupil.date_of_birth.strftime("%d/%m/%Y")]
    for text in texts:
        for word in forbidden:
            assert word not in text


def test_the_ladder_uses_the_schools_own_minutes(clock, visit, olive, oakfield, scan):
    # R-TRK-3, R-ESC-2: the bold numbers are school settings.
    oakfield.overdue_grace_minutes, oakfield.retry_interval_minutes, oakfield.retries = 10, 3, 1
    oakfield.save()
    signout = sign_out(visit, olive)
    r = signout.expected_return_at
    fired = {}
    for m in range(0, 30):
        clock.move_to(r + m * minute)
        for _, _, number in scan().fired:
            fired[number] = m
    # overdue, the one (final) retry, the manager, then (R-ESC-9) everyone after the school's
    # 5 chain minutes
    assert fired == {1: 10, 2: 13, 3: 16, 4: 21}
    kinds = dict(EscalationStep.objects.filter(signout=signout).values_list("number", "kind"))
    assert kinds == {1: "overdue", 2: "final_retry", 3: "manager", 4: "everyone"}


def test_every_step_is_in_the_audit_trail(clock, signout, scan):
    # R-SEC-2
    clock.move_to(R + 31 * minute)
    scan()
    events = AuditEvent.objects.filter(
        object_type="tracking.signout", object_id=str(signout.pk)
    ).values_list("event_type", flat=True)
    assert list(events) == [
        "signout.created",
        "escalation.overdue",
        "escalation.retry",
        "escalation.final_retry",
        "escalation.manager",
    ]


def test_the_sign_out_of_another_school_is_never_touched_by_a_scan_of_nothing_due(
    clock, signout, scan
):
    clock.move_to(NOON + 10 * minute)
    report = scan()
    assert (report.due, report.steps_fired) == (0, 0)
    assert SignOut.objects.get(pk=signout.pk).escalation_stage == 0


def test_one_scan_works_through_more_due_sign_outs_than_one_batch(
    clock, sam, tess, dana, olive, pupil, scan
):
    # R-ESC-5: after a long outage every due step fires in the next scan, however many.
    signouts = [sign_out(authorised_visit(sam, pupil, [sam, tess], dana), olive) for _ in range(5)]
    clock.move_to(R + 31 * minute)
    report = scan(limit=2)
    assert report.steps_fired == 5 * 4
    assert all(SignOut.objects.get(pk=s.pk).escalation_stage == 4 for s in signouts)


def test_the_office_can_raise_the_alarm_for_the_visitors(clock, signout, olive, max, committed):
    # R-ESC-7, from the board: a visitor phoned the office asking for help.
    committed(signout_help_request, actor=olive, signout=signout, via="board")
    (text,) = sms_to(max.profile.work_mobile)
    assert (
        "the office (Olive Example) raised the alarm for Sam Example and Tess Example" in text.body
    )


def test_a_manager_with_no_email_or_mobile_on_file_is_passed_over_for_the_next(
    clock, signout, scan, max, hugh
):
    # R-ESC-3: the ladder never alerts nobody.
    max.email = ""
    max.save()
    max.profile.work_mobile = ""
    max.profile.save()
    clock.move_to(R + 30 * minute)
    scan()
    alerted = set(
        Notification.objects.filter(signout=signout, step__kind="manager").values_list(
            "recipient__username", flat=True
        )
    )
    assert alerted == {"hugh"}


def test_the_scan_never_escalates_a_cancelled_visit_however_it_was_cancelled(
    clock, signout, scan, dana
):
    from visits.models import Visit

    # Cancelled without visits.cancellation.visit_cancel (say, by a data fix): the scan checks too.
    Visit.objects.filter(pk=signout.visit_id).update(
        status="cancelled", cancelled_at=NOON, cancelled_by=dana
    )
    clock.move_to(R + 40 * minute)
    assert scan().steps_fired == 0
    signout.refresh_from_db()
    assert signout.state == "cancelled" and signout.next_escalation_at is None


@pytest.mark.parametrize("contact", ["phone_in", "help", "extend", "return"])
def test_a_scan_that_read_the_sign_out_before_a_contact_fires_nothing_after_it(
    clock, signout, sam, contact
):
    """R-ESC-5, R-ESC-6: the scan read the sign-out at stage 0; before it claims the step, the
    visitor phones in (or asks for help, or gives a new time, or comes back). Its claim is on
    what it read, so it updates nothing."""
    from tracking.ladder import _ladder_advance, _load_for_messages

    clock.move_to(R + 15 * minute)
    stale = _load_for_messages(signout.pk)
    if contact == "phone_in":
        signout_phone_in(actor=sam, signout=signout, via="phone", visitor=sam)
    elif contact == "help":
        signout_help_request(actor=sam, signout=signout, via="phone", visitor=sam)
    elif contact == "extend":
        signout_extend(
            actor=sam,
            signout=signout,
            new_expected_return_at=R + 40 * minute,
            reason="Running late",
            via="phone",
            visitor=sam,
        )
    else:
        signout_return(actor=sam, signout=signout, went_home=True, via="phone", visitor=sam)
    fired = _ladder_advance(stale, target=1, now=R + 15 * minute, trigger="scan", enqueue=None)
    assert fired == []
    assert not EscalationStep.objects.filter(signout=signout).exclude(kind="help").exists()


def test_the_overdue_step_makes_as_many_queries_for_three_visitors_as_for_two(
    clock, sam, tess, dana, olive, pupil, oakfield
):
    # R-TRK-3, R-ESC-1: in a storm the scan fires hundreds of overdue steps; each visitor's
    # check-in link must not add queries of its own.
    uma = person("uma", oakfield, Role.STAFF, work_mobile="+447700900108")
    pair = sign_out(authorised_visit(sam, pupil, [sam, tess], dana), olive)
    three = sign_out(authorised_visit(tess, pupil, [sam, tess, uma], dana), olive)
    clock.move_to(R + 15 * minute)
    counts = []
    for signout in (pair, three):
        with CaptureQueriesContext(connection) as queries:
            fired = signout_escalate(signout_id=signout.pk, now=R + 15 * minute, enqueue=None)
        assert [step.kind for step in fired] == ["overdue"]
        counts.append(len(queries))
    assert counts[0] == counts[1]
