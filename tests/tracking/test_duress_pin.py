"""R-TRK-7: a visitor may set a check-in PIN and a different duress PIN. Once set, saying "I'm
OK" from the phone (My visit, the check-in link, a text reply) needs the PIN. The duress PIN
gives exactly the same page and reply as the check-in PIN but silently raises help marked
DURESS (R-ESC-7); three wrong PINs raise help too. The PINs are hashed, never shown, logged or
sent, and attempts are rate-limited."""

import logging
import re

import pytest
from django.contrib.auth.hashers import check_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from tracking import sms
from tracking.ladder import _checkin_links_create
from tracking.models import CheckInLink, CheckInPin, Notification, SignOut
from tracking.pins import PIN_ATTEMPTS, pins_set
from tracking.replies import sms_reply_receive

from ..auth import sign_in

pytestmark = pytest.mark.django_db

PIN, DURESS = "1357", "864200"
SAM = "+447700900101"
DO_NOT_RING = "Do not ring the visitor's phone; consider 999."


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def sam_pins(sam):
    return pins_set(user=sam, pin=PIN, duress_pin=DURESS)


def phone(user) -> Client:
    return sign_in(Client(), user)


def help_texts():
    return [m for m in sms.outbox if m.body.startswith("HOMEWARD HELP")]


# ---------------------------------------------------------------------------------------------
# Setting the PINs
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pin, duress, field",
    [("123", "4567", "pin"), ("1234", "12a4", "duress_pin"), ("1234", "1234", "duress_pin")],
)
def test_pins_must_be_4_to_6_digits_and_different(sam, pin, duress, field):
    # R-TRK-7
    with pytest.raises(ValidationError) as refused:
        pins_set(user=sam, pin=pin, duress_pin=duress)
    assert field in refused.value.error_dict
    assert not CheckInPin.objects.exists()


def test_pins_are_hashed_like_passwords_and_never_audited(sam, sam_pins):
    # R-TRK-7: never stored, shown, logged or sent as typed.
    record = CheckInPin.objects.get(user=sam)
    assert PIN not in record.pin_hash and DURESS not in record.duress_hash
    assert check_password(PIN, record.pin_hash) and check_password(DURESS, record.duress_hash)
    for event in AuditEvent.objects.all():
        assert PIN not in str(event.changes) and DURESS not in str(event.changes)


def test_the_pins_page_sets_them_and_never_shows_them_back(sam):
    # R-TRK-7: set on the page linked from "Sign-in and security"; a refused form is empty.
    client = phone(sam)
    profile = client.get(reverse("two_factor:profile"))
    assert reverse("tracking:pins") in profile.content.decode()
    refused = client.post(reverse("tracking:pins"), {"pin": "2468", "duress_pin": "2468"})
    assert refused.status_code == 200 and b"2468" not in refused.content
    assert b"must be different" in refused.content
    done = client.post(reverse("tracking:pins"), {"pin": "2468", "duress_pin": "97531"})
    assert done.status_code == 302 and CheckInPin.objects.filter(user=sam).exists()
    client.post(reverse("tracking:pins"), {"remove": "1"})
    assert not CheckInPin.objects.filter(user=sam).exists()


# ---------------------------------------------------------------------------------------------
# My visit
# ---------------------------------------------------------------------------------------------


def test_my_visit_asks_for_the_pin_and_the_right_one_closes_as_before(signout, sam, sam_pins):
    # R-TRK-7
    client = phone(sam)
    page = client.get(reverse("tracking:mine")).content.decode()
    assert 'name="pin"' in page and 'autocomplete="off"' in page
    client.post(reverse("tracking:phone_in", args=[signout.pk]), {"pin": PIN})
    signout.refresh_from_db()
    assert signout.state == "left_safely" and signout.help_requested_at is None


