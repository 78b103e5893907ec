"""The SMS backends, and email over SMTP: the real providers' client libraries against fake
servers on 127.0.0.1 that the test starts."""

import io

import jwt
import pytest

from tracking import sms
from tracking.models import Notification
from tracking.sms import ConsoleBackend, InMemoryBackend, NotifyBackend, SmsNotSent, TwilioBackend

from .fake_providers import (
    NOTIFY_API_KEY,
    NOTIFY_SECRET,
    NOTIFY_SERVICE_ID,
    NOTIFY_TEMPLATE_ID,
    TWILIO_SID,
    TWILIO_TOKEN,
    fake_sms_provider,
    free_port,
    mail_server,
)

BODY = "Homeward: you were due back from your visit at 13:00. Call the office now."


@pytest.fixture
def provider():
    with fake_sms_provider() as fake:
        yield fake


@pytest.fixture
def twilio(settings, provider):
    settings.TWILIO_ACCOUNT_SID = TWILIO_SID
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.TWILIO_FROM = "+447700900999"
    settings.TWILIO_API_BASE_URL = provider.url
    settings.SMS_TIMEOUT_SECONDS = 1.0
    return provider


@pytest.fixture
def notify(settings, provider):
    settings.NOTIFY_API_KEY = NOTIFY_API_KEY
    settings.NOTIFY_SMS_TEMPLATE_ID = NOTIFY_TEMPLATE_ID
    settings.NOTIFY_BASE_URL = provider.url
    settings.SMS_TIMEOUT_SECONDS = 1.0
    return provider


def test_the_console_backend_prints_the_message():
    stream = io.StringIO()
    ref = ConsoleBackend(stream=stream).send(to="+447700900101", body=BODY, reference="key-1")
    assert ref.startswith("console-")
    assert "SMS to +447700900101 (key-1)" in stream.getvalue() and BODY in stream.getvalue()


def test_the_in_memory_backend_keeps_each_message_for_the_test_to_read():
    InMemoryBackend().send(to="+447700900101", body=BODY, reference="key-1")
    assert [(m.to, m.body, m.reference) for m in sms.outbox] == [("+447700900101", BODY, "key-1")]


def test_twilio_receives_the_message_through_its_client_library(twilio):
    sid = TwilioBackend().send(to="+447700900101", body=BODY, reference="key-1")
    (request,) = twilio.requests
    assert request["path"] == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    assert request["data"] == {
        "To": "+447700900101",
        "From": "+447700900999",
        "Body": BODY,
        # R-ESC-11: Twilio posts each status change back here, signed.
        "StatusCallback": "http://127.0.0.1:8000/tracking/hooks/twilio/status/",
    }
    assert request["headers"]["Authorization"].startswith("Basic ")
    assert sid.startswith("SM")


def test_twilio_with_a_messaging_service_sends_from_it(twilio, settings):
    settings.TWILIO_FROM = "MG" + "1" * 32
    TwilioBackend().send(to="+447700900101", body=BODY, reference="key-1")
    assert twilio.requests[0]["data"]["MessagingServiceSid"] == "MG" + "1" * 32


def test_a_twilio_error_means_not_sent(twilio):
    twilio.status = 500
    with pytest.raises(SmsNotSent, match="Twilio refused"):
        TwilioBackend().send(to="+447700900101", body=BODY, reference="key-1")


def test_twilio_out_of_reach_means_not_sent(settings, twilio):
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(SmsNotSent, match="could not connect"):
        TwilioBackend().send(to="+447700900101", body=BODY, reference="key-1")


def test_a_twilio_timeout_after_the_request_left_is_in_doubt(twilio):
    twilio.delay = 2.0
    with pytest.raises(Exception) as raised:
        TwilioBackend().send(to="+447700900101", body=BODY, reference="key-1")
    assert not isinstance(raised.value, SmsNotSent)
    assert len(twilio.requests) == 1


def test_notify_receives_the_message_through_its_client_library(notify):
    ref = NotifyBackend().send(to="+447700900101", body=BODY, reference="key-1")
    (request,) = notify.requests
    assert request["path"] == "/v2/notifications/sms"
    assert request["data"] == {
        "phone_number": "+447700900101",
        "template_id": NOTIFY_TEMPLATE_ID,
        "personalisation": {"body": BODY},
        "reference": "key-1",
    }
    token = request["headers"]["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, NOTIFY_SECRET, algorithms=["HS256"])
    assert claims["iss"] == NOTIFY_SERVICE_ID
    assert len(ref) == 36


def test_a_notify_refusal_means_not_sent(notify):
    notify.status = 400
    with pytest.raises(SmsNotSent, match="Notify refused"):
        NotifyBackend().send(to="+447700900101", body=BODY, reference="key-1")


def test_notify_out_of_reach_means_not_sent(settings, notify):
    settings.NOTIFY_BASE_URL = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(SmsNotSent, match="could not connect"):
        NotifyBackend().send(to="+447700900101", body=BODY, reference="key-1")


def test_a_notify_timeout_after_the_request_left_is_in_doubt(notify):
    notify.delay = 2.0
    with pytest.raises(Exception) as raised:
        NotifyBackend().send(to="+447700900101", body=BODY, reference="key-1")
    assert not isinstance(raised.value, SmsNotSent)


def test_a_backend_without_its_settings_says_which_are_missing(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.TWILIO_ACCOUNT_SID = ""
    with pytest.raises(ImproperlyConfigured, match="TWILIO_FROM|TWILIO_ACCOUNT_SID"):
        TwilioBackend()


def test_the_ladder_sends_through_twilio_and_records_the_provider_reference(
    clock, signout, scan, settings, twilio
):
    import datetime

    settings.SMS_BACKEND = "tracking.sms.TwilioBackend"
    clock.move_to(signout.expected_return_at + datetime.timedelta(minutes=15))
    scan()
    texts = Notification.objects.filter(channel="sms")
    assert {n.status for n in texts} == {"sent"}
    assert {n.provider_ref[:2] for n in texts} == {"SM"}
    assert sorted(t["to"] for t in twilio.texts()) == sorted(n.address for n in texts)


def test_email_goes_over_smtp_and_a_refused_recipient_is_retried(clock, signout, scan, settings):
    import datetime

    with mail_server() as (catcher, port):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        catcher.refuse = True
        clock.move_to(signout.expected_return_at + datetime.timedelta(minutes=15))
        scan()
        email = Notification.objects.get(channel="email")
        assert email.status == "failed" and email.retry_at is not None
        catcher.refuse = False
        clock.move_to(email.retry_at)
        scan()
        email.refresh_from_db()
        assert email.status == "sent" and email.provider_ref.startswith("<")
        (message,) = catcher.received()
        assert message["to"] == ["office@oakfield.example"]
        assert "are overdue from a home visit" in message["data"]
