"""Deleting a row the leaders' figures count leaves nothing for the next refresh to look for
(insights.summaries), so its visit is left to be counted again. Such deletions are rare: the
retention review, and the sending school's copy of a child's file after a transfer."""

from django.db.models.signals import post_delete
from django.dispatch import receiver

from records.models import PupilSeen, VisitRecord
from tracking.models import EscalationStep, SignOut
from visits.models import Authorisation, Visit

from .summaries import summaries_recount


@receiver(post_delete, sender=Visit, dispatch_uid="insights-visit-deleted")
def _visit_deleted(sender, instance: Visit, **kwargs):
    if instance.submitted_at is not None:  # a draft was never counted
        summaries_recount(instance.pk)


@receiver(post_delete, sender=VisitRecord, dispatch_uid="insights-record-deleted")
def _record_deleted(sender, instance: VisitRecord, **kwargs):
    if instance.status == VisitRecord.Status.SUBMITTED:
        summaries_recount(instance.visit_id)


@receiver(post_delete, sender=Authorisation, dispatch_uid="insights-decision-deleted")
def _decision_deleted(sender, instance: Authorisation, **kwargs):
    summaries_recount(instance.visit_id)


@receiver(post_delete, sender=PupilSeen, dispatch_uid="insights-pupil-seen-deleted")
def _pupil_seen_deleted(sender, instance: PupilSeen, **kwargs):
    visit_id = (
        VisitRecord.objects.filter(pk=instance.record_id, status=VisitRecord.Status.SUBMITTED)
        .values_list("visit_id", flat=True)
        .first()
    )
    if visit_id is not None:  # a draft's children are not counted yet
        summaries_recount(visit_id)


@receiver(post_delete, sender=EscalationStep, dispatch_uid="insights-step-deleted")
def _step_deleted(sender, instance: EscalationStep, **kwargs):
    visit_id = SignOut.objects.filter(pk=instance.signout_id).values_list("visit_id", flat=True)
    if visit_id := visit_id.first():
        summaries_recount(visit_id)
