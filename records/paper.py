"""The paper forms of the source policies, as data the PDF templates lay out.

- 001 "WORK ACTIVITY RISK ASSESSMENT": the lone-working hazard table (R-RA-2).
- 000 "Doorstep Risk Assessment during Covid 19 outbreak": its questions (R-RA-5) and the
  interventions table (R-RA-7).

The standard assessment template takes a list of `HazardRow`s, so when riskassess records its
own rows per assessment, `hazard_rows()` returns those instead of the school's general table.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class HazardRow:
    hazard: str
    people: str
    severity: str = ""
    likelihood: str = ""
    risk_level: str = ""
    controls: tuple[str, ...] = field(default_factory=tuple)
    harms: tuple[str, ...] = field(default_factory=tuple)


# 001: the school's general lone-working risk assessment, as the policy states it.
STANDARD_HAZARDS: tuple[HazardRow, ...] = (
    HazardRow(
        hazard="Aggressive or violent parent / student / family member",
        people="Member of staff may be harmed",
        severity="Major injury may occur",
        likelihood="Remote possibility",
        risk_level="Low",
        controls=(
            "Refer to home visit policy",
            "Risk reduced by informing safeguarding team / SLT prior to visit",
            "2 people to visit",
            "Inform school office and sign out so others aware",
            "Take mobile phones for communication",
        ),
    ),
    HazardRow(
        hazard="Driving",
        people="Member of staff may be harmed",
        harms=(
            "Vehicle breakdown",
            "Accident",
            "Intruder in vehicle when unattended",
            "Use of mobile phone",
            "Fatigue",
        ),
        likelihood="Remote possibility",
        risk_level="Low",
        controls=(
            "Maintain vehicle properly",
            "Belong to a breakdown organisation",
            "Carry torch, phone etc for emergency",
            "Advise team or partner where you are going",
            "Phone school office if plan changes",
            "Do not leave valuables in car (e.g. laptop)",
            "Avoid risky areas",
            "Must have business insurance on car being used for visit",
        ),
    ),
    HazardRow(
        hazard="Movement through public areas, e.g. to / from car parks",
        people="Member of staff may be harmed",
        harms=("Attack", "Theft of property"),
        likelihood="Remote",
        risk_level="Low",
        controls=(
            "Back down from confrontation",
            "Call for help",
            "Use attack alarm",
            "Keep valuables secure and out of sight or disguised",
            "Surrender valuables if personal safety is at risk",
            "Post incident support",
        ),
    ),
    HazardRow(
        hazard="Illness or injury / accident",
        people="Member of staff may be harmed or injured",
        severity="Illness or injury",
        likelihood="Remote",
        risk_level="Low",
        controls=(
            "Alert emergency services if appropriate",
            "Alert team members if able to",
            "Ensure access to phone",
            "Ensure mobile phone has a signal and is working before entering the property",
            "Take prescribed medication as directed or as needed",
            "Complete injury at work protocol on return",
        ),
    ),
    HazardRow(
        hazard="Attack by dog or other animal",
        people="Member of staff may be harmed or injured",
        severity="Major injury may occur",
        likelihood="Remote",
        risk_level="Low",
        controls=(
            "Avoid contact with animals",
            "Seek local advice before entering premises with animals",
            "Appropriate behaviour near animals – avoid alarming them, e.g. sudden movements",
        ),
    ),
)


def blank_hazard_rows() -> list[HazardRow]:
    """The paper copy: the hazards and who is at risk, severity, likelihood and level left to
    fill in, and the 001 controls to tick."""
    return [
        HazardRow(hazard=row.hazard, people=row.people, controls=row.controls)
        for row in STANDARD_HAZARDS
    ]


def hazard_rows(assessment) -> list[HazardRow]:
    """The rows of `assessment`'s hazard table as the assessor left them (R-RA-2): severity,
    likelihood, the matrix's level and the control measures chosen or written in. An assessment
    without rows (none is saved that way) prints the school's general table from 001."""
    from riskassess.catalogue import MEASURES

    rows = []
    for row in assessment.hazard_rows.all():
        controls = [MEASURES[code].text if code in MEASURES else code for code in row.controls]
        controls += [line.strip() for line in row.other_controls.splitlines() if line.strip()]
        rows.append(
            HazardRow(
                hazard=row.hazard,
                people="Member of staff may be harmed",
                severity=row.get_severity_display(),
                likelihood=row.get_likelihood_display(),
                risk_level=row.get_risk_level_display(),
                controls=tuple(controls),
                harms=(row.harm,) if row.harm else (),
            )
        )
    return rows or list(STANDARD_HAZARDS)


