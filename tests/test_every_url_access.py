"""R-SEC-1 for every URL, one test per URL: anonymous → sign-in, another school → 404, the wrong
role → 403, the right roles → the page. Its own module, because its one world is built once for
the module (tests/test_every_url.py builds a world per test, with the conftest's people)."""

import pytest
from django.urls import reverse

from .auth import sign_in
from .test_every_url import _open, _world_build
from .urls_under_test import PAGES


@pytest.fixture(scope="module")
def _one_world_for_the_module(django_db_setup, django_db_blocker):
    """The world of `world`, built once for this module's many-URL tests, in a transaction rolled
    back after the last of them (what Django's setUpTestData does): each test runs in a savepoint
    inside it, so what one test's POSTs change, the next does not see. The people are the
    conftest's, made here because its fixtures are per test."""
    from django.db import transaction
    from django.test import override_settings

    from config.celery_app import app
    from schools.models import Role, Trust

    from .factories import ContactNumberFactory, HouseholdFactory, PupilFactory, person
    from .factories import school_create as school

    eager = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    quiet = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        SMS_BACKEND="tracking.sms.InMemoryBackend",
        VOICE_BACKEND="tracking.voice.InMemoryBackend",
    )
    with django_db_blocker.unblock(), quiet, transaction.atomic():
        trust = Trust.objects.create(name="Aire Valley Learning Trust")
        oakfield = school("Oakfield Primary School", "100001", trust=trust)
        riverside = school("Riverside Community School", "900001")
        people = {
            name: person(name, at, role, work_mobile=f"+447700900{number}")
            for name, at, role, number in [
                ("sam", oakfield, Role.STAFF, 101),
                ("tess", oakfield, Role.STAFF, 102),
                ("dana", oakfield, Role.DSL, 103),
                ("hugh", oakfield, Role.HEAD, 104),
                ("olive", oakfield, Role.OFFICE, 105),
                ("max", oakfield, Role.MANAGER, 106),
                ("oscar", riverside, Role.DSL, 108),
            ]
        }
        household = HouseholdFactory(
            school=oakfield, address_line_1="12 Elm Grove", postcode="LS6 2BD"
        )
        ContactNumberFactory(household=household, number="+447700900301", label="Mother's mobile")
        ContactNumberFactory(household=household, number="+441134960601", label="Grandparent")
        pupil = PupilFactory(household=household, first_name="Aisha", last_name="Ahmed")
        yield _world_build(**people, household=household, pupil=pupil)
        transaction.set_rollback(True)
    app.conf.task_always_eager, app.conf.task_eager_propagates = eager


@pytest.fixture
def one_world(db, _one_world_for_the_module):
    return _one_world_for_the_module


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_url_admits_its_roles_and_no_one_else(client, one_world, name):
    """R-SEC-1, for one URL: an anonymous visitor is sent to sign in (GET and POST), Oscar from
    another school gets 404 for Oakfield's objects, each role without the permission gets 403,
    and each role with it gets the page. One world for all the URLs keeps the suite fast (each
    test's changes are rolled back); within a test, the checks that change nothing run first,
    the allowed roles (whose POSTs may act) last."""
    page, world = PAGES[name], one_world
    url = reverse(name, kwargs=page.kwargs(world))
    for response in (_open(client, page, url), client.post(url)):
        assert response.status_code == 302, f"anonymous {name}"
        assert response["Location"].startswith(reverse("login"))
    if page.scoped:
        sign_in(client, world["oscar"])
        assert _open(client, page, url).status_code == 404, f"oscar must get 404 from {name}"
    for username in page.forbidden:
        sign_in(client, world[username])
        assert _open(client, page, url).status_code == 403, f"{username} must not reach {name}"
    for username in page.allowed:
        sign_in(client, world[username])
        response = _open(client, page, url)
        assert response.status_code in (200, 302), f"{username} should reach {name}"
