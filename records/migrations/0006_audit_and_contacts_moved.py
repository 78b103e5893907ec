"""Django's state forgets AuditEvent and ContactLog in `records`: they live in `audit` and
`contacts` now (their tables were renamed by 0005, with every row)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0005_move_audit_and_contacts_tables"),
        ("audit", "0001_initial"),
        ("contacts", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="AuditEvent"),
                migrations.DeleteModel(name="ContactLog"),
            ],
            database_operations=[],
        ),
    ]
