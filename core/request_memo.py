"""What one request works out once and reads again (issue 15): the schools a user's role grants
a permission at, asked by the page and by every panel on it.

Kept for one request only (config.middleware.RequestMemoMiddleware opens and closes it), so a
page never sees what another request worked out. Outside a request (Celery tasks, scripts,
tests calling selectors) nothing is kept and every call works the answer out afresh. A change
to who holds which role inside the request empties it (schools/apps.py), so a page that changes
a role and then reads it sees the change.
"""

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

_memo: ContextVar[dict | None] = ContextVar("homeward_request_memo", default=None)


def memoized(key: tuple, compute: Callable[[], Any]) -> Any:
    """compute(), once per request for `key`; every call outside a request computes."""
    memo = _memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def active() -> bool:
    """Inside a request (a memo is open)."""
    return _memo.get() is not None


def forget() -> None:
    """Empty this request's memo (roles or permissions changed)."""
    memo = _memo.get()
    if memo is not None:
        memo.clear()


def open_memo():
    return _memo.set({})


def close_memo(token) -> None:
    _memo.reset(token)
