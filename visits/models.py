"""A home visit, its visitors and its authorisation decisions (R-REQ-*, R-AUTH-*).

Nothing changes a visit except the visit services (visits.requests, visits.authorisation,
visits.cancellation, visits.progress for the steps other apps own: tracking signs out and
returns, records closes). See docs/architecture.md, "The life of a visit".
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from core.limits import LONG_TEXT, NOTE_TEXT


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Waiting for authorisation"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    AUTHORISED = "authorised", "Authorised"
    REFUSED = "refused", "Refused"
    OUT = "out", "Out on the visit"
    RETURNED = "returned", "Returned — record due"
    RECORDED = "recorded", "Recorded"
    CANCELLED = "cancelled", "Cancelled"


# R-REQ-6: a visit can be cancelled until the visitors have returned.
CANCELLABLE = (
    Status.DRAFT,
    Status.SUBMITTED,
    Status.CHANGES_REQUESTED,
    Status.AUTHORISED,
    Status.OUT,
)
# The requester may still edit these (an authorised visit goes back for authorisation, R-AUTH-5).
EDITABLE = (Status.DRAFT, Status.SUBMITTED, Status.CHANGES_REQUESTED, Status.AUTHORISED)


class Reason(models.TextChoices):
    """R-REQ-1: the reasons of 001 §2."""

    REFUSING_SCHOOL = "refusing_school", "Pupil refusing to come into school"
    EARLY_HELP = "early_help", "To undertake an Early Help record with the family"
    ATTENDANCE = "attendance", "Attendance issues or concerns"
    CONFIRM_ADDRESS = "confirm_address", "To confirm the family live at the address"
    CONTACT_FAILED = "contact_failed", "All other means of contact have failed"
    MEDICAL_ABSENCE = "medical_absence", "Off school for a period (medical, isolation)"
    UNAUTHORISED_HOLIDAY = "unauthorised_holiday", "Suspected holiday contrary to indications"
    WELFARE = "welfare", "Welfare or safeguarding concern"
    OTHER = "other", "Other"


class Kind(models.TextChoices):
    STANDARD = "standard", "Home visit"
    DOORSTEP = "doorstep", "Doorstep visit (no entry)"


class ParentsTold(models.TextChoices):
    LETTER = "letter", "Letter"
    EMAIL = "email", "Email"
    PHONE = "phone", "Telephone"
    VOICEMAIL = "voicemail", "Voicemail left"
    NOT_TOLD = "not_told", "Not told (unannounced)"


class Visit(models.Model):
    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="visits")
    household = models.ForeignKey(
        "schools.Household", on_delete=models.PROTECT, related_name="visits"
    )
    pupils = models.ManyToManyField("schools.Pupil", related_name="visits")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits_requested"
    )
    # A hidden token from the request form: a double-click submits it twice, saves one visit.
    request_token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.STANDARD)

    # R-REQ-1: what the visit is for.
    reason = models.CharField(max_length=24, choices=Reason.choices)
    reason_other = models.CharField("Other reason", max_length=200, blank=True)
    purpose = models.TextField(
        help_text="Why visit? What the visit is for (003).", max_length=LONG_TEXT
    )
    outcome_wanted = models.TextField(blank=True, max_length=LONG_TEXT)
    who_must_be_seen = models.CharField(max_length=200, blank=True)
    announced = models.BooleanField(default=True)
    parents_told_how = models.CharField(
        max_length=10, choices=ParentsTold.choices, default=ParentsTold.PHONE
    )
    parents_told_at = models.DateTimeField(null=True, blank=True)

    # R-REQ-1, R-REQ-3: when. Aware datetimes stored in UTC.
    planned_start = models.DateTimeField()
    planned_end = models.DateTimeField()
    planned_return = models.DateTimeField(help_text="When the visitors will be back or phone in.")
    returns_to_school = models.BooleanField(
        default=True, help_text="Unticked: the visitors go straight home and phone in."
    )
    vehicle = models.CharField(max_length=120, blank=True, help_text="Make, colour, registration.")
    interpreter_needed = models.BooleanField(default=False)
    interpreter_language = models.CharField(max_length=60, blank=True)
    cultural_notes = models.TextField(blank=True, max_length=NOTE_TEXT)

    # R-REQ-4: out of hours needs a named out-of-hours manager.
    out_of_hours = models.BooleanField(default=False)
    out_of_hours_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits_managed_out_of_hours",
    )
    evening_warning_seen_at = models.DateTimeField(null=True, blank=True)
    few_numbers_warning_seen_at = models.DateTimeField(null=True, blank=True)

    # R-REQ-7: an unscheduled visit, phoned in from the field.
    unscheduled = models.BooleanField(default=False)
    risk_rechecked_at = models.DateTimeField(null=True, blank=True)

    # R-AUTH-3: a doorstep visit needs the Headteacher's consultation recorded.
    head_consulted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    head_consulted_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # R-AUTH-4: "Visit authorised by … Date … Time" of the 001 form (the latest decision's).
    authorised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    authorised_at = models.DateTimeField(null=True, blank=True)
    # Set by tracking when the visitors sign out and return, and by records when recorded.
    signed_out_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(null=True, blank=True)
    # R-REQ-6
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True, max_length=NOTE_TEXT)

    class Meta:
        ordering = ["planned_start"]
        indexes = [
            # The authorisation queue and the dashboards: a school's visits in one status.
            models.Index(fields=["school", "status", "submitted_at"], name="visit_school_status"),
            models.Index(fields=["status", "planned_start"], name="visit_status_start"),
            # The visits page: a school's visits, newest first (cost bounded by the page).
            models.Index(fields=["school", "-planned_start"], name="visit_school_start"),
            # My visits (issue 15): the visits changed lately, without reading the history.
            models.Index(fields=["updated_at"], name="visit_updated"),
        ]
        constraints = [
            # R-REQ-3: start < end < return.
            models.CheckConstraint(
                condition=Q(planned_end__gt=F("planned_start"))
                & Q(planned_return__gte=F("planned_end")),
                name="visit_times_in_order",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | Q(cancelled_at__isnull=False),
                name="visit_cancelled_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Visit #{self.pk} ({self.get_status_display()})"

    @property
    def is_doorstep(self) -> bool:
        return self.kind == Kind.DOORSTEP

    @property
    def reason_text(self) -> str:
        if self.reason == Reason.OTHER and self.reason_other:
            return f"Other: {self.reason_other}"
        return self.get_reason_display()


class Visitor(models.Model):
    class RoleOnVisit(models.TextChoices):
        LEAD = "lead", "Lead visitor"
        SECOND = "second", "Second visitor"
        DSL = "dsl", "DSL"
        KNOWN_TO_FAMILY = "known", "Known to the family"
        INTERPRETER = "interpreter", "Interpreter"
        OTHER = "other", "Other"

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="visitors")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits_as_visitor"
    )
    role_on_visit = models.CharField(
        max_length=12, choices=RoleOnVisit.choices, default=RoleOnVisit.SECOND
    )
    # R-REQ-5: doorstep visits are voluntary; a visitor may withdraw.
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "user"], name="visitor_once_per_visit")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_on_visit_display()})"


class Authorisation(models.Model):
    """One decision on a visit (R-AUTH-4). A visit may collect several over its life."""

    class Decision(models.TextChoices):
        AUTHORISED = "authorised", "Authorised"
        REFUSED = "refused", "Refused"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="authorisations")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()
    decision = models.CharField(max_length=20, choices=Decision.choices)
    conditions = models.TextField(blank=True, max_length=NOTE_TEXT)
    reason = models.TextField(blank=True, max_length=NOTE_TEXT)

    class Meta:
        ordering = ["decided_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(decision="refused") | ~Q(reason=""),
                name="authorisation_refusal_has_reason",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} by {self.decided_by} at {self.decided_at}"


def _feed_token() -> str:
    import secrets

    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A private iCalendar address (a secret token, revocable): the visits a user is on, or, for
    an authoriser, every visit of the school, so they show in Outlook."""

    class Scope(models.TextChoices):
        MINE = "mine", "The visits I am on"
        SCHOOL = "school", "Every visit of the school"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    scope = models.CharField(max_length=6, choices=Scope.choices)
    school = models.ForeignKey(
        "schools.School", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    token = models.CharField(max_length=64, unique=True, default=_feed_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(scope="mine", school__isnull=True)
                | Q(scope="school", school__isnull=False),
                name="calendarfeed_school_only_for_school_scope",
            ),
            # One live feed per user and scope (and school): a new one replaces the old.
            models.UniqueConstraint(
                fields=["user", "scope", "school"],
                condition=Q(revoked_at__isnull=True),
                name="calendarfeed_one_live_per_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} for {self.user}"
