"""R-TRK-5: a visitor checks in by replying to a text. Each reply word, driven end to end: the
fake Twilio or Notify on 127.0.0.1 posts a real webhook to Homeward's live server, and the
answer leaves through the outbox to the fake provider. Bad input changes nothing."""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from tracking import replies
from tracking.models import Notification, SignOut, SmsReply, TrackingEvent
from tracking.replies import reply_read
from tracking.signouts import signout_return

from .conftest import authorised_visit, sign_out
from .fake_providers import (
    NOTIFY_CALLBACK_TOKEN,
    TWILIO_SID,
    TWILIO_TOKEN,
    fake_sms_provider,
    notify_post_reply,
    twilio_post_reply,
)

SAM = "+447700900101"
STRANGER = "+447700900777"
WORDS = "Reply SAFE, BACK, HOME, HELP, or minutes for more time (e.g. 20)."


# ---------------------------------------------------------------------------------------------
# Reading a reply
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, word, minutes, pin",
    [
        ("SAFE", "safe", None, ""),
        (" safe! ", "safe", None, ""),
        ("Ok.", "safe", None, ""),
        ("s a f e", "safe", None, ""),
        ("Back", "back", None, ""),
        ("HOME.", "home", None, ""),
        ("help!!", "help", None, ""),
        ("20", "more_time", 20, ""),
        ("+20", "more_time", 20, ""),
        ("20 mins", "more_time", 20, ""),
        ("20mins.", "more_time", 20, ""),
        ("+ 45 minutes", "more_time", 45, ""),
        ("SAFE 4821", "safe", None, "4821"),
        ("I'm fine thanks", "not_understood", None, ""),
        ("", "not_understood", None, ""),
        ("20 or 30", "not_understood", None, ""),
        ("SAFE" * 100, "not_understood", None, ""),
    ],
)
def test_a_reply_is_read_forgiving_case_spaces_and_punctuation(text, word, minutes, pin):
    # R-TRK-5
    assert reply_read(text) == replies.ReadReply(word, minutes=minutes, pin=pin)


# ---------------------------------------------------------------------------------------------
# End to end: real webhooks from the fake providers to the live server
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def provider():
    with fake_sms_provider() as fake:
        yield fake


@pytest.fixture
def hooks(settings, live_server, provider):
    """Homeward on a live server, sending its texts through Twilio's API to the fake provider,
    and taking replies on its two webhooks."""
    settings.SITE_URL = live_server.url
    settings.SMS_BACKEND = "tracking.sms.TwilioBackend"
    settings.TWILIO_ACCOUNT_SID = TWILIO_SID
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.TWILIO_FROM = "+447700900999"
    settings.TWILIO_API_BASE_URL = provider.url
    settings.SMS_TIMEOUT_SECONDS = 5.0
    settings.NOTIFY_CALLBACK_BEARER_TOKEN = NOTIFY_CALLBACK_TOKEN

    class Hooks:
        twilio = live_server.url + reverse("tracking:twilio_sms_reply")
        notify = live_server.url + reverse("tracking:notify_sms_reply")

        @staticmethod
        def send(via, *, sender=SAM, body, message_id=None):
            if via == "twilio":
                return twilio_post_reply(Hooks.twilio, sender=sender, body=body, sid=message_id)
            return notify_post_reply(Hooks.notify, sender=sender, body=body, message_id=message_id)

    return Hooks


def texts_to(provider, number):
    return [t["body"] for t in provider.texts() if t["to"] == number]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("via", ["twilio", "notify"])
