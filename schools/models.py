"""The school directory: trusts, schools and their policy settings, people and their roles,
pupils, households, carers, contact numbers and professionals."""

import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.limits import NOTE_TEXT

from .photos import private_storage
from .validators import (
    format_uk_phone,
    validate_not_in_future,
    validate_uk_phone,
    validate_uk_postcode,
)


class User(AbstractUser):
    """A person who signs in. Their roles come from Membership (per school) and TrustRole."""

    class Meta:
        ordering = ["first_name", "last_name"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Trust(models.Model):
    name = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def evening_default() -> datetime.time:
    return datetime.time(18, 0)


def morning_default() -> datetime.time:
    return datetime.time(8, 0)


class School(models.Model):
    """A school and its policy settings (the numbers docs/policy.md shows in bold), editable per
    school."""

    trust = models.ForeignKey(
        Trust, null=True, blank=True, on_delete=models.PROTECT, related_name="schools"
    )
    name = models.CharField(max_length=200)
    urn = models.CharField(
        "URN", max_length=10, unique=True, help_text="The DfE unique reference number."
    )

    # R-REQ-2: visits are made in pairs.
    minimum_visitors = models.PositiveSmallIntegerField(
        default=2,
        help_text="Visitors needed on a visit. May be 1 only for non-doorstep, "
        "non-high-risk visits.",
    )
    # R-TRK-3, R-ESC-1..3: the escalation ladder.
    overdue_grace_minutes = models.PositiveSmallIntegerField(
        default=15, help_text="Minutes after the expected return before a visit is overdue."
    )
    retry_interval_minutes = models.PositiveSmallIntegerField(
        default=5, help_text="Minutes between the office's calls to an overdue visitor."
    )
    retries = models.PositiveSmallIntegerField(
        default=2, help_text="Calls the office retries before the manager is alerted."
    )
    # R-ESC-9: the chain after the manager, until somebody acknowledges.
    chain_step_minutes = models.PositiveSmallIntegerField(
        default=5,
        help_text="Minutes an alert waits for an acknowledgement before the next person in the "
        "escalation chain is alerted.",
    )
    chain_reminder_minutes = models.PositiveSmallIntegerField(
        default=10,
        help_text="Once the chain is used up: minutes between reminders to every DSL and the "
        "Headteacher until somebody acknowledges.",
    )
    # R-TRK-5: checking in by replying to a text (issue 13).
    reply_extension_max_minutes = models.PositiveSmallIntegerField(
        default=120,
        help_text="The most minutes a visitor can add by replying to a text with a number.",
    )
    # R-TRK-6: check-ins during long visits (issue 13). 0: off (the default).
    checkin_interval_minutes = models.PositiveSmallIntegerField(
        default=0,
        help_text="Visitors out on a long visit must check in every this many minutes (from "
        "My visit, or by replying FINE to a text); a missed check-in starts the escalation "
        "ladder like an overdue return. 0 turns check-ins off.",
    )
    # R-REQ-4: evening visits.
    evening_starts_at = models.TimeField(default=evening_default)
    morning_starts_at = models.TimeField(default=morning_default)
    # R-REC-3: the record is due within this many hours of return.
    record_deadline_hours = models.PositiveSmallIntegerField(default=24)
    # R-RA-8: an assessment older than this is re-confirmed at sign-out.
    assessment_max_age_days = models.PositiveSmallIntegerField(default=7)
    # R-REQ-8: households hold at least this many current numbers.
    contact_numbers_minimum = models.PositiveSmallIntegerField(default=2)
    # R-CLO-1, R-CLO-2: closure mode and contact monitoring.
    closure_mode = models.BooleanField(
        default=False, help_text="Closure mode: doorstep visits only, authorised by the Head."
    )
    missing_contact_school_days = models.PositiveSmallIntegerField(default=5)
    inform_local_authority_days = models.PositiveSmallIntegerField(default=20)
    designated_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The named manager alerted when a visitor cannot be reached.",  # R-ESC-3
    )
    office_email = models.EmailField(blank=True)
    monitor_phone = models.CharField(
        max_length=16,
        blank=True,
        validators=[validate_uk_phone],
        help_text="The designated monitor's phone for overdue alerts.",  # R-ESC-1
    )
    require_two_factor_for_all = models.BooleanField(default=False)
    # R-REC-8: what the sending school keeps once a pupil's file has reached their new school.
    transfer_sender_keeps = models.CharField(
        "After a file transfer, keep",
        max_length=8,
        choices=[
            ("receipt", "Only the transfer receipt and the fact that a file existed"),
            ("file", "The receipt and the school's own copy of the file"),
        ],
        default="receipt",
    )

    class Meta:
        ordering = ["name"]
        permissions = [
            ("request_visits", "Can request visits for the school's pupils"),
            ("view_all_visits", "Can see every visit of the school"),
            ("authorise_visits", "Can authorise visits"),
            ("sign_off_risk", "Can sign off high-risk assessments"),
            ("view_board", "Can see the sign-out board"),
            ("receive_escalations", "Can see and resolve escalations"),
            ("view_records", "Can read records, concerns and risk narratives"),
            ("view_directory", "Can see pupils and households"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(minimum_visitors__gte=1) & Q(minimum_visitors__lte=6),
                name="school_minimum_visitors_1_to_6",
            ),
            models.CheckConstraint(
                condition=Q(retry_interval_minutes__gte=1) & Q(overdue_grace_minutes__gte=1),
                name="school_escalation_minutes_positive",
            ),
            models.CheckConstraint(
                condition=Q(chain_step_minutes__gte=1) & Q(chain_reminder_minutes__gte=1),
                name="school_chain_minutes_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EscalationChainMember(models.Model):
    """R-ESC-9: who is alerted, in order, after the manager when nobody acknowledges (deputies,
    the Headteacher, the trust safeguarding lead). The manager named on the visit, or the
    school's designated manager, always comes first and is not listed here."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="chain_members")
    position = models.PositiveSmallIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["school", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["school", "user"], name="chainmember_once"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.user} ({self.school})"


class Role(models.TextChoices):
    STAFF = "staff", "Staff"
    OFFICE = "office", "Office"
    DSL = "dsl", "DSL"
    DEPUTY_DSL = "deputy_dsl", "Deputy DSL"
    HEAD = "head", "Headteacher"
    MANAGER = "manager", "Manager"


class Membership(models.Model):
    """A user's role at a school. Change through schools.services so the groups follow."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        ordering = ["school__name", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "school", "role"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.school}"


class TrustRole(models.Model):
    """A trust safeguarding lead: sees and acts across every school of the trust."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trust_roles"
    )
    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="leads")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "trust"], name="trustrole_unique")]

    def __str__(self) -> str:
        return f"{self.user} — safeguarding lead, {self.trust}"


class StaffProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    job_title = models.CharField(max_length=100, blank=True)
    work_mobile = models.CharField(max_length=16, blank=True, validators=[validate_uk_phone])
    next_of_kin_name = models.CharField(max_length=150, blank=True)
    next_of_kin_relationship = models.CharField(max_length=60, blank=True)
    next_of_kin_phone = models.CharField(max_length=16, blank=True, validators=[validate_uk_phone])
    clinically_vulnerable = models.BooleanField(
        default=False, help_text="Cannot be a visitor on a doorstep visit."
    )
    # Issue 14: optional; shown only on the emergency page and the Police briefing.
    photo = models.FileField(
        upload_to="staff-photos/",
        storage=private_storage,
        blank=True,
        help_text="Optional. Shown only on the emergency page and the Police briefing.",
    )

    def __str__(self) -> str:
        return f"Profile of {self.user}"

    @property
    def work_mobile_display(self) -> str:
        return format_uk_phone(self.work_mobile) if self.work_mobile else ""


class Professional(models.Model):
    class Kind(models.TextChoices):
        SOCIAL_WORKER = "social_worker", "Social worker"
        FAMILY_SUPPORT = "family_support", "Family support worker"
        MENTAL_HEALTH = "mental_health", "Mental health worker"
        EARLY_HELP = "early_help", "Early Help practitioner"
        HEALTH_VISITOR = "health_visitor", "Health visitor / school nurse"
        POLICE = "police", "Police"
        OTHER = "other", "Other"

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="professionals")
    name = models.CharField(max_length=150)
    role = models.CharField(max_length=20, choices=Kind.choices)
    agency = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=16, blank=True, validators=[validate_uk_phone])
    email = models.EmailField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"


class Household(models.Model):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="households")
    address_line_1 = models.CharField(max_length=150)
    address_line_2 = models.CharField(max_length=150, blank=True)
    town = models.CharField(max_length=100)
    postcode = models.CharField(max_length=8, validators=[validate_uk_postcode])
    self_isolating = models.BooleanField(default=False)
    self_isolating_since = models.DateField(null=True, blank=True)
    # When a risk flag was last added or changed: an assessment made before it is stale (R-RA-8).
    risk_flags_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["address_line_1"]
        constraints = [
            models.CheckConstraint(
                condition=Q(self_isolating=True) | Q(self_isolating_since__isnull=True),
                name="household_isolating_since_only_when_isolating",
            )
        ]

    def __str__(self) -> str:
        return f"{self.address_line_1}, {self.postcode}"

    @property
    def address(self) -> str:
        parts = [self.address_line_1, self.address_line_2, self.town, self.postcode]
        return ", ".join(p for p in parts if p)


class HouseholdRiskFlag(models.Model):
    """A known risk at the address (002 "flagged risks"): pre-fills assessment rows (R-RA-2)."""

    class Kind(models.TextChoices):
        DOG = "dog", "Dog or other animal"
        AGGRESSIVE_ADULT = "aggressive_adult", "Aggressive or violent adult"
        PREVIOUS_INCIDENT = "previous_incident", "Previous incident"
        OTHER = "other", "Other"

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="risk_flags")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    notes = models.TextField(blank=True, max_length=NOTE_TEXT)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["recorded_at"]

    def __str__(self) -> str:
        return self.get_kind_display()


class Carer(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="carers")
    name = models.CharField(max_length=150)
    relationship = models.CharField(max_length=60)
    parental_responsibility = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.relationship})"


class ContactNumber(models.Model):
    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="contact_numbers"
    )
    carer = models.ForeignKey(
        Carer, null=True, blank=True, on_delete=models.SET_NULL, related_name="numbers"
    )
    number = models.CharField(
        max_length=16, validators=[validate_uk_phone], help_text="Stored as +44…"
    )
    label = models.CharField(max_length=60, help_text="Whose number, e.g. Mum's mobile.")
    emergency_contact = models.BooleanField(default=False)
    current = models.BooleanField(default=True)

    class Meta:
        ordering = ["-current", "label"]

    def __str__(self) -> str:
        return f"{self.label}: {self.display}"

    @property
    def display(self) -> str:
        return format_uk_phone(self.number)


class Pupil(models.Model):
    class YearGroup(models.TextChoices):
        NURSERY = "N", "Nursery"
        RECEPTION = "R", "Reception"
        Y1 = "1", "Year 1"
        Y2 = "2", "Year 2"
        Y3 = "3", "Year 3"
        Y4 = "4", "Year 4"
        Y5 = "5", "Year 5"
        Y6 = "6", "Year 6"
        Y7 = "7", "Year 7"
        Y8 = "8", "Year 8"
        Y9 = "9", "Year 9"
        Y10 = "10", "Year 10"
        Y11 = "11", "Year 11"
        Y12 = "12", "Year 12"
        Y13 = "13", "Year 13"

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="pupils")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="pupils")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(validators=[validate_not_in_future])
    year_group = models.CharField(max_length=2, choices=YearGroup.choices)
    upn = models.CharField(
        "UPN", max_length=13, blank=True, help_text="Unique pupil number, if known."
    )
    # The categories that route a doorstep visit through the allocated social worker (R-RA-6).
    child_protection = models.BooleanField("CP", default=False)
    child_in_need = models.BooleanField("CiN", default=False)
    looked_after = models.BooleanField("LAC", default=False)
    ehcp = models.BooleanField("EHCP", default=False)
    early_help = models.BooleanField("Early Help", default=False)
    cultural_notes = models.TextField(blank=True, max_length=NOTE_TEXT)
    interpreter_language = models.CharField(max_length=60, blank=True)
    professionals = models.ManyToManyField(Professional, blank=True, related_name="pupils")
    # Set when the pupil leaves (by hand, or by the MIS sync): the child protection file then
    # follows them to their new school. Never cleared by deleting: a pupil who comes
    # back has it cleared by schools.services.pupil_mark_returned.
    left_on = models.DateField(null=True, blank=True, help_text="The day the pupil left.")
    leaving_to = models.CharField(
        "Moving to", max_length=200, blank=True, help_text="The school they move to, if known."
    )

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "upn"], condition=~Q(upn=""), name="pupil_upn_unique_per_school"
            )
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def categories(self) -> list[str]:
        flags = [
            ("CP", self.child_protection),
            ("CiN", self.child_in_need),
            ("LAC", self.looked_after),
            ("EHCP", self.ehcp),
            ("Early Help", self.early_help),
        ]
        return [label for label, on in flags if on]


class BoardVersion(models.Model):
    """What the school's sign-out board shows, as a number that only goes up (issue 15): every
    service that changes the board bumps it in its own transaction (`schools.services.
    board_changed`), so the board's poll can answer "unchanged" from this one row. A row of its
    own, not a column on School, so that saving a school's settings never writes it back."""

    school = models.OneToOneField(
        School, on_delete=models.CASCADE, primary_key=True, related_name="board_version"
    )
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"Board of school #{self.school_id}: version {self.version}"
