from django.contrib import admin, messages

from core.enqueue import enqueue

from . import tasks  # noqa: F401 - registers the task in the web process, for enqueue()
from .models import SyncRun, WondeConnection


@admin.register(WondeConnection)
class WondeConnectionAdmin(admin.ModelAdmin):
    list_display = ("school", "wonde_school_id", "enabled", "synced_until", "token_is_set")
    readonly_fields = ("synced_until", "token_variable", "token_is_set")
    actions = ["sync_now", "full_sync_now"]

    @admin.display(boolean=True, description="Token set")
    def token_is_set(self, obj):
        return bool(obj.pk and obj.token())

    def _enqueue(self, request, queryset, full):
        for connection in queryset:
            enqueue(
                "mis.tasks.mis_sync_school",
                school_id=connection.school_id,
                requested_by_id=request.user.pk,
                full=full,
            )
        messages.success(request, f"{queryset.count()} sync(s) started; see MIS sync runs.")

    @admin.action(description="Sync what changed now")
    def sync_now(self, request, queryset):
        self._enqueue(request, queryset, full=False)

    @admin.action(description="Full sync now")
    def full_sync_now(self, request, queryset):
        self._enqueue(request, queryset, full=True)


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ("school", "started_at", "status", "added", "changed", "left", "refused")
    list_filter = ("status",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
