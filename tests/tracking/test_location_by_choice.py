"""R-TRK-8: a check-in from the phone carries the phone's position only when the visitor ticks
"share my location with this check-in". The last one shared shows on the emergency page (as
coordinates, a geo: link and a map link) and prints on the Police briefing while the sign-out is
open; it is deleted with the rest of the tracking data about staff."""

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from tracking.ladder import _checkin_links_create
from tracking.models import CheckInLocation, SignOut

from ..auth import sign_in
from .conftest import NOON

pytestmark = pytest.mark.django_db

LEEDS = {"latitude": "53.800755", "longitude": "-1.549077", "accuracy": "18.4"}


def shared(at=NOON, **overrides):
    return {
        "share_location": "1",
        **LEEDS,
        "taken_at": str(int(at.timestamp() * 1000)),
        **overrides,
    }


@pytest.fixture
def long_visit(clock, signout, oakfield):
    SignOut.objects.filter(pk=signout.pk).update(checkin_interval_seconds=1800)
    signout.refresh_from_db()
    return signout


def test_the_pages_offer_the_box_unticked_and_load_the_script(long_visit, sam):
    # R-TRK-8: never automatic: the box is unticked and the script only acts when it is ticked.
    page = sign_in(Client(), sam).get(reverse("tracking:mine")).content.decode()
    assert "Share my location with this check-in" in page
    assert "checked" not in re.search(r'<input[^>]+name="share_location"[^>]*>', page).group(0)
    assert "/static/js/share-location.js" in page


def test_a_check_in_with_the_box_ticked_keeps_the_position(long_visit, sam):
    # R-TRK-8
    sign_in(Client(), sam).post(reverse("tracking:check_in", args=[long_visit.pk]), shared())
    location = CheckInLocation.objects.get()
    assert (location.latitude, location.longitude, location.accuracy_m) == (
        Decimal("53.800755"),
        Decimal("-1.549077"),
        18,
    )
    assert location.taken_at == NOON and location.visitor == sam


@pytest.mark.parametrize(
    "data",
    [
        {**LEEDS, "taken_at": "0"},  # the box not ticked: ignored even with numbers
        shared(latitude="91"),
        shared(longitude="nonsense"),
        shared(accuracy="-5"),
        shared(at=NOON - datetime.timedelta(hours=1)),  # not with this check-in
        shared(taken_at="99999999999999999999"),
    ],
)
def test_nothing_is_kept_unless_ticked_and_sane_and_the_check_in_still_counts(
    long_visit, sam, data
):
    # R-TRK-8: bad numbers lose the position, never the check-in.
    sign_in(Client(), sam).post(reverse("tracking:check_in", args=[long_visit.pk]), data)
    assert not CheckInLocation.objects.exists()
    assert long_visit.events.filter(kind="checked_in").count() == 1


def test_the_check_in_link_can_share_the_position(clock, signout, sam):
    # R-TRK-8: the overdue link's "I'm safe".
    url = _checkin_links_create(signout, now=NOON)[signout.visitors.get(user=sam).pk]
    url = re.sub(r"^https?://[^/]+", "", url)
    assert "Share my location" in Client().get(url).content.decode()
    Client().post(url, {"answer": "safe", **shared()})
    assert CheckInLocation.objects.get().visitor == sam


def test_the_emergency_page_and_the_briefing_show_the_last_position(long_visit, clock, sam, max):
    # R-TRK-8: coordinates, accuracy, time, a geo: link and a map link; printed for the Police.
    from pypdf import PdfReader

    phone = sign_in(Client(), sam)
    phone.post(reverse("tracking:check_in", args=[long_visit.pk]), shared())
    clock.move_to(NOON + datetime.timedelta(minutes=5))
    later = shared(
        at=NOON + datetime.timedelta(minutes=5), latitude="53.801000", longitude="-1.550000"
    )
    phone.post(reverse("tracking:check_in", args=[long_visit.pk]), later)
    manager = sign_in(Client(), max)
    page = manager.get(reverse("tracking:emergency", args=[long_visit.pk])).content.decode()
    assert "53.80100, -1.55000" in page and "53.80076" not in page
    assert 'href="geo:53.801000,-1.550000?u=18"' in page
    assert "openstreetmap.org/?mlat=53.801000&amp;mlon=-1.550000" in page
    pdf = manager.get(reverse("tracking:briefing_pdf", args=[long_visit.pk])).content
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "53.80100, -1.55000" in text


def test_no_position_shows_once_tracking_has_closed_and_it_goes_with_the_sign_out(
    long_visit, sam, max
):
    # R-TRK-8: shown while open; deleted with the sign-out at retention (CASCADE).
    sign_in(Client(), sam).post(reverse("tracking:phone_in", args=[long_visit.pk]), shared())
    assert CheckInLocation.objects.count() == 1
    sign_in(Client(), sam).post(reverse("tracking:returned", args=[long_visit.pk]))
    page = sign_in(Client(), max).get(reverse("tracking:emergency", args=[long_visit.pk]))
    assert "53.80076" not in page.content.decode() and "None shared" in page.content.decode()
    SignOut.objects.filter(pk=long_visit.pk).delete()  # what deleting tracking data does
    assert not CheckInLocation.objects.exists()
