"""R-SEC-5: pupils, households, carers, contact numbers and staff kept in step with the MIS
through Wonde, against a fake Wonde on 127.0.0.1 (tests/mis/fake_wonde.py)."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from audit.models import AuditEvent
from mis.models import MisLink, SyncItem, SyncRun, WondeConnection
from mis.services import mis_sync_run
from schools.models import Carer, ContactNumber, Household, HouseholdRiskFlag, Pupil, User
from tests.factories import HouseholdFactory, PupilFactory

from .fake_wonde import contact, employee, school_of, student

pytestmark = pytest.mark.django_db

JUNE = datetime.datetime(2026, 6, 1, 22, 0, tzinfo=datetime.UTC)


def at(days):
    return time_machine.travel(JUNE + datetime.timedelta(days=days), tick=False)


def family(n, **kwargs):
    return [contact(2 * n, **kwargs), contact(2 * n + 1, relationship="Father", priority=2)]


def items(run, action):
    return list(run.items.filter(action=action).values_list("kind", "reason"))


# A full sync


def test_a_full_sync_of_two_thousand_pupils_adds_everyone_once(fake_wonde, sync, oakfield):
    # R-SEC-5
    fake_wonde.students = school_of(2000, staff=40).students
    fake_wonde.employees = school_of(0, staff=40).employees
    with at(0):
        run = sync()
    assert run.status == SyncRun.Status.COMPLETED, run.error
    assert Pupil.objects.filter(school=oakfield).count() == 2000
    assert Household.objects.filter(school=oakfield).count() == 1000  # siblings share a home
    assert Carer.objects.filter(household__school=oakfield).count() == 2000
    assert ContactNumber.objects.filter(household__school=oakfield).count() == 2000
    assert User.objects.filter(username__startswith="wonde-").count() == 40
    # Followed every page (100 a page), then deletions and employees.
    assert sum("/students" in r for r in fake_wonde.requests) == 20
    assert run.added == 2000 + 1000 + 2000 + 2000 + 40


def test_staff_are_added_without_any_role(fake_wonde, sync):
    # R-SEC-5: roles stay Homeward's decision
    fake_wonde.employees = {"E0001": employee(1)}
    with at(0):
        sync()
    staff = User.objects.get(username="wonde-E0001")
    assert not staff.memberships.exists() and not staff.trust_roles.exists()
    assert not staff.has_usable_password()


def test_every_change_is_audited_as_made_by_the_mis_sync(fake_wonde, sync):
    # R-SEC-5
    fake_wonde.students = {"S00001": student(1, contacts=family(1))}
    with at(0):
        run = sync()
    events = AuditEvent.objects.filter(event_type__startswith="mis.")
    assert {e.event_type for e in events} == {
        "mis.pupil_added",
        "mis.household_added",
        "mis.carer_added",
        "mis.contact_number_added",
    }
    assert all(e.actor is None and e.changes["sync_run"] == run.pk for e in events)
    assert all(e.changes["by"] == "MIS sync" for e in events)


# Deltas


def test_the_next_run_asks_only_for_what_changed_and_applies_it(fake_wonde, sync):
    # R-SEC-5
    fake_wonde.students = {f"S{n:05d}": student(n, contacts=family(n)) for n in range(10)}
    with at(0):
        sync()
    changed = student(3, contacts=family(3), updated="2026-06-02")
    changed["surname"] = "Newname"
    changed["education_details"]["data"]["current_nc_year"] = "6"
    fake_wonde.students["S00003"] = changed
    fake_wonde.requests.clear()
    with at(2):
        run = sync()
    assert run.updated_after == JUNE
    assert all("updated_after=2026-06-01+22%3A00%3A00" in r for r in fake_wonde.requests)
    pupil = Pupil.objects.get(first_name="Pupil3")
    assert (pupil.last_name, pupil.year_group) == ("Newname", "6")
    assert run.changed == 1 and run.added == 0
    event = AuditEvent.objects.get(event_type="mis.pupil_changed")
    assert event.changes["fields"]["last_name"] == ["Family1", "Newname"]


def test_a_value_a_homeward_user_changed_is_never_overwritten(fake_wonde, sync):
    # R-SEC-5: never overwrites what Homeward's users recorded
    fake_wonde.students = {"S00001": student(1, contacts=family(1))}
    with at(0):
        sync()
    Pupil.objects.filter(first_name="Pupil1").update(last_name="Corrected-By-The-DSL")
    changed = student(1, contacts=family(1), updated="2026-06-02")
    changed["surname"] = "Mis-Spelling"
    fake_wonde.students["S00001"] = changed
    with at(2):
        run = sync()
    assert Pupil.objects.get(first_name="Pupil1").last_name == "Corrected-By-The-DSL"
    assert items(run, "refused") == [
        (
            "pupil",
            "Changed in Homeward since the last sync, so kept as Homeward has it: last name",
        )
    ]


def test_risk_flags_notes_and_homewards_own_numbers_are_left_alone(fake_wonde, sync):
    # R-SEC-5
    fake_wonde.students = {"S00001": student(1, contacts=family(1))}
    with at(0):
        sync()
    pupil = Pupil.objects.get(first_name="Pupil1")
    pupil.cultural_notes = "Prefers the back door"
    pupil.save()
    HouseholdRiskFlag.objects.create(household=pupil.household, kind="dog", notes="Large dog")
    ContactNumber.objects.create(
        household=pupil.household, number="+447700900999", label="Aunt (added by the DSL)"
    )
    fake_wonde.students["S00001"] = student(1, contacts=family(1), updated="2026-06-02")
    fake_wonde.students["S00001"]["contacts"]["data"] = []  # the MIS lost the contacts
    with at(2):
        sync()
    pupil.refresh_from_db()
    assert pupil.cultural_notes == "Prefers the back door"
    assert pupil.household.risk_flags.count() == 1
    assert pupil.household.carers.count() == 2  # never deleted
    assert ContactNumber.objects.filter(number="+447700900999").exists()


# Leaving, and never deleting


def test_a_pupil_deleted_in_wonde_is_marked_left_not_deleted(fake_wonde, sync):
    # R-SEC-5: a sync never deletes; a pupil who left is marked left
    fake_wonde.students = {"S00001": student(1, contacts=family(1))}
    with at(0):
        sync()
    fake_wonde.deletions = [
        {"id": "S00001", "type": "student", "created_at": {"date": "2026-06-02 09:00:00"}}
    ]
    with at(2):
        run = sync()
    pupil = Pupil.objects.get(first_name="Pupil1")
    assert pupil.left_on == datetime.date(2026, 6, 2)
    assert run.left == 1
    assert AuditEvent.objects.filter(event_type="pupil.left", object_id=str(pupil.pk)).exists()
    assert AuditEvent.objects.get(event_type="mis.pupil_marked_left").changes["sync_run"] == run.pk


def test_a_leaving_date_in_the_mis_marks_the_pupil_left(fake_wonde, sync):
    # R-SEC-5
    leaver = student(1, contacts=family(1))
    leaver["education_details"]["data"]["date_of_leaving"] = wonde_date_str("2026-05-20")
    fake_wonde.students = {"S00001": leaver}
    with at(0):
        sync()
    assert Pupil.objects.get(first_name="Pupil1").left_on == datetime.date(2026, 5, 20)


def wonde_date_str(day):
    return {"date": f"{day} 00:00:00.000000", "timezone_type": 3, "timezone": "UTC"}


# Fields switched off


def test_a_field_switched_off_in_wonde_is_absent_not_empty(fake_wonde, sync):
    # R-SEC-5
    fake_wonde.students = {"S00001": student(1, contacts=family(1))}
    with at(0):
        sync()
    born = Pupil.objects.get(first_name="Pupil1").date_of_birth
    fake_wonde.switched_off = {"date_of_birth", "contact_details"}
    fake_wonde.students["S00001"]["updated_at"] = {"date": "2026-06-02 00:00:00"}
    fake_wonde.students["S00002"] = student(2, contacts=family(7), updated="2026-06-02")
    with at(2):
        run = sync()
    assert Pupil.objects.get(first_name="Pupil1").date_of_birth == born
    assert ContactNumber.objects.count() == 2  # numbers kept
    assert not Pupil.objects.filter(first_name="Pupil2").exists()
    ((kind, reason),) = items(run, "refused")
    assert "no date of birth (switched off in Wonde?)" in reason


# Never merging two people


def test_a_look_alike_pupil_goes_to_the_review_list_not_merged(fake_wonde, sync, oakfield):
    # R-SEC-5: never silently merges two people
    household = HouseholdFactory(school=oakfield)
    PupilFactory(
        household=household,
        first_name="Pupil1",
        last_name="Family0",
        date_of_birth=datetime.date(2015, 1, 2),
        upn="",
    )
    fake_wonde.students = {"S00001": student(1, contacts=family(1))}
    with at(0):
        run = sync()
    assert Pupil.objects.filter(first_name="Pupil1").count() == 1
    assert items(run, "review")[0][0] == "pupil"
    assert not MisLink.objects.filter(kind="pupil").exists()


def test_a_pupil_already_in_homeward_with_the_same_upn_is_linked_not_duplicated(
    fake_wonde, sync, oakfield
):
    # R-SEC-5
    household = HouseholdFactory(school=oakfield)
    existing = PupilFactory(household=household, first_name="Known", upn="A000000000001")
    fake_wonde.students = {"S00001": student(1, contacts=family(1))}
    with at(0):
        run = sync()
    assert Pupil.objects.filter(school=oakfield).count() == 1
    existing.refresh_from_db()
    assert existing.first_name == "Known"  # Homeward's value stays
    assert MisLink.objects.get(kind="pupil").object_id == existing.pk
    assert run.refused == 1


def test_a_member_of_staff_whose_email_is_taken_goes_to_review(fake_wonde, sync, sam):
    # R-SEC-5
    fake_wonde.employees = {"E0001": employee(1, email=sam.email)}
    with at(0):
        run = sync()
    assert items(run, "review")[0][0] == "staff"
    assert not User.objects.filter(username="wonde-E0001").exists()


# Rate limits, errors and timeouts


def test_a_429_is_waited_out_with_retry_after(fake_wonde, sync, sleeps):
    # R-SEC-5
    fake_wonde.students = school_of(300).students
    fake_wonde.failures = [{"path": "students", "page": 2, "status": 429}]
    with at(0):
        run = sync()
    assert run.status == SyncRun.Status.COMPLETED
    assert sleeps == [1]
    assert Pupil.objects.count() == 300


def test_a_500_mid_page_is_retried_and_the_run_completes(fake_wonde, sync, sleeps):
    # R-SEC-5
    fake_wonde.students = school_of(300).students
    fake_wonde.failures = [{"path": "students", "page": 2, "status": 500}]
    with at(0):
        run = sync()
    assert run.status == SyncRun.Status.COMPLETED
    assert Pupil.objects.count() == 300


def test_a_timeout_is_retried(fake_wonde, sync):
    # R-SEC-5
    fake_wonde.students = school_of(150).students
    fake_wonde.failures = [{"path": "students", "page": 2, "status": "hang"}]
    with at(0):
        run = sync()
    assert run.status == SyncRun.Status.COMPLETED
    assert Pupil.objects.count() == 150


@pytest.mark.parametrize("failure", [500, "hang"])
def test_a_run_that_cannot_read_wonde_changes_nothing_and_the_next_run_catches_up(
    fake_wonde, sync, wonde, settings, failure
):
    # R-SEC-5: a run completes or leaves the database as it was
    settings.MIS_ATTEMPTS = 2
    fake_wonde.students = school_of(300).students
    fake_wonde.failures = [{"path": "students", "page": 3, "status": failure}] * 2
    with at(0):
        failed = sync()
    assert failed.status == SyncRun.Status.FAILED
    assert "did not answer after 2 attempts" in failed.error
    assert Pupil.objects.count() == 0
    assert not AuditEvent.objects.filter(event_type__startswith="mis.").exists()
    wonde.refresh_from_db()
    assert wonde.synced_until is None
    with at(1):
        again = sync()
    assert again.updated_after is None  # picks up from the last completed run: all of it
    assert again.status == SyncRun.Status.COMPLETED
    assert Pupil.objects.count() == 300


def test_a_failure_while_writing_rolls_the_whole_run_back(fake_wonde, sync, monkeypatch):
    # R-SEC-5
    from mis import services

    fake_wonde.students = school_of(50).students
    fake_wonde.employees = {"E0001": employee(1)}

    def broken(self, record):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services.Sync, "employee", broken)
    with at(0):
        run = sync()
    assert run.status == SyncRun.Status.FAILED and "disk full" in run.error
    assert Pupil.objects.count() == 0 and Household.objects.count() == 0
    assert not MisLink.objects.exists() and not SyncItem.objects.exists()
    assert not AuditEvent.objects.filter(event_type__startswith="mis.").exists()


def test_without_a_token_the_run_fails_with_the_reason(oakfield, wonde, monkeypatch):
    # R-SEC-5: the token comes from the environment only
    monkeypatch.delenv(wonde.token_variable)
    run = mis_sync_run(school=oakfield)
    assert run.status == SyncRun.Status.FAILED
    assert "No Wonde token" in run.error


def test_a_wrong_token_is_refused_plainly(oakfield, wonde, monkeypatch):
    monkeypatch.setenv(wonde.token_variable, "not-the-token")
    run = mis_sync_run(school=oakfield)
    assert "Wonde refused the token (401)" in run.error


# Where it shows, and when it runs


def test_the_dsl_sees_each_run_and_what_it_refused(fake_wonde, sync, signed_in, dana, sam):
    # R-SEC-5: each run's results are shown to the DSL
    fake_wonde.students = {"S00001": student(1, contacts=[])}
    with at(0):
        run = sync()
    page = signed_in(dana).get(reverse("mis:runs")).content.decode()
    assert "What is synced" in page
    detail = signed_in(dana).get(reverse("mis:run_detail", args=[run.pk])).content.decode()
    assert "No contact has a valid home address" in detail
    assert signed_in(sam).get(reverse("mis:runs")).status_code == 403


def test_the_admin_starts_a_sync_on_demand(
    fake_wonde, wonde, admin_client, django_capture_on_commit_callbacks
):
    # R-SEC-5: on demand from the admin
    fake_wonde.students = {"S00001": student(1, contacts=family(1))}
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:mis_wondeconnection_changelist"),
            {"action": "sync_now", "_selected_action": [wonde.pk]},
        )
    assert response.status_code == 302
    run = SyncRun.objects.get()
    assert run.status == SyncRun.Status.COMPLETED and run.requested_by is not None


def test_it_runs_every_night_on_beat(settings):
    # R-SEC-5
    assert settings.CELERY_BEAT_SCHEDULE["mis-sync"]["task"] == "mis.tasks.mis_sync_all"


def test_the_nightly_task_syncs_every_enabled_school(fake_wonde, wonde, birchwood):
    from mis.tasks import mis_sync_all

    WondeConnection.objects.create(school=birchwood, wonde_school_id="B2", enabled=False)
    fake_wonde.students = {"S00001": student(1, contacts=family(1))}
    with at(0):
        mis_sync_all()
    assert list(SyncRun.objects.values_list("school", flat=True)) == [wonde.school_id]


def test_the_csv_import_stays_for_schools_without_wonde():
    from django.core.management import get_commands

    assert "import_pupils" in get_commands()
