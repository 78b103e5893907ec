"""The people every test reads like a sentence with (docs/architecture.md).

At Oakfield Primary — Sam (staff), Tess (staff, second visitor), Dana (DSL), Hugh (Headteacher),
Olive (office), Max (manager); at Birchwood Academy, same trust — Bea (DSL); at an unrelated
school — Oscar (DSL there, an outsider here: sees nothing of Oakfield).
"""

import datetime
import os
import zoneinfo

import pytest
import time_machine

from schools.models import Role, Trust

from .factories import (
    ContactNumberFactory,
    HouseholdFactory,
    PupilFactory,
    person,
    school_create,
)

# The browser tests need the whole stack and Chromium: `make e2e` runs them.
collect_ignore = [] if os.environ.get("HOMEWARD_E2E") else ["e2e"]

_session_clock = None


def session_clock_destination(value: str) -> datetime.datetime:
    """`HOMEWARD_TEST_CLOCK=2026-12-31T23:59:30+00:00 pytest` runs the whole suite with the wall
    clock moved there (and ticking), so a test that leans on the real date fails on any day, not
    just on an unlucky one (`make test-clock`). A time without an offset is UK time. Tests that
    move the clock themselves still do: time-machine travels nest."""
    moment = datetime.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zoneinfo.ZoneInfo("Europe/London"))
    return moment


def pytest_configure(config):
    # Runs in the main process and in every xdist worker (each inherits the environment).
    global _session_clock
    if value := os.environ.get("HOMEWARD_TEST_CLOCK"):
        _session_clock = time_machine.travel(session_clock_destination(value), tick=True)
        _session_clock.start()


def pytest_unconfigure(config):
    global _session_clock
    if _session_clock is not None:
        _session_clock.stop()
        _session_clock = None


def pytest_report_header(config):
    if value := os.environ.get("HOMEWARD_TEST_CLOCK"):
        return f"HOMEWARD_TEST_CLOCK: the wall clock starts at {value}"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _celery_runs_tasks_in_process():
    """Tasks run in the test's own process; tests/tracking/test_real_worker.py turns this off
    to prove the same tasks on a real worker and Redis."""
    from config.celery_app import app

    # Register every app's tasks (what a worker does at start): a test must not depend on
    # another test having imported the tasks module its service names.
    app.loader.import_default_modules()
    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture
def trust(db):
    return Trust.objects.create(name="Aire Valley Learning Trust")


@pytest.fixture
def oakfield(trust):
    return school_create("Oakfield Primary School", "100001", trust=trust)


@pytest.fixture
def birchwood(trust):
    return school_create("Birchwood Academy", "100002", trust=trust)


@pytest.fixture
def riverside(db):
    return school_create("Riverside Community School", "900001")


@pytest.fixture
def sam(oakfield):
    return person("sam", oakfield, Role.STAFF, work_mobile="+447700900101")


@pytest.fixture
def tess(oakfield):
    return person("tess", oakfield, Role.STAFF, work_mobile="+447700900102")


@pytest.fixture
def dana(oakfield):
    return person("dana", oakfield, Role.DSL, work_mobile="+447700900103")


@pytest.fixture
def hugh(oakfield):
    return person("hugh", oakfield, Role.HEAD, work_mobile="+447700900104")


@pytest.fixture
def olive(oakfield):
    return person("olive", oakfield, Role.OFFICE, work_mobile="+447700900105")


@pytest.fixture
def max(oakfield):  # noqa: A001 - Max is a person here
    return person("max", oakfield, Role.MANAGER, work_mobile="+447700900106")


@pytest.fixture
def bea(birchwood):
    return person("bea", birchwood, Role.DSL, work_mobile="+447700900107")


@pytest.fixture
def oscar(riverside):
    return person("oscar", riverside, Role.DSL, work_mobile="+447700900108")


@pytest.fixture
def household(oakfield):
    household = HouseholdFactory(school=oakfield, address_line_1="12 Elm Grove", postcode="LS6 2BD")
    ContactNumberFactory(household=household, number="+447700900301", label="Mother's mobile")
    ContactNumberFactory(household=household, number="+441134960601", label="Grandparent")
    return household


@pytest.fixture
def pupil(household):
    return PupilFactory(household=household, first_name="Aisha", last_name="Ahmed")


@pytest.fixture
def signed_in(client):
    """`signed_in(dana)` → a test client with Dana signed in."""

    from .auth import sign_in

    return lambda user: sign_in(client, user)


@pytest.fixture(autouse=True)
def _sms_kept_in_memory(settings):
    """SMS go to tracking.sms.outbox (read it like mail.outbox), never to a provider."""
    from tracking import sms, voice

    settings.SMS_BACKEND = "tracking.sms.InMemoryBackend"
    # R-ESC-11: phone calls too (tracking.voice.outbox).
    settings.VOICE_BACKEND = "tracking.voice.InMemoryBackend"
    sms.outbox.clear()
    voice.outbox.clear()
    yield
    sms.outbox.clear()
    voice.outbox.clear()


@pytest.fixture
def admin_client(client, admin_user):
    """pytest-django's admin_client, signed in the Homeward way (with a second factor)."""
    from .auth import sign_in

    return sign_in(client, admin_user)


# Every email, SMS and log line of every test is scanned for children's details (issue #7).
from .leaks import pytest_runtest_setup, pytest_runtest_teardown  # noqa: E402, F401