@pytest.mark.parametrize(
    "body, state, event",
    [
        ("SAFE", "left_safely", "phoned_in"),
        ("ok!", "left_safely", "phoned_in"),
        ("Back", "returned", "returned"),
        ("home", "went_home", "went_home"),
    ],
)
def test_a_reply_word_closes_or_stops_tracking_and_is_answered(
    hooks, provider, signout, via, body, state, event
):
    # R-TRK-5: the same services as the board; the answer goes by SMS and ends with the words.
    response = hooks.send(via, body=body)
    assert response.status_code in (200, 204)
    signout.refresh_from_db()
    assert signout.state == state
    assert signout.next_escalation_at is None
    assert signout.events.filter(kind=event, via=TrackingEvent.Via.SMS).count() == 1
    [answer] = texts_to(provider, SAM)
    assert answer.startswith("Homeward: Thank you") and answer.endswith(WORDS)
    reply = SmsReply.objects.get()
    assert (reply.outcome, reply.signout, reply.visitor.user.username) == (
        "applied",
        signout,
        "sam",
    )
    audit = AuditEvent.objects.get(event_type="sms_reply.received")
    assert audit.changes["word"] in ("safe", "back", "home")
    assert set(audit.changes) == {"provider", "signout", "visitor", "word", "minutes", "outcome"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("via", ["twilio", "notify"])
def test_help_by_text_alerts_the_manager_and_office_at_once(hooks, provider, signout, via):
    # R-TRK-5, R-ESC-7
    hooks.send(via, body="HELP")
    signout.refresh_from_db()
    assert signout.help_requested_at is not None and signout.manager_alerted_at is not None
    assert signout.steps.filter(kind="help").count() == 1
    assert texts_to(provider, "+447700900106"), "the manager (Max) was texted"
    assert texts_to(provider, "+447700900500"), "the monitor phone was texted"
    [answer] = texts_to(provider, SAM)
    assert "alerted" in answer and "999" in answer and answer.endswith(WORDS)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("via", ["twilio", "notify"])
@pytest.mark.parametrize("body", ["20", "+20", "20 mins"])
def test_minutes_by_text_move_the_expected_return_and_restart_the_ladder(
    hooks, provider, signout, via, body
):
    # R-TRK-5, R-ESC-6: 20 more minutes on top of the expected time (an hour from sign-out).
    expected = signout.expected_return_at
    hooks.send(via, body=body)
    signout.refresh_from_db()
    assert signout.expected_return_at == expected + datetime.timedelta(minutes=20)
    assert (signout.state, signout.ladder_round) == ("out", 2)
    [answer] = texts_to(provider, SAM)
    assert "now due back at" in answer and answer.endswith(WORDS)


@pytest.mark.django_db(transaction=True)
def test_more_minutes_than_the_schools_maximum_are_refused(hooks, provider, signout, oakfield):
    # R-TRK-5: extending by text is capped at the school's maximum.
    oakfield.reply_extension_max_minutes = 90
    oakfield.save()
    expected = signout.expected_return_at
    hooks.send("twilio", body="91")
    signout.refresh_from_db()
    assert signout.expected_return_at == expected and signout.ladder_round == 1
    [answer] = texts_to(provider, SAM)
    assert "up to 90 minutes" in answer and answer.endswith(WORDS)
    assert SmsReply.objects.get().outcome == "refused"


@pytest.mark.django_db(transaction=True)
def test_anything_else_is_answered_with_the_reply_words_and_changes_nothing(
    hooks, provider, signout
):
    # R-TRK-5
    hooks.send("twilio", body="running late, traffic")
    signout.refresh_from_db()
    assert signout.state == "out" and signout.ladder_round == 1
    [answer] = texts_to(provider, SAM)
    assert "not understood" in answer and answer.endswith(WORDS)
    assert SmsReply.objects.get().outcome == "not_understood"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("via", ["twilio", "notify"])
def test_a_replayed_message_acts_once_and_is_answered_once(hooks, provider, signout, via):
    # R-TRK-5, R-ESC-5: a provider retrying its webhook finds the reply already done.
    for _ in range(3):
        assert hooks.send(via, body="20", message_id="SMreplayed0001").status_code in (200, 204)
    signout.refresh_from_db()
    assert signout.ladder_round == 2
    assert signout.events.filter(kind="extended").count() == 1
    assert len(texts_to(provider, SAM)) == 1
    assert SmsReply.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_text_from_an_unknown_number_changes_nothing_and_keeps_neither_text_nor_number(
    hooks, provider, signout
):
    # R-TRK-5: audited without its text; not answered (Homeward is no free SMS relay).
    hooks.send("twilio", sender=STRANGER, body="HELP me 4821")
    signout.refresh_from_db()
    assert signout.state == "out" and signout.help_requested_at is None
    assert provider.texts() == []
    audit = AuditEvent.objects.get(event_type="sms_reply.unknown_number")
    assert "4821" not in json.dumps(audit.changes) and "777" not in json.dumps(audit.changes)
    reply = SmsReply.objects.get()
    assert (reply.outcome, reply.signout, reply.visitor) == ("unknown_number", None, None)


@pytest.mark.django_db(transaction=True)
def test_a_visitor_with_no_open_signout_is_told_and_nothing_changes(
    hooks, provider, signout, olive
):
    # R-TRK-5
    signout_return(actor=olive, signout=signout, went_home=False, via="board")
    hooks.send("notify", body="HELP")
    signout.refresh_from_db()
    assert signout.state == "returned" and signout.help_requested_at is None
    [answer] = texts_to(provider, SAM)
    assert "no visit open" in answer and answer.endswith(WORDS)
    audit = AuditEvent.objects.get(event_type="sms_reply.no_open_signout")
    assert "HELP" not in json.dumps(audit.changes)


@pytest.mark.django_db(transaction=True)
def test_two_open_signouts_for_one_mobile_are_refused_and_the_office_told(
    hooks, provider, signout, sam, tess, dana, olive, pupil
):
    # R-TRK-5: never guessed.
    second = sign_out(authorised_visit(sam, pupil, [sam, tess], dana), olive)
    hooks.send("twilio", body="BACK")
    for each in (signout, second):
        each.refresh_from_db()
        assert each.state == "out"
    [answer] = texts_to(provider, SAM)
    assert "more than one visit open" in answer and answer.endswith(WORDS)
    office = texts_to(provider, "+447700900500")
    assert office and all("2 visits open" in text for text in office)
    assert SmsReply.objects.get().outcome == "ambiguous"
    assert AuditEvent.objects.filter(event_type="sms_reply.ambiguous").count() == 2


@pytest.mark.django_db(transaction=True)
def test_no_child_data_in_any_answer(hooks, provider, signout, pupil):
    # R-SEC (tests/leaks.py covers the in-memory backend; these went through Twilio's API)
    for body in ("20", "nonsense", "HELP", "SAFE"):
        hooks.send("twilio", body=body)
    sent = " ".join(t["body"] for t in provider.texts())
    assert sent and pupil.first_name not in sent and pupil.last_name not in sent


# ---------------------------------------------------------------------------------------------
# Bad input: forged, malformed (test client: no provider needed)
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://homeward.example"
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.NOTIFY_CALLBACK_BEARER_TOKEN = NOTIFY_CALLBACK_TOKEN
    settings.SMS_BACKEND = "tracking.sms.InMemoryBackend"


def twilio_signed(client, form, *, token=TWILIO_TOKEN):
    from twilio.request_validator import RequestValidator

    path = reverse("tracking:twilio_sms_reply")
    signature = RequestValidator(token).compute_signature("https://homeward.example" + path, form)
    return client.post(path, form, HTTP_X_TWILIO_SIGNATURE=signature)


@pytest.mark.django_db
def test_a_forged_twilio_reply_is_403_and_changes_nothing(client, site, signout):
    # R-TRK-5
    response = twilio_signed(
        client, {"MessageSid": "SM1", "From": SAM, "Body": "BACK"}, token="not-the-token"
    )
    assert response.status_code == 403
    signout.refresh_from_db()
    assert signout.state == "out" and not SmsReply.objects.exists()
    assert AuditEvent.objects.filter(event_type="webhook.refused").count() == 1


@pytest.mark.django_db
def test_a_notify_reply_without_the_token_is_403_and_changes_nothing(client, site, signout):
    # R-TRK-5
    path = reverse("tracking:notify_sms_reply")
    data = {"id": "x1", "source_number": "447700900101", "message": "BACK"}
    for header in ({}, {"HTTP_AUTHORIZATION": "Bearer guessed"}):
        response = client.post(path, data, content_type="application/json", **header)
        assert response.status_code == 403
    signout.refresh_from_db()
    assert signout.state == "out" and not SmsReply.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "form",
    [
        {},
        {"From": SAM, "Body": "SAFE"},
        {"MessageSid": "SM1", "Body": "SAFE"},
        {"MessageSid": "SM1", "From": SAM},
        {"MessageSid": "S" * 101, "From": SAM, "Body": "SAFE"},
    ],
)
def test_a_signed_but_malformed_twilio_reply_is_400_and_changes_nothing(
    client, site, signout, form
):
    # R-TRK-5
    assert twilio_signed(client, form).status_code == 400
    signout.refresh_from_db()
    assert signout.state == "out" and not SmsReply.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'"SAFE"',
        b'{"id": "x1", "message": "SAFE"}',
        b'{"id": 5, "source_number": "447700900101", "message": "SAFE"}',
        b'{"id": "x1", "source_number": "447700900101", "message": null}',
    ],
)
def test_a_malformed_notify_reply_is_400_and_changes_nothing(client, site, signout, body):
    # R-TRK-5
    response = client.post(
        reverse("tracking:notify_sms_reply"),
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {NOTIFY_CALLBACK_TOKEN}",
    )
    assert response.status_code == 400
    signout.refresh_from_db()
    assert signout.state == "out" and not SmsReply.objects.exists()


