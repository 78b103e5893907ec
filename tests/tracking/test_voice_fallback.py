"""R-ESC-11: an alert that was not delivered is repeated by a phone call and by email, exactly
once; "press 1" on the call acknowledges like the link (R-ESC-8); an answering machine never
does; forged call webhooks change nothing and are audited.

The SMS go through the real `twilio` client to the fake Twilio on 127.0.0.1 (so Homeward expects
delivery receipts); the receipts, the call's TwiML request and its key press are posted to
Homeward here, signed with Twilio's RequestValidator as Twilio signs them. The end-to-end runs,
where the fake itself calls the running app back, are in test_voice_fallback_live.py.
"""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from twilio.request_validator import RequestValidator

from audit.models import AuditEvent
from tracking import voice
from tracking.models import Acknowledgement, Notification, SignOut

from .conftest import NOON
from .fake_providers import TWILIO_SID, TWILIO_TOKEN, fake_sms_provider, gather_action

R = NOON + datetime.timedelta(hours=1)
minute = datetime.timedelta(minutes=1)
SITE = "https://homeward.example"
MAX_MOBILE = "+447700900106"


@pytest.fixture(autouse=True)
def twilio(settings):
    """SMS through the twilio client to the fake Twilio; calls kept in tracking.voice.outbox."""
    with fake_sms_provider() as fake:
        settings.SITE_URL = SITE
        settings.SMS_BACKEND = "tracking.sms.TwilioBackend"
        settings.TWILIO_ACCOUNT_SID = TWILIO_SID
        settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
        settings.TWILIO_FROM = "+447700900999"
        settings.TWILIO_API_BASE_URL = fake.url
        settings.SMS_TIMEOUT_SECONDS = 5.0
        settings.DELIVERY_FALLBACK_MINUTES = 2
        yield fake


@pytest.fixture
def manager_sms(clock, signout, scan, max):
    """The manager's alert SMS went at R+30."""
    clock.move_to(R + 30 * minute)
    scan()
    return Notification.objects.get(step__kind="manager", channel="sms")


def signed_post(client, path, form, *, token=TWILIO_TOKEN, signature=None):
    if signature is None:
        signature = RequestValidator(token).compute_signature(SITE + path, form)
    return client.post(path, form, HTTP_X_TWILIO_SIGNATURE=signature)


def receipt(client, sms, status, **extra):
    form = {"MessageSid": sms.provider_ref, "MessageStatus": status, **extra}
    return signed_post(client, reverse("tracking:twilio_status"), form)


def calls_to(number):
    return [call for call in voice.outbox if call.to == number]


def fallback_emails(to="max@school.example"):
    return [m for m in mail.outbox if "did not arrive" in m.subject and m.to == [to]]


def path_of(url):
    assert url.startswith(SITE)
    return url.removeprefix(SITE)


def answer(client, call, *, answered_by="human"):
    """Twilio fetching what to say once the call is answered."""
    form = {"CallSid": call.provider_ref, "CallStatus": "in-progress", "AnsweredBy": answered_by}
    return signed_post(client, path_of(call_url(call)), form)


def call_url(call):
    placed = next(p for p in voice.outbox if p.provider_ref == call.provider_ref)
    return placed.url


def press(client, call, digits="1", *, answered_by=None, call_sid=None):
    """The key press, posted to the Gather's action from the TwiML Homeward answered with."""
    twiml = answer(client, call, answered_by=answered_by or "human").content.decode()
    action = gather_action(twiml) or call_url(call).rstrip("/") + "/key/"
    form = {"CallSid": call_sid or call.provider_ref, "Digits": digits}
    return signed_post(client, path_of(action), form)


# ---------------------------------------------------------------------------------------------
# When the fallback fires: once, and only when needed
# ---------------------------------------------------------------------------------------------


