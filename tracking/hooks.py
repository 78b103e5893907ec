"""The providers' webhooks for texts visitors send back (R-TRK-5): Twilio's incoming-message
webhook (a signed form POST: From, Body, MessageSid) and GOV.UK Notify's received-text callback
(JSON with the service's bearer token). Both are checked by `provider_webhook` before anything
runs; a malformed request is 400 and changes nothing; tracking.replies does the rest."""

import json

from django.http import HttpResponse, HttpResponseBadRequest

from .models import SmsReply
from .replies import sms_reply_receive
from .webhooks import NOTIFY, TWILIO, provider_webhook

# The longest provider message id kept (Twilio's are 34 characters, Notify's 36).
LONGEST_ID = 100

# Twilio expects TwiML back; an empty response sends nothing (the answer goes by the outbox).
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _usable(value) -> bool:
    return isinstance(value, str) and 0 < len(value.strip()) <= LONGEST_ID


@provider_webhook(TWILIO)
def twilio_sms_reply(request):
    sid, sender, body = (request.POST.get(k) for k in ("MessageSid", "From", "Body"))
    if not _usable(sid) or not _usable(sender) or body is None:
        return HttpResponseBadRequest("MessageSid, From and Body are required.")
    sms_reply_receive(
        provider=SmsReply.Provider.TWILIO,
        provider_message_id=sid.strip(),
        sender=sender,
        text=body,
    )
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@provider_webhook(NOTIFY)
def notify_sms_reply(request):
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return HttpResponseBadRequest("Not JSON.")
    if not isinstance(data, dict):
        return HttpResponseBadRequest("Not a received text.")
    message_id, sender, text = (data.get(k) for k in ("id", "source_number", "message"))
    if not _usable(message_id) or not _usable(sender) or not isinstance(text, str):
        return HttpResponseBadRequest("id, source_number and message are required.")
    sms_reply_receive(
        provider=SmsReply.Provider.NOTIFY,
        provider_message_id=message_id.strip(),
        sender=sender,
        text=text,
    )
    return HttpResponse(status=204)
