"""Actions from a visit: owner, due date, status; a Senior DSL reassigns them (R-REC-6)."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from records import services
from records.models import Action, ActionReassignment
from tests.auth import sign_in

from .conftest import queries_for


@pytest.fixture(autouse=True)
def _a_thursday_in_term(time_machine):
    time_machine.move_to(
        datetime.datetime(2026, 11, 26, 9, 0, tzinfo=timezone.get_current_timezone()), tick=False
    )


def _in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


def _action(visit, by, owner, days=3, text="Call the family about attendance."):
    return services.action_create(
        actor=by, visit=visit, description=text, owner=owner, due_on=_in_days(days)
    )


def test_an_action_has_an_owner_a_due_date_and_a_status(
    returned_visit, sam, tess, django_capture_on_commit_callbacks
):
    # R-REC-6
    with django_capture_on_commit_callbacks(execute=True):
        action = _action(returned_visit, sam, tess)
    assert (action.owner, action.due_on, action.status) == (tess, _in_days(3), "open")
    assert [m.to for m in mail.outbox] == [[tess.email]]  # the new owner is told
    assert "Call the family" not in mail.outbox[0].body
    assert AuditEvent.objects.filter(event_type="action.created").count() == 1


def test_an_action_through_the_page_with_a_past_date_is_refused(client, returned_visit, sam):
    sign_in(client, sam)
    response = client.post(
        reverse("records:action_add", args=[returned_visit.pk]),
        {"description": "Call", "owner": sam.pk, "due_on": "2026-11-01"},
    )
    assert response.status_code == 200
    assert b"The due date cannot be in the past." in response.content
    assert not Action.objects.exists()


def test_the_office_cannot_own_an_action(returned_visit, sam, olive):
    # R-REC-6, R-SEC-1: the office never works on records.
    with pytest.raises(services.RecordBlocked, match="cannot own an action"):
        _action(returned_visit, sam, olive)


def test_owners_see_their_open_actions_on_their_dashboard(client, returned_visit, sam, tess):
    # R-REC-6: "owners see theirs on their dashboard".
    mine = _action(returned_visit, sam, tess, text="Tess: ring the school nurse")
    _action(returned_visit, sam, sam, text="Sam: post the uniform form")
    sign_in(client, tess)
    page = client.get(reverse("records:my_actions")).content
    assert b"Tess: ring the school nurse" in page
    assert b"Sam: post the uniform form" not in page
    services.action_status_set(actor=tess, action=mine, status="done", notes="Rang.")
    assert b"Tess: ring the school nurse" not in client.get(reverse("records:my_actions")).content


def test_the_owner_moves_an_action_on_and_a_closed_action_stays_closed(
    client, returned_visit, sam, tess
):
    # R-REC-6
    action = _action(returned_visit, sam, tess)
    sign_in(client, tess)
    url = reverse("records:action", args=[action.pk])
    assert client.post(url, {"status": "in_progress"}).status_code == 302
    assert client.post(url, {"status": "done", "notes": "Spoke to mum."}).status_code == 302
    action.refresh_from_db()
    assert (action.status, action.closed_at is not None) == ("done", True)
    with pytest.raises(services.RecordConflict, match="already done"):
        services.action_status_set(actor=tess, action=action, status="open")


def test_cancelling_an_action_needs_a_reason(returned_visit, sam):
    action = _action(returned_visit, sam, sam)
    with pytest.raises(services.RecordBlocked, match="no longer needed"):
        services.action_status_set(actor=sam, action=action, status="cancelled")


def test_someone_elses_action_is_403_for_staff(client, returned_visit, sam, tess):
    action = _action(returned_visit, sam, tess)
    with pytest.raises(services.RecordBlocked, match="DSL or the Headteacher"):
        services.action_status_set(actor=sam, action=action, status="done")
    sign_in(client, sam)
    assert client.get(reverse("records:action", args=[action.pk])).status_code == 403


def test_a_dsl_reassigns_an_action_and_who_when_and_why_are_kept(
    client, returned_visit, sam, tess, dana, django_capture_on_commit_callbacks
):
    # R-REC-6: "a Senior DSL can reassign them" (004 "the Senior DSL who will reallocate").
    action = _action(returned_visit, sam, tess)
    mail.outbox.clear()
    sign_in(client, dana)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("records:action_reassign", args=[action.pk]),
            {"to_owner": sam.pk, "reason": "Tess is off sick this week."},
        )
    assert response.status_code == 302
    action.refresh_from_db()
    move = ActionReassignment.objects.get()
    assert action.owner == sam
    assert (move.from_owner, move.to_owner, move.reassigned_by) == (tess, sam, dana)
    assert move.reason == "Tess is off sick this week."
    assert move.reassigned_at == timezone.now()
    assert [m.to for m in mail.outbox] == [[sam.email]]
    page = client.get(reverse("records:action", args=[action.pk])).content
    assert b"Tess is off sick this week." in page


def test_staff_cannot_reassign_an_action_even_their_own(client, returned_visit, sam, tess):
    # R-REC-6
    action = _action(returned_visit, sam, sam)
    with pytest.raises(services.RecordBlocked, match="DSL or the Headteacher"):
        services.action_reassign(actor=sam, action=action, to_owner=tess, reason="Busy")
    sign_in(client, sam)
    assert client.get(reverse("records:action_reassign", args=[action.pk])).status_code == 403


def test_a_reassignment_without_a_reason_is_refused(client, returned_visit, sam, tess, hugh):
    # R-REC-6
    action = _action(returned_visit, sam, tess)
    sign_in(client, hugh)
    response = client.post(
        reverse("records:action_reassign", args=[action.pk]), {"to_owner": sam.pk, "reason": ""}
    )
    assert response.status_code == 200
    assert b"This field is required" in response.content
    with pytest.raises(services.RecordBlocked, match="Say why"):
        services.action_reassign(actor=hugh, action=action, to_owner=sam, reason=" ")
    assert not ActionReassignment.objects.exists()


def test_two_dsls_reassigning_at_once_change_it_once(returned_visit, sam, tess, dana, hugh):
    # R-REC-6: a conditional update on the owner decides.
    action = _action(returned_visit, sam, tess)
    stale = Action.objects.get(pk=action.pk)
    services.action_reassign(actor=dana, action=action, to_owner=sam, reason="Cover")
    with pytest.raises(services.RecordConflict, match="changed while you were reassigning"):
        services.action_reassign(actor=hugh, action=stale, to_owner=dana, reason="Mine")
    assert ActionReassignment.objects.count() == 1


def test_overdue_actions_are_listed_for_the_dsls(
    client, returned_visit, sam, tess, dana, time_machine
):
    # R-REC-6: "overdue actions are listed".
    late = _action(returned_visit, sam, tess, days=1, text="Due tomorrow")
    _action(returned_visit, sam, tess, days=5, text="Due next week")
    sign_in(client, dana)
    assert b"Due tomorrow" not in client.get(reverse("records:overdue_actions")).content
    time_machine.move_to(timezone.now() + datetime.timedelta(days=2))
    sign_in(client, dana)  # a new day, a new sign-in
    page = client.get(reverse("records:overdue_actions")).content
    assert b"Due tomorrow" in page and b"Due next week" not in page
    assert b"Overdue" in client.get(reverse("records:dashboard")).content
    services.action_status_set(actor=tess, action=late, status="done")
    assert b"Due tomorrow" not in client.get(reverse("records:overdue_actions")).content


def test_action_lists_cost_the_same_queries_for_few_and_many(
    client, returned_visit, sam, tess, dana, time_machine
):
    _action(returned_visit, sam, tess, days=1)
    time_machine.move_to(timezone.now() + datetime.timedelta(days=2))
    sign_in(client, tess)
    few_mine, _ = queries_for(client, reverse("records:my_actions"))
    sign_in(client, dana)
    few_overdue, _ = queries_for(client, reverse("records:overdue_actions"))
    time_machine.move_to(timezone.now() - datetime.timedelta(days=2))
    for n in range(10):
        _action(returned_visit, sam, tess, days=1, text=f"Action {n}")
    time_machine.move_to(timezone.now() + datetime.timedelta(days=2))
    sign_in(client, dana)
    many_overdue, response = queries_for(client, reverse("records:overdue_actions"))
    assert response.content.count(b"Overdue</span>") == 11
    sign_in(client, tess)
    many_mine, _ = queries_for(client, reverse("records:my_actions"))
    assert (many_mine, many_overdue) == (few_mine, few_overdue)
