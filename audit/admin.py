from django.contrib import admin

from schools.admin import SchoolScopedAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(SchoolScopedAdmin):
    """Read-only: the audit trail cannot be edited or deleted (R-SEC-2). A school administrator
    reads only her schools' events."""

    list_display = ("occurred_at", "event_type", "object_type", "object_id", "actor", "school")
    list_filter = ("event_type", "school")
    search_fields = ("event_type", "object_type", "object_id", "actor__username")
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
