"""The suite can run with the wall clock moved (`make test-clock`), so a test that leans on the
real date fails on any day rather than only on an unlucky one."""

import datetime
import os
import zoneinfo

from django.utils import timezone

from .conftest import session_clock_destination


def test_a_clock_without_an_offset_is_uk_time_and_one_with_an_offset_is_exact():
    london = session_clock_destination("2026-10-25T01:30")
    assert london.tzinfo == zoneinfo.ZoneInfo("Europe/London")
    # 01:30 happened twice that night: without an offset it is the first (BST) one.
    assert london.astimezone(datetime.UTC) == datetime.datetime(
        2026, 10, 25, 0, 30, tzinfo=datetime.UTC
    )
    exact = session_clock_destination("2026-12-31T23:59:30+00:00")
    assert exact == datetime.datetime(2026, 12, 31, 23, 59, 30, tzinfo=datetime.UTC)


def test_with_homeward_test_clock_set_every_test_runs_at_that_time_or_just_after():
    value = os.environ.get("HOMEWARD_TEST_CLOCK")
    now = timezone.now()
    if not value:
        return
    start = session_clock_destination(value)
    # The clock ticks on from where it was set, so every test runs a little after it.
    assert start <= now < start + datetime.timedelta(days=1)