def test_an_alert_reported_undelivered_is_repeated_by_a_call_and_an_email_once(
    client, clock, scan, manager_sms
):
    # R-ESC-11
    assert manager_sms.fallback_due_at == R + 32 * minute
    clock.move_to(R + 30 * minute + datetime.timedelta(seconds=20))
    assert receipt(client, manager_sms, "undelivered", ErrorCode="30003").status_code == 204
    scan()
    calls = calls_to(MAX_MOBILE)
    assert len(calls) == 1
    assert "Oakfield Primary School" in calls[0].script and "Press 1" in calls[0].script
    assert calls[0].url.startswith(SITE + "/tracking/hooks/twilio/voice/")
    assert calls[0].status_callback == SITE + reverse("tracking:twilio_call_status")
    emails = fallback_emails()
    assert [m.to for m in emails] == [["max@school.example"]]
    assert "/tracking/ack/" in emails[0].body
    manager_sms.refresh_from_db()
    assert manager_sms.state_words == "not delivered (error 30003) — calling instead"
    assert AuditEvent.objects.filter(event_type="escalation.fallback").count() == 1

    # The same receipt again, later scans, the two-minute mark passing: nothing more.
    receipt(client, manager_sms, "undelivered", ErrorCode="30003")
    receipt(client, manager_sms, "failed")
    for seconds in (25, 60, 125):
        clock.move_to(R + 30 * minute + datetime.timedelta(seconds=seconds))
        scan()
    assert len(calls_to(MAX_MOBILE)) == 1 and len(fallback_emails()) == 1
    assert Notification.objects.filter(fallback_of=manager_sms).count() == 2


def test_an_alert_not_delivered_within_two_minutes_is_repeated_once(clock, scan, manager_sms):
    # R-ESC-11: two ladder minutes after the alert, with no receipt saying it arrived.
    clock.move_to(R + 31 * minute + datetime.timedelta(seconds=59))
    scan()
    assert calls_to(MAX_MOBILE) == []
    clock.move_to(R + 32 * minute)
    scan()
    scan()
    assert len(calls_to(MAX_MOBILE)) == 1 and len(fallback_emails()) == 1
    # The monitor's three alerts of a scan that caught up (R+30 fired steps 1 to 4 together)
    # make one call to the monitor's phone, not three; the office email has it once.
    assert len(calls_to("+447700900500")) == 1
    assert len(fallback_emails("office@oakfield.example")) == 1
    manager_sms.refresh_from_db()
    assert manager_sms.state_words == "not delivered by 13:32 — calling instead"
    call = Notification.objects.get(fallback_of=manager_sms, channel="voice")
    assert call.state_words == "calling 13:32"


def test_a_delivered_alert_is_not_repeated(client, clock, scan, manager_sms):
    # R-ESC-11
    clock.move_to(R + 31 * minute)
    receipt(client, manager_sms, "delivered")
    manager_sms.refresh_from_db()
    assert manager_sms.fallback_due_at is None
    # Out of order: "undelivered" after "delivered" changes nothing.
    receipt(client, manager_sms, "undelivered")
    clock.move_to(R + 33 * minute)
    scan()
    assert calls_to(MAX_MOBILE) == [] and fallback_emails() == []
    manager_sms.refresh_from_db()
    assert manager_sms.state_words == "delivered 13:31"


def test_no_call_once_somebody_has_acknowledged(clock, scan, manager_sms, signed_in, dana):
    # R-ESC-11, R-ESC-8: the alert did its work.
    signout = manager_sms.signout
    signed_in(dana).post(reverse("tracking:acknowledge_case", args=[signout.pk]))
    assert SignOut.objects.get(pk=signout.pk).acknowledged_at is not None
    clock.move_to(R + 32 * minute)
    scan()
    assert calls_to(MAX_MOBILE) == []


def test_no_call_once_the_visitors_are_back(clock, scan, manager_sms, olive, committed):
    # R-ESC-11, R-ESC-10: the stand-down tells them instead.
    from tracking.signouts import signout_return

    committed(
        signout_return, actor=olive, signout=manager_sms.signout, went_home=False, via="board"
    )
    clock.move_to(R + 32 * minute)
    scan()
    assert calls_to(MAX_MOBILE) == []


