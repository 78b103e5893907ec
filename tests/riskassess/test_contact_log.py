"""R-REC-7: the contact-attempt log. Who, when, channel, outcome and notes, audited; office staff
never read it (R-SEC-1)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from contacts.models import ContactLog
from contacts.services import ContactInvalid, contact_log_create
from tests.factories import ContactNumberFactory, HouseholdFactory


def _now(**delta):
    return timezone.now() - datetime.timedelta(**delta)


def test_a_call_is_logged_with_who_when_how_and_the_outcome_and_audited(household, pupil, sam):
    # R-REC-7
    number = household.contact_numbers.get(label="Mother's mobile")
    log = contact_log_create(
        actor=sam,
        household=household,
        pupil=pupil,
        counterpart="family",
        contact_number=number,
        channel="phone",
        outcome="voicemail",
        occurred_at=_now(minutes=5),
        notes="Left a message asking Mum to ring school.",
    )
    assert log.recorded_by == sam and log.school == household.school
    assert log.number_or_address == "+447700900301"
    assert (log.channel, log.outcome) == ("phone", "voicemail")
    event = AuditEvent.objects.get(event_type="contact.logged")
    assert event.actor == sam and event.object_id == str(log.pk)
    assert event.changes["outcome"] == "voicemail"


def test_the_same_entry_posted_twice_is_logged_once(household, sam):
    number = household.contact_numbers.first()
    entry = {
        "actor": sam,
        "household": household,
        "counterpart": "family",
        "contact_number": number,
        "channel": "phone",
        "outcome": "no_answer",
        "occurred_at": _now(minutes=3),
    }
    first = contact_log_create(**entry)
    assert contact_log_create(**entry) == first
    assert ContactLog.objects.count() == 1


def test_a_number_of_another_household_is_refused(household, sam, oakfield):
    elsewhere = ContactNumberFactory(household=HouseholdFactory(school=oakfield))
    with pytest.raises(ContactInvalid) as raised:
        contact_log_create(
            actor=sam,
            household=household,
            counterpart="family",
            contact_number=elsewhere,
            channel="phone",
            outcome="no_answer",
            occurred_at=_now(minutes=1),
        )
    assert raised.value.message_dict["contact_number"] == [
        "That number belongs to another household."
    ]
    assert not ContactLog.objects.exists()


def test_a_contact_in_the_future_is_refused(household, sam):
    with pytest.raises(ContactInvalid, match="cannot be in the future"):
        contact_log_create(
            actor=sam,
            household=household,
            counterpart="social_care",
            contacted="MASH",
            channel="phone",
            outcome="spoke_to_professional",
            occurred_at=timezone.now() + datetime.timedelta(hours=2),
        )


def test_only_the_family_can_acknowledge(household, sam):
    # R-CLO-2 counts acknowledgements: a professional cannot give one.
    with pytest.raises(ContactInvalid, match="answered by the family"):
        contact_log_create(
            actor=sam,
            household=household,
            counterpart="social_care",
            contacted="MASH",
            channel="phone",
            outcome="spoke_to_parent",
            occurred_at=_now(minutes=1),
        )


def test_the_page_logs_contacts_in_london_time_across_the_clock_change(
    client, signed_in, household, pupil, sam
):
    # R-REC-7; times entered and shown in Europe/London, stored in UTC.
    signed_in(sam)
    url = reverse("riskassess:contact_log", args=[household.pk])
    number = household.contact_numbers.get(label="Grandparent")
    entry = {
        "counterpart": "family",
        "contact_number": number.pk,
        "channel": "phone",
        "outcome": "spoke_to_parent",
        "pupil": pupil.pk,
        "notes": "Gran says all well; Mum unwell.",
    }
    for local in ("2026-10-24T09:15", "2026-10-26T09:15"):  # BST, then GMT
        assert client.post(url, {**entry, "occurred_at": local}).status_code == 302
    stored = sorted(ContactLog.objects.values_list("occurred_at", flat=True))
    assert stored == [
        datetime.datetime(2026, 10, 24, 8, 15, tzinfo=datetime.UTC),
        datetime.datetime(2026, 10, 26, 9, 15, tzinfo=datetime.UTC),
    ]
    page = client.get(url).content.decode()
    assert "Gran says all well; Mum unwell." in page
    assert "Sat 24/10/2026 09:15" in page and "Mon 26/10/2026 09:15" in page
    # 01:30 happened twice the night the clocks went back: ask, rather than guess.
    response = client.post(url, {**entry, "occurred_at": "2026-10-25T01:30"})
    assert response.status_code == 200
    assert "ambiguous" in response.content.decode()
    assert ContactLog.objects.count() == 2


def test_a_summer_contact_is_shown_in_british_summer_time(client, signed_in, household, sam):
    contact_log_create(
        actor=sam,
        household=household,
        counterpart="social_care",
        contacted="MASH",
        channel="phone",
        outcome="spoke_to_professional",
        occurred_at=datetime.datetime(2026, 7, 1, 13, 5, tzinfo=datetime.UTC),
    )
    signed_in(sam)
    page = client.get(reverse("riskassess:contact_log", args=[household.pk])).content.decode()
    assert "Wed 01/07/2026 14:05" in page


def test_bad_input_shows_the_form_again_with_errors_and_logs_nothing(
    client, signed_in, household, sam, oakfield
):
    elsewhere = ContactNumberFactory(household=HouseholdFactory(school=oakfield))
    signed_in(sam)
    response = client.post(
        reverse("riskassess:contact_log", args=[household.pk]),
        {
            "counterpart": "family",
            "contact_number": elsewhere.pk,
            "channel": "phone",
            "outcome": "no_answer",
            "occurred_at": "",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "That number is not one of this household&#x27;s numbers." in page
    assert "Give the date and time of the contact." in page
    assert not ContactLog.objects.exists()


def test_logging_from_the_doorstep_page_goes_back_to_it(client, signed_in, doorstep_visit, sam):
    # R-RA-6: the doorstep page's "log an attempt" link pre-fills the form and comes back.
    signed_in(sam)
    household = doorstep_visit.household
    number = household.contact_numbers.first()
    url = reverse("riskassess:contact_log", args=[household.pk])
    form = client.get(url, {"visit": doorstep_visit.pk, "contact_number": number.pk}).context[
        "form"
    ]
    assert form.initial["contact_number"] == str(number.pk)
    prefill = {"counterpart": "social_care", "pupil": "1 OR 1=1"}
    form = client.get(url, prefill).context["form"]
    assert form.initial["counterpart"] == "social_care" and "pupil" not in form.initial
    response = client.post(
        url,
        {
            "visit": doorstep_visit.pk,
            "counterpart": "family",
            "contact_number": number.pk,
            "channel": "phone",
            "outcome": "no_answer",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response["Location"] == reverse("riskassess:doorstep", args=[doorstep_visit.pk])
    assert ContactLog.objects.get().visit == doorstep_visit


@pytest.mark.parametrize("who", ["olive", "max"])
def test_the_office_and_managers_can_neither_read_nor_write_the_log(
    client, signed_in, household, request, who
):
    # R-SEC-1
    signed_in(request.getfixturevalue(who))
    url = reverse("riskassess:contact_log", args=[household.pk])
    assert client.get(url).status_code == 403
    response = client.post(
        url,
        {
            "counterpart": "social_care",
            "contacted": "MASH",
            "channel": "phone",
            "outcome": "no_answer",
            "occurred_at": "2026-11-25T09:00",
        },
    )
    assert response.status_code == 403
    assert not ContactLog.objects.exists()


def test_another_schools_dsl_cannot_see_that_the_household_exists(
    client, signed_in, household, oscar
):
    # R-SEC-1
    signed_in(oscar)
    assert client.get(reverse("riskassess:contact_log", args=[household.pk])).status_code == 404


def _log_many(household, by, count):
    number = household.contact_numbers.first()
    for i in range(count):
        contact_log_create(
            actor=by,
            household=household,
            counterpart="family",
            contact_number=number,
            channel="phone",
            outcome="no_answer",
            occurred_at=_now(hours=i + 1),
        )


def test_the_log_page_makes_as_many_queries_for_many_entries_as_for_few(
    client, signed_in, household, sam
):
    signed_in(sam)
    url = reverse("riskassess:contact_log", args=[household.pk])
    _log_many(household, sam, 2)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _log_many(household, sam, 40)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)
