"""What the source policies say, as data: the control-measure catalogue (001 Controls column and
002 example measures), the five hazards of 001's Work Activity Risk Assessment with their default
severity, likelihood and controls, the rows a household risk flag adds (002 "flagged risks"), and
the interventions table of the 000 doorstep form.

The catalogue lives here, not in a table: a hazard row stores the codes of the measures ticked,
so a code, once published, is never renamed or removed (retire it in RETIRED instead). Tests prove
every code used below is in the catalogue.
"""

from dataclasses import dataclass

from .choices import HazardCategory as C
from .choices import Likelihood, Severity

# (code, text, category, source), in the order they are offered.
CONTROL_MEASURES: list[tuple[str, str, str, str]] = [
    # 001: aggressive or violent parent / student / family member
    ("follow-home-visit-policy", "Follow the school's home visits policy", C.AGGRESSION, "001"),
    (
        "safeguarding-team-told",
        "Safeguarding team / SLT told about the visit beforehand",
        C.AGGRESSION,
        "001",
    ),
    ("two-visitors", "Two people visit", C.AGGRESSION, "001"),
    (
        "signed-out-with-office",
        "Office informed and visitors signed out so others are aware",
        C.AGGRESSION,
        "001",
    ),
    ("mobiles-carried", "Mobile phones taken for communication", C.AGGRESSION, "001"),
    # 002: during the visit
    (
        "sit-near-exit",
        "Sit near the door; never let anyone sit between you and the exit",
        C.AGGRESSION,
        "002",
    ),
    (
        "little-equipment",
        "Take little equipment and few files into the house, for a quick exit",
        C.AGGRESSION,
        "002",
    ),
    (
        "trust-instincts",
        "If unsure on arrival, trust your instincts and do not enter",
        C.AGGRESSION,
        "002",
    ),
    (
        "other-venue",
        "Meet at a venue other than the home, where staff are protected",
        C.AGGRESSION,
        "002",
    ),
    (
        "police-or-social-worker",
        "An appropriate second person (e.g. Police, social worker) accompanies the visit",
        C.AGGRESSION,
        "002",
    ),
    # 001: driving
    ("vehicle-maintained", "Vehicle properly maintained", C.DRIVING, "001"),
    ("breakdown-cover", "Member of a breakdown organisation", C.DRIVING, "001"),
    ("torch-and-phone", "Torch and phone carried for emergencies", C.DRIVING, "001"),
    ("where-going-told", "Team or partner told where you are going", C.DRIVING, "001"),
    ("phone-if-plan-changes", "Phone the school office if the plan changes", C.DRIVING, "001"),
    ("no-valuables-in-car", "No valuables left in the car (e.g. laptop)", C.DRIVING, "001"),
    ("avoid-risky-areas", "Avoid risky areas", C.DRIVING, "001"),
    ("business-insurance", "Business insurance on the car used for the visit", C.DRIVING, "001"),
    # 001 §4 and 002: parking
    (
        "park-facing-way-out",
        "Park facing the way out, so you do not need to reverse when leaving",
        C.DRIVING,
        "002",
    ),
    (
        "drivers-door-towards-return",
        "Park with the driver's door facing the way you will return to the car",
        C.DRIVING,
        "002",
    ),
    ("park-well-lit", "Park in a well-lit area", C.DRIVING, "002"),
    ("route-planned", "Route planned and somewhere safe to park known", C.DRIVING, "002"),
    (
        "nothing-identifying-in-car",
        "Nothing in the car identifies you, the school or your home address",
        C.DRIVING,
        "002",
    ),
    # 001: movement through public areas
    ("back-down", "Back down from confrontation", C.PUBLIC_AREAS, "001"),
    ("call-for-help", "Call for help", C.PUBLIC_AREAS, "001"),
    ("attack-alarm", "Carry and use an attack alarm", C.PUBLIC_AREAS, "001"),
    (
        "valuables-hidden",
        "Valuables secure and out of sight or disguised",
        C.PUBLIC_AREAS,
        "001",
    ),
    (
        "surrender-valuables",
        "Surrender valuables if personal safety is at risk",
        C.PUBLIC_AREAS,
        "001",
    ),
    ("post-incident-support", "Post-incident support", C.PUBLIC_AREAS, "001"),
    ("no-large-sums", "Do not carry large sums of money", C.PUBLIC_AREAS, "001"),
    # 001: illness or injury / accident
    (
        "alert-emergency-services",
        "Alert emergency services if appropriate",
        C.ILLNESS,
        "001",
    ),
    ("alert-team", "Alert team members if able to", C.ILLNESS, "001"),
    ("access-to-phone", "Access to a phone", C.ILLNESS, "001"),
    (
        "signal-checked",
        "Mobile phone has a signal and is working before entering the property",
        C.ILLNESS,
        "001",
    ),
    (
        "medication",
        "Prescribed medication taken as directed or as needed",
        C.ILLNESS,
        "001",
    ),
    ("injury-protocol", "Injury-at-work protocol completed on return", C.ILLNESS, "001"),
    ("phone-charged", "Mobile phone with you and charged", C.ILLNESS, "002"),
    # 001: attack by dog or other animal
    ("avoid-animals", "Avoid contact with animals", C.ANIMALS, "001"),
    (
        "local-advice-animals",
        "Seek local advice before entering premises with animals",
        C.ANIMALS,
        "001",
    ),
    (
        "calm-near-animals",
        "Behave calmly near animals: no sudden movements that alarm them",
        C.ANIMALS,
        "001",
    ),
    ("dogs-locked-away", "Ask for dogs to be locked in a separate room", C.ANIMALS, "002"),
    # 002: for every visit
    (
        "case-history-checked",
        "The family's history and flagged risks checked before the visit",
        C.OTHER,
        "002",
    ),
    (
        "other-agencies-consulted",
        "Other agencies consulted about the family's history",
        C.OTHER,
        "002",
    ),
    ("phone-in-agreed", "Phone-in procedure agreed", C.OTHER, "002"),
    (
        "time-limit-agreed",
        "Time agreed after which the office contacts the visitors",
        C.OTHER,
        "002",
    ),
    ("lone-worker-training", "Visitors have had lone-worker training", C.OTHER, "002"),
    ("id-badge-worn", "School ID badge worn", C.OTHER, "002"),
    (
        "breakaway-lanyard",
        "ID badge on a clip or lanyard that breaks if grabbed",
        C.OTHER,
        "002",
    ),
    (
        "tracking-device",
        "Lone-worker tracking device, or a detailed contact procedure with agreed actions",
        C.OTHER,
        "002",
    ),
]


