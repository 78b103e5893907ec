"""Authenticating what providers post to Homeward: delivery receipts, replies and key presses.

Every provider webhook is a plain Django view wrapped in `provider_webhook`, which checks the
provider's own proof before the view runs:

- Twilio signs each request with the account's auth token (X-Twilio-Signature over the public
  URL it called and the POSTed form): checked with the `twilio` library's RequestValidator. The
  URL is rebuilt from SITE_URL, the address Twilio was given, not from the Host header.
- GOV.UK Notify sends the bearer token the service set for its callbacks
  (NOTIFY_CALLBACK_BEARER_TOKEN), compared in constant time.

A request that fails the check gets 403, changes nothing, and is audited without its body (a
forged or replayed callback is worth knowing about; its text could hold anything).
"""

import functools
import hmac

from django.conf import settings
from django.http import HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from audit.models import AuditEvent

TWILIO = "twilio"
NOTIFY = "notify"


def twilio_request_valid(request) -> bool:
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = settings.SITE_URL + request.get_full_path()
    return RequestValidator(token).validate(url, request.POST.dict(), signature)


def notify_request_valid(request) -> bool:
    expected = settings.NOTIFY_CALLBACK_BEARER_TOKEN
    given = request.headers.get("Authorization", "")
    if not expected or not given.startswith("Bearer "):
        return False
    return hmac.compare_digest(given.removeprefix("Bearer ").encode(), expected.encode())


CHECKS = {TWILIO: twilio_request_valid, NOTIFY: notify_request_valid}


def provider_webhook(provider: str):
    """Decorate a view that only `provider` may call: POST only, no CSRF token (providers have
    none), and the provider's signature or token checked first."""
    check = CHECKS[provider]

    def decorate(view):
        @csrf_exempt
        @require_POST
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if not check(request):
                webhook_refusal_audit(request, provider=provider, view=view.__name__)
                return HttpResponseForbidden("Not a request from the provider.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def webhook_refusal_audit(request, *, provider: str, view: str) -> None:
    """Record a refused webhook: which provider it claimed to be and where it was sent; never
    its body. An audit row needs an object: the row is about the webhook itself."""
    AuditEvent.objects.create(
        actor=None,
        school=None,
        object_type="tracking.webhook",
        object_id=view[:40],
        event_type="webhook.refused",
        changes={"provider": provider, "path": request.path[:200]},
    )
