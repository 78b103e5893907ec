"""The office board, the visitor's phone page, the emergency page and the manager's pages."""

import datetime
import io
import re

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from schools.models import HouseholdRiskFlag, Role
from tests.factories import person
from tracking.models import CallAttempt, SignOut, TrackingEvent

from .bulk import visitors_out
from .conftest import NOON

R = NOON + datetime.timedelta(hours=1)
minute = datetime.timedelta(minutes=1)


def test_the_board_shows_who_is_out_with_tel_links_address_vehicle_and_times(
    clock, signout, olive, signed_in
):
    # R-SEC-1: names, address, times, phones, vehicle.
    page = signed_in(olive).get(reverse("tracking:board")).content.decode()
    assert "Sam Example and Tess Example" in page
    assert 'href="tel:+447700900101"' in page and "07700 900101" in page
    assert "12 Elm Grove" in page and "LS6 2BD" in page
    assert "Blue Ford Focus YR19 KXT" in page
    assert "25/11/2026 12:00" in page and "<strong>13:00</strong>" in page
    assert "in 60 min" in page and "On time" in page


@pytest.mark.parametrize(
    ("minutes_after_r", "label"),
    [
        (-30, "On time"),
        (5, "Due back now"),
        (16, "Overdue: call them"),
        (21, "Overdue: call again"),
    ],
)
def test_the_board_colours_each_visit_by_its_state(
    clock, signout, scan, olive, signed_in, minutes_after_r, label
):
    clock.move_to(R + minutes_after_r * minute)
    scan()
    assert label in signed_in(olive).get(reverse("tracking:board")).content.decode()


def test_the_board_knows_who_is_overdue_when_the_worker_and_beat_are_down(
    clock, signout, olive, signed_in
):
    """No scan has run (Redis or the worker is down): the board still computes from the stored
    times that the visit is overdue, says the automatic step has not run, and shows the red
    banner."""
    clock.move_to(R + 31 * minute)
    page = signed_in(olive).get(reverse("tracking:board")).content.decode()
    assert "Automatic escalation is not running" in page
    assert "Manager alerted" in page  # by the clock: R+30 has passed
    assert "has not run automatically: act on it now" in page
    assert "31 min late" in page


def test_the_board_says_when_escalation_last_ran(clock, signout, scan, olive, signed_in):
    scan()
    clock.move_to(NOON + datetime.timedelta(seconds=40))
    page = signed_in(olive).get(reverse("tracking:board")).content.decode()
    assert "Automatic escalation last ran 40 s ago" in re.sub("<[^>]+>", "", page)
    assert "not running" not in page


def test_the_board_refreshes_its_live_part_with_htmx_and_leaves_the_search_alone(
    clock, signout, olive, signed_in
):
    client = signed_in(olive)
    full = client.get(reverse("tracking:board")).content.decode()
    assert 'id="board-search"' in full and 'hx-include="#board-search"' in full
    assert 'hx-trigger="every 5s"' in full and "js/board.js" in full
    live = client.get(reverse("tracking:board"), HTTP_HX_REQUEST="true").content.decode()
    assert live.lstrip().startswith("{#") is False
    assert 'id="board-live"' in live and "<html" not in live and 'id="board-search"' not in live
    assert "Sam Example and Tess Example" in live


def test_the_board_filters_by_what_the_office_typed(clock, signout, olive, signed_in):
    client = signed_in(olive)
    assert "Sam Example" in client.get(reverse("tracking:board"), {"q": "tess"}).content.decode()
    page = client.get(reverse("tracking:board"), {"q": "nobody"}).content.decode()
    assert "Nobody is out on a visit" in page


def test_the_board_has_no_inline_script_style_or_handlers(clock, signout, scan, olive, signed_in):
    # The strict Content-Security-Policy that is coming.
    clock.move_to(R + 16 * minute)
    scan()
    page = signed_in(olive).get(reverse("tracking:board")).content.decode()
    assert "<style" not in page and ' style="' not in page and " onclick=" not in page
    assert "<script>" not in page


def test_the_board_lists_todays_visits_waiting_and_those_back_today(
    clock, signout, olive, sam, tess, dana, pupil, signed_in
):
    from tracking.signouts import signout_return

    from .conftest import authorised_visit

    today = datetime.datetime(2026, 11, 25, 15, 0, tzinfo=datetime.UTC)
    waiting = authorised_visit(sam, pupil, [sam, tess], dana, start=today)
    signout_return(actor=olive, signout=signout, went_home=False, via="board")
    page = signed_in(olive).get(reverse("tracking:board")).content.decode()
    assert reverse("tracking:signout", args=[waiting.pk]) in page
    assert "back at school at 12:00" in page


