"""Private iCalendar feeds, so visits show in Outlook (county guidance)."""

import pytest
from django.urls import reverse
from icalendar import Calendar

from tests.factories import visit_draft
from visits import calendar_feeds, common, requests
from visits.models import CalendarFeed


@pytest.fixture
def submitted(sam, tess, pupil):
    return requests.visit_submit(actor=sam, visit=visit_draft(sam, pupil, [sam, tess]))


def _events(client, feed):
    response = client.get(reverse("visits:calendar_feed", args=[feed.token]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return list(Calendar.from_ical(response.content).walk("VEVENT")), response.content


def test_a_visitors_feed_holds_their_visits_without_the_childs_name_or_address(
    client, submitted, tess, pupil
):
    feed = calendar_feeds.calendar_feed_renew(actor=tess, scope="mine")
    events, raw = _events(client, feed)
    assert [str(e["uid"]) for e in events] == [f"visit-{submitted.pk}@homeward"]
    assert events[0].decoded("dtstart") == submitted.planned_start
    for secret in (
        pupil.first_name,
        pupil.last_name,
        pupil.household.address_line_1,
        pupil.household.postcode,
    ):
        assert secret.encode() not in raw


def test_a_draft_is_not_in_anybodys_calendar(client, sam, tess, pupil):
    visit_draft(sam, pupil, [sam, tess])
    events, _ = _events(client, calendar_feeds.calendar_feed_renew(actor=sam, scope="mine"))
    assert events == []


def test_an_authoriser_has_a_whole_school_feed_and_staff_cannot(
    client, submitted, dana, sam, oakfield
):
    feed = calendar_feeds.calendar_feed_renew(actor=dana, scope="school", school=oakfield)
    events, _ = _events(client, feed)
    assert len(events) == 1
    with pytest.raises(common.VisitBlocked):
        calendar_feeds.calendar_feed_renew(actor=sam, scope="school", school=oakfield)


def test_a_renewed_address_replaces_the_old_one_which_stops_working(client, submitted, tess):
    old = calendar_feeds.calendar_feed_renew(actor=tess, scope="mine")
    new = calendar_feeds.calendar_feed_renew(actor=tess, scope="mine")
    assert client.get(reverse("visits:calendar_feed", args=[old.token])).status_code == 404
    assert client.get(reverse("visits:calendar_feed", args=[new.token])).status_code == 200
    calendar_feeds.calendar_feed_revoke(actor=tess, feed=new)
    assert client.get(reverse("visits:calendar_feed", args=[new.token])).status_code == 404


def test_a_school_feed_goes_quiet_when_its_owner_stops_authorising(
    client, submitted, dana, oakfield
):
    from schools.models import Membership
    from schools.services import membership_remove

    feed = calendar_feeds.calendar_feed_renew(actor=dana, scope="school", school=oakfield)
    membership_remove(actor=None, membership=Membership.objects.get(user=dana, role="dsl"))
    events, _ = _events(client, feed)
    assert events == []


def test_the_calendar_page_makes_and_stops_addresses(signed_in, dana, oakfield):
    client = signed_in(dana)
    client.post(
        reverse("visits:calendar"), {"action": "renew", "scope": "school", "school": oakfield.pk}
    )
    feed = CalendarFeed.objects.get(user=dana, revoked_at=None)
    page = client.get(reverse("visits:calendar")).content.decode()
    assert feed.token in page
    client.post(
        reverse("visits:calendar"), {"action": "revoke", "scope": "school", "feed": feed.pk}
    )
    assert not CalendarFeed.objects.filter(user=dana, revoked_at=None).exists()
