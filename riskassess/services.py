"""Every change to a risk assessment, with its audit event (R-RA-*, R-SEC-2).

A saved assessment is always whole: its five 001 hazards and a row for every household risk flag
(R-RA-2), each rated on the 3×3 matrix and controlled; the overall risk is the highest row
(R-RA-3); the 003 preparation answered (R-RA-4); and, on a doorstep visit, every 000 question
answered (R-RA-5). Changing it after authorisation sends the visit back (R-AUTH-5).
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format

from audit.services import audit_event_create
from core.numbers import is_whole_number
from schools.models import HouseholdRiskFlag, User
from visits.models import EDITABLE, Status, Visit

from .catalogue import FLAG_HAZARDS, FLAG_LIKELIHOOD, MEASURES, STANDARD_BY_CODE, STANDARD_HAZARDS
from .gates import flags_not_assessed
from .matrix import overall_risk, risk_level
from .models import (
    DOORSTEP_FIELDS,
    PREPARATION_FIELDS,
    PREPARATION_REQUIRED,
    HazardCategory,
    HazardRow,
    RiskAssessment,
)


class AssessmentInvalid(ValidationError):
    """The rules refuse this; each message names the rule in plain words. Nothing was saved."""


class AssessmentConflict(Exception):
    """Somebody else changed or signed the assessment first: nothing was changed."""


@dataclass(frozen=True)
class HazardRowInput:
    """One row as the assessor submitted it.

    `key` says which row it is: "row:<id>" for a saved row, "standard:<code>" for one of 001's
    five hazards not saved yet, "flag:<id>" for a household flag's row not saved yet, "new" for
    a hazard the assessor adds. Hazard name and category are taken from the assessor only for
    added rows; the others keep the policy's wording.
    """

    key: str
    severity: int
    likelihood: int
    controls: tuple[str, ...] = ()
    other_controls: str = ""
    hazard: str = ""
    category: str = ""
    harm: str = ""
    remove: bool = False


def _local(value: datetime.datetime) -> str:
    return date_format(timezone.localtime(value), "d/m/Y H:i")


# ---------------------------------------------------------------------------------------------
# The rows an assessment starts with
# ---------------------------------------------------------------------------------------------


def standard_row(code: str) -> HazardRowInput:
    """One of 001's five hazards with 001's own rating and controls."""
    hazard = STANDARD_BY_CODE[code]
    return HazardRowInput(
        key=f"standard:{code}",
        hazard=hazard.hazard,
        category=hazard.category,
        harm=hazard.harm,
        severity=hazard.severity,
        likelihood=hazard.likelihood,
        controls=hazard.controls,
    )


def flag_row(flag: HouseholdRiskFlag) -> HazardRowInput:
    """R-RA-2: a household flag's row, rated "possible" until the assessor says otherwise and
    with no control ticked: the assessor must choose how to control it."""
    template = FLAG_HAZARDS.get(flag.kind, FLAG_HAZARDS["other"])
    hazard = template.hazard + (f": {flag.notes}" if flag.notes else "")
    return HazardRowInput(
        key=f"flag:{flag.pk}",
        hazard=hazard[:200],
        category=template.category,
        harm=template.harm,
        severity=template.severity,
        likelihood=FLAG_LIKELIHOOD,
    )


def rows_to_start_with(*, visit: Visit, assessment: RiskAssessment | None) -> list:
    """The rows the assessment page shows: the saved rows, then any of 001's hazards or the
    household's flags that have no row yet (a flag recorded since the last save). Saved rows
    are HazardRow objects; the others are HazardRowInput defaults."""
    saved = list(assessment.hazard_rows.all()) if assessment is not None else []
    have_codes = {row.standard_code for row in saved if row.standard_code}
    have_flags = {row.risk_flag_id for row in saved if row.risk_flag_id}
    missing = [standard_row(h.code) for h in STANDARD_HAZARDS if h.code not in have_codes]
    missing += [
        flag_row(flag) for flag in visit.household.risk_flags.all() if flag.pk not in have_flags
    ]
    return [*saved, *missing]


# ---------------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------------


def _identity(row: HazardRow) -> str:
    if row.standard_code:
        return f"standard:{row.standard_code}"
    if row.source == HazardRow.Source.FLAG:
        return f"flag:{row.risk_flag_id}" if row.risk_flag_id else f"flag-row:{row.pk}"
    return f"added:{row.pk}"


def _plan_rows(
    *, visit: Visit, saved: dict[int, HazardRow], inputs: list[HazardRowInput]
) -> list[tuple[HazardRow, HazardRowInput]]:
    """Match each submitted row to the row it changes or creates, refusing anything that is not
    this assessment's (R-RA-2). Returns (row, input) pairs; removed rows come back unsaved."""
    problems: list[str] = []
    flags = {flag.pk: flag for flag in visit.household.risk_flags.all()}
    plan: list[tuple[HazardRow, HazardRowInput]] = []
    seen: set[str] = set()
    for item in inputs:
        kind, _, ident = item.key.partition(":")
        row: HazardRow | None = None
        if kind == "row" and is_whole_number(ident) and int(ident) in saved:
            row = saved[int(ident)]
        elif kind == "row":
            problems.append(
                "The form holds a hazard row that is not part of this visit's assessment. "
                "Reload the page and make your changes again."
            )
            continue
        elif kind == "standard" and ident in STANDARD_BY_CODE:
            default = STANDARD_BY_CODE[ident]
            row = HazardRow(
                source=HazardRow.Source.STANDARD,
                standard_code=ident,
                hazard=default.hazard,
                category=default.category,
            )
        elif kind == "flag" and is_whole_number(ident) and int(ident) in flags:
            flag = flags[int(ident)]
            template = flag_row(flag)
            row = HazardRow(
                source=HazardRow.Source.FLAG,
                risk_flag=flag,
                hazard=template.hazard,
                category=template.category,
            )
        elif kind == "new" and not ident:
            row = HazardRow(source=HazardRow.Source.ADDED)
        else:
            problems.append(
                "The form holds a hazard row that is not part of this visit's assessment. "
                "Reload the page and make your changes again."
            )
            continue
        identity = _identity(row) if row.pk else item.key
        if item.key != "new":
            if identity in seen:
                problems.append(f"“{row.hazard}” appears twice in the form.")
                continue
            seen.add(identity)
        plan.append((row, item))

    # R-RA-2: the five 001 hazards and every household flag have a row, and none is removed.
    expected = {f"standard:{h.code}" for h in STANDARD_HAZARDS} | {f"flag:{pk}" for pk in flags}
    expected |= {_identity(row) for row in saved.values()}
    missing = expected - seen
    if missing:
        problems.append(
            "The form is missing hazard rows that cannot be removed (the 001 hazards and the "
            "household's risk flags). Reload the page and make your changes again."
        )
    for row, item in plan:
        if item.remove and row.source != HazardRow.Source.ADDED:
            problems.append(
                f"“{row.hazard}” cannot be removed: 001's hazards and the household's risk flags "
                "can only be controlled."
            )
    if problems:
        raise AssessmentInvalid(list(dict.fromkeys(problems)))
    return plan