@dataclass(frozen=True)
class Measure:
    code: str
    text: str
    category: str
    source: str


MEASURES: dict[str, Measure] = {code: Measure(code, *rest) for code, *rest in CONTROL_MEASURES}
# Codes no longer offered on new assessments; old rows that cite them still show them.
RETIRED: frozenset[str] = frozenset()
MEASURE_GROUP_LABELS = {
    C.AGGRESSION: "Aggressive or violent person",
    C.DRIVING: "Driving and parking",
    C.PUBLIC_AREAS: "Public areas",
    C.ILLNESS: "Illness, injury and phones",
    C.ANIMALS: "Dogs and other animals",
    C.OTHER: "For every visit",
}


@dataclass(frozen=True)
class StandardHazard:
    code: str
    hazard: str
    category: str
    harm: str
    severity: int
    likelihood: int
    controls: tuple[str, ...]


# The five rows of 001's Work Activity Risk Assessment, as 001 rates them (all low).
STANDARD_HAZARDS: tuple[StandardHazard, ...] = (
    StandardHazard(
        "aggression",
        "Aggressive or violent parent, student or family member",
        C.AGGRESSION,
        "Major injury may occur",
        Severity.MAJOR,
        Likelihood.REMOTE,
        (
            "follow-home-visit-policy",
            "safeguarding-team-told",
            "two-visitors",
            "signed-out-with-office",
            "mobiles-carried",
        ),
    ),
    StandardHazard(
        "driving",
        "Driving",
        C.DRIVING,
        "Vehicle breakdown, accident, intruder in the vehicle, use of a mobile phone, fatigue",
        Severity.SERIOUS,
        Likelihood.REMOTE,
        (
            "vehicle-maintained",
            "breakdown-cover",
            "torch-and-phone",
            "where-going-told",
            "phone-if-plan-changes",
            "no-valuables-in-car",
            "avoid-risky-areas",
            "business-insurance",
        ),
    ),
    StandardHazard(
        "public_areas",
        "Movement through public areas, e.g. to and from car parks",
        C.PUBLIC_AREAS,
        "Attack, theft of property",
        Severity.SERIOUS,
        Likelihood.REMOTE,
        (
            "back-down",
            "call-for-help",
            "attack-alarm",
            "valuables-hidden",
            "surrender-valuables",
            "post-incident-support",
        ),
    ),
    StandardHazard(
        "illness",
        "Illness or injury, accident",
        C.ILLNESS,
        "Illness or injury",
        Severity.SERIOUS,
        Likelihood.REMOTE,
        (
            "alert-emergency-services",
            "alert-team",
            "access-to-phone",
            "signal-checked",
            "medication",
            "injury-protocol",
        ),
    ),
    StandardHazard(
        "animals",
        "Attack by dog or other animal",
        C.ANIMALS,
        "Major injury may occur",
        Severity.MAJOR,
        Likelihood.REMOTE,
        ("avoid-animals", "local-advice-animals", "calm-near-animals"),
    ),
)
STANDARD_BY_CODE = {h.code: h for h in STANDARD_HAZARDS}


