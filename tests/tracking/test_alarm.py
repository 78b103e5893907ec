"""The alarm reaches a person and stands down: acknowledgement (R-ESC-8), the escalation chain
that never ends in silence (R-ESC-9) and the stand-down (R-ESC-10). Walked minute by minute with
time-machine; never by sleeping."""

import datetime
import re

import pytest
from django.core import mail, signing
from django.core.cache import cache
from django.urls import reverse

from audit.models import AuditEvent
from schools.models import EscalationChainMember
from tracking import sms
from tracking.acknowledgements import signout_acknowledge
from tracking.models import AckLink, Acknowledgement, EscalationStep, Notification, SignOut
from tracking.selectors import ladder_summary
from tracking.signouts import (
    escalation_decision_record,
    signout_extend,
    signout_help_request,
    signout_phone_in,
    signout_return,
)
from tracking.tokens import ACK_SALT

from .conftest import NOON, sign_out

R = NOON + datetime.timedelta(hours=1)
minute = datetime.timedelta(minutes=1)
MONITOR = "+447700900500"
SITE = "http://127.0.0.1:8000"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def chained(clock, visit, olive, max, hugh, dana, oakfield) -> SignOut:
    """Sam and Tess out at 12:00, back by 13:00. Max is the designated manager; the school's
    escalation chain after him is Hugh (the Headteacher); Dana is the DSL."""
    oakfield.designated_manager = max
    oakfield.office_email = "office@oakfield.example"
    oakfield.monitor_phone = MONITOR
    oakfield.save()
    EscalationChainMember.objects.create(school=oakfield, position=1, user=hugh)
    return sign_out(visit, olive)


def texts_to(number):
    return [m.body for m in sms.outbox if m.to == number]


def ack_path(person_or_number) -> str:
    number = getattr(getattr(person_or_number, "profile", None), "work_mobile", person_or_number)
    body = [t for t in texts_to(number) if "/tracking/ack/" in t][-1]
    return re.search(r"https?://\S+/tracking/ack/\S+/", body).group(0).removeprefix(SITE)


def fired_kinds(signout):
    return list(
        EscalationStep.objects.filter(signout=signout)
        .order_by("number")
        .values_list("number", "kind")
    )


def walk(clock, scan, minutes):
    """Scan once a minute; {step number: minutes after R it fired}."""
    fired = {}
    for m in minutes:
        clock.move_to(R + m * minute)
        for _, _, number in scan().fired:
            fired[number] = m
    return fired


# ---------------------------------------------------------------------------------------------
# R-ESC-9: the chain never ends in silence
# ---------------------------------------------------------------------------------------------


def test_nobody_acknowledges_so_the_chain_then_everyone_then_reminders_follow_by_the_minute(
    clock, chained, scan, max, hugh, dana
):
    # R-ESC-9: manager R+30, the chain's Hugh R+35, every DSL and the Head R+40, reminders
    # every 10 minutes after, each step once, at its minute and not a minute before.
    fired = walk(clock, scan, range(0, 71))
    assert fired == {1: 15, 2: 20, 3: 25, 4: 30, 5: 35, 6: 40, 7: 50, 8: 60, 9: 70}
    assert fired_kinds(chained)[3:] == [
        (4, "manager"),
        (5, "chain"),
        (6, "everyone"),
        (7, "reminder"),
        (8, "reminder"),
        (9, "reminder"),
    ]
    # Hugh: his chain alert, then everyone's and three reminders; Dana from R+40 on.
    assert len(texts_to(hugh.profile.work_mobile)) == 5
    assert len(texts_to(dana.profile.work_mobile)) == 4
    assert len(texts_to(max.profile.work_mobile)) == 1
    assert "nobody has acknowledged" in texts_to(hugh.profile.work_mobile)[0]
    assert "(reminder)" in texts_to(dana.profile.work_mobile)[-1]
    chained.refresh_from_db()
    assert chained.next_escalation_at == R + 80 * minute