def _check_row(row: HazardRow, item: HazardRowInput) -> list[str]:
    problems = []
    name = (item.hazard.strip() if row.source == HazardRow.Source.ADDED else row.hazard) or "a row"
    if row.source == HazardRow.Source.ADDED:
        if not item.hazard.strip():
            problems.append("Name the hazard you added.")
        if item.category not in HazardCategory.values:
            problems.append(f"Choose what kind of hazard “{name}” is.")
    # R-RA-2: severity and likelihood are on the matrix's 3-point scale.
    for label, value in (("severity", item.severity), ("likelihood", item.likelihood)):
        if value not in (1, 2, 3):
            problems.append(f"The {label} of “{name}” must be 1, 2 or 3 on the 3×3 matrix.")
    unknown = [code for code in item.controls if code not in MEASURES]
    if unknown:
        problems.append(f"“{name}” cites control measures that are not in the catalogue.")
    if not item.controls and not item.other_controls.strip():
        problems.append(f"Choose or write at least one control measure for “{name}”.")
    return problems


DATE_ANSWERS = ("complete_by", "last_contact_on")


def _clean_answer(name: str, value):
    if name in DATE_ANSWERS:
        return value or None
    return (value or "").strip()


def _answers_problems(visit: Visit, answers: dict) -> list[str]:
    problems = []
    today = timezone.localdate()

    def blank(value) -> bool:
        return value is None or (isinstance(value, str) and not value.strip())

    label = RiskAssessment._meta.get_field
    missing = [str(label(n).verbose_name) for n in PREPARATION_REQUIRED if blank(answers.get(n))]
    if missing:
        # R-RA-4: the 003 preparation questions.
        problems.append(f"Answer the preparation questions: {'; '.join(missing)}.")
    if visit.is_doorstep:
        # R-RA-5: every question of the 000 doorstep form is required.
        missing = [str(label(n).verbose_name) for n in DOORSTEP_FIELDS if blank(answers.get(n))]
        if missing:
            problems.append(
                f"Answer every question of the doorstep assessment: {'; '.join(missing)}."
            )
        last = answers.get("last_contact_on")
        if isinstance(last, datetime.date) and last > today:
            problems.append("The last contact with the family cannot be in the future.")
    return problems


