"""A small fixed-window rate limit on the shared cache (Redis in production), for the public
check-in link: nobody can try tokens, or press a link, more than a few times a minute."""

from django.core.cache import cache


def throttle_hit(*, key: str, limit: int, window_seconds: int) -> bool:
    """Count one request against `key`. True when it is over the limit for this window."""
    cache_key = f"throttle:{key}"
    cache.add(cache_key, 0, timeout=window_seconds)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr: start a new window
        cache.set(cache_key, 1, timeout=window_seconds)
        count = 1
    return count > limit
