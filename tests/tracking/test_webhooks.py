"""Provider webhooks are authenticated before they change anything: a forged
Twilio signature or a wrong Notify token is refused with 403 and audited without its body."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from twilio.request_validator import RequestValidator

from audit.models import AuditEvent
from tracking.webhooks import NOTIFY, TWILIO, provider_webhook

TOKEN = "twilio-test-token"
calls = []


@provider_webhook(TWILIO)
def twilio_view(request):
    calls.append(request.POST.dict())
    return HttpResponse("ok")


@provider_webhook(NOTIFY)
def notify_view(request):
    calls.append(request.body)
    return HttpResponse("ok")


@pytest.fixture(autouse=True)
def _providers(settings):
    settings.SITE_URL = "https://homeward.example"
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.NOTIFY_CALLBACK_BEARER_TOKEN = "notify-callback-secret"
    calls.clear()


def twilio_post(form: dict, *, signature: str | None = None):
    path = "/tracking/hooks/twilio/status/"
    if signature is None:
        signature = RequestValidator(TOKEN).compute_signature(
            "https://homeward.example" + path, form
        )
    request = RequestFactory().post(path, form, HTTP_X_TWILIO_SIGNATURE=signature)
    return twilio_view(request)


@pytest.mark.django_db
def test_a_request_twilio_signed_reaches_the_view():
    response = twilio_post({"MessageSid": "SM1", "MessageStatus": "delivered"})
    assert response.status_code == 200
    assert calls == [{"MessageSid": "SM1", "MessageStatus": "delivered"}]


@pytest.mark.django_db
def test_a_forged_twilio_signature_is_refused_audited_and_changes_nothing():
    response = twilio_post({"MessageSid": "SM1", "MessageStatus": "delivered"}, signature="forged")
    assert response.status_code == 403
    assert calls == []
    refusal = AuditEvent.objects.get(event_type="webhook.refused")
    assert refusal.changes == {"provider": "twilio", "path": "/tracking/hooks/twilio/status/"}


@pytest.mark.django_db
def test_a_twilio_request_whose_form_was_changed_after_signing_is_refused():
    form = {"MessageSid": "SM1", "MessageStatus": "failed"}
    signature = RequestValidator(TOKEN).compute_signature(
        "https://homeward.example/tracking/hooks/twilio/status/", form
    )
    response = twilio_post({**form, "MessageStatus": "delivered"}, signature=signature)
    assert response.status_code == 403
    assert calls == []


@pytest.mark.django_db
def test_a_notify_callback_needs_the_services_bearer_token():
    factory = RequestFactory()
    good = factory.post(
        "/hook",
        b"{}",
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer notify-callback-secret",
    )
    bad = factory.post(
        "/hook", b"{}", content_type="application/json", HTTP_AUTHORIZATION="Bearer guessed"
    )
    missing = factory.post("/hook", b"{}", content_type="application/json")
    assert notify_view(good).status_code == 200
    assert notify_view(bad).status_code == 403
    assert notify_view(missing).status_code == 403
    assert calls == [b"{}"]
    assert AuditEvent.objects.filter(event_type="webhook.refused").count() == 2


@pytest.mark.django_db
def test_without_configured_secrets_every_webhook_is_refused(settings):
    settings.TWILIO_AUTH_TOKEN = ""
    settings.NOTIFY_CALLBACK_BEARER_TOKEN = ""
    request = RequestFactory().post(
        "/hook", {"a": "b"}, HTTP_X_TWILIO_SIGNATURE="anything", HTTP_AUTHORIZATION="Bearer "
    )
    assert twilio_view(request).status_code == 403
    assert notify_view(request).status_code == 403


def test_a_webhook_answers_only_post():
    assert twilio_view(RequestFactory().get("/hook")).status_code == 405
