"""The board raises the alarm itself (R-ESC-12) and its poll costs almost nothing when nothing
changed (issue 15): the poll carries what it shows, and the server answers 204 (htmx swaps
nothing) unless the school's board version moved, a row changes by the clock, the scan stopped
or started, the search changed, or a minute passed since the board was drawn."""

import ast
import datetime
import html
import json
import re
import wave
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from schools.models import BoardVersion, Role
from tests.factories import person
from tracking.models import CheckInLink, Notification, SignOut

from .conftest import NOON, authorised_visit, sign_out

R = NOON + datetime.timedelta(hours=1)
minute = datetime.timedelta(minutes=1)
second = datetime.timedelta(seconds=1)
BOARD = "/tracking/board/"


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub("<[^>]+>", "", page))


def _shown(page: str) -> dict:
    """What the board's poll carries: its hx-vals."""
    return json.loads(html.unescape(re.search(r'hx-vals="([^"]+)"', page).group(1)))


def _title(page: str) -> str:
    return html.unescape(re.search(r"<title>(.*?)</title>", page, re.S).group(1)).strip()


def _poll(client, shown: dict, **extra):
    return client.get(BOARD, {**shown, **extra}, HTTP_HX_REQUEST="true")


def _version(school) -> int:
    row = BoardVersion.objects.filter(school=school).first()
    return row.version if row else 0


# ---------------------------------------------------------------------------------------------
# R-ESC-12: the title, the banner, the sound switch, and what each row says
# ---------------------------------------------------------------------------------------------