def _snapshot(*, answers: dict, rows: list[dict]) -> dict:
    return {
        "answers": {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in answers.items()},
        "rows": sorted(rows, key=lambda r: r["identity"]),
    }


def _row_state(identity: str, row: HazardRow) -> dict:
    return {
        "identity": identity,
        "hazard": row.hazard,
        "category": row.category,
        "harm": row.harm,
        "severity": row.severity,
        "likelihood": row.likelihood,
        "risk_level": row.risk_level,
        "controls": sorted(row.controls),
        "other_controls": row.other_controls,
    }


def _diff(before: dict, after: dict) -> dict:
    changes: dict = {}
    answers = {
        name: [before["answers"].get(name), value]
        for name, value in after["answers"].items()
        if before["answers"].get(name) != value
    }
    if answers:
        changes["answers"] = answers
    old = {r["identity"]: r for r in before["rows"]}
    new = {r["identity"]: r for r in after["rows"]}
    added = [new[i]["hazard"] for i in new if i not in old]
    removed = [old[i]["hazard"] for i in old if i not in new]
    changed = {}
    for identity in new.keys() & old.keys():
        was = old[identity]
        fields = {k: [was[k], v] for k, v in new[identity].items() if was[k] != v}
        if fields:
            changed[new[identity]["hazard"]] = fields
    if added:
        changes["rows_added"] = added
    if removed:
        changes["rows_removed"] = removed
    if changed:
        changes["rows_changed"] = changed
    return changes


def _already_saved(
    *, assessment: RiskAssessment, saved: dict[int, HazardRow], rows: list, answers: dict
) -> bool:
    """Whether the posted assessment is exactly the saved one, whatever version the page had:
    then a second post of one form (a double-click) is not somebody else's change."""
    if any(getattr(assessment, name) != value for name, value in answers.items()):
        return False

    def content(kind: str, row) -> tuple:
        named = kind in ("added", "new")
        return (
            "added" if named else kind,
            row.hazard.strip() if named else "",
            row.category if named else "",
            row.harm.strip(),
            row.severity,
            row.likelihood,
            tuple(sorted(set(row.controls))),
            row.other_controls.strip(),
        )

    posted = []
    for item in rows:
        if item.remove:
            continue
        kind, _, ident = item.key.partition(":")
        if kind == "row":
            row = saved.get(int(ident)) if is_whole_number(ident) else None
            if row is None:
                return False
            kind = _identity(row) if row.source != HazardRow.Source.ADDED else "added"
        posted.append(content(item.key if kind in ("standard", "flag") else kind, item))
    stored = [
        content(_identity(row) if row.source != HazardRow.Source.ADDED else "added", row)
        for row in saved.values()
    ]
    return sorted(posted) == sorted(stored)


