"""On PostgreSQL, refuse UPDATE and DELETE on the audit trail at the database itself (R-SEC-2).

TRUNCATE (used by test isolation and by a restore into an empty database) is not affected.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION records_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The audit trail is append-only: % is refused', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER records_auditevent_append_only
    BEFORE UPDATE OR DELETE ON records_auditevent
    FOR EACH ROW EXECUTE FUNCTION records_auditevent_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS records_auditevent_append_only ON records_auditevent;
DROP FUNCTION IF EXISTS records_auditevent_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
