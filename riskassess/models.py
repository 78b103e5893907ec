"""Risk assessments (R-RA-*): the standard lone-working assessment of 001 with its hazard rows and
the control-measure catalogue of 001 and 002, the preparation questions of 003, the COVID-19
doorstep questions of 000, and the school calendar that closure-mode contact monitoring counts
school days with (R-CLO-2). Other apps read it only through riskassess.gates and selectors."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from core.limits import LONG_TEXT, NOTE_TEXT

from .catalogue import MEASURES

# The vocabulary lives in .choices (the catalogue uses it too); other apps import it from here.
from .choices import (  # noqa: F401
    ChildSeen,
    HazardCategory,
    Likelihood,
    RiskLevel,
    Severity,
    YesNo,
)


class RiskAssessment(models.Model):
    """One visit's risk assessment. Written only by riskassess.services."""

    class Kind(models.TextChoices):
        STANDARD = "standard", "Standard (lone working)"
        DOORSTEP = "doorstep", "COVID-19 doorstep"

    visit = models.OneToOneField(
        "visits.Visit", on_delete=models.CASCADE, related_name="risk_assessment"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.STANDARD)
    # Whoever last changed the assessment: its sign-off must come from somebody else (R-RA-3).
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # When the assessor last made or re-confirmed it: its age is counted from here (R-RA-8).
    confirmed_at = models.DateTimeField()
    changed_at = models.DateTimeField(null=True, blank=True)
    # R-RA-3: the highest level of its hazard rows.
    overall_risk = models.CharField(max_length=6, choices=RiskLevel.choices, default=RiskLevel.LOW)
    # Bumped by every change: a save or a sign-off made from an older page is refused.
    version = models.PositiveIntegerField(default=1)

    # R-RA-3: a high-risk assessment is signed off by a DSL, head or trust lead, not the assessor.
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)

    # R-RA-4: the preparation questions of 003.
    refused_entry_plan = models.TextField(
        "If you are refused entry",
        blank=True,
        help_text="Powers of entry: what will you do if refused entry? Is planned or emergency "
        "action by the Police or social care needed? Does another agency need to assist?",
        max_length=LONG_TEXT,
    )
    expected_present = models.TextField(
        "Who will be present",
        blank=True,
        help_text="Who you expect to be in the home and who you need to see: names and their "
        "relationship to the child.",
        max_length=LONG_TEXT,
    )
    must_not_be_present = models.TextField(
        "Anyone who must not be there",
        blank=True,
        help_text="Is there anyone who should not be there, or who presents a risk to children, "
        "workers or other adults? Why, and what will you do if they are present? Write 'None "
        "known' if so.",
        max_length=LONG_TEXT,
    )
    child_seen = models.CharField(
        "Seeing the child", max_length=12, choices=ChildSeen.choices, blank=True
    )
    child_seen_notes = models.TextField(
        "Notes on seeing the child",
        blank=True,
        help_text="Optional: should the child be woken if asleep? Observations needed?",
        max_length=LONG_TEXT,
    )
    others_attending = models.TextField(
        "Who else should come",
        blank=True,
        help_text="Police, a social worker or another agency? Has it been agreed with them? "
        "Write 'Nobody else' if so.",
        max_length=LONG_TEXT,
    )
    contingency_plan = models.TextField(
        "Contingency plan",
        blank=True,
        help_text="What you will do if difficulties arise, and each visitor's role.",
        max_length=LONG_TEXT,
    )
    complete_by = models.DateField(
        "The visit must happen by", null=True, blank=True, help_text="The deadline (003)."
    )
    no_access_plan = models.TextField(
        "If you do not gain access",
        blank=True,
        help_text="Is a return visit needed, and by when, or what other action?",
        max_length=LONG_TEXT,
    )

    # R-RA-5: the questions of the 000 "Doorstep Risk Assessment during Covid 19" form.
    vulnerable_because = models.TextField(
        "Why is this family listed as vulnerable?",
        blank=True,
        help_text="Background influencing your thinking: history of child abuse, domestic "
        "violence, mental health, suicidal thoughts.",
        max_length=LONG_TEXT,
    )
    last_contact_on = models.DateField(
        "When did you last have contact with this family?", null=True, blank=True
    )
    last_contact_details = models.TextField(
        "Details of that contact", blank=True, max_length=NOTE_TEXT
    )
    no_contact_typical = models.CharField(
        "Is failure to make contact typical of this family?",
        max_length=3,
        choices=YesNo.choices,
        blank=True,
    )
    why_escalated = models.TextField(
        "Why has the lack of contact escalated your concerns?", blank=True, max_length=LONG_TEXT
    )
    contact_methods_tried = models.TextField(
        "Every other method you have tried to make contact",
        blank=True,
        help_text="Give specific details. Each call is also logged in the contact log.",
        max_length=LONG_TEXT,
    )
    professionals_involved = models.TextField(
        "Other professionals involved with the family",
        blank=True,
        help_text="List them. Have you made contact and shared your concerns?",
        max_length=LONG_TEXT,
    )
    agencies_told = models.TextField(
        "CASS / First Response / MASH and the Police",
        blank=True,
        help_text="Have you shared your concerns with them? What support or advice did they offer?",
        max_length=LONG_TEXT,
    )
    dsl_and_head_consulted = models.TextField(
        "Have you consulted your Lead DSL and Headteacher?",
        blank=True,
        help_text="Who, when, and what was agreed.",
        max_length=LONG_TEXT,
    )
    sibling_schools_considered = models.TextField(
        "Have you considered contacting other schools where there may be siblings?",
        blank=True,
        max_length=LONG_TEXT,
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(signed_off_by__isnull=True, signed_off_at__isnull=True)
                | Q(signed_off_by__isnull=False, signed_off_at__isnull=False),
                name="assessment_sign_off_has_who_and_when",
            ),
            # R-RA-3: nobody signs off their own assessment.
            models.CheckConstraint(
                condition=Q(signed_off_by__isnull=True) | ~Q(signed_off_by=F("assessor")),
                name="assessment_not_signed_off_by_its_assessor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} assessment of visit #{self.visit_id}"

    @property
    def needs_sign_off(self) -> bool:
        return self.overall_risk == RiskLevel.HIGH and self.signed_off_at is None


# R-RA-4: the 003 preparation answers every assessment records (child_seen_notes is optional).
PREPARATION_FIELDS = (
    "refused_entry_plan",
    "expected_present",
    "must_not_be_present",
    "child_seen",
    "child_seen_notes",
    "others_attending",
    "contingency_plan",
    "complete_by",
    "no_access_plan",
)
PREPARATION_REQUIRED = tuple(f for f in PREPARATION_FIELDS if f != "child_seen_notes")
# R-RA-5: every question of the 000 form is required on a doorstep assessment.
DOORSTEP_FIELDS = (
    "vulnerable_because",
    "last_contact_on",
    "last_contact_details",
    "no_contact_typical",
    "why_escalated",
    "contact_methods_tried",
    "professionals_involved",
    "agencies_told",
    "dsl_and_head_consulted",
    "sibling_schools_considered",
)


class HazardRow(models.Model):
    """One row of an assessment's hazard table (R-RA-2)."""

    class Source(models.TextChoices):
        STANDARD = "standard", "001 lone-working hazard"
        FLAG = "flag", "Household risk flag"
        ADDED = "added", "Added by the assessor"

    assessment = models.ForeignKey(
        RiskAssessment, on_delete=models.CASCADE, related_name="hazard_rows"
    )
    source = models.CharField(max_length=8, choices=Source.choices)
    # For a standard row: which of 001's five hazards it is.
    standard_code = models.CharField(max_length=14, blank=True)
    # For a flag row: the household flag it controls. Kept if the flag is later removed.
    risk_flag = models.ForeignKey(
        "schools.HouseholdRiskFlag",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    hazard = models.CharField(max_length=200)
    category = models.CharField(max_length=14, choices=HazardCategory.choices)
    harm = models.CharField("Harm that could occur", max_length=200, blank=True)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    likelihood = models.PositiveSmallIntegerField(choices=Likelihood.choices)
    # Always riskassess.matrix.risk_level(severity, likelihood), stored for the page and reports.
    risk_level = models.CharField(max_length=6, choices=RiskLevel.choices)
    # Codes from riskassess.catalogue.CONTROL_MEASURES (001 and 002), checked by the service.
    controls = models.JSONField(default=list, blank=True)
    other_controls = models.TextField("Other control measures", blank=True, max_length=NOTE_TEXT)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            # R-RA-2: severity and likelihood are on the 3-point scale of the 3×3 matrix.
            models.CheckConstraint(
                condition=Q(severity__gte=1, severity__lte=3)
                & Q(likelihood__gte=1, likelihood__lte=3),
                name="hazardrow_scale_1_to_3",
            ),
            models.UniqueConstraint(
                fields=["assessment", "standard_code"],
                condition=~Q(standard_code=""),
                name="hazardrow_standard_once",
            ),
            models.UniqueConstraint(
                fields=["assessment", "risk_flag"],
                condition=Q(risk_flag__isnull=False),
                name="hazardrow_flag_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hazard} ({self.get_risk_level_display()})"

    @property
    def removable(self) -> bool:
        """Only hazards the assessor added can be taken out again (R-RA-2)."""
        return self.source == self.Source.ADDED

    @property
    def control_texts(self) -> list[str]:
        return [MEASURES[code].text if code in MEASURES else code for code in self.controls]


class SchoolHoliday(models.Model):
    """Dates the school is closed for holidays: not school days when counting missing contact
    (R-CLO-2). Weekends are never school days."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=80, help_text="e.g. Easter holiday")
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="The last day of the holiday.")

    class Meta:
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="schoolholiday_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.starts_on:%d/%m/%Y}–{self.ends_on:%d/%m/%Y})"


class ClosurePeriod(models.Model):
    """When a long closure began (R-CLO-2): a family with no acknowledged contact at all is
    counted from here. The closure-mode switch itself is School.closure_mode."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="+")
    starts_on = models.DateField("Closed from")
    ends_on = models.DateField("Reopened on", null=True, blank=True)

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="closureperiod_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"Closure from {self.starts_on:%d/%m/%Y}"
