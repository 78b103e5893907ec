"""`seed_demo`: the demo's people, schools and pupils, and the living demo (config.demo): a
school week of visits in every state, built through the services, idempotent."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from records.models import Action, Concern
from schools.models import ContactNumber, Household, Membership, Pupil, School, User
from tracking.models import SignOut
from visits.models import Status, Visit


def _counts():
    return [
        m.objects.count()
        for m in (School, User, Membership, Household, Pupil, ContactNumber, AuditEvent)
    ]


def test_seed_demo_creates_the_named_people_and_running_it_twice_changes_nothing(db, capsys):
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")
    assert _counts() == first
    assert set(User.objects.values_list("username", flat=True)) >= {
        "sam",
        "tess",
        "dana",
        "hugh",
        "olive",
        "max",
        "bea",
        "oscar",
    }
    assert 25 <= Pupil.objects.count() <= 35
    assert 15 <= Household.objects.count() <= 25
    assert "homeward-demo-2026" in capsys.readouterr().out


def test_seed_demo_has_siblings_risk_flags_and_households_short_of_numbers(db):
    from django.db.models import Count

    call_command("seed_demo")
    households = Household.objects.annotate(
        n_pupils=Count("pupils", distinct=True),
        n_numbers=Count("contact_numbers", distinct=True),
    )
    assert households.filter(n_pupils__gte=2).exists()
    assert households.filter(n_numbers__lt=2).exists()  # R-REQ-8 data-quality examples
    assert households.filter(risk_flags__isnull=False).exists()


def test_demo_dana_can_sign_in_with_the_printed_password_and_is_asked_for_her_code(client, db):
    call_command("seed_demo", stdout=io.StringIO())
    from tests.auth import sign_in_with_password

    response = sign_in_with_password(client, "dana", "homeward-demo-2026")
    # The password is right; Dana is enrolled, so the second step asks for her code.
    assert response.status_code == 200
    assert 'name="token-otp_token"' in response.content.decode()


# --- The living demo (config.demo) -------------------------------------------------------------


@pytest.fixture
def wednesday_morning(time_machine):
    time_machine.move_to(
        datetime.datetime(2026, 11, 25, 10, 30, tzinfo=timezone.get_current_timezone()),
        tick=False,
    )


def test_the_demo_school_has_visits_in_every_state_made_through_the_services(db, wednesday_morning):
    call_command("seed_demo", stdout=io.StringIO())
    oakfield = School.objects.get(urn="100001")
    statuses = set(Visit.objects.filter(school=oakfield).values_list("status", flat=True))
    assert statuses == {status.value for status in Status}
    assert Visit.objects.filter(school=oakfield, status=Status.OUT).count() == 2
    assert Visit.objects.filter(school__urn="100002").exists()  # the trust's other school
    assert Visit.objects.filter(kind="doorstep", status=Status.RECORDED).exists()
    # Every visit has its real audit trail: created, submitted, and so on.
    for visit in Visit.objects.all():
        events = set(
            AuditEvent.objects.filter(
                object_type="visits.visit", object_id=str(visit.pk)
            ).values_list("event_type", flat=True)
        )
        assert "visit.created" in events, visit
    assert Concern.objects.exists() and Action.objects.exists()


def test_the_demo_has_a_pair_due_back_in_a_few_minutes_an_overdue_record_and_a_short_household(
    db, wednesday_morning
):
    # R-TRK-3 (the ladder can be watched), R-REC-3 (record overdue), R-REQ-8 (numbers)
    from records.selectors import overdue_records

    call_command("seed_demo", stdout=io.StringIO())
    now = timezone.now()
    soon = SignOut.objects.filter(state="out").order_by("expected_return_at").first()
    assert now < soon.expected_return_at <= now + datetime.timedelta(minutes=10)
    dana = User.objects.get(username="dana")
    assert overdue_records(user=dana)
    warned = Visit.objects.filter(
        status=Status.SUBMITTED, few_numbers_warning_seen_at__isnull=False
    )
    assert warned.exists()


def test_running_the_living_demo_again_changes_nothing(db, wednesday_morning):
    call_command("seed_demo", stdout=io.StringIO())
    first = (Visit.objects.count(), AuditEvent.objects.count(), SignOut.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (Visit.objects.count(), AuditEvent.objects.count(), SignOut.objects.count()) == first


def test_a_fresh_day_replaces_the_live_visits_so_a_pair_is_again_due_back_in_minutes(
    db, time_machine
):
    start = datetime.datetime(2026, 11, 25, 10, 30, tzinfo=timezone.get_current_timezone())
    time_machine.move_to(start, tick=False)
    call_command("seed_demo", stdout=io.StringIO())
    time_machine.move_to(start + datetime.timedelta(hours=3), tick=False)
    call_command("seed_demo", "--fresh-day", stdout=io.StringIO())
    now = timezone.now()
    out = SignOut.objects.filter(state="out").order_by("expected_return_at")
    assert out.count() == 2
    assert now < out.first().expected_return_at <= now + datetime.timedelta(minutes=10)
    # The earlier live visits were cancelled through the service, with a reason.
    assert (
        Visit.objects.filter(status=Status.CANCELLED, cancel_reason__contains="Demo reset").count()
        == 3
    )


def test_demo_dsls_are_enrolled_and_sign_in_with_a_printed_backup_code(
    client, db, wednesday_morning
):
    # The demo keeps two factors for the roles that need them; a backup code stands in for
    # the phone (django-otp static tokens).
    from tests.auth import sign_in_with_password

    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    line = next(
        row
        for row in out.getvalue().splitlines()
        if row.strip().startswith("dana ") and "backup codes" in row
    )
    code = line.split("backup codes")[1].split()[0]
    sign_in_with_password(client, "dana", "homeward-demo-2026")
    response = client.post(
        reverse("login"),
        {"sign_in_view-current_step": "backup", "backup-otp_token": code},
    )
    assert response.status_code == 302
    assert client.get(reverse("visits:queue")).status_code == 200
    # Staff without a second factor get no codes.
    assert not any(
        row.strip().startswith("sam ") and "key" in row for row in out.getvalue().splitlines()
    )
