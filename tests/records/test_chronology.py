"""A pupil's chronology (R-REC-7): everything in time order; DSLs and the visitors only."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import ContactLog
from records import services
from schools.models import Role
from tests.auth import sign_in
from tests.factories import PupilFactory, person, visit_returned

from .conftest import queries_for

LONDON = timezone.get_current_timezone()


@pytest.fixture(autouse=True)
def _monday_morning(time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 23, 9, 0, tzinfo=LONDON), tick=False)


def _contact(household, by, *, pupil=None, when, outcome="no_answer", notes=""):
    return ContactLog.objects.create(
        school=household.school,
        household=household,
        pupil=pupil,
        counterpart="family",
        contact_number=household.contact_numbers.first(),
        channel="phone",
        outcome=outcome,
        notes=notes,
        occurred_at=when,
        recorded_by=by,
    )


@pytest.fixture
def history(sam, tess, dana, hugh, olive, pupil, complete_record, time_machine):
    """A week of one pupil's file: calls, a visit authorised and recorded, a concern, an action
    reassigned."""
    household = pupil.household
    _contact(household, sam, pupil=pupil, when=timezone.now(), notes="Rang mum's mobile")
    _contact(
        household, tess, when=timezone.now() + datetime.timedelta(hours=1), notes="Whole house"
    )
    time_machine.move_to(timezone.now() + datetime.timedelta(hours=2), tick=False)
    visit = visit_returned(sam, pupil, [sam, tess], dana)
    time_machine.move_to(timezone.now() + datetime.timedelta(hours=3), tick=False)
    complete_record(visit, sam)
    services.concern_raise(actor=tess, visit=visit, level="concern", details="Bruise on the arm")
    action = services.action_create(
        actor=sam,
        visit=visit,
        description="Refer to the school nurse",
        owner=tess,
        due_on=timezone.localdate() + datetime.timedelta(days=2),
    )
    time_machine.move_to(timezone.now() + datetime.timedelta(hours=1), tick=False)
    services.action_reassign(actor=dana, action=action, to_owner=sam, reason="Tess on a course")
    return visit


def test_the_chronology_shows_everything_in_time_order(client, history, pupil, dana):
    # R-REC-7
    sign_in(client, dana)
    page = client.get(reverse("records:chronology", args=[pupil.pk])).content.decode()
    in_order = [
        "Rang mum&#x27;s mobile",  # a contact attempt about the pupil
        "Whole house",  # a contact about the whole household
        f"Visit #{history.pk} authorised",
        f"Home visit #{history.pk}",
        f"Home Visit record of visit #{history.pk}",
        "Bruise on the arm",
        "Refer to the school nurse",
        "Action reassigned from Tess Example to Sam Example",
    ]
    positions = [page.index(text) for text in in_order]
    assert positions == sorted(positions)
    assert "“I’ve been poorly but I want to come back,” she said." in page  # their own words
    assert "By Sam Example" in page and "23/11/2026 09:00" in page


def test_the_chronology_filters_by_kind(client, history, pupil, dana):
    # R-REC-7
    sign_in(client, dana)
    url = reverse("records:chronology", args=[pupil.pk])
    contacts = client.get(url, {"kind": "contact"}).content.decode()
    assert "Rang mum&#x27;s mobile" in contacts and "Bruise on the arm" not in contacts
    concerns = client.get(url, {"kind": "concern"}).content.decode()
    assert "Bruise on the arm" in concerns and "Rang mum" not in concerns
    everything = client.get(url, {"kind": "nonsense"}).content.decode()
    assert "Rang mum" in everything and "Bruise on the arm" in everything


def test_a_household_contact_appears_on_each_siblings_chronology(client, history, pupil, dana):
    # R-REC-7: a contact about the whole household belongs to every child in it.
    sibling = PupilFactory(household=pupil.household, first_name="Zain")
    sign_in(client, dana)
    page = client.get(reverse("records:chronology", args=[sibling.pk])).content.decode()
    assert "Whole house" in page
    assert "Rang mum" not in page  # that call was about Aisha


def test_only_the_dsls_the_head_and_the_pupils_visitors_read_the_chronology(
    client, history, pupil, oakfield, sam, tess, dana, hugh, olive, max, oscar
):
    # R-SEC-1
    url = reverse("records:chronology", args=[pupil.pk])
    for allowed in (sam, tess, dana, hugh):
        sign_in(client, allowed)
        assert client.get(url).status_code == 200
    uma = person("uma", oakfield, Role.STAFF)  # staff who never visited the pupil
    for forbidden in (uma, olive, max):
        sign_in(client, forbidden)
        response = client.get(url)
        assert response.status_code == 403
        assert b"Bruise" not in response.content
    sign_in(client, oscar)
    assert client.get(url).status_code == 404


def test_the_chronology_costs_the_same_queries_for_few_and_many(
    client, history, pupil, sam, tess, dana, complete_record, time_machine
):
    # R-REC-7: one query per kind, whatever the rows.
    sign_in(client, dana)
    url = reverse("records:chronology", args=[pupil.pk])
    few, _ = queries_for(client, url)
    for n in range(4):
        _contact(pupil.household, sam, pupil=pupil, when=timezone.now(), notes=f"Call {n}")
        visit = visit_returned(sam, pupil, [sam, tess], dana)
        complete_record(visit, tess)
        services.concern_raise(actor=sam, visit=visit, level="concern", details=f"Worry {n}")
        action = services.action_create(
            actor=sam, visit=visit, description=f"Do {n}", owner=sam, due_on=timezone.localdate()
        )
        services.action_reassign(actor=dana, action=action, to_owner=tess, reason="cover")
    sign_in(client, dana)
    many, response = queries_for(client, url)
    assert response.content.count(b"Worry ") == 4
    assert many == few
