"""Issue 19, hole 2: a DSL given admin access (is_staff and model permissions, which is what
SchoolScopedAdmin exists for) must not reach another school through Django's admin, nor take over
the access model (R-SEC-1, need-to-know).

Dana (DSL at Oakfield) is given is_staff and EVERY model permission, the worst a careless
superuser could grant. The tests walk every model registered in the admin and, as her, try to
read, change, add to and delete from Riverside (Oscar's unrelated school)."""

import datetime

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db.models.fields.files import FieldFile
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from riskassess.models import ClosurePeriod, SchoolHoliday
from schools.models import (
    Household,
    Membership,
    Professional,
    Pupil,
    School,
    StaffProfile,
    Trust,
    TrustRole,
    User,
)
from tests.auth import sign_in
from tests.factories import HouseholdFactory, PupilFactory, visit_draft

# Models a school administrator may use, each within her own schools only.
SCOPED = {
    "schools.User",
    "schools.School",
    "schools.Membership",
    "schools.StaffProfile",
    "schools.Professional",
    "schools.Household",
    "schools.Pupil",
    "riskassess.SchoolHoliday",
    "riskassess.ClosurePeriod",
    "audit.AuditEvent",
    "records.VisitRecord",
    "records.Concern",
    "records.Action",
    "records.RecordReminder",
}
# Models only a superuser sees: they span schools or hold the access model and second factors.
HIDDEN = {
    "auth.Group",
    "otp_totp.TOTPDevice",
    "otp_static.StaticDevice",
    "axes.AccessAttempt",
    "axes.AccessLog",
    "axes.AccessFailureLog",
    "schools.Trust",
    "schools.TrustRole",
    # Sign-in providers, their settings and invitations, the provider accounts linked to people,
    # and the MIS connections and runs: the access model and its secrets' settings.
    "sso.SignInProvider",
    "sso.SignInSettings",
    "sso.Invitation",
    "socialaccount.SocialAccount",
    "mis.WondeConnection",
    "mis.SyncRun",
}


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def scoped_dana(dana):
    dana.is_staff = True
    dana.save()
    dana.user_permissions.set(Permission.objects.all())
    return User.objects.get(pk=dana.pk)


@pytest.fixture
def riverside_objects(riverside, oscar):
    """One object of every scoped model at Riverside, keyed by model label."""
    from audit.models import AuditEvent
    from records.models import Action, Concern, RecordReminder, VisitRecord

    household = HouseholdFactory(school=riverside, address_line_1="1 Faraway Road")
    pupil = PupilFactory(household=household, first_name="Far", last_name="Away")
    professional = Professional.objects.create(
        school=riverside, name="Far Social Worker", role="social_worker"
    )
    visit = visit_draft(oscar, pupil, [oscar])
    now = timezone.now()
    return {
        "schools.User": oscar,
        "schools.School": riverside,
        "schools.Membership": Membership.objects.get(user=oscar, school=riverside),
        "schools.StaffProfile": StaffProfile.objects.get(user=oscar),
        "schools.Professional": professional,
        "schools.Household": household,
        "schools.Pupil": pupil,
        "riskassess.SchoolHoliday": SchoolHoliday.objects.create(
            school=riverside,
            name="Far holiday",
            starts_on=datetime.date(2026, 4, 1),
            ends_on=datetime.date(2026, 4, 10),
        ),
        "riskassess.ClosurePeriod": ClosurePeriod.objects.create(
            school=riverside, starts_on=datetime.date(2026, 5, 1)
        ),
        "audit.AuditEvent": AuditEvent.objects.filter(school=riverside).first(),
        "records.VisitRecord": VisitRecord.objects.create(
            visit=visit, school=riverside, started_by=oscar
        ),
        "records.Concern": Concern.objects.create(
            school=riverside,
            visit=visit,
            pupil=pupil,
            level="high",
            details="Far concern",
            raised_by=oscar,
            raised_at=now,
        ),
        "records.Action": Action.objects.create(
            school=riverside,
            visit=visit,
            pupil=pupil,
            description="Far action",
            owner=oscar,
            due_on=datetime.date(2026, 6, 1),
            created_by=oscar,
            created_at=now,
        ),
        "records.RecordReminder": RecordReminder.objects.create(visit=visit, due_at=now),
    }


def test_every_model_in_the_admin_is_either_scoped_to_her_schools_or_hidden_from_her():
    registered = {model._meta.label for model in admin.site._registry}
    assert registered == SCOPED | HIDDEN, (
        "Decide for each new admin model whether a school administrator sees it (scoped to her "
        "schools) or not at all (superusers only)."
    )


