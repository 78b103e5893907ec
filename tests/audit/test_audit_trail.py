"""R-SEC-2: the audit trail cannot be edited or deleted through the application."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction

from audit.models import AuditEvent
from audit.services import audit_event_create


@pytest.fixture
def event(dana, oakfield):
    return audit_event_create(
        actor=dana, school=oakfield, obj=oakfield, event_type="test.happened", changes={"a": 1}
    )


def test_an_audit_event_records_who_what_when_and_the_changes(event, dana, oakfield):
    assert event.actor == dana
    assert event.school == oakfield
    assert event.object_type == "schools.school"
    assert event.object_id == str(oakfield.pk)
    assert event.occurred_at is not None
    assert event.changes == {"a": 1}


def test_an_audit_event_cannot_be_changed_or_deleted_by_the_application(event):
    event.event_type = "tampered"
    with pytest.raises(PermissionDenied):
        event.save()
    with pytest.raises(PermissionDenied):
        event.delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_refuses_update_and_delete_of_the_audit_table(event):
    for sql in (
        "UPDATE audit_auditevent SET event_type = 'x' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk, event_type="test.happened").exists()


def test_the_admin_shows_the_audit_trail_read_only(admin_client, event):
    from django.urls import reverse

    response = admin_client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert response.status_code == 200
    assert b'name="_save"' not in response.content
    assert admin_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
