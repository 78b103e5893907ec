"""R-SEC-1 for every URL: anonymous → sign-in, another school → 404, the wrong role → 403."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from .auth import sign_in
from .urls_under_test import (
    ADMIN_NAMESPACE,
    PAGES,
    PUBLIC,
    PUBLIC_KWARGS,
    UNAVAILABLE_IS_AN_ANSWER,
)


def _url_names(patterns=None, namespace=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _url_names(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}"


def _app_url_names():
    return sorted(
        {n for n in _url_names() if not n.startswith(f"{ADMIN_NAMESPACE}:")} - set(PUBLIC)
    )


def _unnamed_patterns(patterns=None, prefix=""):
    """Every URL pattern without a name, at any depth (the admin names its own)."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace != ADMIN_NAMESPACE:
                yield from _unnamed_patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and not entry.name:
            yield prefix + str(entry.pattern)


def test_every_url_pattern_is_named_and_has_an_access_entry():
    unnamed = list(_unnamed_patterns())
    assert unnamed == [], "every URL pattern needs a name so its access can be tested"
    missing = [name for name in _app_url_names() if name not in PAGES]
    assert missing == [], f"add these URLs to tests/urls_under_test.py: {missing}"
    stale = [name for name in PAGES if name not in set(_url_names())]
    assert stale == [], f"these entries name no URL any more: {stale}"


def _open(client, page, url):
    return client.post(url) if page.method == "post" else client.get(url)


@pytest.fixture
def world(sam, tess, dana, hugh, olive, max, oscar, household, pupil):
    return _world_build(sam, tess, dana, hugh, olive, max, oscar, household, pupil)


def _world_build(sam, tess, dana, hugh, olive, max, oscar, household, pupil):  # noqa: A002
    from tests.factories import assessment_for, visit_draft

    assessed_visit = visit_draft(sam, pupil, [sam, tess])
    assessment_for(assessed_visit, sam, risk="high")
    records = _records_world(sam, tess, dana, pupil)
    return {
        **records,
        "visit": visit_draft(sam, pupil, [sam, tess]),
        "sync_run": _sync_run(pupil.school),
        "assessed_visit": assessed_visit,
        "doorstep_visit": visit_draft(sam, pupil, [sam, tess], kind="doorstep"),
        "sam": sam,
        "tess": tess,
        "dana": dana,
        "hugh": hugh,
        "olive": olive,
        "max": max,
        "oscar": oscar,
        "household": household,
        "pupil": pupil,
        **_tracking_world(sam, tess, dana, olive, pupil),
        **_transfers_world(sam, oakfield=pupil.school),
    }


def _tracking_world(sam, tess, dana, olive, pupil) -> dict:
    """An authorised visit waiting to go out, and one out with its whole ladder fired."""
    import datetime

    from tests.tracking.conftest import authorised_visit, sign_out
    from tracking.ladder import signout_escalate
    from tracking.models import Notification

    waiting = authorised_visit(sam, pupil, [sam, tess], dana)
    signout = sign_out(authorised_visit(sam, pupil, [sam, tess], dana), olive)
    late = signout.expected_return_at + datetime.timedelta(minutes=31)
    signout_escalate(signout_id=signout.pk, now=late)
    return {
        "authorised_visit": waiting,
        "signout": signout,
        "notification": Notification.objects.filter(signout=signout).first(),
    }


def _transfers_world(sam, *, oakfield) -> dict:
    """An Oakfield pupil who left, their file to send and a file received from an earlier
    school; and a Birchwood pupil's file offered to Oakfield."""
    from tests.transfers.conftest import offered_file, received_file, transfer_to_send

    transfer = transfer_to_send(oakfield)
    return {
        "leaver": transfer.pupil,
        "transfer": transfer,
        "received_document": received_file(transfer.pupil, by=sam).documents.get(),
        "offered_transfer": offered_file(to_school=oakfield),
    }


def _sync_run(school):
    from mis.models import SyncRun

    return SyncRun.objects.create(school=school, status=SyncRun.Status.COMPLETED)


def _records_world(sam, tess, dana, pupil) -> dict:
    """A visit the visitors are back from, its draft record, a concern and Tess's action."""
    from django.utils import timezone

    from records import services
    from tests.factories import visit_returned

    visit = visit_returned(sam, pupil, [sam, tess], dana)
    services.record_save(actor=sam, visit=visit, fields={"comments": "Draft"}, pupils={})
    return {
        "returned_visit": visit,
        "concern": services.concern_raise(actor=sam, visit=visit, level="concern", details="x"),
        "action": services.action_create(
            actor=sam, visit=visit, description="Call", owner=tess, due_on=timezone.localdate()
        ),
    }


def test_every_url_about_one_object_proves_another_school_gets_404(world):
    unproven = [name for name, page in PAGES.items() if page.kwargs(world) and not page.scoped]
    assert unproven == [], f"set scoped=True (Oscar must get 404) for: {unproven}"


def test_someone_with_no_school_reaches_no_page_that_needs_a_role(client, world):
    from tests.factories import UserFactory

    sign_in(client, UserFactory(username="no-school-yet"))
    for name, page in sorted(PAGES.items()):
        if page.forbidden:
            response = _open(client, page, reverse(name, kwargs=page.kwargs(world)))
            assert response.status_code in (403, 404), name


def test_oscar_sees_nothing_of_oakfield_on_any_page(client, world):
    """R-SEC-1: whatever Oscar (a DSL at another school) opens, nothing of Oakfield's pupil or
    household is on it."""
    pupil, household = world["pupil"], world["household"]
    secrets = (pupil.first_name, pupil.last_name, household.address_line_1, household.postcode)
    for name, page in sorted(PAGES.items()):
        sign_in(client, world["oscar"])
        response = _open(client, page, reverse(name, kwargs=page.kwargs(world)))
        shown = response.content.decode(errors="replace")
        for secret in secrets:
            assert secret not in shown, f"{name} shows Oscar Oakfield's {secret!r}"


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_pages_open_without_signing_in(client, db, name):
    response = client.get(reverse(name, kwargs=PUBLIC_KWARGS.get(name, {})))
    answers = (200, 302, 404, 405, *((503,) if name in UNAVAILABLE_IS_AN_ANSWER else ()))
    assert response.status_code in answers


def test_the_admin_sends_a_non_staff_user_to_its_own_sign_in(client, world):
    sign_in(client, world["dana"])
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
