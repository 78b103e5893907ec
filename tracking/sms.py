"""SMS backends, chosen by settings.SMS_BACKEND like Django's EMAIL_BACKEND.

- ConsoleBackend: prints each message (development).
- InMemoryBackend: keeps each message in `tracking.sms.outbox` (tests read it, like mail.outbox).
- TwilioBackend: Twilio's Messages API through the `twilio` client library.
- NotifyBackend: GOV.UK Notify through `notifications-python-client`, with a template whose
  whole text is the placeholder ((body)).

`send()` returns the provider's reference. It raises SmsNotSent when the message certainly did
not leave (the provider refused it, or it could not be reached): the caller may retry. Any other
exception means the message may or may not have gone (a timeout after the request was sent): the
caller must not resend it automatically (R-ESC-5).
"""

import itertools
import sys
import threading
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string


class SmsNotSent(Exception):
    """The message certainly did not leave: safe to try again."""


@dataclass(frozen=True)
class SentSms:
    to: str
    body: str
    reference: str
    provider_ref: str


# InMemoryBackend's messages, oldest first. Tests clear it (tests/conftest.py).
outbox: list[SentSms] = []
_outbox_lock = threading.Lock()
_counter = itertools.count(1)


class BaseBackend:
    # R-ESC-11: whether the provider reports delivery (status callbacks). Only then can an alert
    # be known "not delivered" and repeated by a phone call (tracking.fallback).
    delivery_receipts = False

    def send(self, *, to: str, body: str, reference: str) -> str:
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send(self, *, to: str, body: str, reference: str) -> str:
        ref = f"console-{uuid.uuid4().hex[:12]}"
        self.stream.write(f"SMS to {to} ({reference}):\n{body}\n{'-' * 40}\n")
        self.stream.flush()
        return ref


class InMemoryBackend(BaseBackend):
    def send(self, *, to: str, body: str, reference: str) -> str:
        ref = f"memory-{next(_counter)}"
        with _outbox_lock:
            outbox.append(SentSms(to=to, body=body, reference=reference, provider_ref=ref))
        return ref


def _required(name: str) -> str:
    value = getattr(settings, name, "")
    if not value:
        raise ImproperlyConfigured(f"{name} must be set to send SMS with {settings.SMS_BACKEND}.")
    return value


def _requests_verdict(error: Exception) -> Exception:
    """SmsNotSent when a `requests` failure happened before the request reached the provider;
    the error itself (in doubt) otherwise."""
    import requests

    if isinstance(error, requests.ConnectTimeout):
        return SmsNotSent(f"could not connect to the SMS provider: {error}")
    if isinstance(error, requests.ConnectionError) and not isinstance(error, requests.Timeout):
        text = repr(error)
        if "NewConnectionError" in text or "Connection refused" in text:
            return SmsNotSent(f"could not connect to the SMS provider: {error}")
    return error


class TwilioBackend(BaseBackend):
    """Settings: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM (a number or a messaging
    service SID starting MG), TWILIO_API_BASE_URL (only to point the client at a test server)."""

    delivery_receipts = True

    def __init__(self):
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        self.sender = _required("TWILIO_FROM")
        self.client = Client(
            _required("TWILIO_ACCOUNT_SID"),
            _required("TWILIO_AUTH_TOKEN"),
            http_client=TwilioHttpClient(timeout=settings.SMS_TIMEOUT_SECONDS),
        )
        base_url = getattr(settings, "TWILIO_API_BASE_URL", "")
        if base_url:
            self.client.api.base_url = base_url

    def send(self, *, to: str, body: str, reference: str) -> str:
        import requests
        from twilio.base.exceptions import TwilioRestException

        sender = (
            {"messaging_service_sid": self.sender}
            if self.sender.startswith("MG")
            else {"from_": self.sender}
        )
        from django.urls import reverse

        # R-ESC-11: Twilio posts each status change back, signed (tracking.receipts).
        callback = settings.SITE_URL + reverse("tracking:twilio_status")
        try:
            message = self.client.messages.create(
                to=to, body=body, status_callback=callback, **sender
            )
        except TwilioRestException as error:
            # Twilio answered with an error: it did not accept the message.
            raise SmsNotSent(f"Twilio refused the message: {error.status} {error.msg}") from error
        except requests.RequestException as error:
            raise _requests_verdict(error) from error
        return message.sid


class NotifyBackend(BaseBackend):
    """Settings: NOTIFY_API_KEY, NOTIFY_SMS_TEMPLATE_ID (a template whose text is ((body))),
    NOTIFY_BASE_URL."""

    delivery_receipts = True

    def __init__(self):
        from notifications_python_client.notifications import NotificationsAPIClient

        self.template_id = _required("NOTIFY_SMS_TEMPLATE_ID")
        self.client = NotificationsAPIClient(
            _required("NOTIFY_API_KEY"),
            base_url=settings.NOTIFY_BASE_URL,
            timeout=settings.SMS_TIMEOUT_SECONDS,
        )

    def send(self, *, to: str, body: str, reference: str) -> str:
        import requests
        from notifications_python_client.errors import HTTPError

        try:
            response = self.client.send_sms_notification(
                phone_number=to,
                template_id=self.template_id,
                personalisation={"body": body},
                reference=reference,
            )
        except HTTPError as error:
            cause = error.__cause__
            if error.response is None and isinstance(cause, requests.RequestException):
                raise _requests_verdict(cause) from error
            raise SmsNotSent(f"Notify refused the message: {error}") from error
        return str(response["id"])


def sms_backend() -> BaseBackend:
    try:
        backend_class = import_string(settings.SMS_BACKEND)
    except ImportError as error:
        raise ImproperlyConfigured(f"SMS_BACKEND {settings.SMS_BACKEND!r} not found") from error
    return backend_class()


def sms_send(*, to: str, body: str, reference: str) -> str:
    return sms_backend().send(to=to, body=body, reference=reference)


def sms_receipts_expected() -> bool:
    """R-ESC-11: whether the configured provider will say what became of each SMS."""
    try:
        return bool(getattr(import_string(settings.SMS_BACKEND), "delivery_receipts", False))
    except ImportError:
        return False
