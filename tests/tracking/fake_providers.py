"""Fake SMS providers and a mail server on 127.0.0.1, started by the test: the real client
libraries (twilio, notifications-python-client, smtplib) talk to them over real sockets."""

import json
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller

# An API key in GOV.UK Notify's format: name-<service id>-<secret>.
NOTIFY_SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
NOTIFY_SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
NOTIFY_API_KEY = f"homeward_test-{NOTIFY_SERVICE_ID}-{NOTIFY_SECRET}"
NOTIFY_TEMPLATE_ID = "f33517ff-2a88-4f6e-b855-c550268ce08a"
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "twilio-test-token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class FakeSmsProvider:
    """Answers Twilio's Messages API and Notify's /v2/notifications/sms like the real services.

    `status` makes it refuse (e.g. 500); `delay` holds each answer that long (a slow provider);
    `hold` (a threading.Event) holds answers until it is set; `received` is set by each request.
    """

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 201
        # R-ESC-11: what the fake network does after accepting a message or a call; see
        # `callbacks_send`. Off unless the test sets `callbacks`.
        self.callbacks = False
        self.sms_outcome: str | None = "delivered"  # "undelivered", "failed", None: no receipt
        self.deliver_after = lambda: 0.2  # seconds before the delivery receipt
        self.answered_by = "human"  # or "machine_start", "fax"…; None: nobody answers
        self.press: str | None = "1"  # the key the person presses; None: nothing
        self.press_to: set[str] | None = None  # only on calls to these numbers (None: all)
        self.callback_log: list[dict] = []
        self.callbacks_done = threading.Event()
        self._callback_lock = threading.Lock()
        self.serialize_callbacks = True  # bench/escalation.py posts them in parallel…
        self.parallel_callbacks = threading.BoundedSemaphore(8)  # …at most 8 at a time
        self.delay = 0.0
        self.hold: threading.Event | None = None
        self.received = threading.Event()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    data = json.loads(raw)
                else:
                    data = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                record = {"path": self.path, "headers": dict(self.headers), "data": data}
                with provider._lock:
                    provider.requests.append(record)
                provider.received.set()
                if provider.hold is not None:
                    provider.hold.wait(timeout=60)
                if provider.delay:
                    time.sleep(provider.delay)
                if provider.status >= 400:
                    body = {"code": 20500, "message": "Internal error", "status": provider.status}
                    if self.path.startswith("/v2/"):
                        body = {"errors": [{"error": "Error", "message": "Refused"}]}
                    return self._answer(provider.status, body)
                if self.path.startswith("/v2/notifications/sms"):
                    return self._answer(
                        201,
                        {
                            "id": str(uuid.uuid4()),
                            "reference": data.get("reference"),
                            "content": {"body": data["personalisation"]["body"]},
                            "template": {"id": data["template_id"], "version": 1, "uri": ""},
                            "uri": "",
                        },
                    )
                if self.path.endswith("/Calls.json"):
                    sid = "CA" + uuid.uuid4().hex
                    provider._after(provider._call_callbacks, sid, data)
                    return self._answer(
                        201,
                        {
                            "sid": sid,
                            "to": data.get("To"),
                            "from": data.get("From"),
                            "status": "queued",
                            "direction": "outbound-api",
                        },
                    )
                sid = "SM" + uuid.uuid4().hex
                provider._after(provider._sms_callbacks, sid, data)
                return self._answer(
                    201,
                    {
                        "sid": sid,
                        "to": data.get("To"),
                        "from": data.get("From"),
                        "body": data.get("Body"),
                        "status": "queued",
                        "num_segments": "1",
                    },
                )

            def _answer(self, status, body):
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting

        return Handler

    # -----------------------------------------------------------------------------------------
    # R-ESC-11: the network's side. Like Twilio, the fake posts real HTTP callbacks to the URLs
    # it was given, signed with the auth token (X-Twilio-Signature, computed with the twilio
    # library's RequestValidator over the URL and the form, as Twilio does).
    # -----------------------------------------------------------------------------------------

    def _after(self, work, sid: str, data: dict) -> None:
        if self.callbacks:
            threading.Thread(target=self._safely, args=(work, sid, data), daemon=True).start()

    def _safely(self, work, sid, data):
        try:
            work(sid, data)
        finally:
            self.callbacks_done.set()

    def post_signed(self, url: str, form: dict, token: str = TWILIO_TOKEN, attempts: int = 5):
        """POST `form` to `url` as Twilio does, one callback at a time, trying again after a
        5xx as Twilio does with callback retries switched on (on SQLite the test's in-memory
        database locks whole tables while the test thread reads). Each attempt is logged.
        Returns the last response (None if unreachable)."""
        import requests
        from twilio.request_validator import RequestValidator

        signature = RequestValidator(token).compute_signature(url, form)
        response = None
        for attempt in range(1, attempts + 1):
            with self._callback_lock if self.serialize_callbacks else self.parallel_callbacks:
                try:
                    response = requests.post(
                        url, data=form, headers={"X-Twilio-Signature": signature}, timeout=30
                    )
                except requests.RequestException:
                    response = None
            status = getattr(response, "status_code", None)
            with self._lock:
                self.callback_log.append(
                    {"url": url, "form": form, "status": status, "attempt": attempt}
                )
            if status is not None and status < 500:
                break
            time.sleep(0.2)
        return response

    def callbacks_refused(self) -> list[dict]:
        """Callbacks whose last attempt was not accepted (a 4xx or 5xx, or no answer)."""
        with self._lock:
            log = list(self.callback_log)
        last = {}
        for entry in log:
            last[(entry["url"], tuple(sorted(entry["form"].items())))] = entry
        return [e for e in last.values() if e["status"] not in (200, 204)]

    def _sms_callbacks(self, sid: str, data: dict) -> None:
        url = data.get("StatusCallback")
        if not url or self.sms_outcome is None:
            return
        time.sleep(self.deliver_after())
        base = {"MessageSid": sid, "AccountSid": TWILIO_SID, "To": data.get("To", "")}
        self.post_signed(url, {**base, "MessageStatus": "sent"})
        form = {**base, "MessageStatus": self.sms_outcome}
        if self.sms_outcome != "delivered":
            form["ErrorCode"] = "30003"  # Twilio: unreachable destination handset
        self.post_signed(url, form)

    def _call_callbacks(self, sid: str, data: dict) -> None:
        """Ring, answer (a person or a machine), fetch the TwiML, press a key, hang up."""
        status_url, twiml_url = data.get("StatusCallback"), data.get("Url")
        base = {"CallSid": sid, "AccountSid": TWILIO_SID, "To": data.get("To", "")}
        time.sleep(0.2)
        if status_url:
            self.post_signed(status_url, {**base, "CallStatus": "initiated"})
            self.post_signed(status_url, {**base, "CallStatus": "ringing"})
        if self.answered_by is None:
            if status_url:
                self.post_signed(status_url, {**base, "CallStatus": "no-answer"})
            return
        answered = {**base, "CallStatus": "in-progress", "AnsweredBy": self.answered_by}
        response = self.post_signed(twiml_url, answered) if twiml_url else None
        pressing = self.press is not None and (
            self.press_to is None or data.get("To") in self.press_to
        )
        if response is not None and response.status_code == 200 and pressing:
            action = gather_action(response.text)
            if action:
                self.post_signed(
                    action, {**base, "CallStatus": "in-progress", "Digits": self.press}
                )
        if status_url:
            self.post_signed(
                status_url,
                {**base, "CallStatus": "completed", "AnsweredBy": self.answered_by},
            )

    def calls(self) -> list[dict]:
        """Each call placed, as Twilio received it (To, From, Url, StatusCallback, …)."""
        with self._lock:
            return [r["data"] for r in self.requests if r["path"].endswith("/Calls.json")]

    def texts(self) -> list[dict]:
        """Each message as {to, body}, whichever provider's format it came in."""
        with self._lock:
            requests = list(self.requests)
        result = []
        for request in requests:
            data = request["data"]
            if request["path"].endswith("/Calls.json"):
                continue
            if "phone_number" in data:
                result.append({"to": data["phone_number"], "body": data["personalisation"]["body"]})
            else:
                result.append({"to": data.get("To"), "body": data.get("Body")})
        return result


