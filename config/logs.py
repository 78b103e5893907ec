"""Structured logs: with LOG_FORMAT=json (the default when PRODUCTION) every log line is one JSON
object carrying the request id, the signed-in user's id and, when the user works at one school,
that school's id. Never a name, a path or a request body: log messages themselves never carry
child data (tests/leaks.py scans every test's log lines), and ids are all the context adds.

The request id comes from the load balancer's X-Request-ID header when it sends a sensible one,
else it is made here; either way the response carries it back, so a report from a user and the
lines of every node that served them can be matched."""

import contextvars
import datetime
import json
import logging
import re
import time
import uuid

_context: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "homeward_log_context", default=None
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
SCHOOL_SESSION_KEY = "_log_school_id"
request_logger = logging.getLogger("homeward.request")


def log_context() -> dict:
    """The ids of the request this thread is serving (empty outside a request)."""
    return dict(_context.get() or {})


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        request.request_id = request_id
        token = _context.set({"request_id": request_id})
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            match = getattr(request, "resolver_match", None)
            request_logger.info(
                "request",
                extra={
                    "view": (match.view_name if match else "") or "unresolved",
                    "method": request.method,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            _context.reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            context = {**(_context.get() or {}), "user_id": user.pk}
            school_id = _school_of(request, user)
            if school_id is not None:
                context["school_id"] = school_id
            _context.set(context)
        return None


def _school_of(request, user) -> int | None:
    """The school of a user who works at exactly one, noted in the session at sign-in
    (remember_school): no query per request. A trust-wide user has none here."""
    session = getattr(request, "session", None)
    return session.get(SCHOOL_SESSION_KEY) if session is not None else None


def remember_school(sender, request, user, **kwargs):
    """At sign-in (user_logged_in): the one school the user works at, for the log lines."""
    if request is None or not hasattr(request, "session"):
        return
    from schools.selectors import schools_for_user

    ids = list(schools_for_user(user).values_list("pk", flat=True)[:2])
    request.session[SCHOOL_SESSION_KEY] = ids[0] if len(ids) == 1 else None


# The attributes every LogRecord has; anything else was passed with `extra=` and is kept.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        event = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **(_context.get() or {}),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in event:
                event[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return json.dumps(event, ensure_ascii=False, default=str)
