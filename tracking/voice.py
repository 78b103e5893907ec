"""Phone calls (R-ESC-11): the fallback for an alert SMS that was not delivered, chosen by
settings.VOICE_BACKEND like SMS_BACKEND.

- ConsoleBackend: prints each call's script (development).
- InMemoryBackend: keeps each call in `tracking.voice.outbox` (tests read it; the leak scanner
  scans its scripts).
- TwilioBackend: Twilio's Calls API through the `twilio` client library, with answering machine
  detection on. Twilio fetches what to say from `url` (tracking.voice_hooks.voice_twiml, signed
  by Twilio and checked like every webhook) and posts the call's progress to `status_callback`.

`call()` returns the provider's call id. It raises SmsNotSent (the outbox's "certainly did not
leave: safe to try again") when Twilio refused the call or could not be reached; any other
exception leaves the call in doubt, never retried automatically (R-ESC-5).
"""

import itertools
import sys
import threading
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .sms import SmsNotSent, _requests_verdict, _required


@dataclass(frozen=True)
class PlacedCall:
    to: str
    script: str
    url: str
    status_callback: str
    provider_ref: str


# InMemoryBackend's calls, oldest first. Tests clear it (tests/conftest.py).
outbox: list[PlacedCall] = []
_outbox_lock = threading.Lock()
_counter = itertools.count(1)


class BaseBackend:
    def call(self, *, to: str, script: str, url: str, status_callback: str) -> str:
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def call(self, *, to: str, script: str, url: str, status_callback: str) -> str:
        ref = f"console-call-{uuid.uuid4().hex[:12]}"
        self.stream.write(f"CALL to {to} (say, then press 1 at {url}):\n{script}\n{'-' * 40}\n")
        self.stream.flush()
        return ref


class InMemoryBackend(BaseBackend):
    def call(self, *, to: str, script: str, url: str, status_callback: str) -> str:
        ref = f"memory-call-{next(_counter)}"
        with _outbox_lock:
            outbox.append(PlacedCall(to, script, url, status_callback, ref))
        return ref


class TwilioBackend(BaseBackend):
    """Settings: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_VOICE_FROM (else TWILIO_FROM: a
    number), TWILIO_API_BASE_URL (only to point the client at a test server)."""

    def __init__(self):
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        self.sender = settings.TWILIO_VOICE_FROM or _required("TWILIO_FROM")
        if self.sender.startswith("MG"):
            raise ImproperlyConfigured("Calls need a number: set TWILIO_VOICE_FROM.")
        self.client = Client(
            _required("TWILIO_ACCOUNT_SID"),
            _required("TWILIO_AUTH_TOKEN"),
            http_client=TwilioHttpClient(timeout=settings.SMS_TIMEOUT_SECONDS),
        )
        base_url = getattr(settings, "TWILIO_API_BASE_URL", "")
        if base_url:
            self.client.api.base_url = base_url

    def call(self, *, to: str, script: str, url: str, status_callback: str) -> str:
        import requests
        from twilio.base.exceptions import TwilioRestException

        try:
            call = self.client.calls.create(
                to=to,
                from_=self.sender,
                url=url,
                method="POST",
                status_callback=status_callback,
                status_callback_method="POST",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
                # An answering machine is told to read the text instead, and can never
                # acknowledge (tracking.voice_hooks).
                machine_detection="Enable",
            )
        except TwilioRestException as error:
            raise SmsNotSent(f"Twilio refused the call: {error.status} {error.msg}") from error
        except requests.RequestException as error:
            raise _requests_verdict(error) from error
        return call.sid


def voice_backend() -> BaseBackend:
    try:
        backend_class = import_string(settings.VOICE_BACKEND)
    except ImportError as error:
        raise ImproperlyConfigured(f"VOICE_BACKEND {settings.VOICE_BACKEND!r} not found") from error
    return backend_class()


def voice_call(*, to: str, script: str, url: str, status_callback: str) -> str:
    return voice_backend().call(to=to, script=script, url=url, status_callback=status_callback)
