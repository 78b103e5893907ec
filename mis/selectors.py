from schools.selectors import object_for_user, schools_requiring

from .models import SyncRun


def sync_runs_for(*, user):
    """The runs of the schools where the user reads records (DSLs, deputies, Heads, trust
    leads); 403 for other roles."""
    schools = schools_requiring(user, "view_records")
    return SyncRun.objects.filter(school__in=schools).select_related("school")


def sync_run_for(*, user, pk) -> SyncRun:
    return object_for_user(
        SyncRun.objects.select_related("school"), user, pk=pk, perm="view_records"
    )