def test_the_boards_query_count_is_the_same_with_5_or_300_visitors_out(
    clock, olive, sam, oakfield, household, signed_in
):
    client = signed_in(olive)
    visitors_out(school=oakfield, household=household, requester=sam, visitors=5)
    client.get(reverse("tracking:board"))  # warm the session
    with CaptureQueriesContext(connection) as few:
        page = client.get(reverse("tracking:board")).content.decode()
    assert page.count("board-row ") == 1 and "back at school at" in page and "Bulk car" in page
    visitors_out(school=oakfield, household=household, requester=sam, visitors=300)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("tracking:board")).content.decode()
    on_board = SignOut.objects.filter(
        Q(state__in=["out", "left_safely"]) | Q(manager_alerted_at__isnull=False, resolved_at=None)
    ).count()
    assert on_board > 100 and page.count("board-row ") == on_board
    assert "in doubt" in page and "Manager alerted" in page and "Last call" in page
    assert len(many) == len(few), "\n".join(q["sql"][:100] for q in many.captured_queries)


def test_the_office_sees_the_emergency_page_but_no_narrative_concern_or_record(
    clock, signout, scan, olive, max, household, pupil, signed_in
):
    # R-SEC-1
    HouseholdRiskFlag.objects.create(
        household=household, kind="aggressive_adult", notes="Father threatened staff in 2024"
    )
    clock.move_to(R + 31 * minute)
    scan()
    page = signed_in(olive).get(reverse("tracking:emergency", args=[signout.pk])).content.decode()
    assert "Next of kin of sam" in page and 'href="tel:+447700900199"' in page
    assert "12 Elm Grove" in page and "Blue Ford Focus YR19 KXT" in page
    assert "Aggressive or violent adult" in page
    assert "Father threatened staff" not in page  # the flag's narrative
    assert signout.visit.purpose not in page  # the visit's narrative
    assert pupil.first_name not in page  # the child
    assert "Record your decision" not in page  # the manager's, not the office's
    manager_page = signed_in(max).get(reverse("tracking:emergency", args=[signout.pk]))
    assert "Father threatened staff" in manager_page.content.decode()
    assert "Record your decision" in manager_page.content.decode()


