"""The settings the test suite runs with (pyproject.toml): Homeward's own, on a developer's machine.

HOMEWARD_DEV=true is what `make test` sets too; here it also covers a bare `pytest`, and the
processes the tests start (a Celery worker, the e2e stack) inherit it from this environment."""

import os

os.environ.setdefault("HOMEWARD_DEV", "true")

from config.settings import *  # noqa: E402, F403

# The ladder's tests count every text a step sends; the reminder before the return (R-TRK-6) is
# proved on its own in tests/tracking/test_reminders.py, which turns it back on.
CHECKIN_REMINDER_MINUTES = 0

# Page query-count tests compare a page's first request with a later one: the navigation bar's
# cache (issue 15) would make the first one dearer. tests/test_fast_signed_in.py proves the
# cache with it turned back on.
NAV_CACHE_SECONDS = 0

# On PostgreSQL and Redis (`make test-postgres`) the xdist workers each have their own test
# database, whose ids all start at 1. They also get their own Redis database (worker gw0 the URL's
# number + 1, gw1 + 2, ...): a shared one would let one worker's user 5 read the other's cached
# session, and one worker's `cache.clear()` (a FLUSHDB) wipe the other's rate-limit counters in the
# middle of a test. The Celery worker a test starts inherits the same URL, so it takes only its own
# worker's tasks.
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if REDIS_URL and _xdist_worker.startswith("gw"):  # noqa: F405
    from urllib.parse import urlsplit, urlunsplit

    # A Celery worker a test starts loads these settings too, with REDIS_URL already its own:
    # the shared URL is kept aside so that it works out the same database, not the next one.
    _shared = os.environ.setdefault("HOMEWARD_TEST_SHARED_REDIS_URL", REDIS_URL)  # noqa: F405
    _url = urlsplit(_shared)
    _number = int(_url.path.strip("/") or 0) + 1 + int(_xdist_worker.removeprefix("gw"))
    _own = urlunsplit(_url._replace(path=f"/{_number}"))
    if CELERY_BROKER_URL in (_shared, REDIS_URL):  # noqa: F405
        CELERY_BROKER_URL = _own
    REDIS_URL = _own
    os.environ["REDIS_URL"] = _own
    CACHES["default"]["LOCATION"] = _own  # noqa: F405
