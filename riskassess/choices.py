"""The vocabulary of a risk assessment: levels, the 3×3 matrix's scales, hazard categories and
answers. Shared by the models and the catalogue of 001/002 hazards and measures."""

from django.db import models


class RiskLevel(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class Severity(models.IntegerChoices):
    """How bad the harm would be (001 "Severity of harm"), on the 3-point scale of the matrix."""

    MINOR = 1, "Minor harm (upset, bruising, damaged property)"
    SERIOUS = 2, "Serious harm (injury needing treatment, theft, vehicle accident)"
    MAJOR = 3, "Major injury may occur"


class Likelihood(models.IntegerChoices):
    """How likely the harm is (001 "Likelihood")."""

    REMOTE = 1, "Remote possibility"
    POSSIBLE = 2, "Possible"
    LIKELY = 3, "Likely"


class HazardCategory(models.TextChoices):
    """The hazards of 001's Work Activity Risk Assessment, plus 'other' for added hazards.
    Control measures are filed under the same categories."""

    AGGRESSION = "aggression", "Aggressive or violent person"
    DRIVING = "driving", "Driving"
    PUBLIC_AREAS = "public_areas", "Movement through public areas"
    ILLNESS = "illness", "Illness, injury or accident"
    ANIMALS = "animals", "Dogs or other animals"
    OTHER = "other", "Other hazard"


class ChildSeen(models.TextChoices):
    """003: "Does the child need to be seen and/or spoken to (alone or in the presence of their
    parent/carer)?" """

    ALONE = "alone", "Seen and spoken to alone"
    WITH_CARER = "with_carer", "Seen with their parent or carer present"
    NOT_NEEDED = "not_needed", "The child does not need to be seen on this visit"


class YesNo(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