def test_the_police_briefing_prints_as_a_pdf_and_printing_it_is_audited(
    clock, signout, scan, max, signed_in
):
    # R-ESC-3, R-SEC-3
    from pypdf import PdfReader

    clock.move_to(R + 31 * minute)
    scan()
    response = signed_in(max).get(reverse("tracking:briefing_pdf", args=[signout.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for fact in ("Sam Example", "07700 900101", "Next of kin of tess", "12 Elm Grove", "YR19 KXT"):
        assert fact in text
    assert AuditEvent.objects.get(event_type="signout.briefing_printed").actor == max


def test_the_manager_records_a_decision_and_the_outcome_closes_the_case(
    clock, signout, scan, max, olive, signed_in
):
    # R-ESC-4
    clock.move_to(R + 31 * minute)
    scan()
    client = signed_in(max)
    escalations = client.get(reverse("tracking:escalations")).content.decode()
    assert reverse("tracking:decision", args=[signout.pk]) in escalations
    url = reverse("tracking:decision", args=[signout.pk])
    response = client.post(url, {"action": "other", "notes": ""})
    assert "Say what happened in the notes" in response.content.decode()
    client.post(url, {"action": "police", "notes": "Police informed, log 123", "outcome": ""})
    assert "Manager alerted" in signed_in(olive).get(reverse("tracking:board")).content.decode()
    client = signed_in(max)  # the same test client, signed in as Max again
    client.post(url, {"action": "contacted_visitor", "notes": "", "outcome": "safe"})
    signout.refresh_from_db()
    assert signout.resolved_by == max
    page = signed_in(max).get(reverse("tracking:escalations")).content.decode()
    assert "Resolved in the last week" in page and "resolved by Max Example" in page


def test_a_case_stays_on_the_board_after_the_return_until_the_manager_resolves_it(
    clock, signout, scan, olive, max, signed_in
):
    # R-ESC-4
    from tracking.signouts import escalation_decision_record, signout_return

    clock.move_to(R + 31 * minute)
    scan()
    signout_return(actor=olive, signout=signout, went_home=False, via="board")
    client = signed_in(olive)
    assert (
        "Back — case open for the manager" in client.get(reverse("tracking:board")).content.decode()
    )
    escalation_decision_record(
        actor=max, signout=signout, action="contacted_visitor", outcome="safe"
    )
    assert "Nobody is out on a visit" in client.get(reverse("tracking:board")).content.decode()


def test_the_office_records_a_call_from_the_board(clock, signout, scan, olive, sam, signed_in):
    # R-ESC-2
    clock.move_to(R + 16 * minute)
    scan()
    client = signed_in(olive)
    board = client.get(reverse("tracking:board")).content.decode()
    menu = reverse("tracking:row_actions", args=[signout.pk])
    # The row's "More actions" menu (board.js fetches `menu` when opened) holds the quick form.
    assert f'id="more-{signout.pk}"' in board and 'data-menu="/tracking/' in board
    assert 'id="quick-call-' in client.get(menu).content.decode()
    response = client.post(
        reverse("tracking:call", args=[signout.pk]),
        {"number": f"{sam.pk}:+447700900101", "outcome": "no_answer"},
    )
    assert response.status_code == 302
    call = CallAttempt.objects.get()
    assert (call.visitor, call.number_called, call.called_at) == (
        sam,
        "+447700900101",
        R + 16 * minute,
    )
    page = client.get(reverse("tracking:board")).content.decode()
    assert "16:16" not in page and "13:16 to 07700 900101: No answer" in page


def test_the_call_form_refuses_a_bad_number_in_plain_words(clock, signout, olive, signed_in):
    response = signed_in(olive).post(
        reverse("tracking:call", args=[signout.pk]),
        {"number": "other", "other_number": "999999", "outcome": "no_answer"},
    )
    assert response.status_code == 200
    assert "Give the number you called" in response.content.decode()
    assert not CallAttempt.objects.exists()


def test_the_visitors_phone_page_shows_999_first_and_big_buttons(clock, signout, sam, signed_in):
    # R-ESC-7: 999 is always the first thing to do.
    page = signed_in(sam).get(reverse("tracking:mine")).content.decode()
    assert page.index("999") < page.index("I need help") < page.index("left the visit safely")
    assert "big-button" in page


def test_a_visitor_phones_in_from_their_phone(clock, signout, sam, signed_in):
    # R-TRK-2
    response = signed_in(sam).post(
        reverse("tracking:phone_in", args=[signout.pk]), {"next": reverse("tracking:mine")}
    )
    assert response["Location"] == reverse("tracking:mine")
    event = TrackingEvent.objects.get(kind="phoned_in")
    assert (event.via, event.visitor, event.recorded_by) == ("phone", sam, sam)


def test_a_visitor_asks_for_more_time_until_a_time_with_a_reason(clock, signout, tess, signed_in):
    # R-TRK-2, R-ESC-6
    client = signed_in(tess)
    url = reverse("tracking:extend", args=[signout.pk])
    response = client.post(url, {"new_expected_return_at": "13:40", "reason": ""})
    assert "Say why more time is needed" in response.content.decode()
    client.post(url, {"new_expected_return_at": "13:40", "reason": "Mum arrived late"})
    signout.refresh_from_db()
    assert signout.expected_return_at == datetime.datetime(
        2026, 11, 25, 13, 40, tzinfo=datetime.UTC
    )
    assert signout.ladder_round == 2


def test_a_visitor_asks_for_help_from_their_phone(
    clock, signout, sam, max, signed_in, django_capture_on_commit_callbacks
):
    # R-ESC-7
    from tracking import sms

    with django_capture_on_commit_callbacks(execute=True):
        signed_in(sam).post(reverse("tracking:help", args=[signout.pk]))
    assert [m.to for m in sms.outbox if m.to == max.profile.work_mobile] == [
        max.profile.work_mobile
    ]
    board = signed_in(max).get(reverse("tracking:board")).content.decode()
    assert "Help requested" in board


def test_someone_else_at_the_school_cannot_act_on_a_visit_they_are_not_on(
    clock, signout, oakfield, signed_in
):
    tom = person("tom", oakfield, Role.STAFF)
    client = signed_in(tom)
    for name in ("tracking:phone_in", "tracking:extend", "tracking:help", "tracking:returned"):
        assert client.post(reverse(name, args=[signout.pk])).status_code == 403
    signout.refresh_from_db()
    assert signout.state == "out"


def test_a_closed_visit_refuses_more_actions_politely(clock, signout, olive, signed_in):
    client = signed_in(olive)
    client.post(reverse("tracking:returned", args=[signout.pk]))
    response = client.post(reverse("tracking:going_home", args=[signout.pk]), follow=True)
    assert "Tracking of this visit is closed" in response.content.decode()


def test_the_police_briefing_cannot_be_started_from_another_site(
    clock, signout, scan, max, signed_in
):
    # Issue 19: a cross-site link cannot print it (and fill the audit trail); 403, audited.
    clock.move_to(R + 31 * minute)
    scan()
    client = signed_in(max)
    url = reverse("tracking:briefing_pdf", args=[signout.pk])
    assert client.get(url, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert not AuditEvent.objects.filter(event_type="signout.briefing_printed").exists()
    assert AuditEvent.objects.filter(event_type="document.refused_cross_site").count() == 1
    assert client.get(url, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
