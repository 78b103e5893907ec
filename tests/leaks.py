"""Nothing about a child leaves Homeward in a message or a log line (issue #7).

Every test, as it ends (before its database is rolled back), has every email it sent (Django's
mail.outbox), every SMS (tracking.sms.outbox, once the in-memory SMS backend exists), every
phone call's script (tracking.voice.outbox, and the scripts of the calls in the database: what
the call says, R-ESC-11) and every log line it wrote scanned for the names, dates of birth and
addresses of the pupils in the database. Any hit fails that test, so the whole suite is scanned,
under pytest-xdist too (each worker scans its own tests). Emails, SMS and calls carry staff
names, times and a link only.
"""

import datetime
import html
import importlib
import re
from dataclasses import dataclass

import pytest

_SMS_START = pytest.StashKey[int]()
_CALL_START = pytest.StashKey[int]()


@dataclass(frozen=True)
class Child:
    first_name: str
    last_name: str
    date_of_birth: datetime.date | None
    address_lines: tuple[str, ...]
    postcode: str


@dataclass(frozen=True)
class Leak:
    where: str
    what: str
    text: str

    def __str__(self) -> str:
        return f"{self.where} contains a child's {self.what}: {self.text[:160]!r}"


def children_in_database() -> list[Child]:
    from schools.models import Pupil

    rows = Pupil.objects.values_list(
        "first_name",
        "last_name",
        "date_of_birth",
        "household__address_line_1",
        "household__address_line_2",
        "household__postcode",
    )
    return [
        Child(first, last, born, tuple(line for line in (line1, line2) if line), postcode or "")
        for first, last, born, line1, line2, postcode in rows
    ]


def _dates(born: datetime.date) -> list[str]:
    day, month, month_short = born.day, born.strftime("%B"), born.strftime("%b")
    return [
        born.strftime("%d/%m/%Y"),
        born.isoformat(),
        f"{day} {month} {born.year}",
        f"{born:%d} {month} {born.year}",
        f"{day} {month_short} {born.year}",
        f"{month} {day}, {born.year}",
    ]


def _word(text: str, word: str) -> bool:
    return bool(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, flags=re.IGNORECASE))


def leaks_in(text: str, children: list[Child], where: str) -> list[Leak]:
    """What of these children's details `text` contains."""
    found = []
    plain = html.unescape(text)
    squashed = re.sub(r"\s+", "", plain).upper()
    for child in children:
        for name in (f"{child.first_name} {child.last_name}", child.first_name, child.last_name):
            if len(name) >= 3 and _word(plain, name):
                found.append(Leak(where, "name", plain))
                break
        if child.date_of_birth and any(d in plain for d in _dates(child.date_of_birth)):
            found.append(Leak(where, "date of birth", plain))
        for line in child.address_lines:
            if len(line) >= 4 and _word(plain, line):
                found.append(Leak(where, "address", plain))
        postcode = re.sub(r"\s+", "", child.postcode).upper()
        if len(postcode) >= 5 and postcode in squashed:
            found.append(Leak(where, "postcode", plain))
    return found


def _email_texts():
    from django.core import mail

    for number, message in enumerate(getattr(mail, "outbox", []), start=1):
        parts = [str(message.subject), str(message.body)]
        parts += [str(content) for content, _ in getattr(message, "alternatives", [])]
        for attachment in getattr(message, "attachments", []):
            if isinstance(attachment, tuple) and isinstance(attachment[1], str):
                parts.append(attachment[1])
        yield f"email {number} ({message.subject!r})", "\n".join(parts)


def sms_outbox() -> list:
    """tracking.sms.outbox when the in-memory SMS backend exists, else nothing."""
    try:
        module = importlib.import_module("tracking.sms")
    except ImportError:
        return []
    return list(getattr(module, "outbox", []) or [])


def _sms_texts(start: int):
    outbox = sms_outbox()
    for number, message in enumerate(outbox[start if start <= len(outbox) else 0 :], start=1):
        yield f"SMS {number}", str(getattr(message, "body", message))


def voice_outbox() -> list:
    """tracking.voice.outbox (the in-memory call backend's calls), else nothing."""
    try:
        module = importlib.import_module("tracking.voice")
    except ImportError:
        return []
    return list(getattr(module, "outbox", []) or [])


def _call_texts(start: int):
    outbox = voice_outbox()
    for number, call in enumerate(outbox[start if start <= len(outbox) else 0 :], start=1):
        yield f"phone call {number}", str(getattr(call, "script", call))


def _call_scripts_in_database():
    """R-ESC-11: what each phone call in the database says (what Twilio is told to say comes
    from these rows), whichever backend placed it."""
    from tracking.models import Notification

    rows = Notification.objects.filter(channel="voice").values_list("pk", "body")
    return [(f"phone call script {pk}", body) for pk, body in rows]


def _log_texts(item):
    try:
        from _pytest.logging import caplog_records_key
    except ImportError:  # pytest's internals moved: the emails and SMS are still scanned
        return
    records = item.stash.get(caplog_records_key, {})
    for phase in ("setup", "call"):
        for record in records.get(phase, []):
            try:
                yield f"log line from {record.name}", record.getMessage()
            except Exception:  # noqa: S112  (a record that cannot format itself says nothing)
                continue


def scan(item) -> list[Leak]:
    texts = [
        *_email_texts(),
        *_sms_texts(item.stash.get(_SMS_START, 0)),
        *_call_texts(item.stash.get(_CALL_START, 0)),
        *_log_texts(item),
    ]
    if not texts:
        return []  # (a fallback call always comes with its email, so its script is read too)
    from django.core.exceptions import SynchronousOnlyOperation
    from django.db import DatabaseError
    from django.db.transaction import TransactionManagementError

    try:
        children = children_in_database()
        texts += _call_scripts_in_database() if children else []
    except (RuntimeError, DatabaseError, TransactionManagementError, SynchronousOnlyOperation):
        # A test without database access (or a browser test, whose data lives in the server it
        # started) has no children here to leak.
        return []
    return [leak for where, text in texts for leak in leaks_in(text, children, where)]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item.stash[_SMS_START] = len(sms_outbox())
    item.stash[_CALL_START] = len(voice_outbox())


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    # Before the fixtures are torn down: the test's database, and so its pupils, still exist.
    leaks = scan(item)
    result = yield
    if leaks:
        pytest.fail(
            "Child data left Homeward (issue #7: staff names, times and a link only):\n"
            + "\n".join(f"- {leak}" for leak in leaks),
            pytrace=False,
        )
    return result
