"""The ContactLog model moves here from `records` without touching a row: records migration 0005
renamed its table, so this migration only tells Django's state that the model lives here now."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('records', '0005_move_audit_and_contacts_tables'),
        ('schools', '0001_initial'),
        ('visits', '0002_calendarfeed'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ContactLog',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('counterpart', models.CharField(choices=[('family', 'Family (a household number)'), ('professional', 'A professional involved with the family'), ('social_worker', 'The allocated social worker'), ('social_care', 'Local social care front door (MASH / CASS / First Response)'), ('police', 'Police'), ('other_school', "A sibling's school"), ('other', 'Other')], max_length=16)),
                        ('contacted', models.CharField(blank=True, help_text='Who was contacted, when not a number above.', max_length=150)),
                        ('number_or_address', models.CharField(blank=True, max_length=150)),
                        ('channel', models.CharField(choices=[('phone', 'Phone call'), ('text', 'Text message'), ('email', 'Email'), ('video', 'Video call'), ('letter', 'Letter'), ('visit', 'Visit'), ('in_person', 'In person at school')], max_length=10)),
                        ('outcome', models.CharField(choices=[('spoke_to_parent', 'Spoke to parent or carer'), ('spoke_to_child', 'Spoke to the child'), ('spoke_to_professional', 'Spoke to the professional'), ('acknowledged', 'Family acknowledged the message'), ('no_answer', 'No answer'), ('voicemail', 'Left a voicemail'), ('message_sent', 'Message sent, no reply yet'), ('wrong_number', 'Wrong or dead number'), ('refused', 'Refused contact')], max_length=24)),
                        ('notes', models.TextField(blank=True)),
                        ('occurred_at', models.DateTimeField(help_text='When the contact was made or attempted.')),
                        ('recorded_at', models.DateTimeField(auto_now_add=True)),
                        ('contact_number', models.ForeignKey(blank=True, help_text='The household number tried, for a family contact.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='schools.contactnumber')),
                        ('household', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='contact_logs', to='schools.household')),
                        ('professional', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='schools.professional')),
                        ('pupil', models.ForeignKey(blank=True, help_text='Empty when the contact was about the whole household.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='contact_logs', to='schools.pupil')),
                        ('recorded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('school', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='schools.school')),
                        ('visit', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='visits.visit')),
                    ],
                    options={
                        'ordering': ['-occurred_at', '-id'],
                        'indexes': [models.Index(fields=['household', 'occurred_at'], name='contactlog_household_time'), models.Index(fields=['pupil', 'occurred_at'], name='contactlog_pupil_time')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
