"""The AuditEvent model moves here from `records` without touching a row: records migration 0005
renamed its table, so this migration only tells Django's state that the model lives here now."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('records', '0005_move_audit_and_contacts_tables'),
        ('schools', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AuditEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('object_type', models.CharField(help_text='app_label.model of the object.', max_length=60)),
                        ('object_id', models.CharField(max_length=40)),
                        ('event_type', models.CharField(max_length=60)),
                        ('occurred_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('changes', models.JSONField(blank=True, default=dict)),
                        ('actor', models.ForeignKey(blank=True, help_text='Empty when the system acted (the escalation scan, an import).', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('school', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='schools.school')),
                    ],
                    options={
                        'ordering': ['occurred_at', 'id'],
                        'indexes': [models.Index(fields=['object_type', 'object_id', 'occurred_at'], name='audit_object'), models.Index(fields=['school', 'occurred_at'], name='audit_school_time')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