@pytest.mark.parametrize("label", sorted(HIDDEN))
def test_a_school_administrator_cannot_open_the_admin_pages_that_span_schools(
    client, scoped_dana, label
):
    model = next(m for m in admin.site._registry if m._meta.label == label)
    sign_in(client, scoped_dana)
    assert client.get(_url(model, "changelist")).status_code == 403
    assert client.get(_url(model, "add")).status_code == 403
    index = client.get(reverse("admin:index")).content.decode()
    assert _url(model, "changelist") not in index


@pytest.mark.parametrize("label", sorted(SCOPED))
def test_a_school_administrator_cannot_see_or_change_or_delete_another_schools_object(
    client, scoped_dana, riverside_objects, label
):
    obj = riverside_objects[label]
    model = type(obj)
    before = model_to_dict(obj)
    sign_in(client, scoped_dana)

    changelist = client.get(_url(model, "changelist"))
    assert changelist.status_code in (200, 403)
    assert _url(model, "change", obj.pk) not in changelist.content.decode()

    page = client.get(_url(model, "change", obj.pk))
    assert page.status_code in (302, 403, 404)

    # An empty file field (a staff photo nobody uploaded) is not a value a form can post.
    forged = {
        key: value
        for key, value in before.items()
        if value is not None and not isinstance(value, FieldFile)
    }
    forged.update({"first_name": "Changed", "name": "Changed", "is_superuser": "on"})
    client.post(_url(model, "change", obj.pk), forged)
    client.post(_url(model, "delete", obj.pk), {"post": "yes"})
    client.post(
        _url(model, "changelist"),
        {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
    )
    assert model.objects.filter(pk=obj.pk).exists()
    assert model_to_dict(model.objects.get(pk=obj.pk)) == before


def test_a_school_administrator_cannot_make_herself_superuser(client, scoped_dana):
    sign_in(client, scoped_dana)
    client.post(
        _url(User, "change", scoped_dana.pk),
        {
            "username": "dana",
            "email": scoped_dana.email,
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "09:00:00",
        },
    )
    scoped_dana.refresh_from_db()
    assert not scoped_dana.is_superuser


def test_a_school_administrator_cannot_change_another_schools_dsl_password(
    client, scoped_dana, oscar, bea
):
    sign_in(client, scoped_dana)
    for other in (oscar, bea):
        before = other.password
        response = client.post(
            reverse("admin:auth_user_password_change", args=[other.pk]),
            {"password1": "a-New-passw0rd-123", "password2": "a-New-passw0rd-123"},
        )
        assert response.status_code in (302, 403, 404)
        other.refresh_from_db()
        assert other.password == before


def test_a_school_administrator_cannot_change_the_password_of_a_colleague_at_her_own_school(
    client, scoped_dana, sam
):
    sign_in(client, scoped_dana)
    before = sam.password
    response = client.post(
        reverse("admin:auth_user_password_change", args=[sam.pk]),
        {"password1": "a-New-passw0rd-123", "password2": "a-New-passw0rd-123"},
    )
    assert response.status_code == 403
    sam.refresh_from_db()
    assert sam.password == before


def test_a_school_administrator_cannot_add_herself_as_dsl_at_another_school(
    client, scoped_dana, riverside, birchwood
):
    sign_in(client, scoped_dana)
    for school in (riverside, birchwood):
        client.post(
            _url(Membership, "add"), {"user": scoped_dana.pk, "school": school.pk, "role": "dsl"}
        )
    assert list(Membership.objects.filter(user=scoped_dana).values_list("school", flat=True)) == [
        Membership.objects.get(user=scoped_dana).school_id
    ]
    assert not scoped_dana.has_perm("schools.view_records", riverside)


def test_a_school_administrator_cannot_make_herself_a_trust_lead(client, scoped_dana, trust):
    sign_in(client, scoped_dana)
    response = client.post(_url(TrustRole, "add"), {"user": scoped_dana.pk, "trust": trust.pk})
    assert response.status_code == 403
    assert not TrustRole.objects.exists()
    response = client.post(_url(Trust, "add"), {"name": "Her own trust"})
    assert response.status_code == 403


def test_a_school_administrator_cannot_add_a_school(client, scoped_dana):
    sign_in(client, scoped_dana)
    response = client.post(_url(School, "add"), {"name": "Her own school", "urn": "999999"})
    assert response.status_code == 403
    assert not School.objects.filter(urn="999999").exists()


def _household_data(school):
    return {
        "school": school.pk,
        "address_line_1": "2 Forged Lane",
        "address_line_2": "",
        "town": "Leeds",
        "postcode": "LS6 2BD",
        "carers-TOTAL_FORMS": 0,
        "carers-INITIAL_FORMS": 0,
        "contact_numbers-TOTAL_FORMS": 0,
        "contact_numbers-INITIAL_FORMS": 0,
        "risk_flags-TOTAL_FORMS": 0,
        "risk_flags-INITIAL_FORMS": 0,
    }


def test_a_school_administrator_cannot_add_anything_to_another_school_by_a_forged_school_id(
    client, scoped_dana, riverside
):
    sign_in(client, scoped_dana)
    client.post(_url(Household, "add"), _household_data(riverside))
    client.post(
        _url(Professional, "add"),
        {"school": riverside.pk, "name": "Forged", "role": "other"},
    )
    client.post(
        _url(SchoolHoliday, "add"),
        {
            "school": riverside.pk,
            "name": "Forged",
            "starts_on": "2026-07-01",
            "ends_on": "2026-07-02",
        },
    )
    client.post(_url(ClosurePeriod, "add"), {"school": riverside.pk, "starts_on": "2026-07-01"})
    assert not Household.objects.filter(school=riverside).exists()
    assert not Professional.objects.filter(school=riverside).exists()
    assert not SchoolHoliday.objects.filter(school=riverside).exists()
    assert not ClosurePeriod.objects.filter(school=riverside).exists()


def test_a_school_administrator_still_adds_a_household_to_her_own_school(
    client, scoped_dana, oakfield
):
    sign_in(client, scoped_dana)
    response = client.post(_url(Household, "add"), _household_data(oakfield))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Household.objects.filter(school=oakfield, address_line_1="2 Forged Lane").exists()


def test_a_forged_post_cannot_attach_her_pupil_to_another_schools_household_or_professional(
    client, scoped_dana, pupil, riverside_objects
):
    far_household = riverside_objects["schools.Household"]
    far_professional = riverside_objects["schools.Professional"]
    sign_in(client, scoped_dana)
    data = {
        "school": pupil.school_id,
        "household": far_household.pk,
        "first_name": "Aisha",
        "last_name": "Ahmed",
        "date_of_birth": "2017-03-14",
        "year_group": "4",
        "upn": "",
        "professionals": [far_professional.pk],
        "cultural_notes": "",
        "interpreter_language": "",
    }
    client.post(_url(Pupil, "change", pupil.pk), data)
    pupil.refresh_from_db()
    assert pupil.household_id != far_household.pk
    assert not pupil.professionals.exists()


def test_a_school_administrator_sees_only_her_schools_people_in_the_user_list(
    client, scoped_dana, sam, oscar, bea
):
    sign_in(client, scoped_dana)
    page = client.get(_url(User, "changelist")).content.decode()
    assert _url(User, "change", sam.pk) in page
    assert _url(User, "change", oscar.pk) not in page
    assert _url(User, "change", bea.pk) not in page
    own = client.get(_url(User, "change", sam.pk)).content.decode()
    assert 'name="is_superuser"' not in own and 'name="user_permissions"' not in own
    assert 'name="groups"' not in own and 'name="is_staff"' not in own


def _number_for_carer(household, carer):
    data = _household_data(household.school)
    data.update(
        {
            "address_line_1": household.address_line_1,
            "postcode": household.postcode,
            "contact_numbers-TOTAL_FORMS": 1,
            "contact_numbers-0-carer": carer.pk,
            "contact_numbers-0-number": "+447700900399",
            "contact_numbers-0-label": "Aunt's mobile",
            "contact_numbers-0-current": "on",
        }
    )
    return data


def test_a_school_administrator_gives_a_number_to_her_own_households_carer_only(
    client, scoped_dana, riverside_objects
):
    from schools.models import Carer, ContactNumber

    household = HouseholdFactory(school=scoped_dana.memberships.get().school)
    own = Carer.objects.create(household=household, name="Aunt Own", relationship="Aunt")
    far = Carer.objects.create(
        household=riverside_objects["schools.Household"], name="Far Carer", relationship="Aunt"
    )
    sign_in(client, scoped_dana)
    url = _url(Household, "change", household.pk)
    client.post(url, _number_for_carer(household, far))
    assert not ContactNumber.objects.filter(number="+447700900399").exists()
    response = client.post(url, _number_for_carer(household, own))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert ContactNumber.objects.get(number="+447700900399").carer == own