@pytest.mark.parametrize("pin", ["", "9999", "12345678"])
def test_a_missing_or_wrong_pin_changes_nothing(signout, sam, sam_pins, pin):
    # R-TRK-7: refused in plain words; nothing recorded.
    client = phone(sam)
    response = client.post(
        reverse("tracking:phone_in", args=[signout.pk]), {"pin": pin}, follow=True
    )
    signout.refresh_from_db()
    assert signout.state == "out" and signout.help_requested_at is None
    assert ("Enter your check-in PIN" if not pin else "That PIN is not right") in (
        response.content.decode()
    )


def test_the_office_closing_from_the_board_needs_no_pin(signout, olive, sam_pins):
    # R-TRK-7: the PIN is the visitor's, for the visitor's phone.
    phone(olive).post(reverse("tracking:phone_in", args=[signout.pk]))
    signout.refresh_from_db()
    assert signout.state == "left_safely"


def _comparable(response) -> tuple:
    """A response's status, headers, cookies and body, without what is random for every
    request or session: the CSRF token, the session's key and the request id."""
    body = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", response.content)
    # The security headers' directives come in no fixed order: compare them as sets.
    headers = sorted(
        (k, tuple(sorted(v.split("; "))) if k == "Content-Security-Policy" else v)
        for k, v in response.headers.items()
        if k != "X-Request-ID"  # random for every request
    )
    cookies = sorted(
        (k, v.value) for k, v in response.cookies.items() if k not in ("csrftoken", "sessionid")
    )
    return response.status_code, headers, cookies, body


@pytest.mark.parametrize("action", ["phone_in", "returned", "going_home"])
def test_the_duress_pin_answers_byte_for_byte_like_the_check_in_pin(
    clock, signout, sam, sam_pins, action
):
    # R-TRK-7: the same response; but the duress PIN leaves tracking open and raises help.
    url = reverse(f"tracking:{action}", args=[signout.pk])
    data = {"next": reverse("tracking:mine")}
    duress_phone, normal_phone = phone(sam), phone(sam)
    duress = duress_phone.post(url, {**data, "pin": DURESS})
    signout.refresh_from_db()
    assert signout.is_open and signout.help_requested_at is not None
    assert signout.duress_at is not None
    normal = normal_phone.post(url, {**data, "pin": PIN})
    for part, (a, b) in enumerate(zip(_comparable(duress), _comparable(normal), strict=True)):
        assert (part, a) == (part, b)
    signout.refresh_from_db()
    assert signout.state == {"phone_in": "left_safely", "returned": "returned"}.get(
        action, "went_home"
    )


def test_the_duress_pin_alerts_the_manager_and_office_not_to_ring_the_phone(
    signout, sam, sam_pins, django_capture_on_commit_callbacks
):
    # R-TRK-7, R-ESC-7: manager and office at once, by text and email, marked DURESS.
    with django_capture_on_commit_callbacks(execute=True):
        phone(sam).post(reverse("tracking:phone_in", args=[signout.pk]), {"pin": DURESS})
    texts = help_texts()
    assert {m.to for m in texts} == {"+447700900106", "+447700900500"}  # Max, the monitor
    assert all("DURESS" in m.body and DO_NOT_RING in m.body for m in texts)
    assert not [m for m in sms.outbox if m.to == SAM], "nothing is sent to the visitor"
    emails = Notification.objects.filter(channel="email", template="escalation_help")
    assert emails and all("DURESS" in e.subject and DO_NOT_RING in e.body for e in emails)


def test_only_the_office_and_managers_see_duress(signout, sam, olive, max, sam_pins):
    # R-TRK-7: the board says DURESS; the visitor's own My visit shows them as left safely.
    phone(sam).post(reverse("tracking:phone_in", args=[signout.pk]), {"pin": DURESS})
    assert "DURESS" in phone(olive).get(reverse("tracking:board")).content.decode()
    assert "DURESS" in phone(max).get(reverse("tracking:board")).content.decode()
    mine = phone(sam).get(reverse("tracking:mine")).content.decode()
    assert "DURESS" not in mine and "Help requested" not in mine
    assert "Left the visit safely" in mine
    assert (
        "I&#x27;ve left the visit safely" not in mine and "I've left the visit safely" not in mine
    )


