"""Delivery receipts (R-ESC-11): Twilio's signed status callbacks and GOV.UK Notify's bearer
receipts set each SMS's delivery state, only forward, once; anything forged changes nothing."""

import datetime
import json

import pytest
from django.urls import reverse
from twilio.request_validator import RequestValidator

from audit.models import AuditEvent
from tracking.models import Notification

from .conftest import NOON

R = NOON + datetime.timedelta(hours=1)
minute = datetime.timedelta(minutes=1)
TOKEN = "twilio-test-token"
BEARER = "notify-callback-secret"
SITE = "https://homeward.example"


@pytest.fixture(autouse=True)
def _providers(settings):
    settings.SITE_URL = SITE
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.NOTIFY_CALLBACK_BEARER_TOKEN = BEARER


@pytest.fixture
def manager_sms(clock, signout, scan, max):
    """The manager's alert went at R+30 (the in-memory backend's id stands in for Twilio's)."""
    clock.move_to(R + 30 * minute)
    scan()
    return Notification.objects.get(step__kind="manager", channel="sms")


def twilio(client, form, *, signature=None):
    path = reverse("tracking:twilio_status")
    if signature is None:
        signature = RequestValidator(TOKEN).compute_signature(SITE + path, form)
    return client.post(path, form, HTTP_X_TWILIO_SIGNATURE=signature)


def notify(client, data, *, token=BEARER):
    body = data if isinstance(data, str) else json.dumps(data)
    return client.post(
        reverse("tracking:notify_receipt"),
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_a_signed_twilio_callback_records_delivery_with_its_time(client, clock, manager_sms):
    # R-ESC-11
    clock.move_to(R + 31 * minute)
    response = twilio(
        client, {"MessageSid": manager_sms.provider_ref, "MessageStatus": "delivered"}
    )
    assert response.status_code == 204
    manager_sms.refresh_from_db()
    assert manager_sms.delivery_state == "delivered"
    assert manager_sms.state_words == "delivered 13:31"


def test_a_callback_twice_or_out_of_order_never_moves_delivered_back(client, manager_sms):
    # R-ESC-11: idempotent on the provider's id; only forward.
    sid = manager_sms.provider_ref
    for status in ("sent", "delivered", "delivered", "sent", "queued"):
        assert twilio(client, {"MessageSid": sid, "MessageStatus": status}).status_code == 204
    manager_sms.refresh_from_db()
    assert manager_sms.delivery_state == "delivered"
    assert AuditEvent.objects.filter(event_type="notification.delivery").count() == 2


def test_an_undelivered_text_says_so_in_words_with_the_providers_code(client, manager_sms):
    # R-ESC-11
    twilio(
        client,
        {
            "MessageSid": manager_sms.provider_ref,
            "MessageStatus": "undelivered",
            "ErrorCode": "30003",
        },
    )
    manager_sms.refresh_from_db()
    assert manager_sms.state_words == "not delivered (error 30003)"


def test_a_forged_twilio_callback_is_refused_and_changes_nothing(client, manager_sms):
    # R-ESC-11
    form = {"MessageSid": manager_sms.provider_ref, "MessageStatus": "delivered"}
    assert twilio(client, form, signature="forged").status_code == 403
    assert client.post(reverse("tracking:twilio_status"), form).status_code == 403
    manager_sms.refresh_from_db()
    assert manager_sms.delivery_state == ""
    assert AuditEvent.objects.filter(event_type="webhook.refused").count() == 2


def test_a_callback_for_a_message_homeward_never_sent_is_audited_and_ignored(client, manager_sms):
    # R-ESC-11
    assert (
        twilio(client, {"MessageSid": "SMnobody", "MessageStatus": "delivered"}).status_code == 204
    )
    ignored = AuditEvent.objects.get(event_type="notification.receipt_ignored")
    assert ignored.changes == {"provider": "twilio", "why": "unknown message"}
    assert not Notification.objects.exclude(delivery_state="").exists()


def test_notify_receipts_with_the_bearer_token_record_delivery(client, manager_sms):
    # R-ESC-11
    receipt = {"id": manager_sms.provider_ref, "reference": "x", "status": "permanent-failure"}
    assert notify(client, receipt).status_code == 204
    assert notify(client, {**receipt, "status": "delivered"}).status_code == 204  # out of order
    manager_sms.refresh_from_db()
    assert manager_sms.delivery_state == "failed"


def test_notify_receipts_without_the_token_or_not_json_change_nothing(client, manager_sms):
    # R-ESC-11
    receipt = {"id": manager_sms.provider_ref, "status": "delivered"}
    assert notify(client, receipt, token="wrong").status_code == 403
    assert notify(client, "{not json").status_code == 400
    assert notify(client, "[1, 2]").status_code == 400
    manager_sms.refresh_from_db()
    assert manager_sms.delivery_state == ""


def test_the_emergency_page_shows_each_messages_state_in_words(
    client, signed_in, clock, manager_sms, max, signout
):
    # R-ESC-11
    clock.move_to(R + 31 * minute)
    twilio(client, {"MessageSid": manager_sms.provider_ref, "MessageStatus": "delivered"})
    page = signed_in(max).get(reverse("tracking:emergency", args=[signout.pk])).content.decode()
    assert "SMS to Max Example (manager): delivered 13:31" in page
