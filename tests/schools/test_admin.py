"""The directory in Django's admin: changes are audited, memberships move the groups, and a
DSL with admin access sees only their own school's data (need-to-know)."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from schools.models import Household, Membership


@pytest.fixture
def admin_dana(dana):
    dana.is_staff = True
    dana.save()
    from django.contrib.auth.models import Permission

    dana.user_permissions.set(Permission.objects.filter(content_type__app_label="schools"))
    return dana


def test_a_household_changed_in_the_admin_is_audited(admin_client, household):
    url = reverse("admin:schools_household_change", args=[household.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    data = {
        "school": household.school_id,
        "address_line_1": "14 Elm Grove",
        "address_line_2": "",
        "town": "Leeds",
        "postcode": "ls6 2bd",
        "carers-TOTAL_FORMS": 0,
        "carers-INITIAL_FORMS": 0,
        "contact_numbers-TOTAL_FORMS": 0,
        "contact_numbers-INITIAL_FORMS": 0,
        "risk_flags-TOTAL_FORMS": 0,
        "risk_flags-INITIAL_FORMS": 0,
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(event_type="household.changed")
    assert event.changes["address_line_1"] == ["12 Elm Grove", "14 Elm Grove"]


def test_a_bad_postcode_in_the_admin_is_a_message_not_a_crash(admin_client, household):
    url = reverse("admin:schools_household_change", args=[household.pk])
    response = admin_client.post(
        url,
        {
            "school": household.school_id,
            "address_line_1": "x",
            "town": "Leeds",
            "postcode": "NOPE",
            "carers-TOTAL_FORMS": 0,
            "carers-INITIAL_FORMS": 0,
            "contact_numbers-TOTAL_FORMS": 0,
            "contact_numbers-INITIAL_FORMS": 0,
            "risk_flags-TOTAL_FORMS": 0,
            "risk_flags-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "is not a UK postcode" in response.content.decode()
    household.refresh_from_db()
    assert household.postcode == "LS6 2BD"


def test_adding_a_membership_in_the_admin_grants_the_role(admin_client, sam, oakfield):
    response = admin_client.post(
        reverse("admin:schools_membership_add"),
        {"user": sam.pk, "school": oakfield.pk, "role": "dsl"},
    )
    assert response.status_code == 302
    assert Membership.objects.filter(user=sam, role="dsl").exists()
    sam = type(sam).objects.get(pk=sam.pk)
    assert sam.has_perm("schools.authorise_visits", oakfield)


def test_a_dsl_in_the_admin_sees_only_their_own_schools_households(
    client, admin_dana, household, birchwood
):
    from tests.auth import sign_in
    from tests.factories import HouseholdFactory

    other = HouseholdFactory(school=birchwood, address_line_1="1 Faraway Road")
    sign_in(client, admin_dana)
    page = client.get(reverse("admin:schools_household_changelist")).content.decode()
    assert "12 Elm Grove" in page
    assert "Faraway Road" not in page
    assert Household.objects.count() == 2
    # Another school's household does not exist for her: the admin says so and goes back.
    response = client.get(reverse("admin:schools_household_change", args=[other.pk]))
    assert response.status_code == 302 and "1 Faraway Road" not in response.content.decode()
