from celery import shared_task

from schools.models import School, User

from .models import WondeConnection
from .services import mis_sync_run


@shared_task(acks_late=True, soft_time_limit=900, time_limit=960)
def mis_sync_school(*, school_id: int, requested_by_id: int | None = None, full: bool = False):
    school = School.objects.get(pk=school_id)
    requested_by = User.objects.filter(pk=requested_by_id).first() if requested_by_id else None
    mis_sync_run(school=school, requested_by=requested_by, full=full)


@shared_task
def mis_sync_all():
    """Nightly (CELERY_BEAT_SCHEDULE["mis-sync"]): every enabled connection, one task each."""
    for school_id in WondeConnection.objects.filter(enabled=True).values_list(
        "school_id", flat=True
    ):
        mis_sync_school.delay(school_id=school_id)