@transaction.atomic
def assessment_save(
    *,
    actor: User,
    visit: Visit,
    rows: list[HazardRowInput],
    answers: dict,
    version: int | None = None,
) -> RiskAssessment:
    """Make or change the visit's risk assessment as a whole.

    `answers` holds the 003 preparation answers (R-RA-4) and, for a doorstep visit, the 000
    questions (R-RA-5). `version` is the version the assessor's page showed: if somebody saved
    since, nothing is saved (AssessmentConflict). Saving what is already saved changes nothing.
    """
    unknown = set(answers) - set(PREPARATION_FIELDS) - set(DOORSTEP_FIELDS)
    if unknown:
        raise TypeError(f"Not assessment answers: {sorted(unknown)}")
    # Lock the visit: its status cannot move (sign-out, authorisation) while we read it.
    visit = Visit.objects.select_for_update().select_related("school", "household").get(pk=visit.pk)
    if visit.status not in EDITABLE:
        raise AssessmentInvalid(
            f"This visit is {visit.get_status_display().lower()}: its risk assessment can no "
            "longer be changed."
        )
    assessment = RiskAssessment.objects.filter(visit=visit).first()
    saved = {row.pk: row for row in assessment.hazard_rows.all()} if assessment else {}
    fields = PREPARATION_FIELDS + (DOORSTEP_FIELDS if visit.is_doorstep else ())
    answers = {name: _clean_answer(name, answers.get(name)) for name in fields}
    # `version` 0: the page showed no assessment yet.
    if assessment is not None and version is not None and version != assessment.version:
        if _already_saved(assessment=assessment, saved=saved, rows=rows, answers=answers):
            return assessment  # the same form posted twice (a double-click): saved once
        raise AssessmentConflict(
            f"{assessment.assessor} changed this risk assessment at "
            f"{_local(assessment.changed_at or assessment.confirmed_at)}, after you opened it. "
            "Nothing was saved: read their version, then make your changes again."
        )

    plan = _plan_rows(visit=visit, saved=saved, inputs=rows)
    problems = []
    for row, item in plan:
        if not item.remove:
            problems.extend(_check_row(row, item))
    problems.extend(_answers_problems(visit, answers))
    if problems:
        raise AssessmentInvalid(problems)

    before = _snapshot(
        answers={name: getattr(assessment, name) for name in fields} if assessment else {},
        rows=[_row_state(_identity(row), row) for row in saved.values()],
    )
    kept: list[tuple[HazardRow, str]] = []
    removed: list[HazardRow] = []
    new_count = 0
    for position, (row, item) in enumerate(plan, start=1):
        if item.remove:
            if row.pk:
                removed.append(row)
            continue
        if row.source == HazardRow.Source.ADDED:
            row.hazard, row.category = item.hazard.strip()[:200], item.category
        row.harm = item.harm.strip()[:200]
        row.severity, row.likelihood = item.severity, item.likelihood
        # R-RA-2: each row's level comes from the one matrix function.
        row.risk_level = risk_level(severity=item.severity, likelihood=item.likelihood)
        row.controls = sorted(set(item.controls))
        row.other_controls = item.other_controls.strip()
        row.position = position
        if row.pk:
            identity = _identity(row)
        elif row.source == HazardRow.Source.ADDED:
            new_count += 1
            identity = f"new:{new_count}"
        else:
            identity = item.key
        kept.append((row, identity))
    after = _snapshot(answers=answers, rows=[_row_state(i, row) for row, i in kept])
    if assessment is not None and before == after:
        return assessment  # nothing changed: no new version, no re-authorisation

    # R-RA-3: the visit's overall risk is the highest row level.
    overall = overall_risk(row.risk_level for row, _ in kept)
    now = timezone.now()
    values = {
        "kind": RiskAssessment.Kind.DOORSTEP if visit.is_doorstep else RiskAssessment.Kind.STANDARD,
        "assessor": actor,
        "confirmed_at": now,
        "changed_at": now,
        "overall_risk": overall,
        # A changed assessment is a new assessment: any sign-off was of the old one (R-RA-3).
        "signed_off_by": None,
        "signed_off_at": None,
        **answers,
    }
    if assessment is None:
        try:
            with transaction.atomic():
                assessment = RiskAssessment.objects.create(visit=visit, **values)
        except IntegrityError as error:
            raise AssessmentConflict(
                "Somebody else saved a risk assessment for this visit at the same moment. "
                "Nothing was saved: read theirs, then make your changes again."
            ) from error
        event = "assessment.created"
        changes = {"overall_risk": overall, "rows": [row.hazard for row, _ in kept]}
    else:
        moved = RiskAssessment.objects.filter(pk=assessment.pk, version=assessment.version).update(
            version=F("version") + 1, **values
        )
        if not moved:
            raise AssessmentConflict(
                "Somebody else changed this risk assessment at the same moment. Nothing was "
                "saved: read their version, then make your changes again."
            )
        old_overall = assessment.overall_risk
        assessment.refresh_from_db()
        event = "assessment.changed"
        changes = _diff(before, after)
        if old_overall != overall:
            changes["overall_risk"] = [old_overall, overall]

    HazardRow.objects.filter(pk__in=[row.pk for row in removed]).delete()
    for row, _ in kept:
        row.assessment = assessment
        row.save()
    audit_event_create(
        actor=actor, school=visit.school, obj=assessment, event_type=event, changes=changes
    )
    # R-AUTH-5: changing the assessment of an authorised visit returns it for authorisation.
    if visit.status == Status.AUTHORISED:
        from visits.authorisation import visit_return_for_authorisation

        visit_return_for_authorisation(actor=actor, visit=visit, why="the risk assessment changed")
    return assessment


