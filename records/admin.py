from django.contrib import admin

from schools.admin import SchoolScopedAdmin

from .models import Action, Concern, RecordReminder, VisitRecord


class ReadOnlyAdmin(SchoolScopedAdmin):
    """Records change only through records.services (with their audit events): the admin reads,
    and a school administrator reads only her schools' records."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(VisitRecord)
class VisitRecordAdmin(ReadOnlyAdmin):
    list_display = ("visit", "school", "status", "outcome", "submitted_by", "submitted_at")
    list_filter = ("status", "outcome", "school")


@admin.register(Concern)
class ConcernAdmin(ReadOnlyAdmin):
    list_display = ("visit", "school", "level", "raised_by", "raised_at", "acknowledged_at")
    list_filter = ("level", "school")


@admin.register(Action)
class ActionAdmin(ReadOnlyAdmin):
    list_display = ("pk", "visit", "owner", "due_on", "status")
    list_filter = ("status", "school")


@admin.register(RecordReminder)
class RecordReminderAdmin(ReadOnlyAdmin):
    school_path = "visit__school"
    list_display = ("visit", "due_at", "status", "sent_at")
    list_filter = ("status",)