def test_the_chain_is_copied_at_sign_out_so_editing_it_mid_case_moves_nothing(
    clock, chained, scan, oakfield, hugh
):
    # R-ESC-9: like the ladder's other settings, a running ladder keeps its chain and minutes.
    oakfield.chain_step_minutes, oakfield.chain_reminder_minutes = 1, 1
    oakfield.save()
    EscalationChainMember.objects.filter(school=oakfield).delete()
    fired = walk(clock, scan, range(29, 51))
    assert fired == {1: 29, 2: 29, 3: 29, 4: 30, 5: 35, 6: 40, 7: 50}
    (chain_step,) = EscalationStep.objects.filter(signout=chained, kind="chain")
    assert Notification.objects.filter(step=chain_step, recipient=hugh).count() == 2


def test_the_schools_chain_minutes_are_settings(clock, visit, olive, max, hugh, oakfield, scan):
    # R-ESC-9: the bold numbers (5 and 10) are school settings.
    oakfield.designated_manager = max
    oakfield.chain_step_minutes, oakfield.chain_reminder_minutes = 2, 3
    oakfield.save()
    EscalationChainMember.objects.create(school=oakfield, position=1, user=hugh)
    signout = sign_out(visit, olive)
    fired = walk(clock, scan, range(29, 41))
    assert fired == {1: 29, 2: 29, 3: 29, 4: 30, 5: 32, 6: 34, 7: 37, 8: 40}
    assert signout.chain_user_ids == [hugh.pk]


def test_the_named_manager_is_never_alerted_twice_by_being_in_the_chain(
    clock, visit, olive, max, hugh, oakfield
):
    # R-ESC-9: the manager comes first, at the manager step, and is not repeated in the chain.
    oakfield.designated_manager = max
    oakfield.save()
    EscalationChainMember.objects.create(school=oakfield, position=1, user=max)
    EscalationChainMember.objects.create(school=oakfield, position=2, user=hugh)
    assert sign_out(visit, olive).chain_user_ids == [hugh.pk]


def test_a_scan_that_was_down_for_an_hour_fires_every_due_chain_step_at_once_and_once(
    clock, chained, scan
):
    # R-ESC-9, R-ESC-5: stored times drive the chain too.
    clock.move_to(R + 30 * minute + 60 * minute)
    report = scan()
    # Five reminders were missed (R+50 … R+90): one goes now, not five.
    assert [number for _, _, number in report.fired] == [1, 2, 3, 4, 5, 6, 11]
    assert fired_kinds(chained)[-3:] == [(5, "chain"), (6, "everyone"), (11, "reminder")]
    assert scan().steps_fired == 0
    chained.refresh_from_db()
    assert chained.next_escalation_at == R + 100 * minute


def test_when_the_final_call_fails_early_the_chain_counts_from_that_moment(
    clock, chained, scan, olive, committed
):
    # R-ESC-3 then R-ESC-9: the manager at once, the chain five minutes after.
    from tracking.signouts import call_attempt_record

    clock.move_to(R + 26 * minute)
    scan()
    committed(
        call_attempt_record,
        actor=olive,
        signout=chained,
        number_called="07700 900101",
        called_at=R + 26 * minute,
        outcome="no_answer",
    )
    chained.refresh_from_db()
    assert chained.escalation_stage == 4 and chained.next_escalation_at == R + 31 * minute
    assert walk(clock, scan, range(27, 37)) == {5: 31, 6: 36}


def test_a_call_for_help_nobody_acknowledges_goes_on_down_the_chain(
    clock, chained, sam, hugh, scan, committed
):
    # R-ESC-7 then R-ESC-9: help alerts the manager at once; the chain follows it.
    clock.move_to(NOON + 10 * minute)
    committed(signout_help_request, actor=sam, signout=chained, via="phone", visitor=sam)
    fired = {}
    for m in range(10, 26):
        clock.move_to(NOON + m * minute)
        for _, _, number in scan().fired:
            fired[number] = m
    assert fired == {5: 15, 6: 20}
    assert "nobody has acknowledged" in texts_to(hugh.profile.work_mobile)[0]


def test_a_new_expected_time_starts_a_new_round_with_its_own_chain_and_acknowledgement(
    clock, chained, scan, max, olive
):
    # R-ESC-6, R-ESC-8, R-ESC-9
    walk(clock, scan, [30])
    signout_acknowledge(signout=chained, ladder_round=1, user=max, label="Max Example", via="page")
    clock.move_to(R + 32 * minute)
    signout_extend(
        actor=olive,
        signout=chained,
        new_expected_return_at=R + 60 * minute,
        reason="Phoned: the meeting overran",
        via="board",
    )
    chained.refresh_from_db()
    assert (chained.ladder_round, chained.acknowledged_at, chained.chain_base_at) == (2, None, None)


