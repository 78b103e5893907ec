"""Issue 15: a signed-in request is cheap. The session is written at most once a minute while the
30-minute idle limit stays exact to the minute; the navigation bar's queries run only for pages
that show it; the schools a permission is granted at are worked out once a request; My visits
finds the user's visits without a join across every visitor of the trust."""

import datetime

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core import request_memo
from schools import services as school_services
from schools.models import Role
from schools.selectors import schools_with_permission
from tests.auth import sign_in
from visits import selectors as visit_selectors
from visits.models import Status, Visit, Visitor


@pytest.fixture(autouse=True)
def navigation_cache_on(settings):
    """As deployed: the navigation bar's facts cached (tests/settings.py turns it off)."""
    settings.NAV_CACHE_SECONDS = 60


MONDAY_9AM = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=datetime.UTC)
TRIVIAL = "password_change_done"  # a signed-in page that reads nothing of its own


def session_writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if "django_session" in q["sql"] and q["sql"].lstrip().startswith(("UPDATE", "INSERT"))
    ]


def get_counting(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, queries


def stored_expiry(client):
    return Session.objects.get(session_key=client.session.session_key).expire_date


# Written at most once a minute ---------------------------------------------------------------


def test_a_request_within_the_minute_does_not_write_the_session(client, sam):
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        sign_in(client, sam)
        client.get(reverse(TRIVIAL))
        expiry = stored_expiry(client)
        clock.shift(datetime.timedelta(seconds=59))
        response, queries = get_counting(client, reverse(TRIVIAL))
    assert response.status_code == 200
    assert session_writes(queries) == []
    assert stored_expiry(client) == expiry
    assert "sessionid" not in response.cookies


def test_a_request_a_minute_or_more_later_writes_it_once_and_renews_the_idle_limit(client, sam):
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        sign_in(client, sam)
        client.get(reverse(TRIVIAL))
        clock.shift(datetime.timedelta(seconds=61))
        response, queries = get_counting(client, reverse(TRIVIAL))
    assert response.status_code == 200
    assert len(session_writes(queries)) == 1
    assert stored_expiry(client) == MONDAY_9AM + datetime.timedelta(seconds=61, minutes=30)
    # The browser's cookie is renewed with it.
    assert response.cookies["sessionid"]["max-age"] == 30 * 60


def test_a_page_every_few_seconds_writes_the_session_once_a_minute(client, sam):
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        sign_in(client, sam)
        writes = 0
        for _ in range(60):  # a board polling every 5 s for five minutes
            clock.shift(datetime.timedelta(seconds=5))
            response, queries = get_counting(client, reverse(TRIVIAL))
            assert response.status_code == 200
            writes += len(session_writes(queries))
    assert writes == 5


# The idle limit stays exact to the minute ----------------------------------------------------


def test_thirty_idle_minutes_after_the_last_write_sign_you_out_and_end_the_session(client, sam):
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        sign_in(client, sam)
        clock.shift(datetime.timedelta(minutes=10))
        assert client.get(reverse("visits:mine")).status_code == 200  # written at 9:10
        clock.shift(datetime.timedelta(minutes=29, seconds=59))
        assert client.get(reverse("visits:mine")).status_code == 200  # 9:39:59, written
        clock.shift(datetime.timedelta(minutes=30))
        response = client.get(reverse("visits:mine"))  # 10:09:59: thirty minutes idle
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert SESSION_KEY not in client.session


def test_the_idle_limit_is_never_longer_than_thirty_minutes_and_at_most_a_minute_shorter(sam):
    from django.test import Client

    # A request 50 s after signing in is not written: idleness counts from 9:00, not 9:00:50.
    early, late = Client(), Client()
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        sign_in(early, sam)
        sign_in(late, sam)
        clock.shift(datetime.timedelta(seconds=50))
        assert early.get(reverse(TRIVIAL)).status_code == 200
        assert late.get(reverse(TRIVIAL)).status_code == 200
        clock.shift(datetime.timedelta(minutes=29, seconds=9))  # 9:29:59
        assert early.get(reverse(TRIVIAL)).status_code == 200
        clock.shift(datetime.timedelta(minutes=30, seconds=1))  # 10:00:00 for the late one
        response = late.get(reverse(TRIVIAL))
    assert response.status_code == 302


def test_an_htmx_request_of_an_idle_session_is_signed_out_too(client, sam):
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        sign_in(client, sam)
        clock.shift(datetime.timedelta(minutes=30))
        response = client.get(reverse("visits:mine"), HTTP_HX_REQUEST="true")
    assert response.status_code == 302
    assert SESSION_KEY not in client.session


# The navigation bar only when it is shown -----------------------------------------------------


def test_a_signed_in_trivial_page_reads_the_user_and_the_second_factor_and_writes_nothing(
    client, sam, settings
):
    """The user and the verified second factor, and the session itself only when sessions live
    in the database alone (no REDIS_URL); the navigation bar comes from the cache."""
    sign_in(client, sam)
    client.get(reverse(TRIVIAL))
    response, queries = get_counting(client, reverse(TRIVIAL))
    assert response.status_code == 200
    assert session_writes(queries) == []
    tables = sorted(
        next(t for t in ("django_session", "schools_user", "otp_totp_totpdevice") if t in q["sql"])
        for q in queries.captured_queries
    )
    expected = ["otp_totp_totpdevice", "schools_user"]
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        expected.insert(0, "django_session")
    assert tables == expected


def test_closure_mode_switched_on_shows_on_the_next_page_though_the_bar_is_cached(
    client, dana, oakfield
):
    """R-CLO-1: every page shows closure mode, the page right after it is switched on too."""
    sign_in(client, dana)
    assert "Closure mode" not in client.get(reverse(TRIVIAL)).content.decode()
    oakfield.closure_mode = True
    oakfield.save()
    assert "Closure mode" in client.get(reverse(TRIVIAL)).content.decode()


def test_a_new_role_shows_in_the_navigation_bar_on_the_next_page(client, sam, oakfield):
    sign_in(client, sam)
    assert reverse("visits:queue") not in client.get(reverse(TRIVIAL)).content.decode()
    school_services.membership_add(actor=None, user=sam, school=oakfield, role=Role.DSL)
    assert reverse("visits:queue") in client.get(reverse(TRIVIAL)).content.decode()


def test_the_navigation_bar_still_shows_the_users_roles_and_closure_mode(client, dana, oakfield):
    oakfield.closure_mode = True
    oakfield.save()
    sign_in(client, dana)
    page = client.get(reverse(TRIVIAL)).content.decode()
    assert "Closure mode" in page
    assert oakfield.name in page
    assert reverse("visits:queue") in page  # an authoriser's link


def test_a_page_that_does_not_show_the_navigation_bar_makes_none_of_its_queries(
    client, sam, monkeypatch
):
    """An htmx fragment, a redirect: the navigation bar's queries are never made."""
    from schools import context_processors

    asked = []
    monkeypatch.setattr(
        context_processors, "user_roles", lambda user: asked.append("roles") or set()
    )
    sign_in(client, sam)
    assert client.get(reverse("home")).status_code == 302  # staff go to My visits
    assert asked == []
    client.get(reverse(TRIVIAL))
    assert asked == ["roles"]  # a whole page reads them, once


# Permissions worked out once a request --------------------------------------------------------


def test_the_queue_works_out_where_the_dsl_authorises_once(client, dana):
    sign_in(client, dana)
    client.get(reverse("visits:queue"))
    response, queries = get_counting(client, reverse("visits:queue"))
    assert response.status_code == 200
    guardian = [
        q["sql"]
        for q in queries.captured_queries
        if "guardian_userobjectpermission" in q["sql"] and "authorise_visits" in q["sql"]
    ]
    assert len(guardian) == 1, guardian


def test_outside_a_request_permissions_are_worked_out_afresh_every_time(dana, oakfield):
    assert oakfield in schools_with_permission(dana, "authorise_visits")
    for membership in dana.memberships.filter(school=oakfield):
        school_services.membership_remove(actor=None, membership=membership)
    assert oakfield not in schools_with_permission(dana, "authorise_visits")


def test_a_role_changed_inside_a_request_is_seen_by_the_rest_of_it(dana, sam, oakfield):
    token = request_memo.open_memo()
    try:
        assert oakfield not in schools_with_permission(sam, "authorise_visits")
        school_services.membership_add(actor=None, user=sam, school=oakfield, role=Role.DSL)
        assert oakfield in schools_with_permission(sam, "authorise_visits")
    finally:
        request_memo.close_memo(token)


# My visits without the trust's history ---------------------------------------------------------


def _visits(count, *, requester, visitors, pupil, status, changed):
    start = timezone.now() - datetime.timedelta(days=60)
    made = Visit.objects.bulk_create(
        Visit(
            school=pupil.school,
            household=pupil.household,
            requested_by=requester,
            status=status,
            reason="attendance",
            purpose="x",
            planned_start=start,
            planned_end=start + datetime.timedelta(hours=1),
            planned_return=start + datetime.timedelta(hours=2),
            submitted_at=start,
        )
        for _ in range(count)
    )
    Visitor.objects.bulk_create(
        Visitor(visit=v, user=u, role_on_visit="lead") for v in made for u in visitors
    )
    Visit.objects.filter(pk__in=[v.pk for v in made]).update(updated_at=changed)
    return made


def test_my_visits_lists_what_i_requested_or_visit_once_each_and_not_long_closed_ones(
    sam, tess, dana, pupil
):
    long_ago = timezone.now() - datetime.timedelta(days=90)
    lately = timezone.now() - datetime.timedelta(days=3)
    closed_long_ago = _visits(
        3,
        requester=sam,
        visitors=[sam, tess],
        pupil=pupil,
        status=Status.RECORDED,
        changed=long_ago,
    )
    recorded_lately = _visits(
        1, requester=dana, visitors=[tess, sam], pupil=pupil, status=Status.RECORDED, changed=lately
    )
    open_as_visitor = _visits(
        2, requester=dana, visitors=[tess], pupil=pupil, status=Status.AUTHORISED, changed=long_ago
    )
    open_as_requester = _visits(
        1, requester=tess, visitors=[sam, dana], pupil=pupil, status=Status.DRAFT, changed=long_ago
    )
    others = _visits(
        2, requester=dana, visitors=[sam], pupil=pupil, status=Status.SUBMITTED, changed=lately
    )
    listed = [v.pk for g in visit_selectors.my_visits_grouped(user=tess) for v in g["visits"]]
    assert sorted(listed) == sorted(
        v.pk for v in recorded_lately + open_as_visitor + open_as_requester
    )
    assert not {v.pk for v in closed_long_ago + others} & set(listed)


def test_my_visits_makes_as_many_queries_for_many_past_visits_as_for_few(client, sam, tess, pupil):
    sign_in(client, tess)
    long_ago = timezone.now() - datetime.timedelta(days=90)
    _visits(
        2, requester=sam, visitors=[tess], pupil=pupil, status=Status.AUTHORISED, changed=long_ago
    )
    client.get(reverse("visits:mine"))
    _, few = get_counting(client, reverse("visits:mine"))
    _visits(
        300, requester=sam, visitors=[tess], pupil=pupil, status=Status.RECORDED, changed=long_ago
    )
    _visits(
        30, requester=sam, visitors=[tess], pupil=pupil, status=Status.AUTHORISED, changed=long_ago
    )
    _, many = get_counting(client, reverse("visits:mine"))
    assert len(many) == len(few)


# Redis down -----------------------------------------------------------------------------------

REDIS_DOWN = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        # Nothing listens on port 1: every cache call fails at once.
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}


def test_with_redis_down_signed_in_pages_work_from_the_database_and_signing_out_ends_it(
    client, dana, oakfield, settings
):
    settings.CACHES = REDIS_DOWN
    settings.SESSION_ENGINE = "core.sessions"
    oakfield.closure_mode = True
    oakfield.save()  # the navigation cache cannot be told: the save still happens
    sign_in(client, dana)
    page = client.get(reverse(TRIVIAL))
    assert page.status_code == 200
    assert "Closure mode" in page.content.decode()  # the bar, worked out without the cache
    assert client.get(reverse("visits:queue")).status_code == 200
    client.post(reverse("logout"))
    assert SESSION_KEY not in client.session
    assert client.get(reverse("visits:queue")).status_code == 302


def test_with_redis_up_a_session_is_read_from_the_cache_not_the_database(client, sam, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "s"}
    }
    settings.SESSION_ENGINE = "core.sessions"
    sign_in(client, sam)
    client.get(reverse(TRIVIAL))
    response, queries = get_counting(client, reverse(TRIVIAL))
    assert response.status_code == 200
    assert not [q for q in queries.captured_queries if "django_session" in q["sql"]]