# 000: the doorstep risk assessment's questions, in the paper form's order (R-RA-5).
DOORSTEP_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("date", "Date"),
    ("workers", "Worker and signatures"),
    ("family", "Name and address of family / child"),
    (
        "vulnerable",
        "Why is this family listed as vulnerable? Give any background information that is "
        "influencing your thinking (history of child abuse / domestic violence / mental health / "
        "suicidal thoughts)",
    ),
    ("last_contact", "When did you last have contact with this family? Give date and details."),
    ("typical", "Is failure to make contact typical of this family?"),
    ("escalated", "Why has the lack of contact escalated your concerns?"),
    ("methods", "Give details of all other methods you have tried to make contact."),
    (
        "professionals",
        "Are there any other professionals involved with this family? Please list. Have you made "
        "contact and shared your concerns?",
    ),
    (
        "agencies",
        "Have you shared your concerns with CASS / First Response / MASH and the Police? What "
        "support or advice did they offer?",
    ),
    ("consulted", "Have you consulted your Lead DSL and Head Teacher?"),
    ("siblings", "Have you considered contacting other schools where there may be siblings?"),
)


@dataclass(frozen=True)
class Intervention:
    situation: str
    hazard: str
    safe: str
    actions: tuple[str, ...]
    key: str = ""


# 000: "Interventions/actions to put in place when undertaking a door step visit" (R-RA-7).
DOORSTEP_INTERVENTIONS: tuple[Intervention, ...] = (
    Intervention(
        key="isolating",
        situation="Family in isolation due to Covid 19",
        hazard="Infection",
        safe="Not safe",
        actions=(
            "The visit should not be undertaken. You may consider a follow up call to CASS / "
            "First Response / MASH to share this information and ask for support, explaining the "
            "additional vulnerabilities you are worried about.",
        ),
    ),
    Intervention(
        situation="No evidence / information to suggest CV19",
        hazard="",
        safe="Safe",
        actions=(
            "You must go in twos. To comply with social distancing recommendations you should "
            "travel separately and maintain a distance of at least six feet at all times.",
            "You must sign in and sign out and leave clear information as to where you are going, "
            "how you are travelling including car details. Check you have fuel.",
            "You must both have a mobile phone and leave the number with school.",
            "You should both wear gloves and if possible take hand gel with you.",
        ),
    ),
    Intervention(
        situation="Upon arrival",
        hazard="",
        safe="",
        actions=(
            "Assess the situation. If it appears safe to do so approach the front door, knock and "
            "move well away.",
            "If you get a response, ask if the family are in isolation. If the answer is yes "
            "finish the visit as quickly as possible but try to ascertain if the child is safe.",
            "If the answer is no, keep the visit to an absolute minimum. Do not enter the "
            "property. Explain why you would like to and ask to see the child through the window. "
            "Move back.",
            "Ask the child if they are ok. Record on paper their response and how they present. "
            "Be factual or state your opinion.",
            "Try to establish a communication method for future use explaining that we need to "
            "know the child is safe and well.",
            "If you are unsuccessful and there is no response have a pre-prepared note to push "
            "through the door asking the family to contact you urgently.",
        ),
    ),
    Intervention(
        situation="Upon return to school",
        hazard="",
        safe="",
        actions=(
            "Wash your hands thoroughly. Sign back in. If no contact, then inform CASS / First "
            "Response / MASH that you are still concerned and ask for support.",
            "Record the visit details on the child's file along with the response from CASS / "
            "First Response / MASH.",
        ),
    ),
)