def test_r_esc_12_the_title_and_banner_raise_the_alarm_when_a_visit_turns_overdue(
    clock, signout, scan, olive, signed_in
):
    client = signed_in(olive)
    page = client.get(BOARD).content.decode()
    assert _title(page) == "Sign-out board · Homeward"
    assert 'id="board-alarm"' not in page and 'data-alarms=""' in page
    clock.move_to(R + 16 * minute)
    client = signed_in(olive)  # a fresh session: the idle timeout
    scan()
    page = client.get(BOARD).content.decode()
    assert _title(page) == "(1) OVERDUE — Sign-out board · Homeward"
    banner = re.search(r'<div id="board-alarm".*?</div>', page, re.S).group(0)
    assert 'role="alert"' in banner and "1 visit overdue: act now" in banner
    assert "Sam Example and Tess Example</a>: Overdue: call them" in banner
    assert f'href="#row-{signout.pk}"' in banner
    # The fragment tells board.js the title and which alarm it shows: a new key rings.
    live = client.get(BOARD, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-title="(1) OVERDUE — Sign-out board · Homeward"' in html.unescape(live)
    first = re.search(r'data-alarms="([^"]*)"', live).group(1)
    assert first == f"{signout.pk}.1.overdue.1"
    clock.move_to(R + 21 * minute)
    client = signed_in(olive)  # a fresh session: the idle timeout
    scan()
    live = client.get(BOARD, HTTP_HX_REQUEST="true").content.decode()
    assert re.search(r'data-alarms="([^"]*)"', live).group(1) == f"{signout.pk}.1.retrying.2"


def test_r_esc_12_the_alarm_sound_is_a_file_of_our_own_switched_on_by_a_click(
    clock, signout, olive, signed_in
):
    page = signed_in(olive).get(BOARD).content.decode()
    switch = re.search(r'<button id="board-alarm-switch"[^>]*>', page).group(0)
    assert 'type="button"' in switch and 'aria-pressed="false"' in switch
    sound = re.search(r'data-sound="([^"]+)"', switch).group(1)
    assert sound.startswith(settings.STATIC_URL) and sound.endswith("audio/board-alarm.wav")
    with wave.open(str(Path(settings.BASE_DIR) / "static/audio/board-alarm.wav")) as audio:
        assert audio.getnframes() / audio.getframerate() > 1  # a second and more of beeps
    assert "Turn on the alarm sound and notifications" in page
    assert "<script>" not in page and " onclick=" not in page  # CSP: board.js does it


def test_r_esc_12_each_row_says_what_the_ladder_did_and_what_happens_next(
    clock, signout, scan, olive, max, sam, signed_in, committed
):
    from tracking.acknowledgements import signout_acknowledge
    from tracking.receipts import notification_delivery_record
    from tracking.signouts import call_attempt_record

    client = signed_in(olive)
    page = _text(client.get(BOARD).content.decode())
    assert "Next: Overdue: the office alerted at 13:15 if nobody answers" in page
    clock.move_to(R + 16 * minute)
    client = signed_in(olive)  # a fresh session: the idle timeout
    scan()
    call_attempt_record(
        actor=olive,
        signout=signout,
        number_called="07700 900101",
        called_at=R + 16 * minute,
        outcome="no_answer",
        visitor=sam,
    )
    sent = Notification.objects.filter(signout=signout, channel="sms", status="sent")
    assert sent.count() >= 3  # the monitor and both visitors
    texted = sent.first()
    Notification.objects.filter(pk=texted.pk).update(provider_ref="SM-board-1")
    notification_delivery_record(provider="twilio", provider_ref="SM-board-1", state="delivered")
    page = _text(client.get(BOARD).content.decode())
    assert f"Texts: {sent.count()} sent, 1 delivered" in page
    assert "Last call 13:16 to 07700 900101: No answer (1 call)" in page
    assert "Alerted: " in page and "monitor" in page
    assert "Next: The office prompted to call again at 13:20 if nobody answers" in page
    clock.move_to(R + 31 * minute)
    client = signed_in(olive)  # a fresh session: the idle timeout
    scan()
    page = _text(client.get(BOARD).content.decode())
    assert "Max Example (manager)" in page
    assert "Next: Every DSL and the Headteacher alerted at 13:35 if nobody acknowledges" in page
    committed(
        signout_acknowledge,
        signout=signout,
        ladder_round=1,
        user=max,
        label="Max Example",
        via="page",
    )
    page = _text(client.get(BOARD).content.decode())
    assert "Acknowledged by Max Example at 13:31" in page
    assert "Next: Every DSL" not in page  # the chain stopped


def test_r_esc_12_the_ladder_on_every_row_costs_no_query_per_row(
    clock, olive, sam, oakfield, household, signed_in
):
    """The board reads every row's messages and chain in one query each: 5 or 300 out, the
    same count (tests/tracking/test_board.py has the page's whole count)."""
    from .bulk import visitors_out

    client = signed_in(olive)
    visitors_out(school=oakfield, household=household, requester=sam, visitors=5)
    client.get(BOARD)
    with CaptureQueriesContext(connection) as few:
        client.get(BOARD)
    visitors_out(school=oakfield, household=household, requester=sam, visitors=300)
    with CaptureQueriesContext(connection) as many:
        page = _text(client.get(BOARD).content.decode())
    assert "Alerted: the designated monitor" in page and "Next: " in page
    notification_queries = [q for q in many.captured_queries if "tracking_notification" in q["sql"]]
    assert len(notification_queries) == 1
    assert len(many) == len(few)


# ---------------------------------------------------------------------------------------------
# Issue 15: the poll that costs almost nothing when nothing changed
# ---------------------------------------------------------------------------------------------


def test_an_unchanged_poll_answers_204_with_one_query_for_the_board(
    clock, signout, scan, olive, signed_in
):
    scan()
    client = signed_in(olive)
    shown = _shown(client.get(BOARD).content.decode())
    assert shown["v"] == f"{signout.school_id}.{_version(signout.school)}"
    _poll(client, shown)  # the warm-up: a process's first request fills caches
    clock.move_to(NOON + datetime.timedelta(seconds=20))
    with CaptureQueriesContext(connection) as queries:
        response = _poll(client, shown)
    assert response.status_code == 204 and response.content == b""
    sql = [q["sql"] for q in queries.captured_queries]
    # The signed-in request's own reads (the session, the user, the two-factor device) are
    # issue 15's first target; the board itself reads one row per school, in one query.
    board = [q for q in sql if "tracking_" in q or "visits_" in q or "boardversion" in q]
    assert len(board) == 1, board
    assert "schools_boardversion" in board[0] and "tracking_heartbeat" in board[0]
    # With them (today: the session read and its write, the user, the device), five at most.
    assert len([q for q in sql if "SAVEPOINT" not in q]) <= 5, sql


def test_a_poll_after_a_service_changed_the_board_draws_it_again(
    clock, signout, olive, sam, signed_in
):
    from tracking.signouts import signout_extend

    client = signed_in(olive)
    shown = _shown(client.get(BOARD).content.decode())
    assert _poll(client, shown).status_code == 204
    signout_extend(
        actor=sam,
        signout=signout,
        new_expected_return_at=R + 30 * minute,
        reason="Mum arrived late",
        via="phone",
    )
    response = _poll(client, shown)
    assert response.status_code == 200 and "<strong>13:30</strong>" in response.content.decode()
    assert _poll(client, _shown(response.content.decode())).status_code == 204


def test_the_board_turns_red_by_the_clock_alone_when_the_scan_and_redis_are_down(
    clock, signout, olive, signed_in
):
    """No scan runs and nothing is written: the poll carries the time the first step falls
    due, and past it the board is drawn again, overdue, with the scan said to be behind."""
    client = signed_in(olive)
    shown = _shown(client.get(BOARD).content.decode())
    assert int(shown["due"]) == int(R.timestamp())  # first, "due back now" at R
    clock.move_to(R + 14 * minute + 30 * second)
    client = signed_in(olive)  # a fresh session: the idle timeout
    page = _poll(client, shown).content.decode()
    assert "Due back now" in page
    shown = _shown(page)
    assert int(shown["due"]) == int((R + 15 * minute).timestamp())  # then step 1, at R+15
    clock.move_to(R + 14 * minute + 55 * second)
    assert _poll(client, shown).status_code == 204
    clock.move_to(R + 15 * minute + second)
    page = _poll(client, shown).content.decode()
    assert "Overdue: call them" in page and "has not run automatically" in page
    assert "(1) OVERDUE" in html.unescape(page)


def test_a_missed_version_bump_still_shows_within_a_minute(clock, signout, olive, signed_in):
    """The safety net: a change written without a bump (it should never happen) shows at the
    first poll a minute after the board was drawn."""
    client = signed_in(olive)
    shown = _shown(client.get(BOARD).content.decode())
    SignOut.objects.filter(pk=signout.pk).update(vehicle="Red Vauxhall Corsa")
    clock.move_to(NOON + datetime.timedelta(seconds=59))
    client = signed_in(olive)  # a fresh session: the idle timeout
    assert _poll(client, shown).status_code == 204
    clock.move_to(NOON + datetime.timedelta(seconds=60))
    client = signed_in(olive)  # a fresh session: the idle timeout
    response = _poll(client, shown)
    assert response.status_code == 200 and "Red Vauxhall Corsa" in response.content.decode()


def test_a_poll_draws_the_board_again_when_the_scan_starts_or_stops(
    clock, signout, scan, olive, signed_in
):
    client = signed_in(olive)
    page = client.get(BOARD).content.decode()
    assert "Automatic escalation is not running" in page and _shown(page)["stale"] == "1"
    scan()  # fires nothing (nobody is due) but beats: the warning must go
    page = _poll(client, _shown(page)).content.decode()
    assert "Automatic escalation is not running" not in page and _shown(page)["stale"] == "0"


def test_a_poll_with_a_new_search_or_odd_values_draws_the_board(clock, signout, olive, signed_in):
    client = signed_in(olive)
    shown = _shown(client.get(BOARD).content.decode())
    assert _poll(client, shown, q="nobody").status_code == 200
    for odd in ({"at": "soon"}, {"v": "1.999"}, {"due": "x"}, {"at": "99999999999"}):
        assert _poll(client, {**shown, **odd}).status_code == 200, odd
    assert client.get(BOARD, HTTP_HX_REQUEST="true").status_code == 200  # no values at all


def test_the_poll_of_someone_without_the_board_is_refused(clock, signout, oakfield, signed_in):
    tom = person("tom", oakfield, Role.STAFF)
    client = signed_in(tom)
    shown = {"v": f"{oakfield.pk}.1", "at": "0", "due": "", "stale": "0", "shown_q": ""}
    assert _poll(client, shown).status_code == 403


# ---------------------------------------------------------------------------------------------
# Issue 15: every service that changes the board moves its version
# ---------------------------------------------------------------------------------------------

# Every @transaction.atomic service in these modules, and every function that writes what the
# board shows without one, is walked below or named here with why it leaves the board alone. A
# new service fails test_every_board_writing_service_is_walked until it is one or the other.
SERVICE_MODULES = (
    "tracking/signouts.py",
    "tracking/ladder.py",
    "tracking/acknowledgements.py",
    "tracking/outbox.py",
    "tracking/receipts.py",
    "tracking/checkins.py",
    "tracking/replies.py",
    "tracking/fallback.py",
    "tracking/pins.py",
    "tracking/chain.py",
    "tracking/locations.py",
    "visits/authorisation.py",
    "visits/cancellation.py",
    "visits/progress.py",
    "visits/requests.py",
)
WALKED = {
    "signout_create",
    "signout_phone_in",
    "signout_extend",
    "signout_return",
    "signout_help_request",
    "call_attempt_record",
    "escalation_decision_record",
    "signout_escalate",
    "signout_remind",
    "signout_close_for_cancelled_visit",
    "signout_acknowledge",
    "signout_stand_down",
    "notification_send",
    "notifications_mark_in_doubt",
    "notification_resend",
    "notification_delivery_record",
    "checkin_answer",
    "checkin_still_out",
    "sms_reply_receive",
    "visit_authorise",
    "visit_request_changes",
    "visit_refuse",
    "visit_return_for_authorisation",
    "visit_cancel",
    "visitor_withdraw",
    "visit_mark_out",
    "visit_mark_returned",
    "visit_mark_still_out",
    "visit_mark_recorded",
}
# Walked in the tests of their own features, whose fixtures they need.
WALKED_ELSEWHERE = {
    "signout_check_in": "test_checkins_during_visits.py::"
    "test_a_check_in_and_a_missed_one_move_the_boards_version",
    "signout_checkin_missed": "test_checkins_during_visits.py::"
    "test_a_check_in_and_a_missed_one_move_the_boards_version",
    "checkin_answer_with_pin": "test_duress_pin.py::test_the_duress_pin_moves_the_boards_version",
    "pin_verify": "test_duress_pin.py::test_the_duress_pin_moves_the_boards_version",
    "notification_fall_back": "test_voice_fallback.py::test_the_fallback_moves_the_boards_version",
}
LEAVES_THE_BOARD = {
    "ack_link_use": "acknowledges through signout_acknowledge, walked",
    "call_keypress": "acknowledges through signout_acknowledge, walked",
    "call_answered": "a fallback call's state: shown on the emergency page, not the board",
    "call_status_record": "a fallback call's state: shown on the emergency page, not the board",
    "chain_member_add": "the chain of sign-outs made later: nothing on the board",
    "chain_member_move": "the chain of sign-outs made later: nothing on the board",
    "chain_member_remove": "the chain of sign-outs made later: nothing on the board",
    "chain_minutes_update": "the chain of sign-outs made later: nothing on the board",
    "location_record": "shown on the emergency page and the briefing, not the board",
    "heartbeat_beat": "the poll reads the heartbeat itself",
    "notifications_requeue": "moves retry_at between two times: nothing the board shows",
    "visit_record_head_consultation": "a submitted visit: not on the board",
    "visit_draft_save": "a draft; an authorised visit changed goes through "
    "visit_return_for_authorisation",
    "visit_submit": "submitted: not on the board until authorised",
}


def _atomic_services(path: str) -> set[str]:
    tree = ast.parse((Path(settings.BASE_DIR) / path).read_text())
    found = set()
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
            continue
        decorated = any("atomic" in ast.unparse(d) for d in node.decorator_list)
        writes = any(
            isinstance(n, ast.Attribute) and n.attr in ("update", "create", "bulk_create")
            for n in ast.walk(node)
        )
        if decorated or writes:
            found.add(node.name)
    return found


def test_every_board_writing_service_is_walked_or_said_to_leave_the_board_alone():
    services = set().union(*(_atomic_services(path) for path in SERVICE_MODULES))
    unaccounted = services - WALKED - set(WALKED_ELSEWHERE) - set(LEAVES_THE_BOARD)
    assert not unaccounted, f"walk these in the test below, or say why not: {unaccounted}"


def test_a_busy_service_bumps_the_version_once_as_it_ends_still_in_its_transaction(oakfield):
    # The bump locks the school's version row until commit: 100 text replies a second to one
    # school queued behind it (bench/replies.py). Inside board_changes_at_end the schools are
    # noted, and bumped once at the end of the block, so the lock is held for the commit only.
    from django.db import transaction

    from schools.services import board_changed, board_changes_at_end

    before = _version(oakfield)
    with transaction.atomic():
        with board_changes_at_end():
            board_changed(oakfield.pk)
            with board_changes_at_end():  # a service inside a service joins the outer block
                board_changed(oakfield.pk)
            assert _version(oakfield) == before
        assert _version(oakfield) == before + 1
    with pytest.raises(RuntimeError), transaction.atomic(), board_changes_at_end():
        board_changed(oakfield.pk)
        raise RuntimeError("the service failed")
    assert _version(oakfield) == before + 1
    board_changed(oakfield.pk)  # outside a block: at once, as before
    assert _version(oakfield) == before + 2


@pytest.fixture
def bumps(oakfield):
    """`bumps(service, **kwargs)` calls the service (and its on-commit sends) and returns how
    far Oakfield's board version moved."""

    def run(function, *args, **kwargs):
        before = _version(oakfield)
        function(*args, **kwargs)
        return _version(oakfield) - before

    return run


def test_every_service_that_changes_the_board_moves_its_version(
    clock, settings, oakfield, olive, sam, tess, dana, hugh, max, pupil, bumps, committed
):
    from tests.factories import assessment_for, visit_draft
    from tracking import acknowledgements, checkins, ladder, outbox, receipts, replies, signouts
    from visits import authorisation, cancellation, progress
    from visits.requests import visit_submit

    settings.CHECKIN_REMINDER_MINUTES = 10  # the production default (tests/settings.py: off)
    oakfield.designated_manager = max
    oakfield.office_email = "office@oakfield.example"
    oakfield.monitor_phone = "+447700900500"
    oakfield.save()
    walked = set()

    def moved(name, function, **kwargs):
        walked.add(name)
        assert bumps(function, **kwargs) >= 1, f"{name} did not move the board's version"

    def submitted():
        visit = visit_draft(sam, pupil, [sam, tess])
        assessment_for(visit, sam)
        return visit_submit(actor=sam, visit=visit, warnings_confirmed=True)

    # Visits that wait on the board, and leave it.
    moved("visit_authorise", authorisation.visit_authorise, actor=dana, visit=submitted())
    moved(
        "visit_request_changes",
        authorisation.visit_request_changes,
        actor=dana,
        visit=submitted(),
        what_to_change="The time",
    )
    moved("visit_refuse", authorisation.visit_refuse, actor=dana, visit=submitted(), reason="No")
    back = authorised_visit(sam, pupil, [sam, tess], dana)
    moved(
        "visit_return_for_authorisation",
        authorisation.visit_return_for_authorisation,
        actor=sam,
        visit=back,
        why="the time changed",
    )
    withdrawn = authorised_visit(sam, pupil, [sam, tess], dana)
    moved("visitor_withdraw", cancellation.visitor_withdraw, actor=tess, visit=withdrawn)
    cancelled = authorised_visit(sam, pupil, [sam, tess], dana)
    moved("visit_cancel", cancellation.visit_cancel, actor=dana, visit=cancelled, reason="Ill")

    # Signing out (visit_mark_out inside), and everything that happens while out.
    visit = authorised_visit(sam, pupil, [sam, tess], dana)
    walked.add("visit_mark_out")
    before = _version(oakfield)
    signout = sign_out(visit, olive)
    walked.add("signout_create")
    assert _version(oakfield) > before
    # The reminder ten minutes before the return (R-TRK-6), by the scan.
    clock.move_to(R - 9 * minute)
    due = SignOut.objects.get(pk=signout.pk).reminder_due_at
    moved("signout_remind", ladder.signout_remind, signout_id=signout.pk, due_at=due, now=R)
    sms = Notification.objects.filter(signout=signout, status="pending").first()
    moved("notification_send", outbox.notification_send, notification_id=sms.pk)
    settings.SMS_BACKEND = "tests.tracking.sms_doubles.RefusingBackend"
    Notification.objects.filter(pk=sms.pk).update(status="pending", sent_at=None)
    moved("notification_send (refused)", outbox.notification_send, notification_id=sms.pk)
    settings.SMS_BACKEND = "tests.tracking.sms_doubles.TimingOutBackend"
    Notification.objects.filter(pk=sms.pk).update(status="pending", retry_at=None)
    moved("notification_send (in doubt)", outbox.notification_send, notification_id=sms.pk)
    settings.SMS_BACKEND = "tracking.sms.InMemoryBackend"
    moved("notification_resend", outbox.notification_resend, actor=olive, notification=sms)
    Notification.objects.filter(pk=sms.pk).update(
        status="sending", claimed_at=R - 30 * minute, retry_at=None
    )
    moved("notifications_mark_in_doubt", outbox.notifications_mark_in_doubt, now=R)
    Notification.objects.filter(pk=sms.pk).update(provider_ref="SM-walk")
    moved(
        "notification_delivery_record",
        receipts.notification_delivery_record,
        provider="twilio",
        provider_ref="SM-walk",
        state="delivered",
    )
    # The ladder's steps, a call, help, an acknowledgement and a decision.
    clock.move_to(R + 16 * minute)
    moved("signout_escalate", ladder.signout_escalate, signout_id=signout.pk, now=R + 16 * minute)
    moved(
        "call_attempt_record",
        signouts.call_attempt_record,
        actor=olive,
        signout=signout,
        number_called="07700 900101",
        called_at=R + 16 * minute,
        outcome="no_answer",
    )
    moved(
        "signout_help_request",
        signouts.signout_help_request,
        actor=olive,
        signout=signout,
        via="board",
    )
    moved(
        "signout_acknowledge",
        acknowledgements.signout_acknowledge,
        signout=signout,
        ladder_round=1,
        user=max,
        label="Max Example",
        via="page",
    )
    moved(
        "signout_extend",
        signouts.signout_extend,
        actor=olive,
        signout=signout,
        new_expected_return_at=R + 40 * minute,
        reason="Still with the family",
        via="board",
    )
    moved(
        "sms_reply_receive",
        replies.sms_reply_receive,
        provider="twilio",
        provider_message_id="SM-reply-1",
        sender="+447700900101",
        text="20",
    )
    link = CheckInLink.objects.filter(signout=signout, used_at__isnull=True).first()
    if link is None:
        link = CheckInLink.objects.create(
            signout=signout,
            visitor=signout.visitors.first(),
            ladder_round=SignOut.objects.get(pk=signout.pk).ladder_round,
            created_at=R + 16 * minute,
            expires_at=R + 76 * minute,
        )
    moved("checkin_answer", checkins.checkin_answer, link=link, answer="safe")  # _contact
    walked.add("signout_phone_in")  # the same _contact, from the board
    moved(
        "signout_phone_in",
        signouts.signout_phone_in,
        actor=olive,
        signout=authorised_and_out(sam, tess, dana, pupil, olive),
        via="board",
    )
    moved(
        "signout_return",
        signouts.signout_return,
        actor=olive,
        signout=signout,
        went_home=False,
        via="board",
    )
    walked |= {"visit_mark_returned", "signout_stand_down"}  # inside signout_return
    link = CheckInLink.objects.filter(signout=signout).first()
    moved("checkin_still_out", checkins.checkin_still_out, link=link)  # visit_mark_still_out
    walked.add("visit_mark_still_out")
    moved(
        "escalation_decision_record",
        signouts.escalation_decision_record,
        actor=max,
        signout=signout,
        action="contacted_visitor",
        outcome="safe",
    )
    stood = authorised_and_out(sam, tess, dana, pupil, olive)
    moved(
        "signout_close_for_cancelled_visit",
        ladder.signout_close_for_cancelled_visit,
        actor=dana,
        visit=stood.visit,
    )
    walked.add("signout_stand_down")
    returned = SignOut.objects.get(pk=authorised_and_out(sam, tess, dana, pupil, olive).pk)
    signouts.signout_return(actor=olive, signout=returned, went_home=False, via="board")
    moved(
        "visit_mark_recorded",
        progress.visit_mark_recorded,
        actor=sam,
        visit=returned.visit,
        at=R + 50 * minute,
    )
    assert {name.split(" ")[0] for name in walked} >= WALKED, WALKED - walked


def authorised_and_out(sam, tess, dana, pupil, olive) -> SignOut:
    return sign_out(authorised_visit(sam, pupil, [sam, tess], dana), olive)


def test_a_rows_less_frequent_actions_come_with_its_more_actions_menu(
    clock, signout, scan, olive, signed_in
):
    """Issue 15: the board carries "Back at school", "Record a call" and (overdue) the
    emergency page on each row; the rest, and the quick call form, come when the office opens
    the row's menu."""
    client = signed_in(olive)
    board = client.get(BOARD).content.decode()
    assert "Back at school" in board and "Going home" not in board
    menu = client.get(reverse("tracking:row_actions", args=[signout.pk])).content.decode()
    for action in ("going_home", "phone_in", "extend", "help"):
        assert reverse(f"tracking:{action}", args=[signout.pk]) in menu
    assert 'form="board-act"' in menu and "quick-call-" not in menu  # on time: no call form
    clock.move_to(R + 16 * minute)
    scan()
    client = signed_in(olive)
    menu = client.get(reverse("tracking:row_actions", args=[signout.pk])).content.decode()
    assert f'id="quick-call-{signout.pk}-1"' in menu and "Spoke to them: they are safe" in menu


def test_the_rows_drawn_in_python_escape_what_people_typed(clock, signout, olive, signed_in):
    """tracking/board_rows.py writes the rows without the template engine: every value is
    escaped there."""
    SignOut.objects.filter(pk=signout.pk).update(vehicle='<b onclick="x()">Van</b>')
    page = signed_in(olive).get(BOARD).content.decode()
    assert "&lt;b onclick=&quot;x()&quot;&gt;Van&lt;/b&gt;" in page
    assert "<b onclick" not in page
