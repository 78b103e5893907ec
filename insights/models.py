"""The leaders' figures kept per school and day, so that a dashboard for a whole trust reads a
few thousand small rows instead of every visit of the term (insights.summaries keeps them).

A day here is the day a visit was *requested* (submitted for authorisation), in school time;
each row holds what has become of that day's requests so far. The rows are derived: they can be
deleted and rebuilt from the visits at any time (`manage.py insights_rebuild`)."""

from django.db import models


class SchoolDay(models.Model):
    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    requested = models.PositiveIntegerField(default=0)
    authorised = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    returned = models.PositiveIntegerField(default=0)
    recorded_in_time = models.PositiveIntegerField(default=0)
    # {"reasons": {reason: count}, "outcomes": {outcome: count}, "waits": [seconds, ...]}, in
    # one column (one decoding per row when a trust's term is read). A new reason or outcome
    # needs no migration here. The waits are the whole seconds from each request to its decision
    # (authorised or refused): a median cannot be added up, so the day keeps them all.
    breakdown = models.JSONField(default=dict)
    seen = models.PositiveIntegerField(default=0)
    not_seen = models.PositiveIntegerField(default=0)
    seen_alone = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    retried = models.PositiveIntegerField(default=0)
    manager = models.PositiveIntegerField(default=0)
    help = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "day"], name="schoolday_once"),
        ]

    def __str__(self):
        return f"{self.school_id} {self.day}"


class VisitDay(models.Model):
    """Which school and day each requested visit is counted under, as the day rows last counted
    it: a visit sent back for changes and requested again moves to a later day, and the refresh
    must recount the day it left as well as the day it joined."""

    # Outlives its visit until the next refresh, which counts the visit's old day again
    # (Recount): a constraint or a cascade would lose the day it was counted under.
    visit = models.OneToOneField(
        "visits.Visit",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        primary_key=True,
        related_name="summary_day",
    )
    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["school", "day"], name="visitday_school_day")]

    def __str__(self):
        return f"{self.visit_id}: {self.school_id} {self.day}"


class Recount(models.Model):
    """A visit whose day must be counted again although nothing the refresh looks at says so:
    a row the figures count was deleted (insights.receivers)."""

    visit_id = models.BigIntegerField(primary_key=True)

    def __str__(self):
        return str(self.visit_id)


class SummaryState(models.Model):
    """One row: where the next refresh looks for changed visits, records and ladder steps.
    Empty (a new installation): the next refresh counts every day."""

    changes_since = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"changes since {self.changes_since}"