@pytest.mark.django_db
def test_a_sender_that_is_not_a_phone_number_is_an_unknown_number(client, site, signout):
    # R-TRK-5
    response = twilio_signed(client, {"MessageSid": "SM1", "From": "<script>", "Body": "SAFE"})
    assert response.status_code == 200
    signout.refresh_from_db()
    assert signout.state == "out"
    assert SmsReply.objects.get().outcome == "unknown_number"


@pytest.mark.django_db
def test_a_reply_racing_the_board_is_decided_by_the_database(
    client, site, signout, olive, monkeypatch, django_capture_on_commit_callbacks
):
    # R-TRK-5, R-ESC-6: the office signs them back in between the match and the phone-in:
    # the conditional update finds tracking closed; the visitor is told, nothing else changes.
    real = replies.signout_phone_in

    def board_first(**kwargs):
        signout_return(actor=olive, signout=kwargs["signout"], went_home=False, via="board")
        return real(**kwargs)

    monkeypatch.setattr(replies, "signout_phone_in", board_first)
    with django_capture_on_commit_callbacks(execute=True):
        twilio_signed(client, {"MessageSid": "SM1", "From": SAM, "Body": "SAFE"})
    signout.refresh_from_db()
    assert signout.state == "returned"
    assert not signout.events.filter(kind="phoned_in").exists()
    assert SmsReply.objects.get().outcome == "closed"
    answer = Notification.objects.get(idempotency_key__startswith="smsreply:")
    assert "already closed" in answer.body


