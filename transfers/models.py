"""The child protection file follows the child (R-REC-8).

When a pupil with a safeguarding file leaves, a FileTransfer is opened for them: the file is due at
the new school within 5 school days (weekends and the school's holidays skipped). It goes either
to a school on Homeward, whose DSL accepts it, or as an encrypted package to any other school.
The sending school keeps the transfer as its receipt.

What a receiving school holds of a file that came from elsewhere is a ReceivedFile: the sealed
documents of a transfer through Homeward, or the note that a file arrived on paper.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class FileTransfer(models.Model):
    class Status(models.TextChoices):
        TO_SEND = "to_send", "To send"
        OFFERED = "offered", "Waiting for the new school to accept"
        SENT = "sent", "Package sent, waiting for receipt"
        RECEIVED = "received", "Received"
        CANCELLED = "cancelled", "Not needed: the pupil stayed or came back"

    OPEN_STATUSES = (Status.TO_SEND, Status.OFFERED, Status.SENT)

    class Route(models.TextChoices):
        HOMEWARD = "homeward", "To a school on Homeward"
        PACKAGE = "package", "Encrypted package to another school"
        BY_HAND = "by_hand", "Sent outside Homeward, receipt recorded by hand"

    class ReceiptMethod(models.TextChoices):
        HOMEWARD = "homeward", "Accepted on Homeward"
        LINK = "link", "Downloaded from the link and confirmed"
        BY_HAND = "by_hand", "Handed over in person"
        POST = "post", "Recorded delivery post"
        SECURE_EMAIL = "secure_email", "Secure email"
        OTHER = "other", "Other"

    pupil = models.ForeignKey("schools.Pupil", on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(
        "schools.School", on_delete=models.PROTECT, related_name="+", help_text="Sending school."
    )
    left_on = models.DateField()
    due_on = models.DateField(help_text="5 school days after the pupil left.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.TO_SEND)
    route = models.CharField(max_length=10, choices=Route.choices, blank=True)
    to_school = models.ForeignKey(
        "schools.School", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_school_name = models.CharField("Receiving school", max_length=200, blank=True)
    recipient_email = models.EmailField("Receiving DSL's email", blank=True)
    created_at = models.DateTimeField()
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)

    # The encrypted package for another school: a signed link, downloaded once, until it expires.
    package = models.BinaryField(null=True, blank=True, editable=False)
    link_nonce_hash = models.CharField(max_length=64, blank=True, editable=False)
    link_expires_at = models.DateTimeField(null=True, blank=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)

    # The receipt.
    received_at = models.DateTimeField(null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    received_by_name = models.CharField("Received by", max_length=200, blank=True)
    receipt_method = models.CharField(max_length=12, choices=ReceiptMethod.choices, blank=True)
    receipt_notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    received_pupil = models.ForeignKey(
        "schools.Pupil",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The pupil at the receiving school the file is now attached to.",
    )
    rows_removed = models.JSONField(
        default=dict, blank=True, help_text="What the sending school no longer keeps, by kind."
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pupil"],
                condition=Q(status__in=["to_send", "offered", "sent"]),
                name="filetransfer_one_open_per_pupil",
            ),
            models.CheckConstraint(
                condition=~Q(status="received") | Q(received_at__isnull=False),
                name="filetransfer_received_has_time",
            ),
        ]
        indexes = [
            models.Index(
                fields=["school", "due_on"],
                condition=Q(status__in=["to_send", "offered", "sent"]),
                name="filetransfer_open_by_school",
            ),
        ]

    def __str__(self) -> str:
        return f"File transfer #{self.pk} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def on_time(self) -> bool | None:
        if self.received_at is None:
            return None
        from django.utils import timezone

        return timezone.localdate(self.received_at) <= self.due_on


class TransferReminder(models.Model):
    """One reminder to the sending DSLs, at 3 and at 5 school days (R-REC-8). Like the record
    reminder: the unique row is the claim, PENDING → SENDING → SENT, never sent twice."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Not needed: the file had gone"

    transfer = models.ForeignKey(FileTransfer, on_delete=models.CASCADE, related_name="reminders")
    school_days = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["transfer", "school_days"], name="transferreminder_once_per_step"
            )
        ]

    def __str__(self) -> str:
        return f"Reminder at {self.school_days} school days for transfer #{self.transfer_id}"


class ReceivedFile(models.Model):
    """A child protection file that came to this school: through Homeward (with its documents),
    or on paper (recorded by a DSL, kept where they say)."""

    class Kind(models.TextChoices):
        HOMEWARD = "homeward", "Transferred through Homeward"
        PAPER = "paper", "Arrived on paper"

    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")
    pupil = models.ForeignKey("schools.Pupil", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    transfer = models.OneToOneField(
        FileTransfer, null=True, blank=True, on_delete=models.PROTECT, related_name="received_file"
    )
    from_school_name = models.CharField("From school", max_length=200)
    received_on = models.DateField()
    kept_where = models.CharField(
        "Where the paper file is kept", max_length=200, blank=True, help_text="e.g. the DSL office"
    )
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_on", "-id"]
        indexes = [models.Index(fields=["pupil"], name="receivedfile_pupil")]

    def __str__(self) -> str:
        return f"File from {self.from_school_name} ({self.get_kind_display()})"


class ReceivedDocument(models.Model):
    """One sealed document of a file received through Homeward: the whole-file PDF, the
    chronology CSV, each risk assessment, and any document the file had brought with it."""

    received_file = models.ForeignKey(
        ReceivedFile, on_delete=models.CASCADE, related_name="documents"
    )
    title = models.CharField(max_length=200)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=80)
    content = models.BinaryField()
    size = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title