def test_after_a_duress_back_at_school_the_phone_shows_what_a_real_return_shows(
    signout, sam, sam_pins
):
    # R-TRK-7: My visit has nothing open, and the Home Visit record opens for writing, as after
    # a real return; tracking stays open for the office and the manager.
    client = phone(sam)
    response = client.post(
        reverse("tracking:returned", args=[signout.pk]), {"pin": DURESS}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("records:record_edit", args=[signout.visit_id])
    assert b'name="save"' in response.content
    assert "You are not out on a visit" in client.get(reverse("tracking:mine")).content.decode()
    signout.refresh_from_db()
    assert signout.is_open and signout.duress_at is not None


# ---------------------------------------------------------------------------------------------
# Wrong PINs, and too many tries
# ---------------------------------------------------------------------------------------------


def test_three_wrong_pins_in_a_row_raise_help(
    signout, sam, sam_pins, django_capture_on_commit_callbacks
):
    # R-TRK-7: two wrong PINs do nothing; the third raises help, not to ring the phone.
    client = phone(sam)
    url = reverse("tracking:phone_in", args=[signout.pk])
    for attempt in (1, 2, 3):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(url, {"pin": "0000"})
        signout.refresh_from_db()
        assert (attempt, signout.help_requested_at is not None) == (attempt, attempt == 3)
    assert signout.state == "out"
    assert help_texts() and all(DO_NOT_RING in m.body for m in help_texts())
    assert "three wrong PINs" in help_texts()[0].body


def test_a_right_pin_resets_the_count_of_wrong_ones(signout, sam, sam_pins):
    # R-TRK-7: "three in a row".
    client = phone(sam)
    url = reverse("tracking:check_in", args=[signout.pk])
    for pin in ("0000", "0000", PIN, "0000", "0000"):
        client.post(url, {"pin": pin})
    signout.refresh_from_db()
    assert signout.help_requested_at is None


def test_attempts_are_rate_limited_so_the_pin_cannot_be_guessed(signout, sam, sam_pins):
    # R-TRK-7: past the limit not even the right PIN is checked.
    client = phone(sam)
    url = reverse("tracking:extend", args=[signout.pk])  # (not a PIN action: not counted)
    url = reverse("tracking:check_in", args=[signout.pk])
    for _ in range(PIN_ATTEMPTS):
        client.post(url, {"pin": "0000"})
    response = client.post(url, {"pin": PIN}, follow=True)
    assert "Too many tries" in response.content.decode()
    assert not signout.events.filter(kind="checked_in").exists()
    assert AuditEvent.objects.filter(event_type="checkin_pin.throttled").count() == 1


# ---------------------------------------------------------------------------------------------
# The check-in link and SMS replies
# ---------------------------------------------------------------------------------------------


def test_the_check_in_link_needs_the_pin_and_the_duress_page_is_the_same(
    clock, signout, sam, sam_pins
):
    # R-TRK-7: the page after the duress PIN is byte-for-byte the page after the check-in PIN.
    urls = _checkin_links_create(signout, now=signout.signed_out_at)
    url = urls[signout.visitors.get(user=sam).pk].removeprefix("http://testserver")
    url = re.sub(r"^https?://[^/]+", "", url)
    assert 'name="pin"' in Client().get(url).content.decode()
    wrong = Client().post(url, {"answer": "safe", "pin": "0000"})
    assert wrong.status_code == 400 and b"not right" in wrong.content
    with transaction.atomic():
        normal = Client().post(url, {"answer": "safe", "pin": PIN})
        assert SignOut.objects.get(pk=signout.pk).state == "left_safely"
        transaction.set_rollback(True)
    cache.clear()
    duress = Client().post(url, {"answer": "safe", "pin": DURESS})
    assert _comparable(duress) == _comparable(normal)
    signout.refresh_from_db()
    assert signout.state == "out" and signout.duress_at is not None
    assert CheckInLink.objects.get(visitor__user=sam).used_at is not None


def _reply(text, message_id):
    sms.outbox.clear()
    result = sms_reply_receive(
        provider="twilio", provider_message_id=message_id, sender=SAM, text=text, enqueue=None
    )
    body = Notification.objects.get(idempotency_key__startswith=f"smsreply:{result.reply.pk}:").body
    return result.reply, body


@pytest.mark.parametrize("word", ["SAFE", "BACK", "HOME"])
def test_a_text_reply_needs_the_pin_and_the_duress_reply_is_the_same(
    clock, signout, sam, sam_pins, word
):
    # R-TRK-7: "SAFE 1357" and "SAFE 864200" get the same text back; only one closes.
    bare, bare_answer = _reply(word, "SMbare")
    assert bare.outcome == "refused" and "PIN" in bare_answer
    duress, duress_answer = _reply(f"{word} {DURESS}", "SMduress")
    signout.refresh_from_db()
    assert signout.is_open and signout.duress_at is not None
    normal, normal_answer = _reply(f"{word.lower()} {PIN}", "SMnormal")
    assert duress_answer == normal_answer
    assert (duress.outcome, normal.outcome) == ("applied", "applied")
    signout.refresh_from_db()
    assert signout.state != "out"


def test_neither_pin_reaches_the_logs_or_the_audit(signout, sam, sam_pins, caplog):
    # R-TRK-7
    caplog.set_level(logging.DEBUG)
    _reply(f"SAFE {DURESS}", "SMd")
    _reply(f"SAFE {PIN}", "SMn")
    phone(sam).post(reverse("tracking:check_in", args=[signout.pk]), {"pin": "4444"})
    assert PIN not in caplog.text and DURESS not in caplog.text
    for event in AuditEvent.objects.all():
        assert PIN not in str(event.changes) and DURESS not in str(event.changes)


# ---------------------------------------------------------------------------------------------
# End to end: the fake providers on 127.0.0.1 post real webhooks to the live server
# ---------------------------------------------------------------------------------------------

from .test_replies import hooks, provider, texts_to  # noqa: E402, F401 - fixtures


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("via", ["twilio", "notify"])
def test_by_real_webhooks_the_duress_reply_and_the_pin_reply_are_the_same(  # noqa: F811
    hooks,  # noqa: F811 - the fixture from test_replies
    provider,  # noqa: F811
    signout,
    sam,
    via,
):
    # R-TRK-7, R-TRK-5: the webhook answers and the texts back are byte for byte the same.
    pins_set(user=sam, pin=PIN, duress_pin=DURESS)
    duress = hooks.send(via, body=f"SAFE {DURESS}")
    signout.refresh_from_db()
    assert signout.is_open and signout.duress_at is not None
    assert texts_to(provider, "+447700900106"), "the manager (Max) was texted"
    normal = hooks.send(via, body=f"safe {PIN}")
    assert (duress.status_code, duress.content) == (normal.status_code, normal.content)
    first, second = texts_to(provider, SAM)
    assert first == second and first.startswith("Homeward: Thank you")
    assert PIN not in first and DURESS not in first
    signout.refresh_from_db()
    assert signout.state == "left_safely"


def test_the_duress_pin_moves_the_boards_version(clock, signout, sam, sam_pins, oakfield):
    # R-TRK-7, issue 15: DURESS is on the office's board at its next poll.
    from schools.models import BoardVersion
    from tracking.checkins import checkin_answer_with_pin

    _checkin_links_create(signout, now=signout.signed_out_at)
    link = CheckInLink.objects.get(visitor__user=sam)
    before = BoardVersion.objects.get(school=oakfield).version
    checkin_answer_with_pin(link=link, pin=DURESS)
    assert BoardVersion.objects.get(school=oakfield).version > before