@pytest.mark.django_db
def test_the_overdue_text_to_a_visitor_ends_with_the_reply_words(clock, signout, scan):
    # R-TRK-5: every text to a visitor ends with the words.
    from tracking import sms

    clock.move_to(signout.expected_return_at + datetime.timedelta(minutes=15))
    scan()
    to_sam = [m.body for m in sms.outbox if m.to == SAM]
    assert to_sam and all(body.endswith(WORDS) for body in to_sam)


def test_the_reply_words_end_every_visitor_text_template():
    # R-TRK-5
    from pathlib import Path

    from django.conf import settings as django_settings

    template = Path(django_settings.BASE_DIR, "templates/sms/overdue_visitor.txt").read_text()
    assert template.rstrip().endswith("{{ reply_words }}{% endautoescape %}")


@pytest.mark.django_db
def test_a_reply_is_matched_only_to_an_open_signout(signout, olive):
    # R-TRK-5: the match ignores closed sign-outs.
    signout_return(actor=olive, signout=signout, went_home=True, via="board")
    assert SignOut.objects.get(pk=signout.pk).state == "went_home"
    result = replies.sms_reply_receive(
        provider="twilio", provider_message_id="SM9", sender=SAM, text="SAFE"
    )
    assert result.reply.outcome == "no_open_signout"
    assert timezone.now() >= result.reply.received_at
