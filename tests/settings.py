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

# On PostgreSQL and Redis (`make test-postgres`) the two xdist workers each have their own test
# database, whose ids both start at 1, but share one Redis: each worker's cache keys (sessions,
# rate limits, the navigation bar's version) get their own prefix, so one worker's user 5 is not
# the other's.
if "CACHES" in globals() and os.environ.get("PYTEST_XDIST_WORKER"):
    CACHES["default"]["KEY_PREFIX"] = "test-" + os.environ["PYTEST_XDIST_WORKER"]  # noqa: F405
