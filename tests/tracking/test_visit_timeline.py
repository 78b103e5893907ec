"""Issue 14, point 8: a visit's timeline shows what happened, in plain words: reads summed up in
one line, a change made again and again shown once with a count, and the overdue episode (the
escalation ladder, the office's calls, the outcome) contributed by tracking through
visits.signals.timeline_entries. Its query count does not grow with what happened."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.services import audit_event_create, audit_read
from tracking.models import CallAttempt
from tracking.signouts import call_attempt_record, escalation_decision_record

from .conftest import NOON

R = NOON + datetime.timedelta(hours=1)
minute = datetime.timedelta(minutes=1)


def _page(client, visit) -> str:
    response = client.get(reverse("visits:detail", args=[visit.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _timeline(page: str) -> str:
    return page[page.index('id="timeline-heading"') :]


def test_reads_are_summed_up_in_one_line(clock, signed_in, visit, sam, tess, dana):
    for reader in (dana, dana, tess, sam, dana):
        audit_read(actor=reader, obj=visit, what="visit")
    timeline = _timeline(_page(signed_in(sam), visit))
    # Five reads above, and Sam's own opening of the page is the sixth.
    assert "Opened 6 times by 3 people" in timeline
    assert "Read: visit" not in timeline and "read.visit" not in timeline


def test_the_same_change_made_twice_in_a_row_shows_once_with_a_count(clock, signed_in, visit, sam):
    for _ in range(3):
        audit_event_create(actor=sam, school=visit.school, obj=visit, event_type="visit.changed")
        clock.shift(datetime.timedelta(minutes=5))
    timeline = _timeline(_page(signed_in(sam), visit))
    assert timeline.count("Request changed") == 1
    assert "(3 times since" in timeline


def test_the_overdue_episode_is_on_the_visit_timeline_r_esc_1_r_esc_2_r_esc_4(
    clock, signed_in, signout, scan, olive, max, sam
):
    clock.move_to(R + 16 * minute)
    scan()
    call_attempt_record(
        actor=olive,
        signout=signout,
        number_called="07700 900101",
        called_at=R + 16 * minute,
        outcome=CallAttempt.Outcome.NO_ANSWER,
        visitor=sam,
    )
    clock.move_to(R + 21 * minute)
    scan()
    clock.move_to(R + 31 * minute)
    scan()  # the manager is alerted
    escalation_decision_record(
        actor=max, signout=signout, action="contacted_visitor", outcome="safe"
    )
    timeline = _timeline(_page(signed_in(sam), signout.visit))
    assert "Overdue: office alerted, visitors asked to call in" in timeline
    assert "Office prompted to call again" in timeline
    assert "Manager alerted" in timeline
    assert "Call to Sam" in timeline and "No answer" in timeline
    assert "Contacted the visitor — Visitors found safe" in timeline
    overdue = timeline.index("Overdue: office alerted")
    assert timeline.index("Signed out") < overdue < timeline.index("Contacted the visitor")


def test_the_timeline_costs_the_same_queries_however_much_happened(
    clock, signed_in, signout, scan, olive, sam, dana
):
    visit = signout.visit

    def count() -> int:
        client = signed_in(sam)  # a fresh sign-in: the clock moved past the idle timeout
        _page(client, visit)  # warm the caches
        with CaptureQueriesContext(connection) as queries:
            _page(client, visit)
        return len(queries)

    clock.move_to(R + 16 * minute)
    scan()
    before = count()
    clock.move_to(R + 20 * minute)
    for step in range(4):
        call_attempt_record(
            actor=olive,
            signout=signout,
            number_called="07700 900101",
            called_at=R + (16 + step) * minute,
            outcome=CallAttempt.Outcome.NO_ANSWER,
            visitor=sam,
        )
        audit_read(actor=dana, obj=visit, what="visit")
        audit_event_create(actor=sam, school=visit.school, obj=visit, event_type="visit.changed")
    clock.move_to(R + 31 * minute)
    scan()
    assert count() == before