@dataclass(frozen=True)
class FlagHazard:
    hazard: str
    category: str
    harm: str
    severity: int


# R-RA-2: the row a household risk flag adds (002 "flagged risks"). A known risk starts at
# "possible": the assessor rates it and must control it; the row cannot be removed.
FLAG_HAZARDS: dict[str, FlagHazard] = {
    "dog": FlagHazard(
        "Flagged: dog or other animal at the address", C.ANIMALS, "Bite or attack", 2
    ),
    "aggressive_adult": FlagHazard(
        "Flagged: known aggressive or violent adult", C.AGGRESSION, "Major injury may occur", 3
    ),
    "previous_incident": FlagHazard(
        "Flagged: previous incident at the address", C.AGGRESSION, "Repeat of the incident", 3
    ),
    "other": FlagHazard("Flagged risk at the address", C.OTHER, "", 2),
}
FLAG_LIKELIHOOD = Likelihood.POSSIBLE


# The 000 "Interventions/actions to put in place when undertaking a door step visit" table: the
# visitors' checklist on the doorstep page. The "family in isolation" row is R-RA-7.
DOORSTEP_CHECKLIST: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Before you go",
        (
            "You must go in twos. Travel separately and keep at least two metres (six feet) "
            "apart at all times.",
            "Sign out and leave clear information about where you are going and how you are "
            "travelling, including car details. Check you have fuel.",
            "You both have a mobile phone and have left the number with school.",
            "You both wear gloves and, if possible, take hand gel.",
            "Take a pre-prepared note asking the family to contact school urgently, in a sealed, "
            "addressed envelope.",
        ),
    ),
    (
        "On arrival",
        (
            "Assess the situation. If it appears safe, approach the front door, knock with a "
            "covered hand and move well away.",
            "If you get a response, ask whether the family are in isolation or anyone has "
            "symptoms. If yes, move further away, finish as quickly as possible, but try to "
            "find out whether the child is safe.",
            "If not, keep the visit to an absolute minimum. Do not enter the property, even if "
            "invited in. Explain why you would like to see the child, through the window or at "
            "a safe distance. Move back.",
            "Ask the child directly whether they are OK. Record their words and how they "
            "present. Be factual.",
            "Try to establish a way to communicate in future, explaining that school needs to "
            "know the child is safe and well.",
            "If there is no response, push the pre-prepared note through the door.",
        ),
    ),
    (
        "On return to school",
        (
            "Wash your hands thoroughly and sign back in.",
            "If there was no contact, tell CASS / First Response / MASH that you are still "
            "concerned and ask for support.",
            "Record the visit and the response from CASS / First Response / MASH within 24 hours.",
        ),
    ),
)
SELF_ISOLATING_DECISION = "Not safe — the visit must not be undertaken"
SELF_ISOLATING_ADVICE = (
    "The family is self-isolating, so even a doorstep visit is not appropriate. "
    "Consider a follow-up call to CASS / First Response / MASH to share this information, ask for "
    "support and explain the additional vulnerabilities you are worried about, and keep in touch "
    "with the family by phone, email or video call."
)
