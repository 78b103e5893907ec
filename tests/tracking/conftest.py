"""Tracking tests: an authorised visit of Sam and Tess, signed out by Olive, and a scan that
runs its on-commit work (the sends) as a worker would."""

import datetime

import pytest
from django.utils import timezone

from tests.factories import assessment_for, visit_draft
from tracking.ladder import escalation_scan
from tracking.models import SignOut
from tracking.signouts import signout_create
from visits.authorisation import visit_authorise
from visits.requests import visit_submit


def authorised_visit(requester, pupil, visitors, authoriser, **data):
    """A visit through the real lifecycle: drafted, assessed, submitted, authorised."""
    visit = visit_draft(requester, pupil, visitors, **data)
    assessment_for(visit, requester)
    visit_submit(actor=requester, visit=visit, warnings_confirmed=True)
    return visit_authorise(actor=authoriser, visit=visit)


def sign_out(
    visit, by, *, back_in=datetime.timedelta(minutes=60), vehicle="Blue Ford Focus YR19 KXT"
):
    """Sign the visit's visitors out with their profile mobiles, back in `back_in`."""
    mobiles = {
        v.user_id: v.user.profile.work_mobile
        for v in visit.visitors.select_related("user__profile")
    }
    return signout_create(
        actor=by,
        visit=visit,
        expected_return_at=timezone.now() + back_in,
        vehicle=vehicle,
        mobiles=mobiles,
    )


@pytest.fixture
def visit(sam, tess, dana, pupil):
    return authorised_visit(sam, pupil, [sam, tess], dana)


@pytest.fixture
def signout(visit, olive, max, hugh, oakfield) -> SignOut:
    """Sam and Tess out, back in an hour. Max is the designated manager; the school has an
    office email and a monitor phone."""
    oakfield.designated_manager = max
    oakfield.office_email = "office@oakfield.example"
    oakfield.monitor_phone = "+447700900500"
    oakfield.save()
    return sign_out(visit, olive)


@pytest.fixture
def scan(django_capture_on_commit_callbacks):
    """Run one escalation scan and what it hands to the workers (eager in tests)."""

    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            report = escalation_scan(**kwargs)
        assert report.errors == 0
        return report

    return run


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`committed(fn, **kwargs)`: call a service and run its on-commit sends."""

    def run(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)

    return run


NOON = datetime.datetime(2026, 11, 25, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def clock(time_machine):
    """Time stands still at 12:00 on 25/11/2026 (GMT) until the test moves it. Ask for it
    before `signout` so the visitors sign out at 12:00, back by 13:00."""
    time_machine.move_to(NOON, tick=False)
    return time_machine
