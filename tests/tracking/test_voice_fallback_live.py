"""R-ESC-11 end to end: Homeward on a live server sends through the real `twilio` client to the
fake Twilio on 127.0.0.1, and the fake answers like the network does: it posts signed delivery
receipts to Homeward's status callback, rings the fallback call, fetches its TwiML, presses 1 (or
answers as a machine) and posts the call's progress. The scans run in the test, sending in the
test's process (like `manage.py run_escalations`)."""

import datetime
import time

import pytest
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from tracking.ladder import escalation_scan
from tracking.models import Acknowledgement, Notification
from tracking.outbox import notifications_send_here

from .conftest import authorised_visit, sign_out
from .fake_providers import TWILIO_SID, TWILIO_TOKEN, fake_sms_provider

pytestmark = pytest.mark.django_db(transaction=True)
MAX_MOBILE = "+447700900106"


@pytest.fixture
def provider(settings, live_server):
    with fake_sms_provider() as fake:
        fake.callbacks = True
        settings.SITE_URL = live_server.url
        settings.SMS_BACKEND = "tracking.sms.TwilioBackend"
        settings.VOICE_BACKEND = "tracking.voice.TwilioBackend"
        settings.TWILIO_ACCOUNT_SID = TWILIO_SID
        settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
        settings.TWILIO_FROM = "+447700900999"
        settings.TWILIO_API_BASE_URL = fake.url
        settings.SMS_TIMEOUT_SECONDS = 5.0
        yield fake


@pytest.fixture
def out_and_overdue(time_machine, sam, tess, dana, pupil, olive, max, oakfield):
    """Sam and Tess signed out, back in an hour; the clock (ticking, in every thread) then moves
    to 31 minutes past their return: the manager step is due. Max is the designated manager."""
    oakfield.designated_manager = max
    oakfield.monitor_phone = "+447700900500"
    oakfield.save()
    visit = authorised_visit(sam, pupil, [sam, tess], dana)
    signout = sign_out(visit, olive)
    time_machine.move_to(
        signout.expected_return_at + datetime.timedelta(minutes=31, seconds=1), tick=True
    )
    return signout


def scan():
    return escalation_scan(enqueue=notifications_send_here)


def wait_for(condition, *, seconds=30.0, scanning=False):
    """Callbacks arrive from the fake's threads: poll the database until they have (scanning
    each time, as beat would, when `scanning`). On SQLite the live server's thread and this one
    share an in-memory database that locks whole tables: a locked read is tried again."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if scanning:
                scan()
            result = condition()
        except OperationalError:
            result = None
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError("the provider's callbacks did not arrive")


def calls_to(provider, number):
    return [c for c in provider.calls() if c["To"] == number]


def manager_sms():
    return Notification.objects.get(step__kind="manager", channel="sms", address=MAX_MOBILE)


def test_an_undelivered_alert_rings_the_manager_who_presses_1_to_acknowledge(
    provider, out_and_overdue
):
    # R-ESC-11, R-ESC-8: the network reports the text undelivered; the call follows at the next
    # scan; the manager presses 1 and owns the case.
    provider.sms_outcome = "undelivered"
    provider.press_to = {MAX_MOBILE}  # the monitor's call is not answered with a key
    scan()
    wait_for(lambda: manager_sms().delivery_state == "undelivered")
    assert manager_sms().provider_error_code == "30003"
    calls = wait_for(lambda: calls_to(provider, MAX_MOBILE), scanning=True)
    assert len(calls) == 1
    assert calls[0]["MachineDetection"] == "Enable"
    assert calls[0]["StatusCallback"].endswith(reverse("tracking:twilio_call_status"))
    ack = wait_for(lambda: Acknowledgement.objects.filter(signout=out_and_overdue).first())
    call = Notification.objects.get(channel="voice", address=MAX_MOBILE)
    assert (ack.via, ack.user_id) == ("voice", call.recipient_id)
    wait_for(lambda: Notification.objects.get(pk=call.pk).call_state == "completed")
    call.refresh_from_db()
    when = timezone.localtime(call.call_acknowledged_at)
    assert call.state_words == f"call answered, acknowledged {when:%H:%M}"
    assert manager_sms().state_words == "not delivered (error 30003) — calling instead"
    # Every callback the fake sent was accepted; scanning again places no second call.
    assert provider.callbacks_refused() == []
    scan()
    assert len(calls_to(provider, MAX_MOBILE)) == 1


def test_an_answering_machine_picking_up_the_fallback_call_acknowledges_nothing(
    provider, out_and_overdue
):
    # R-ESC-11: machine detection says machine_start; the fake "presses 1" all the same.
    provider.sms_outcome = "failed"
    provider.answered_by = "machine_start"
    scan()
    wait_for(lambda: manager_sms().delivery_state == "failed")
    wait_for(lambda: calls_to(provider, MAX_MOBILE), scanning=True)
    call = Notification.objects.get(channel="voice", address=MAX_MOBILE)
    wait_for(lambda: Notification.objects.get(pk=call.pk).call_state == "completed")
    assert not Acknowledgement.objects.exists()
    call.refresh_from_db()
    assert call.answered_by == "machine_start"
    assert call.state_words == "answering machine — not acknowledged"


def test_a_delivered_alert_is_never_repeated_by_a_call(provider, out_and_overdue, settings):
    # R-ESC-11: the receipts say delivered; two minutes later the scan finds nothing to repeat.
    settings.ESCALATION_MINUTE_SECONDS = 0.5  # two ladder minutes are one second here
    scan()
    wait_for(
        lambda: (
            not Notification.objects.filter(fallback_due_at__isnull=False).exists()
            and manager_sms().delivery_state == "delivered"
        )
    )
    time.sleep(1.2)
    scan()
    assert provider.calls() == []
    assert provider.callbacks_refused() == []
    assert manager_sms().state_words.startswith("delivered ")
