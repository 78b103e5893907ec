from django.conf import settings
from django.db import models

from core.limits import NOTE_TEXT


class ContactLog(models.Model):
    """One contact or attempt with a family or a professional (R-REC-7): the pupil's contact
    history, the evidence the doorstep gate reads (R-RA-6) and the closure-mode monitor
    (R-CLO-2) counts from."""

    class Counterpart(models.TextChoices):
        FAMILY = "family", "Family (a household number)"
        PROFESSIONAL = "professional", "A professional involved with the family"
        SOCIAL_WORKER = "social_worker", "The allocated social worker"
        SOCIAL_CARE = "social_care", "Local social care front door (MASH / CASS / First Response)"
        POLICE = "police", "Police"
        OTHER_SCHOOL = "other_school", "A sibling's school"
        OTHER = "other", "Other"

    class Channel(models.TextChoices):
        PHONE = "phone", "Phone call"
        TEXT = "text", "Text message"
        EMAIL = "email", "Email"
        VIDEO = "video", "Video call"
        LETTER = "letter", "Letter"
        VISIT = "visit", "Visit"
        IN_PERSON = "in_person", "In person at school"

    class Outcome(models.TextChoices):
        SPOKE_TO_PARENT = "spoke_to_parent", "Spoke to parent or carer"
        SPOKE_TO_CHILD = "spoke_to_child", "Spoke to the child"
        SPOKE_TO_PROFESSIONAL = "spoke_to_professional", "Spoke to the professional"
        ACKNOWLEDGED = "acknowledged", "Family acknowledged the message"
        NO_ANSWER = "no_answer", "No answer"
        VOICEMAIL = "voicemail", "Left a voicemail"
        MESSAGE_SENT = "message_sent", "Message sent, no reply yet"
        WRONG_NUMBER = "wrong_number", "Wrong or dead number"
        REFUSED = "refused", "Refused contact"

    # Outcomes in which the family answered: R-CLO-2 counts days since the last of these.
    ACKNOWLEDGED_OUTCOMES = ("spoke_to_parent", "spoke_to_child", "acknowledged")

    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(
        "schools.Household", on_delete=models.PROTECT, related_name="contact_logs"
    )
    pupil = models.ForeignKey(
        "schools.Pupil",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contact_logs",
        help_text="Empty when the contact was about the whole household.",
    )
    visit = models.ForeignKey(
        "visits.Visit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    counterpart = models.CharField(max_length=16, choices=Counterpart.choices)
    contact_number = models.ForeignKey(
        "schools.ContactNumber",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The household number tried, for a family contact.",
    )
    professional = models.ForeignKey(
        "schools.Professional", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contacted = models.CharField(
        max_length=150, blank=True, help_text="Who was contacted, when not a number above."
    )
    number_or_address = models.CharField(max_length=150, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    outcome = models.CharField(max_length=24, choices=Outcome.choices)
    notes = models.TextField(blank=True, max_length=NOTE_TEXT)
    occurred_at = models.DateTimeField(help_text="When the contact was made or attempted.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # The pupil's chronology and the doorstep gate: a household's contacts in time order.
            models.Index(fields=["household", "occurred_at"], name="contactlog_household_time"),
            models.Index(fields=["pupil", "occurred_at"], name="contactlog_pupil_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} — {self.get_outcome_display()}"