# ---------------------------------------------------------------------------------------------
# Sign-off and re-confirmation
# ---------------------------------------------------------------------------------------------


def sign_off_problems(*, actor: User, visit: Visit, assessment: RiskAssessment) -> list[str]:
    """Why `actor` may not sign off the assessment (R-RA-3). Empty: they may."""
    problems = []
    # R-RA-3: a manager (DSL, Headteacher or trust lead) signs off, never the assessor.
    if not actor.has_perm("schools.sign_off_risk", visit.school):
        problems.append(
            "Only a DSL, the Headteacher or a trust safeguarding lead can sign off a risk "
            "assessment."
        )
    if assessment.assessor_id == actor.pk:
        problems.append(
            "You made the latest version of this risk assessment, so somebody else must sign it "
            "off."
        )
    if visit.status not in EDITABLE:
        problems.append(
            f"This visit is {visit.get_status_display().lower()}: its assessment can no longer "
            "be signed off."
        )
    return problems


@transaction.atomic
def assessment_sign_off(*, actor: User, visit: Visit, version: int) -> RiskAssessment:
    """R-RA-3: a DSL, head or trust lead other than the assessor signs off the version they read."""
    assessment = RiskAssessment.objects.select_related("assessor").filter(visit_id=visit.pk).first()
    if assessment is None:
        raise AssessmentInvalid("This visit has no risk assessment to sign off.")
    problems = sign_off_problems(actor=actor, visit=visit, assessment=assessment)
    if problems:
        raise AssessmentInvalid(problems)
    now = timezone.now()
    signed = (
        RiskAssessment.objects.filter(pk=assessment.pk, version=version, signed_off_at__isnull=True)
        .exclude(assessor=actor)
        .update(signed_off_by=actor, signed_off_at=now)
    )
    assessment.refresh_from_db()
    if not signed:
        if assessment.signed_off_at is not None and assessment.version == version:
            if assessment.signed_off_by_id == actor.pk:
                return assessment  # signed twice (a double-click): once is enough
            raise AssessmentConflict(
                f"{assessment.signed_off_by} already signed this assessment off at "
                f"{_local(assessment.signed_off_at)}."
            )
        raise AssessmentConflict(
            "The risk assessment changed after you opened it. Nothing was signed: read the new "
            "version, then sign it off."
        )
    audit_event_create(
        actor=actor,
        school=visit.school,
        obj=assessment,
        event_type="assessment.signed_off",
        changes={"version": version, "overall_risk": assessment.overall_risk},
    )
    return assessment


@transaction.atomic
def assessment_reconfirm(*, actor, visit) -> RiskAssessment:
    """R-RA-8: the assessor (or whoever signs the visitors out) confirms in one step that the
    assessment still holds; its age counts from now.

    A risk flag recorded since the assessment must be controlled first (R-RA-2): re-confirming
    cannot skip it.
    """
    assessment = RiskAssessment.objects.select_for_update().get(visit_id=visit.pk)
    unassessed = flags_not_assessed(assessment, visit.household)
    if unassessed:
        names = ", ".join(flag.get_kind_display() for flag in unassessed)
        raise AssessmentInvalid(
            f"The household has risk flags the assessment does not control yet ({names}). Open "
            "the assessment and control them; that re-confirms it."
        )
    before = assessment.confirmed_at
    assessment.confirmed_at = timezone.now()
    assessment.save(update_fields=["confirmed_at"])
    audit_event_create(
        actor=actor,
        school=visit.school,
        obj=assessment,
        event_type="assessment.reconfirmed",
        changes={"confirmed_at": [before.isoformat(), assessment.confirmed_at.isoformat()]},
    )
    return assessment