def gather_action(twiml: str) -> str:
    """The action URL of the <Gather> in a TwiML answer ("" when it has none)."""
    from xml.etree import ElementTree

    # Homeward's own answer, read by the test's fake Twilio: not untrusted input.
    gather = ElementTree.fromstring(twiml).find("Gather")  # noqa: S314
    return gather.get("action", "") if gather is not None else ""


@contextmanager
def fake_sms_provider():
    provider = FakeSmsProvider()
    thread = threading.Thread(target=provider.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        if provider.hold is not None:
            provider.hold.set()
        provider.server.shutdown()
        provider.server.server_close()


class MailCatcher:
    """An SMTP server's handler: keeps each message; `refuse` answers 550 to every recipient."""

    def __init__(self):
        self.messages: list[dict] = []
        self.refuse = False
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.messages.append(
                {"to": list(envelope.rcpt_tos), "data": envelope.content.decode("utf8", "replace")}
            )
        return "250 Message accepted"

    def received(self) -> list[dict]:
        with self._lock:
            return list(self.messages)


@contextmanager
def mail_server():
    catcher = MailCatcher()
    controller = Controller(catcher, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield catcher, controller.port
    finally:
        controller.stop()


# ---------------------------------------------------------------------------------------------
# The providers' side of incoming texts: a visitor's reply posted to Homeward's webhook the way
# Twilio and GOV.UK Notify post it (issue 13).
# ---------------------------------------------------------------------------------------------


def twilio_post_reply(
    url: str, *, sender: str, body: str, sid: str | None = None, token: str = TWILIO_TOKEN
):
    """POST an incoming message to `url` as Twilio does: a form signed with the auth token."""
    import requests
    from twilio.request_validator import RequestValidator

    form = {
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
        "AccountSid": TWILIO_SID,
        "From": sender,
        "To": "+447700900999",
        "Body": body,
        "NumMedia": "0",
    }
    signature = RequestValidator(token).compute_signature(url, form)
    return requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=30)


NOTIFY_CALLBACK_TOKEN = "notify-callback-test-token"


def notify_post_reply(
    url: str,
    *,
    sender: str,
    body: str,
    message_id: str | None = None,
    token: str = NOTIFY_CALLBACK_TOKEN,
):
    """POST a received text to `url` as GOV.UK Notify does: JSON with the callback's token.
    Notify gives the sender without the plus: 447700900101."""
    import requests

    payload = {
        "id": message_id or str(uuid.uuid4()),
        "source_number": sender.lstrip("+"),
        "destination_number": "07700900999",
        "message": body,
        "date_received": "2026-11-25T12:00:00.000000Z",
        "notify_number": "07700900999",
    }
    return requests.post(
        url, json=payload, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