# ---------------------------------------------------------------------------------------------
# R-ESC-8: acknowledging
# ---------------------------------------------------------------------------------------------


def test_every_alert_to_a_manager_or_the_monitor_carries_a_one_tap_link(clock, chained, scan, max):
    # R-ESC-8
    walk(clock, scan, [15, 30])
    assert "/tracking/ack/" in texts_to(MONITOR)[0]
    assert "/tracking/ack/" in texts_to(max.profile.work_mobile)[0]
    (email,) = [m for m in mail.outbox if m.to == [max.email]]
    assert "/tracking/ack/" in email.body and "/tracking/ack/" in email.alternatives[0][0]
    # One link per person per round: Max's text and email share it.
    assert AckLink.objects.filter(signout=chained, user=max).count() == 1


def test_the_first_tap_owns_the_case_stops_the_chain_and_tells_everyone_else(
    client, clock, chained, scan, max, hugh
):
    # R-ESC-8, R-ESC-9
    walk(clock, scan, [15, 30])
    clock.move_to(R + 31 * minute)
    page = client.get(ack_path(max)).content.decode()
    assert "I am dealing with it" in page
    response = client.post(ack_path(max))
    assert "You own this case" in response.content.decode()
    chained.refresh_from_db()
    assert chained.acknowledged_label == "Max Example (manager)"
    assert chained.next_escalation_at is None
    assert walk(clock, scan, range(31, 70)) == {}  # nobody else is woken
    assert texts_to(hugh.profile.work_mobile) == []
    # The monitor and the office, alerted earlier, are told who owns it; Max is not.
    notice = [t for t in texts_to(MONITOR) if "acknowledged the alert" in t]
    assert len(notice) == 1 and "Max Example (manager)" in notice[0]
    assert [m.to for m in mail.outbox if "is dealing with" in m.subject] == [
        ["office@oakfield.example"]
    ]
    assert not [t for t in texts_to(max.profile.work_mobile) if "acknowledged the alert" in t]
    ack = AuditEvent.objects.get(event_type="escalation.acknowledged")
    assert ack.changes["via"] == "link"


def test_acknowledging_is_not_resolving(client, clock, chained, scan, max):
    # R-ESC-8, R-ESC-4: the outcome is still needed.
    walk(clock, scan, [30])
    client.post(ack_path(max))
    chained.refresh_from_db()
    assert chained.case_open and chained.resolved_at is None


def test_the_monitor_may_acknowledge_before_the_manager_yet_the_manager_is_still_told(
    client, clock, chained, scan, max
):
    # R-ESC-8: ownership from the first alert; R-ESC-3: the manager step still fires; the
    # chain does not (somebody owns it).
    walk(clock, scan, [15])
    client.post(ack_path(MONITOR))
    assert walk(clock, scan, range(16, 60)) == {2: 20, 3: 25, 4: 30}
    assert len(texts_to(max.profile.work_mobile)) == 1


def test_a_second_acknowledgement_changes_nothing_and_says_who_owns_the_case(
    client, signed_in, clock, chained, scan, max, hugh
):
    # R-ESC-8: the first wins; one Acknowledgement per round.
    walk(clock, scan, [30, 35])
    client.post(ack_path(max))
    response = signed_in(hugh).post(
        reverse("tracking:acknowledge_case", args=[chained.pk]), follow=True
    )
    assert "Max Example (manager) acknowledged" in response.content.decode()
    assert Acknowledgement.objects.filter(signout=chained).count() == 1
    chained.refresh_from_db()
    assert chained.acknowledged_label == "Max Example (manager)"


