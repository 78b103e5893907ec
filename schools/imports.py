"""Load pupils, households, carers and numbers from a MIS CSV (columns: docs/import-pupils.md).

All or nothing: every row is validated first; if any row is bad, nothing is imported and each bad
row is reported with its line number and what is wrong with it.
"""

import csv
import datetime
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from .models import Carer, ContactNumber, Household, Pupil, School, User
from .signals import directory_change_announce
from .validators import normalise_postcode, normalise_uk_phone

REQUIRED_COLUMNS = [
    "upn",
    "first_name",
    "last_name",
    "date_of_birth",
    "year_group",
    "address_line_1",
    "town",
    "postcode",
]
OPTIONAL_COLUMNS = [
    "address_line_2",
    "categories",
    "interpreter_language",
    "cultural_notes",
    "carer_name",
    "carer_relationship",
    "carer_parental_responsibility",
    "carer_phone",
    "carer_phone_label",
    "emergency_contact_name",
    "emergency_contact_phone",
]
CATEGORY_FIELDS = {
    "CP": "child_protection",
    "CIN": "child_in_need",
    "LAC": "looked_after",
    "EHCP": "ehcp",
    "EARLYHELP": "early_help",
}
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0", ""}


class ImportRejected(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class _Row:
    line: int
    household_key: tuple[str, str]
    household: dict
    pupil: dict
    carer: dict | None
    numbers: list[dict] = field(default_factory=list)


@dataclass
class ImportResult:
    pupils_created: int = 0
    pupils_updated: int = 0
    households_created: int = 0


def pupils_import(*, actor: User | None, school: School, text: str) -> ImportResult:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = [c.strip() for c in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ImportRejected([f"The file has no column {', '.join(missing)} (see the header row)."])
    rows, problems, seen_upns = [], [], {}
    for line, raw in enumerate(reader, start=2):
        values = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        try:
            row = _parse_row(line, values, school)
        except ValidationError as error:
            problems.append(f"Line {line}: {'; '.join(error.messages)}")
            continue
        upn = row.pupil["upn"]
        if upn and upn in seen_upns:
            problems.append(f"Line {line}: UPN {upn} is already on line {seen_upns[upn]}.")
            continue
        seen_upns[upn] = line
        rows.append(row)
    if not rows and not problems:
        problems.append("The file has a header but no pupils.")
    if problems:
        raise ImportRejected(problems)
    return _save(actor=actor, school=school, rows=rows)


def _parse_row(line: int, values: dict, school: School) -> _Row:
    errors = []
    for column in REQUIRED_COLUMNS:
        if column != "upn" and not values.get(column):
            errors.append(f"{column} is empty")
    if errors:
        raise ValidationError(errors)
    date_of_birth = _parse_date(values["date_of_birth"])
    if date_of_birth is None:
        raise ValidationError(
            f"date_of_birth “{values['date_of_birth']}” is not a date (write 31/01/2017)"
        )
    household = {
        "school": school,
        "address_line_1": values["address_line_1"],
        "address_line_2": values.get("address_line_2", ""),
        "town": values["town"],
        "postcode": normalise_postcode(values["postcode"]),
    }
    pupil = {
        "school": school,
        "first_name": values["first_name"],
        "last_name": values["last_name"],
        "date_of_birth": date_of_birth,
        "year_group": values["year_group"].upper().removeprefix("Y").removeprefix("YEAR ").strip(),
        "upn": values.get("upn", "").upper(),
        "interpreter_language": values.get("interpreter_language", ""),
        "cultural_notes": values.get("cultural_notes", ""),
    }
    for code in filter(
        None,
        (
            c.strip().upper().replace(" ", "")
            for c in values.get("categories", "").replace(";", ",").split(",")
        ),
    ):
        if code not in CATEGORY_FIELDS:
            errors.append(f"category “{code}” is not one of CP, CiN, LAC, EHCP, Early Help")
        else:
            pupil[CATEGORY_FIELDS[code]] = True
    carer = None
    numbers = []
    if values.get("carer_name"):
        responsibility = values.get("carer_parental_responsibility", "yes").lower()
        if responsibility not in YES | NO:
            errors.append("carer_parental_responsibility must be yes or no")
        carer = {
            "name": values["carer_name"],
            "relationship": values.get("carer_relationship") or "Carer",
            "parental_responsibility": responsibility in YES,
        }
    for phone_column, label, emergency in (
        (
            "carer_phone",
            values.get("carer_phone_label") or f"{values.get('carer_name') or 'Carer'}",
            False,
        ),
        (
            "emergency_contact_phone",
            f"{values.get('emergency_contact_name') or 'Emergency'} (emergency contact)",
            True,
        ),
    ):
        if values.get(phone_column):
            try:
                number = normalise_uk_phone(values[phone_column])
            except ValidationError as error:
                errors.append(f"{phone_column}: {error.messages[0]}")
                continue
            numbers.append(
                {
                    "number": number,
                    "label": label.strip()[:60],
                    "emergency_contact": emergency,
                    "for_carer": not emergency,
                }
            )
    for model, data in ((Household, household), (Pupil, pupil)):
        try:
            model(**data).full_clean(exclude=["household", "school"], validate_unique=False)
        except ValidationError as error:
            errors.extend(
                f"{name}: {message}"
                for name, messages in error.message_dict.items()
                for message in messages
            )
    if errors:
        raise ValidationError(errors)
    key = (household["address_line_1"].lower(), household["postcode"])
    return _Row(line, key, household, pupil, carer, numbers)


def _parse_date(value: str) -> datetime.date | None:
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(value, fmt).date()  # noqa: DTZ007 (a date only)
        except ValueError:
            continue
    return None


@transaction.atomic
def _save(*, actor: User | None, school: School, rows: list[_Row]) -> ImportResult:
    result = ImportResult()
    households: dict[tuple[str, str], Household] = {}
    for row in rows:
        household = households.get(row.household_key)
        if household is None:
            household = Household.objects.filter(
                school=school,
                address_line_1__iexact=row.household["address_line_1"],
                postcode=row.household["postcode"],
            ).first()
            if household is None:
                household = Household.objects.create(**row.household)
                result.households_created += 1
            households[row.household_key] = household
        carer = None
        if row.carer:
            carer, _ = Carer.objects.get_or_create(
                household=household, name=row.carer["name"], defaults=row.carer
            )
        for number in row.numbers:
            for_carer = number.pop("for_carer")
            ContactNumber.objects.get_or_create(
                household=household,
                number=number["number"],
                defaults={**number, "carer": carer if for_carer else None},
            )
        pupil = None
        if row.pupil["upn"]:
            pupil = Pupil.objects.filter(school=school, upn=row.pupil["upn"]).first()
        if pupil is None:
            pupil = Pupil.objects.filter(
                school=school,
                first_name__iexact=row.pupil["first_name"],
                last_name__iexact=row.pupil["last_name"],
                date_of_birth=row.pupil["date_of_birth"],
            ).first()
        if pupil is None:
            pupil = Pupil(household=household, **row.pupil)
            result.pupils_created += 1
        else:
            for name, value in row.pupil.items():
                setattr(pupil, name, value)
            pupil.household = household
            result.pupils_updated += 1
        pupil.full_clean()
        pupil.save()
    directory_change_announce(
        actor=actor,
        school=school,
        obj=school,
        event_type="pupils.imported",
        changes={
            "pupils_created": result.pupils_created,
            "pupils_updated": result.pupils_updated,
            "households_created": result.households_created,
        },
    )
    return result
