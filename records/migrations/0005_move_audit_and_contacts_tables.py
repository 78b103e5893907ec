"""The audit trail and the contact log leave `records` for their own apps (`audit`, `contacts`).

Every row stays where it is: the tables are renamed (audit_auditevent, contacts_contactlog), and
on PostgreSQL the append-only trigger (migration 0002) follows its table and is renamed with it.
The models' state moves in audit 0001, contacts 0001 and records 0006.
"""

from django.db import migrations

RENAME_TRIGGER = """
ALTER TRIGGER records_auditevent_append_only ON audit_auditevent
    RENAME TO audit_auditevent_append_only;
ALTER FUNCTION records_auditevent_append_only() RENAME TO audit_auditevent_append_only;
"""
RENAME_TRIGGER_BACK = """
ALTER TRIGGER audit_auditevent_append_only ON audit_auditevent
    RENAME TO records_auditevent_append_only;
ALTER FUNCTION audit_auditevent_append_only() RENAME TO records_auditevent_append_only;
"""


def trigger_forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(RENAME_TRIGGER, params=None)


def trigger_backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(RENAME_TRIGGER_BACK, params=None)


class Migration(migrations.Migration):
    dependencies = [("records", "0004_visit_record")]

    operations = [
        migrations.AlterModelTable(name="auditevent", table="audit_auditevent"),
        migrations.AlterModelTable(name="contactlog", table="contacts_contactlog"),
        migrations.RunPython(trigger_forward, trigger_backward),
    ]