def test_the_emergency_page_acknowledges_with_a_button(signed_in, clock, chained, scan, max, hugh):
    # R-ESC-8, R-ESC-9: the page says who was alerted, what happens next, and who owns it.
    walk(clock, scan, [30])
    client = signed_in(max)
    page = client.get(reverse("tracking:emergency", args=[chained.pk])).content.decode()
    assert "Acknowledge: I am dealing with it" in page
    assert "Hugh Example (next in the escalation chain) alerted at 13:35" in page
    client.post(reverse("tracking:acknowledge_case", args=[chained.pk]))
    page = client.get(reverse("tracking:emergency", args=[chained.pk])).content.decode()
    assert "Acknowledged by Max Example at 13:30" in page
    assert "Acknowledge: I am dealing with it" not in page


def test_recording_a_decision_acknowledges_when_nobody_has(clock, chained, scan, max):
    # R-ESC-8, R-ESC-4
    walk(clock, scan, [30])
    escalation_decision_record(actor=max, signout=chained, action="contacted_visitor")
    chained.refresh_from_db()
    assert chained.acknowledged_label == "Max Example" and chained.next_escalation_at is None


def test_a_used_link_tapped_again_changes_nothing_and_is_audited(client, clock, chained, scan, max):
    # R-ESC-8: single use.
    walk(clock, scan, [30])
    client.post(ack_path(max))
    response = client.post(ack_path(max))
    assert "already been used" in response.content.decode()
    assert "You own this case" not in response.content.decode()
    assert Acknowledgement.objects.count() == 1
    assert AuditEvent.objects.filter(
        event_type="escalation.ack_refused", changes__why="has already been used"
    ).exists()


def test_a_link_tapped_after_somebody_else_acknowledged_says_who_and_thanks_nobody(
    client, clock, chained, scan, max, hugh
):
    # R-ESC-8
    walk(clock, scan, [30, 35])
    client.post(ack_path(hugh))
    response = client.post(ack_path(max))
    page = response.content.decode()
    assert "Hugh Example (escalation chain)" in page and "You own this case" not in page
    assert AuditEvent.objects.filter(
        event_type="escalation.ack_refused",
        changes__why="was used after somebody else acknowledged",
    ).exists()


def test_a_forged_link_is_refused_and_changes_nothing(client, clock, chained, scan, max):
    # R-ESC-8: tamper-proof.
    walk(clock, scan, [30])
    path = ack_path(max)
    forged = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]
    assert client.post(forged).status_code == 404
    link_id = AckLink.objects.get(user=max).pk
    other_salt = signing.TimestampSigner(salt="tracking.checkin-link").sign(str(link_id))
    assert client.post(f"/tracking/ack/{other_salt}/").status_code == 404
    assert client.post("/tracking/ack/not-a-token/").status_code == 404
    chained.refresh_from_db()
    assert chained.acknowledged_at is None


def test_an_expired_link_is_refused_and_audited(client, clock, chained, scan, max, settings):
    # R-ESC-8: expiring.
    walk(clock, scan, [30])
    path = ack_path(max)
    clock.move_to(R + 30 * minute + datetime.timedelta(minutes=settings.ACK_LINK_MINUTES + 1))
    response = client.post(path)
    assert "expired" in response.content.decode()
    chained.refresh_from_db()
    assert chained.acknowledged_at is None
    assert AuditEvent.objects.filter(
        event_type="escalation.ack_refused", changes__why="has expired"
    ).exists()


def test_too_many_taps_are_slowed_down(client, clock, chained, scan, max):
    # R-ESC-8: rate-limited like the check-in link.
    walk(clock, scan, [30])
    codes = [client.get(f"/tracking/ack/guess-{n}/").status_code for n in range(25)]
    assert codes[-1] == 429


def test_the_acknowledgement_page_shows_no_child_data(
    client, clock, chained, scan, max, pupil, household
):
    # R-ESC-8: shows only what it must, to a phone that may not be the manager's.
    walk(clock, scan, [30])
    page = client.get(ack_path(max)).content.decode()
    for word in (pupil.first_name, pupil.last_name, household.address_line_1, household.postcode):
        assert word not in page
    assert signing.TimestampSigner(salt=ACK_SALT)  # the salt is its own


