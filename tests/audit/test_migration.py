"""The audit trail and the contact log moved out of `records` without losing a row (R-SEC-2):
records migrations 0005 and 0006 rename the tables, audit 0001 and contacts 0001 take the models'
state. Proven on a populated database, backwards and forwards, on SQLite and PostgreSQL."""

import datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_event_create
from contacts.models import ContactLog
from contacts.services import contact_log_create

BEFORE_THE_MOVE = [("records", "0004_visit_record"), ("audit", None), ("contacts", None)]


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def leaf_nodes():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def rows(table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, event_type, object_type FROM {table} ORDER BY id")  # noqa: S608
        return cursor.fetchall()


def contact_rows(table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, outcome, notes FROM {table} ORDER BY id")  # noqa: S608
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_moving_the_audit_trail_and_contact_log_keeps_every_row_both_ways(
    dana, oakfield, household
):
    for number in range(3):
        audit_event_create(actor=dana, school=oakfield, obj=household, event_type=f"test.{number}")
    contact_log_create(
        actor=dana,
        household=household,
        counterpart=ContactLog.Counterpart.FAMILY,
        contacted="Mother",
        channel=ContactLog.Channel.PHONE,
        outcome=ContactLog.Outcome.NO_ANSWER,
        notes="Rang twice.",
        occurred_at=timezone.now() - datetime.timedelta(minutes=5),
    )
    events = rows("audit_auditevent")
    contacts = contact_rows("contacts_contactlog")
    assert len(events) >= 4 and len(contacts) == 1

    migrate(BEFORE_THE_MOVE)
    try:
        assert rows("records_auditevent") == events
        assert contact_rows("records_contactlog") == contacts
    finally:
        migrate(leaf_nodes())

    assert rows("audit_auditevent") == events
    assert contact_rows("contacts_contactlog") == contacts
    assert AuditEvent.objects.filter(event_type__startswith="test.").count() == 3
    assert ContactLog.objects.get().notes == "Rang twice."


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_append_only_trigger_survives_the_move_both_ways(dana, oakfield, household):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    event = audit_event_create(actor=dana, school=oakfield, obj=household, event_type="test")
    migrate(BEFORE_THE_MOVE)
    migrate(leaf_nodes())
    for statement in (
        "UPDATE audit_auditevent SET event_type = 'forged' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).event_type == "test"
