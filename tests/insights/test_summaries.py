"""The leaders' day rows (insights.summaries) follow the visits through the real services: each
render counts again the days that changed since the last one, a visit requested again moves to
its new day, deletions ask for every day again, and a refresh after changes leaves exactly the
rows that counting every day again gives."""

import datetime

import pytest
from django.conf import settings
from django.core.management import call_command

from insights import tasks
from insights.models import Recount, SchoolDay, VisitDay
from insights.summaries import summaries_refresh
from records import services as records
from records.models import PupilSeen
from tests.factories import assessment_for, visit_draft, visit_returned
from tests.records.conftest import record_answers
from tracking.models import EscalationStep, SignOut
from visits import authorisation, requests
from visits.models import Visit

from .conftest import at, autumn, row_of


def submitted_visit(sam, pupil, tess):
    """Requested now, for a morning in December (after any move of the clock in these tests)."""
    visit = visit_draft(sam, pupil, [sam, tess], start=at(12, 3, 10))
    assessment_for(visit, sam)
    return requests.visit_submit(actor=sam, visit=visit, warnings_confirmed=True)


def complete_record(visit, by):
    """The visitors' record, complete (every child seen, not alone), saved and submitted."""
    records.record_save(actor=by, visit=visit, **record_answers(visit))
    return records.record_submit(actor=by, visit=visit)


def rows() -> set[tuple]:
    return {
        (
            r.school_id,
            r.day,
            r.requested,
            r.authorised,
            r.refused,
            r.cancelled,
            r.returned,
            r.recorded_in_time,
            tuple(sorted(r.breakdown["reasons"].items())),
            tuple(sorted(r.breakdown["outcomes"].items())),
            tuple(sorted(r.breakdown["waits"])),
            r.seen,
            r.not_seen,
            r.seen_alone,
            r.overdue,
            r.retried,
            r.manager,
            r.help,
        )
        for r in SchoolDay.objects.all()
    }


def test_a_decision_made_after_the_dashboard_was_drawn_shows_at_the_next_render(
    client, sam, tess, dana, pupil
):
    visit = submitted_visit(sam, pupil, tess)
    assert row_of(autumn(client, dana), "requests") == [1, 0, 0, 0]
    authorisation.visit_authorise(actor=dana, visit=visit)
    response = autumn(client, dana)
    assert row_of(response, "requests") == [1, 1, 0, 0]
    assert row_of(response, "decisions") == [1, "0.0 h", "0.0 h"]


def test_a_visit_requested_again_after_changes_moves_to_the_day_it_was_requested_again(
    client, sam, tess, dana, pupil, time_machine
):
    time_machine.move_to(at(11, 2, 9), tick=False)
    visit = submitted_visit(sam, pupil, tess)
    weeks = dict(autumn(client, dana).context["weeks"])
    assert weeks[datetime.date(2026, 11, 2)] == 1
    authorisation.visit_request_changes(
        actor=dana, visit=visit, what_to_change="Add a second adult."
    )
    time_machine.move_to(at(11, 10, 9), tick=False)
    requests.visit_submit(actor=sam, visit=visit, warnings_confirmed=True)
    response = autumn(client, dana)
    weeks = dict(response.context["weeks"])
    assert weeks[datetime.date(2026, 11, 2)] == 0, "counted no longer on the day it left"
    assert weeks[datetime.date(2026, 11, 9)] == 1
    assert row_of(response, "requests") == [1, 0, 0, 0]


def test_a_record_submitted_and_a_ladder_step_fired_later_show_at_the_next_render(
    client, sam, tess, dana, hugh, olive, pupil
):
    visit = visit_returned(sam, pupil, [sam, tess], dana)
    response = autumn(client, dana)
    assert row_of(response, "records") == [1, 0]
    assert row_of(response, "children") == [0, 0, 0]
    complete_record(visit, sam)
    signout = SignOut.objects.create(
        visit=visit,
        school=visit.school,
        signed_out_by=olive,
        signed_out_at=at(11, 26, 8),
        vehicle="On foot",
        expected_return_at=at(11, 26, 8, year=2026),
        grace_seconds=900,
        retry_interval_seconds=300,
        retries=2,
        state="returned",
    )
    EscalationStep.objects.create(
        signout=signout,
        ladder_round=1,
        number=1,
        kind="overdue",
        trigger="scan",
        due_at=at(11, 26, 8),
        fired_at=at(11, 26, 9),
    )
    response = autumn(client, dana)
    assert row_of(response, "records") == [1, 1]
    assert row_of(response, "children") == [1, 0, 0]  # seen, not alone (the complete record)
    assert row_of(response, "escalations") == [1, 0, 0, 0]


def test_the_sending_schools_copy_removed_after_a_transfer_leaves_the_figures(client, world, dana):
    assert row_of(autumn(client, dana), "children") == [1, 2, 1]
    # What transfers.services does with the sending school's copy (School.transfer_sender_keeps):
    PupilSeen.objects.filter(record__visit__school=world["oakfield"]).delete()
    assert Recount.objects.count() == 2, "the two visits whose records named the children"
    assert row_of(autumn(client, dana), "children") == [0, 0, 0]
    assert not Recount.objects.exists()


def test_a_visit_deleted_leaves_the_day_it_was_counted_under(client, world, tina):
    assert row_of(autumn(client, tina), "requests", "Birchwood Academy") == [6, 0, 0, 0]
    Visit.objects.filter(school=world["birchwood"]).first().delete()
    assert row_of(autumn(client, tina), "requests", "Birchwood Academy") == [5, 0, 0, 0]
    assert not VisitDay.objects.exclude(visit_id__in=Visit.objects.values("pk")).exists()


def test_changing_a_draft_counts_no_day_again(sam, tess, pupil, time_machine):
    summaries_refresh()
    time_machine.shift(datetime.timedelta(minutes=10))
    summaries_refresh()
    visit_draft(sam, pupil, [sam, tess])
    assert summaries_refresh() == 0
    assert not SchoolDay.objects.exists()


def test_after_changes_the_rows_are_exactly_those_of_counting_every_day_again(
    client, world, sam, tess, dana, hugh, olive, pupil, time_machine
):
    summaries_refresh()
    first = submitted_visit(sam, pupil, tess)
    second = submitted_visit(sam, pupil, tess)
    authorisation.visit_refuse(actor=dana, visit=first, reason="Not needed this week.")
    time_machine.shift(datetime.timedelta(hours=3))
    authorisation.visit_request_changes(actor=dana, visit=second, what_to_change="A later time.")
    time_machine.shift(datetime.timedelta(days=1))
    requests.visit_submit(actor=sam, visit=second, warnings_confirmed=True)
    authorisation.visit_authorise(actor=dana, visit=second)
    returned = visit_returned(sam, pupil, [sam, tess], dana)
    complete_record(returned, sam)
    assert summaries_refresh() > 0
    refreshed = rows()
    assert summaries_refresh(rebuild=True) > 0
    assert rows() == refreshed


@pytest.mark.parametrize("how", ["task", "command"])
def test_every_day_is_counted_again_each_night_and_on_demand(world, how, capsys):
    summaries_refresh()
    SchoolDay.objects.update(requested=99)  # as if a write had gone round the services
    if how == "task":
        assert settings.CELERY_BEAT_SCHEDULE["insights-rebuild"]["task"] == (
            "insights.tasks.summaries_rebuild"
        )
        tasks.summaries_rebuild()
    else:
        call_command("insights_rebuild")
        assert "school days counted" in capsys.readouterr().out
    assert not SchoolDay.objects.filter(requested=99).exists()