def test_the_ladder_summary_says_who_was_alerted_who_acknowledged_and_what_is_next(
    clock, chained, scan, max
):
    # R-ESC-9 (for the board: tracking.selectors.ladder_summary)
    walk(clock, scan, [15, 30])
    chained.refresh_from_db()
    summary = ladder_summary(chained)
    assert "Max Example (manager)" in summary["alerted"]
    assert summary["acknowledged"] == ""
    assert summary["next"] == (
        "Hugh Example (next in the escalation chain) alerted at 13:35 if nobody acknowledges"
    )
    assert summary["next_at"] == R + 35 * minute
    signout_acknowledge(signout=chained, ladder_round=1, user=max, label="Max Example", via="page")
    chained.refresh_from_db()
    summary = ladder_summary(chained)
    assert summary["acknowledged"] == "Max Example at 13:30" and summary["next"] == ""


# ---------------------------------------------------------------------------------------------
# R-ESC-10: standing down
# ---------------------------------------------------------------------------------------------


def standdowns():
    return list(
        Notification.objects.filter(template__in=["standdown", "escalation_standdown"])
        .order_by("channel", "address")
        .values_list("channel", "address")
    )


def test_a_return_after_the_manager_was_alerted_tells_everyone_alerted_once_on_their_channels(
    clock, chained, scan, olive, max, committed
):
    # R-ESC-10
    walk(clock, scan, [15, 30])
    clock.move_to(R + 33 * minute)
    committed(signout_phone_in, actor=olive, signout=chained, via="board")
    committed(signout_return, actor=olive, signout=chained, went_home=False, via="board")
    assert standdowns() == [
        ("email", max.email),
        ("email", "office@oakfield.example"),
        ("sms", max.profile.work_mobile),
        ("sms", MONITOR),
    ]
    (text,) = [t for t in texts_to(max.profile.work_mobile) if "STAND DOWN" in t]
    assert "have left the visit safely, recorded by Olive Example at 13:33" in text
    assert "records the outcome" in text  # the case still needs its outcome
    chained.refresh_from_db()
    assert chained.stood_down_at == R + 33 * minute and chained.case_open
    assert AuditEvent.objects.filter(event_type="escalation.stood_down").count() == 1


def test_the_visitors_own_texts_never_get_a_stand_down(clock, chained, scan, olive, sam, committed):
    # R-ESC-10: the people alerted, not the visitors asked to call in.
    walk(clock, scan, [15])
    committed(signout_return, actor=olive, signout=chained, went_home=False, via="board")
    assert ("sms", sam.profile.work_mobile) not in standdowns()
    assert ("sms", MONITOR) in standdowns()


def test_a_return_before_anyone_was_alerted_sends_no_stand_down(clock, chained, olive, committed):
    # R-ESC-10: nobody to stand down.
    committed(signout_return, actor=olive, signout=chained, went_home=False, via="board")
    assert standdowns() == [] and sms.outbox == []


def test_found_safe_by_the_manager_stands_everyone_down(clock, chained, scan, max, hugh, committed):
    # R-ESC-10, R-ESC-4: "found" is an outcome.
    walk(clock, scan, [30, 35])
    clock.move_to(R + 50 * minute)
    committed(
        escalation_decision_record,
        actor=max,
        signout=chained,
        action="contacted_visitor",
        outcome="safe",
    )
    (text,) = [t for t in texts_to(hugh.profile.work_mobile) if "STAND DOWN" in t]
    assert "have been found, recorded by Max Example at 13:50" in text


def test_the_escalations_page_shows_the_stand_down_and_still_asks_for_the_outcome(
    signed_in, clock, chained, scan, olive, max, committed
):
    # R-ESC-10
    walk(clock, scan, [30])
    clock.move_to(R + 40 * minute)
    committed(signout_return, actor=olive, signout=chained, went_home=False, via="board")
    client = signed_in(max)
    page = client.get(reverse("tracking:escalations")).content.decode()
    assert "Stood down at 13:40" in page and "Record your decision" in page
    page = client.get(reverse("tracking:emergency", args=[chained.pk])).content.decode()
    assert "Stood down at 13:40: everyone alerted was told" in page
    assert "The case still needs its outcome" in page


@pytest.mark.parametrize("tap", ["link", "page"])
def test_no_acknowledgement_before_anyone_is_alerted(client, chained, max, tap):
    # R-ESC-8: nothing to acknowledge yet.
    ack, won = signout_acknowledge(
        signout=chained, ladder_round=1, user=max, label="Max Example", via=tap
    )
    assert (ack, won) == (None, False)
