"""Who is asking: the client's address, the same way for every rate limit and lockout."""

from django.conf import settings


def client_address(request) -> str:
    """The address a request came from. Behind our own proxies (BEHIND_TLS_PROXY), the last
    PROXY_COUNT proxies each appended the address they saw to X-Forwarded-For: the client is the
    entry the outermost of them added, never the left-most one (which the client itself can
    write anything into). Otherwise, or when the header is shorter than expected, REMOTE_ADDR.

    Used by django-axes (AXES_CLIENT_IP_CALLABLE), the check-in link's rate limit and the
    metrics endpoint's network allow-list, so a flood from one client behind the load balancer
    never counts against another."""
    remote = request.META.get("REMOTE_ADDR") or ""
    if not settings.SECURE_PROXY_SSL_HEADER:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    count = settings.PROXY_COUNT
    if count < 1 or len(forwarded) < count:
        return remote
    return forwarded[-count]