def test_messages_that_are_not_alerts_have_no_fallback(clock, scan, manager_sms):
    # R-ESC-11: the visitors' own prompts are not alerts with an acknowledgement link.
    visitor_texts = Notification.objects.filter(template="overdue_visitor")
    assert visitor_texts.exists()
    assert not visitor_texts.filter(fallback_due_at__isnull=False).exists()
    assert not Notification.objects.filter(channel="email", fallback_due_at__isnull=False).exists()


def test_a_provider_without_receipts_never_triggers_a_fallback(settings, clock, signout, scan):
    # R-ESC-11: without delivery receipts "not delivered" cannot be known.
    settings.SMS_BACKEND = "tracking.sms.InMemoryBackend"
    clock.move_to(R + 40 * minute)
    scan()
    assert not Notification.objects.filter(fallback_due_at__isnull=False).exists()
    assert voice.outbox == []


# ---------------------------------------------------------------------------------------------
# The call: what it says, press 1, machines, forgeries
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def manager_call(client, clock, scan, manager_sms):
    """The manager's alert was undelivered; the fallback call was placed at R+30:20."""
    clock.move_to(R + 30 * minute + datetime.timedelta(seconds=20))
    receipt(client, manager_sms, "undelivered")
    scan()
    return Notification.objects.get(fallback_of=manager_sms, channel="voice")


def test_a_person_answering_hears_the_script_and_press_1(client, manager_call):
    # R-ESC-11: no child data, the school's name, "press 1".
    response = answer(client, manager_call)
    twiml = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"] == "text/xml"
    assert "<Gather" in twiml and 'numDigits="1"' in twiml
    assert gather_action(twiml).startswith(SITE + "/tracking/hooks/twilio/voice/")
    assert "Oakfield Primary School" in twiml and "Press 1 to acknowledge" in twiml
    manager_call.refresh_from_db()
    assert manager_call.answered_by == "human"


def test_pressing_1_acknowledges_like_the_link_and_others_are_told(
    client, clock, scan, manager_call, django_capture_on_commit_callbacks
):
    # R-ESC-8, R-ESC-11: the first acknowledgement owns the case; the others alerted are told.
    clock.move_to(R + 31 * minute)
    with django_capture_on_commit_callbacks(execute=True):
        response = press(client, manager_call, "1")
    assert "you own this case" in response.content.decode()
    ack = Acknowledgement.objects.get(signout=manager_call.signout)
    assert (ack.via, ack.user_id) == ("voice", manager_call.recipient_id)
    assert ack.label == manager_call.recipient_label
    manager_call.refresh_from_db()
    assert manager_call.state_words == "call answered, acknowledged 13:31"
    told = Notification.objects.filter(template__in=["acknowledged", "escalation_acknowledged"])
    assert told.exists() and not told.filter(address=MAX_MOBILE).exists()
    # Pressing 1 again changes nothing: told who owns it; audited as refused.
    again = press(client, manager_call, "1").content.decode()
    assert "already acknowledged" in again
    assert Acknowledgement.objects.count() == 1
    assert AuditEvent.objects.filter(event_type="escalation.ack_refused").exists()


def test_another_key_asks_again_and_changes_nothing(client, manager_call):
    # R-ESC-11
    response = press(client, manager_call, "7")
    assert "<Gather" in response.content.decode()
    assert not Acknowledgement.objects.exists()


def test_an_answering_machine_never_acknowledges(client, manager_call):
    # R-ESC-11: machine detection: no "press 1" for a machine, and a 1 from it is refused.
    twiml = answer(client, manager_call, answered_by="machine_start").content.decode()
    assert "<Gather" not in twiml and "<Hangup" in twiml
    path = path_of(call_url(manager_call)) + "key/"
    response = signed_post(
        client,
        path,
        {"CallSid": manager_call.provider_ref, "Digits": "1", "AnsweredBy": "machine_end_beep"},
    )
    assert response.status_code == 200 and "answering machine" in response.content.decode()
    assert not Acknowledgement.objects.exists()
    manager_call.refresh_from_db()
    assert manager_call.state_words == "answering machine — not acknowledged"
    refused = AuditEvent.objects.get(event_type="escalation.ack_refused")
    assert refused.changes["why"] == "answered by a machine"


