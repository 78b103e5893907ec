import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from audit.models import AuditEvent
from schools import services
from schools.models import ContactNumber, Household, HouseholdRiskFlag, Pupil, School
from schools.validators import format_uk_phone, normalise_postcode, normalise_uk_phone


def _save(actor, instance, school):
    services.directory_object_save(actor=actor, instance=instance, school=school, before={})


def test_a_bad_postcode_is_refused_with_a_clear_message_and_nothing_saved(dana, oakfield):
    household = Household(
        school=oakfield, address_line_1="1 Elm Grove", town="Leeds", postcode="NOT A CODE"
    )
    with pytest.raises(ValidationError) as error:
        _save(dana, household, oakfield)
    assert "is not a UK postcode" in str(error.value.message_dict["postcode"])
    assert not Household.objects.exists()


@pytest.mark.parametrize("postcode", ["LS6 1AA", "ls61aa", "SW1A 1AA", "M1 1AE", "B33 8TH"])
def test_real_postcode_shapes_are_accepted(postcode):
    from schools.validators import validate_uk_postcode

    validate_uk_postcode(postcode)


def test_postcodes_are_written_the_royal_mail_way():
    assert normalise_postcode(" sw1a1aa ") == "SW1A 1AA"


def test_a_bad_phone_number_is_refused_and_nothing_saved(dana, household):
    number = ContactNumber(household=household, number="12345", label="Mum")
    with pytest.raises(ValidationError) as error:
        _save(dana, number, household.school)
    assert "not a valid UK phone number" in str(error.value.message_dict["number"])
    assert household.contact_numbers.count() == 2


def test_a_uk_number_is_stored_in_international_form_and_shown_the_british_way():
    assert normalise_uk_phone("0113 496 0601") == "+441134960601"
    assert format_uk_phone("+441134960601") == "0113 496 0601"


def test_a_foreign_number_is_not_a_uk_number():
    with pytest.raises(ValidationError):
        normalise_uk_phone("+33 1 42 68 53 00")


def test_a_date_of_birth_in_the_future_is_refused_and_nothing_saved(dana, household):
    pupil = Pupil(
        school=household.school,
        household=household,
        first_name="Future",
        last_name="Child",
        date_of_birth=datetime.date.today() + datetime.timedelta(days=1),
        year_group="1",
    )
    with pytest.raises(ValidationError) as error:
        _save(dana, pupil, household.school)
    assert "in the future" in str(error.value.message_dict["date_of_birth"])
    assert not Pupil.objects.filter(first_name="Future").exists()


def test_a_upn_is_unique_within_a_school(household):
    from tests.factories import PupilFactory

    PupilFactory(household=household, upn="A100001000001")
    with pytest.raises(IntegrityError), transaction.atomic():
        PupilFactory(household=household, upn="A100001000001")


def test_a_school_cannot_need_zero_visitors(oakfield):
    # R-REQ-2: a school may lower the minimum to 1, never to 0.
    with pytest.raises(IntegrityError), transaction.atomic():
        School.objects.filter(pk=oakfield.pk).update(minimum_visitors=0)


def test_a_school_has_the_policy_defaults_of_policy_md(oakfield):
    assert oakfield.minimum_visitors == 2  # R-REQ-2
    assert oakfield.overdue_grace_minutes == 15  # R-TRK-3
    assert oakfield.retry_interval_minutes == 5  # R-ESC-2
    assert oakfield.retries == 2  # R-ESC-3
    assert oakfield.evening_starts_at == datetime.time(18, 0)  # R-REQ-4
    assert oakfield.morning_starts_at == datetime.time(8, 0)  # R-REQ-4
    assert oakfield.record_deadline_hours == 24  # R-REC-3
    assert oakfield.assessment_max_age_days == 7  # R-RA-8
    assert oakfield.contact_numbers_minimum == 2  # R-REQ-8
    assert oakfield.missing_contact_school_days == 5  # R-CLO-2
    assert oakfield.inform_local_authority_days == 20  # R-CLO-2


def test_a_directory_change_writes_the_audit_trail_with_what_changed(dana, pupil):
    before = {"interpreter_language": pupil.interpreter_language}
    pupil.interpreter_language = "Polish"
    services.directory_object_save(actor=dana, instance=pupil, school=pupil.school, before=before)
    event = AuditEvent.objects.get(event_type="pupil.changed")
    assert event.actor == dana
    assert event.school == pupil.school
    assert event.changes["interpreter_language"] == ["", "Polish"]


def test_recording_a_risk_flag_notes_who_and_when_and_marks_the_household_changed(dana, household):
    flag = services.household_risk_flag_add(
        actor=dana, household=household, kind=HouseholdRiskFlag.Kind.DOG, notes="Loose dog"
    )
    household.refresh_from_db()
    assert flag.recorded_by == dana
    assert household.risk_flags_changed_at == flag.recorded_at  # read by R-RA-8
    assert AuditEvent.objects.filter(event_type="household.risk_flag_added").count() == 1


def test_creating_a_school_creates_its_per_school_groups(oakfield):
    from django.contrib.auth.models import Group

    names = set(
        Group.objects.filter(name__startswith=f"school:{oakfield.pk}:").values_list(
            "name", flat=True
        )
    )
    assert {f"school:{oakfield.pk}:{role}" for role in ("staff", "office", "dsl", "head")} <= names


def test_a_membership_grants_and_its_removal_withdraws_the_roles_permissions(sam, oakfield):
    from schools.models import Membership, Role

    assert not sam.has_perm("schools.authorise_visits", oakfield)
    membership = services.membership_add(actor=None, user=sam, school=oakfield, role=Role.DSL)
    sam = type(sam).objects.get(pk=sam.pk)  # a fresh permission cache
    assert sam.has_perm("schools.authorise_visits", oakfield)
    services.membership_remove(actor=None, membership=membership)
    sam = type(sam).objects.get(pk=sam.pk)
    assert not sam.has_perm("schools.authorise_visits", oakfield)
    assert Membership.objects.filter(user=sam, role=Role.STAFF).exists()


def test_a_dsl_has_no_permission_at_another_school(dana, birchwood):
    assert not dana.has_perm("schools.view_directory", birchwood)


def test_a_trust_lead_acts_in_every_school_of_the_trust_and_no_other(
    trust, oakfield, birchwood, riverside
):
    from tests.factories import UserFactory

    lead = UserFactory(username="tara")
    services.trust_role_add(actor=None, user=lead, trust=trust)
    assert lead.has_perm("schools.authorise_visits", oakfield)
    assert lead.has_perm("schools.authorise_visits", birchwood)
    assert not lead.has_perm("schools.authorise_visits", riverside)
