"""The fallback phone call's webhooks (R-ESC-11, R-ESC-8): what the call says, the key pressed,
and the call's progress. Twilio posts each, signed with the auth token; `provider_webhook`
checks the signature first (a forged request gets 403, changes nothing, and is audited). The
call's own URLs also carry its Notification id signed by Homeward (tracking.tokens).

What is said holds no child's data: the school's name, "visitors overdue", "press 1".
"""

import logging

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from twilio.twiml.voice_response import VoiceResponse

from audit.models import AuditEvent

from . import fallback
from .messages import local_time
from .models import Notification
from .tokens import CheckInTokenInvalid, voice_token_read
from .webhooks import TWILIO, provider_webhook

logger = logging.getLogger(__name__)

VOICE = {"voice": "Polly.Amy", "language": "en-GB"}


def _twiml(response: VoiceResponse) -> HttpResponse:
    return HttpResponse(str(response), content_type="text/xml")


def _call_for(request, token: str) -> Notification | None:
    """The call the signed token names; None (audited) for a token Homeward did not make."""
    try:
        pk = voice_token_read(token)
    except CheckInTokenInvalid:
        pk = None
    call = (
        Notification.objects.select_related("signout__school", "step", "recipient")
        .filter(pk=pk, channel=Notification.Channel.VOICE)
        .first()
        if pk is not None
        else None
    )
    if call is None:
        AuditEvent.objects.create(
            actor=None,
            school=None,
            object_type="tracking.webhook",
            object_id="voice",
            event_type="webhook.refused",
            changes={"provider": TWILIO, "path": request.path[:200], "why": "bad call token"},
        )
    return call


def _gather(response: VoiceResponse, call: Notification, token: str) -> None:
    action = reverse("tracking:voice_keypress", args=[token])
    gather = response.gather(
        num_digits=1, action=settings.SITE_URL + action, method="POST", timeout=8
    )
    gather.say(call.body, **VOICE)
    gather.pause(length=1)
    gather.say(call.body, **VOICE)


@provider_webhook(TWILIO)
def voice_twiml(request, token: str):
    """Twilio asks what to say once the call is answered (with AnsweredBy: answering machine
    detection). A person hears the message and "press 1"; a machine hears only where the
    details are, and cannot acknowledge."""
    call = _call_for(request, token)
    if call is None:
        return HttpResponse("Not a call of Homeward's.", status=404)
    answered_by = request.POST.get("AnsweredBy", "")
    fallback.call_answered(call=call, answered_by=answered_by)
    response = VoiceResponse()
    if fallback.is_machine(answered_by):
        response.say(
            f"This is Homeward, for {call.signout.school.name}. Visitors are overdue. "
            "Please read the text and email Homeward sent you.",
            **VOICE,
        )
        response.hangup()
        return _twiml(response)
    _gather(response, call, token)
    response.say("Nothing was pressed. Goodbye.", **VOICE)
    return _twiml(response)


@provider_webhook(TWILIO)
def voice_keypress(request, token: str):
    """The key pressed on the call (Gather's action): 1 from a person acknowledges (R-ESC-8)."""
    call = _call_for(request, token)
    if call is None:
        return HttpResponse("Not a call of Homeward's.", status=404)
    response = VoiceResponse()
    try:
        ack, won = fallback.call_keypress(
            call=call,
            digits=request.POST.get("Digits", ""),
            answered_by=request.POST.get("AnsweredBy", ""),
            call_sid=request.POST.get("CallSid", ""),
        )
    except fallback.KeypressRefused as refused:
        if str(refused):
            response.say(str(refused), **VOICE)
            response.hangup()
        else:
            _gather(response, call, token)
        return _twiml(response)
    if won:
        response.say(
            "Thank you. You have acknowledged: you own this case. Everyone else alerted is "
            "being told. Open the emergency page in your text or email now.",
            **VOICE,
        )
    elif ack is not None:
        response.say(
            f"{ack.label} already acknowledged at {local_time(ack.acknowledged_at)}, and owns this "
            "case. Nothing has changed.",
            **VOICE,
        )
    else:
        response.say("This alert is no longer open. Nothing has changed.", **VOICE)
    response.hangup()
    return _twiml(response)


@provider_webhook(TWILIO)
def twilio_call_status(request):
    """Twilio's status callback for a call: queued, ringing, in-progress, completed, busy,
    no-answer, failed."""
    fallback.call_status_record(
        call_sid=request.POST.get("CallSid", ""),
        status=request.POST.get("CallStatus", ""),
        answered_by=request.POST.get("AnsweredBy", ""),
    )
    return HttpResponse(status=204)
