"""Calm error pages: no stack trace ever reaches a user. Health checks: config/health.py."""

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.shortcuts import render


def bad_request(request, exception=None):
    # Issue 19: a body over DATA_UPLOAD_MAX_MEMORY_SIZE (core.limits) or with too many fields.
    if isinstance(exception, (RequestDataTooBig, TooManyFieldsSent)):
        return render(request, "413.html", status=413)
    return render(request, "400.html", status=400)


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)