def test_a_forged_key_press_is_refused_changes_nothing_and_is_audited(client, manager_call):
    # R-ESC-11: a bad signature gets 403.
    path = path_of(call_url(manager_call)) + "key/"
    form = {"CallSid": manager_call.provider_ref, "Digits": "1"}
    forged = signed_post(client, path, form, token="not-the-auth-token")
    assert forged.status_code == 403
    unsigned = client.post(path, form)
    assert unsigned.status_code == 403
    assert not Acknowledgement.objects.exists()
    assert AuditEvent.objects.filter(event_type="webhook.refused").count() == 2


def test_a_key_press_with_a_token_homeward_did_not_make_is_refused_and_audited(
    client, manager_call
):
    # R-ESC-11: Twilio's signature is right, the call token is not Homeward's.
    path = reverse("tracking:voice_keypress", args=[f"{manager_call.pk}:forged"])
    response = signed_post(client, path, {"CallSid": manager_call.provider_ref, "Digits": "1"})
    assert response.status_code == 404
    assert not Acknowledgement.objects.exists()
    assert AuditEvent.objects.filter(event_type="webhook.refused").exists()


def test_a_key_press_from_another_call_is_refused(client, manager_call):
    # R-ESC-11: a replay of this call's key press URL from another call changes nothing.
    response = press(client, manager_call, "1", call_sid="CA" + "9" * 32)
    assert "cannot acknowledge" in response.content.decode()
    assert not Acknowledgement.objects.exists()


def test_call_status_callbacks_twice_out_of_order_or_unknown_are_harmless(
    client, clock, manager_call
):
    # R-ESC-11: only forward; an unknown call is audited and ignored.
    path = reverse("tracking:twilio_call_status")
    sid = manager_call.provider_ref
    for status in ("initiated", "ringing", "ringing", "in-progress", "completed", "ringing"):
        assert signed_post(client, path, {"CallSid": sid, "CallStatus": status}).status_code == 204
    manager_call.refresh_from_db()
    assert manager_call.call_state == "completed"
    assert manager_call.state_words == "call answered 13:30, not acknowledged"
    changes = AuditEvent.objects.filter(event_type="notification.call_status")
    assert [e.changes["state"] for e in changes.order_by("pk")] == [
        "queued",
        "ringing",
        "in-progress",
        "completed",
    ]
    unknown = signed_post(client, path, {"CallSid": "CA" + "1" * 32, "CallStatus": "busy"})
    assert unknown.status_code == 204
    assert AuditEvent.objects.filter(
        event_type="notification.receipt_ignored", changes__why="unknown call"
    ).exists()
    forged = signed_post(client, path, {"CallSid": sid, "CallStatus": "busy"}, token="x")
    assert forged.status_code == 403


def test_an_unanswered_call_says_so(client, manager_call):
    # R-ESC-11: delivery state in words.
    path = reverse("tracking:twilio_call_status")
    signed_post(client, path, {"CallSid": manager_call.provider_ref, "CallStatus": "no-answer"})
    manager_call.refresh_from_db()
    assert manager_call.state_words == "no answer"


def test_the_emergency_page_says_what_became_of_each_message(
    client, clock, manager_call, signed_in, max
):
    # R-ESC-11: delivery state in words where the ladder's messages are listed.
    clock.move_to(R + 31 * minute)
    press(client, manager_call, "1")
    page = signed_in(max).get(reverse("tracking:emergency", args=[manager_call.signout_id]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "SMS to Max Example (manager): not delivered — calling instead" in text
    assert "Phone call to Max Example (manager): call answered, acknowledged 13:31" in text


def test_the_fallback_moves_the_boards_version(clock, manager_sms, oakfield):
    # R-ESC-11, issue 15: the board lists each row's messages, so its poll must see the call.
    from schools.models import BoardVersion
    from tracking.fallback import notification_fall_back

    due = manager_sms.fallback_due_at
    clock.move_to(due)
    before = BoardVersion.objects.get(school=oakfield).version
    assert notification_fall_back(notification_id=manager_sms.pk, due_at=due, now=due)
    assert BoardVersion.objects.get(school=oakfield).version > before
