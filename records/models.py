from django.conf import settings
from django.db import models

from core.limits import LONG_TEXT, NOTE_TEXT

# ---------------------------------------------------------------------------------------------
# The Home Visit record (001 "Home Visits form"), what each child said and how they presented,
# concerns, actions, and the reminder sent before the record falls due (R-REC-1..6).
# ---------------------------------------------------------------------------------------------


class VisitRecord(models.Model):
    """The Home Visit form the visitors complete after return (R-REC-1). Saved as a draft until
    submitted; submitting closes the visit (visits.progress.visit_mark_recorded)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"

    class Outcome(models.TextChoices):
        SEEN_NO_CONCERNS = "seen_no_concerns", "Child seen, no concerns"
        SEEN_CONCERNS = "seen_concerns", "Child seen, concerns raised"
        FAMILY_SPOKEN_TO = "family_spoken_to", "Spoke to the family, child not seen"
        NO_ANSWER = "no_answer", "No one answered"
        REFUSED = "refused", "The family did not want contact"
        OTHER = "other", "Other (see the outcome details)"

    class Help(models.TextChoices):
        WANTED = "wanted", "Yes, the family wanted help"
        NOT_WANTED = "not_wanted", "No, the family did not want help"
        NOT_ASKED = "not_asked", "Could not ask (no one answered, or no contact)"

    class Acknowledgement(models.TextChoices):
        SIGNED = "signed", "The parent or guardian signed (typed name)"
        DECLINED = "declined", "The parent or guardian declined to sign"
        NOT_AVAILABLE = "not_available", "No parent or guardian was available"

    class NextContact(models.TextChoices):
        VISIT = "visit", "Visit"
        PHONE = "phone", "Phone call"
        OTHER = "other", "Other contact"

    visit = models.OneToOneField("visits.Visit", on_delete=models.PROTECT, related_name="record")
    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # Two visitors may edit the draft at once: a save names the version it started from, and
    # loses (with a message) if the other saved first.
    version = models.PositiveIntegerField(default=1)

    # R-REC-5: nobody answered, and the sealed, addressed note left (001 §3, 000 point 13).
    nobody_answered = models.BooleanField(default=False)
    sealed_note_left = models.BooleanField(default=False)
    sealed_note_details = models.TextField(
        blank=True,
        help_text="Where the note was left, or why none could be left.",
        max_length=NOTE_TEXT,
    )
    # R-REC-2: who else was there and how the adults and the home presented (003, 004).
    others_present = models.TextField(blank=True, max_length=LONG_TEXT)
    adults_presentation = models.TextField(blank=True, max_length=LONG_TEXT)
    home_conditions = models.TextField(blank=True, max_length=LONG_TEXT)
    # 004: "Ask whether the family needs any support … or signpost".
    family_wanted_help = models.CharField(max_length=12, choices=Help.choices, blank=True)
    help_offered = models.TextField(blank=True, max_length=LONG_TEXT)
    # R-REC-1: the parent or guardian's acknowledgement (001 "Signed … Parent/Guardian Name").
    acknowledgement = models.CharField(max_length=14, choices=Acknowledgement.choices, blank=True)
    acknowledged_by_name = models.CharField(max_length=150, blank=True)
    comments = models.TextField(blank=True, max_length=LONG_TEXT)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    outcome_details = models.TextField(blank=True, max_length=LONG_TEXT)
    action_required = models.TextField(blank=True, max_length=LONG_TEXT)
    # R-REC-6: the next visit or contact, when one was arranged (004 "Arrange the next visit").
    next_contact_on = models.DateField(null=True, blank=True)
    next_contact_kind = models.CharField(max_length=8, choices=NextContact.choices, blank=True)
    next_contact_notes = models.CharField(max_length=200, blank=True)

    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="submitted")
                | models.Q(submitted_at__isnull=False, submitted_by__isnull=False),
                name="record_submitted_has_who_and_when",
            ),
            # R-REC-5: "no one answered" is a no-answer outcome, never a child seen.
            models.CheckConstraint(
                condition=~models.Q(status="submitted", nobody_answered=True)
                | models.Q(outcome="no_answer"),
                name="record_nobody_answered_is_no_answer",
            ),
        ]
        # The leaders' figures look for records changed since their last refresh (insights).
        indexes = [models.Index(fields=["updated_at"], name="record_updated")]

    def __str__(self) -> str:
        return f"Record of visit #{self.visit_id} ({self.get_status_display()})"

    @property
    def is_submitted(self) -> bool:
        return self.status == self.Status.SUBMITTED


class PupilSeen(models.Model):
    """One child on the record: seen, spoken to, seen alone and why not; their words and how they
    presented (R-REC-2; 000 points 9-11, 003, 004 "YOU CANNOT INSIST ON SEEING THE CHILD")."""

    class Observation(models.TextChoices):
        NO_CONCERN = "no_concern", "No concern"
        CONCERN = "concern", "A concern (say what below)"
        NOT_SEEN = "not_seen", "Could not tell"

    record = models.ForeignKey(VisitRecord, on_delete=models.CASCADE, related_name="pupils_seen")
    pupil = models.ForeignKey("schools.Pupil", on_delete=models.PROTECT, related_name="+")
    seen = models.BooleanField(null=True, help_text="Empty until the visitors answer.")
    spoken_to = models.BooleanField(default=False)
    seen_alone = models.BooleanField(default=False)
    why_not = models.TextField(
        blank=True,
        help_text="Why the child was not seen, not spoken to or not seen alone.",
        max_length=LONG_TEXT,
    )
    # Kept exactly as typed: the child's own words are quoted, never paraphrased (004).
    child_said = models.TextField(blank=True, max_length=LONG_TEXT)
    physical_presentation = models.TextField(blank=True, max_length=LONG_TEXT)
    emotional_presentation = models.TextField(blank=True, max_length=LONG_TEXT)
    clothing = models.CharField(max_length=10, choices=Observation.choices, blank=True)
    hunger = models.CharField(max_length=10, choices=Observation.choices, blank=True)
    cleanliness = models.CharField(max_length=10, choices=Observation.choices, blank=True)

    class Meta:
        ordering = ["pupil__last_name", "pupil__first_name"]
        constraints = [
            models.UniqueConstraint(fields=["record", "pupil"], name="pupilseen_once_per_record")
        ]
        indexes = [models.Index(fields=["pupil"], name="pupilseen_pupil")]

    def __str__(self) -> str:
        return f"{self.pupil} on {self.record}"


class Concern(models.Model):
    """A safeguarding concern raised on a record (R-REC-4): the DSLs are alerted at once and it
    stays on their dashboard until one of them acknowledges it."""

    class Level(models.TextChoices):
        CONCERN = "concern", "A safeguarding concern"
        IMMEDIATE = "immediate", "Immediate risk of harm"

    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")
    visit = models.ForeignKey("visits.Visit", on_delete=models.PROTECT, related_name="concerns")
    pupil = models.ForeignKey(
        "schools.Pupil",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty when the concern is about the whole household.",
    )
    level = models.CharField(max_length=10, choices=Level.choices)
    details = models.TextField(max_length=LONG_TEXT)
    # R-REC-4: for immediate risk, when the raiser confirmed they saw the call-the-duty-team
    # instruction.
    instruction_seen_at = models.DateTimeField(null=True, blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField()
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledgement_notes = models.TextField(blank=True, max_length=NOTE_TEXT)

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [
            # The DSL dashboard: a school's concerns nobody has acknowledged yet.
            models.Index(
                fields=["school", "raised_at"],
                condition=models.Q(acknowledged_at__isnull=True),
                name="concern_open",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(level="immediate")
                | models.Q(instruction_seen_at__isnull=False),
                name="concern_immediate_instruction_seen",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} on visit #{self.visit_id}"

    @property
    def is_immediate(self) -> bool:
        return self.level == self.Level.IMMEDIATE


class Action(models.Model):
    """Something to do after a visit (R-REC-6): an owner, a due date and a status."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "No longer needed"

    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)

    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")
    visit = models.ForeignKey("visits.Visit", on_delete=models.PROTECT, related_name="actions")
    pupil = models.ForeignKey(
        "schools.Pupil", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    description = models.TextField(max_length=LONG_TEXT)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="actions_owned"
    )
    due_on = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    status_notes = models.TextField(blank=True, max_length=NOTE_TEXT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [
            # An owner's dashboard and the overdue list: open actions by due date.
            models.Index(
                fields=["owner", "due_on"],
                condition=models.Q(status__in=["open", "in_progress"]),
                name="action_open_by_owner",
            ),
            models.Index(
                fields=["school", "due_on"],
                condition=models.Q(status__in=["open", "in_progress"]),
                name="action_open_by_school",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "in_progress"])
                | models.Q(closed_at__isnull=False),
                name="action_closed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Action #{self.pk} for {self.owner}, due {self.due_on:%d/%m/%Y}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class ActionReassignment(models.Model):
    """R-REC-6: a Senior DSL reassigned an action — who, when, from whom, to whom and why."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="reassignments")
    from_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    to_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reassigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reassigned_at = models.DateTimeField()
    reason = models.TextField(max_length=NOTE_TEXT)

    class Meta:
        ordering = ["reassigned_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="reassignment_has_reason")
        ]

    def __str__(self) -> str:
        return f"Action #{self.action_id} to {self.to_owner} at {self.reassigned_at}"


class RecordReminder(models.Model):
    """The one email reminding the visitors that the record falls due (R-REC-3).

    One row per visit (unique): the scan creates it, so a scan that runs twice, or two beats,
    claim it once; sending moves it PENDING → SENDING → SENT with conditional updates, so it is
    never sent twice (a crash mid-send leaves it SENDING: not resent)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Not needed: recorded before it was sent"

    visit = models.OneToOneField(
        "visits.Visit", on_delete=models.CASCADE, related_name="record_reminder"
    )
    due_at = models.DateTimeField(help_text="When the record falls due.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Record reminder for visit #{self.visit_id} ({self.status})"
