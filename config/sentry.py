"""Optional error reporting to Sentry (SENTRY_DSN; off when it is empty). Sentry is another
organisation's server: only what is needed to find a bug leaves Homeward. scrub() runs on every
event before it is sent and removes request bodies, cookies, headers that carry credentials,
paths and query strings (a check-in link's token), user names and email addresses (the user id
stays), every frame's local variables and the values in breadcrumbs' data. Celery beat's schedule is
reported as Sentry cron monitors (monitor_beat_tasks), so a beat that stops is noticed."""

from urllib.parse import urlsplit

SCRUBBED = "[removed]"
_SENSITIVE_HEADERS = {"cookie", "authorization", "x-csrftoken", "proxy-authorization"}


def _strip_frames(container: dict | None) -> None:
    for value in (container or {}).get("values", []) or []:
        for frame in (value.get("stacktrace") or {}).get("frames", []) or []:
            frame.pop("vars", None)


def scrub(event: dict, hint: dict | None = None) -> dict:
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "cookies", "query_string", "env"):
            request.pop(key, None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                name: SCRUBBED if name.lower() in _SENSITIVE_HEADERS else value
                for name, value in headers.items()
            }
        if isinstance(request.get("url"), str):
            # The path itself can be a key (a check-in link, a calendar feed, a password reset):
            # the event's transaction names the URL pattern instead.
            parts = urlsplit(request["url"])
            request["url"] = f"{parts.scheme}://{parts.netloc}/"
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    _strip_frames(event.get("exception"))
    _strip_frames(event.get("threads"))
    for frame in (event.get("stacktrace") or {}).get("frames", []) or []:
        frame.pop("vars", None)
    breadcrumbs = event.get("breadcrumbs")
    crumbs = breadcrumbs.get("values", []) if isinstance(breadcrumbs, dict) else breadcrumbs
    for crumb in crumbs or []:
        if isinstance(crumb, dict):
            crumb.pop("data", None)
    event.pop("extra", None)
    return event


def sentry_init(*, dsn: str, environment: str, release: str | None) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration(monitor_beat_tasks=True)],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub,
        before_send_transaction=scrub,
        traces_sample_rate=0.0,
    )
