"""The CSV of visits and their outcomes for the school's safeguarding system (CPOMS, My Concern).

One row per pupil per visit. The columns are documented in docs/exports.md; change both together.
"""

import csv
import io
from collections.abc import Iterable

from django.utils import timezone

from visits.models import Visit

COLUMNS = (
    "visit_id",
    "school_urn",
    "pupil_upn",
    "pupil_name",
    "visit_kind",
    "reason",
    "status",
    "planned_start",
    "signed_out_at",
    "returned_at",
    "visitors",
    "authorised_by",
    "authorised_at",
    "record_submitted_at",
    "record_submitted_by",
    "outcome",
    "outcome_details",
    "nobody_answered",
    "sealed_note_left",
    "seen",
    "spoken_to",
    "seen_alone",
    "why_not",
    "concerns",
    "immediate_risk",
    "open_actions",
    "next_contact_on",
)
# A spreadsheet treats a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "tzinfo") and hasattr(value, "hour"):
        return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y")
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def visit_rows(visits: Iterable[Visit]):
    """The export's rows, from visits fetched by records.selectors.export_visits."""
    for visit in visits:
        record = getattr(visit, "record", None)
        submitted = record is not None and record.is_submitted
        answers = {row.pupil_id: row for row in record.pupils_seen.all()} if submitted else {}
        concerns = list(visit.concerns.all())
        open_actions = [a for a in visit.actions.all() if a.is_open]
        visitors = "; ".join(str(v.user) for v in visit.visitors.all() if v.withdrawn_at is None)
        for pupil in visit.pupils.all():
            row = answers.get(pupil.pk)
            yield [
                _cell(value)
                for value in (
                    visit.pk,
                    visit.school.urn,
                    pupil.upn,
                    pupil.full_name,
                    visit.get_kind_display(),
                    visit.reason_text,
                    visit.get_status_display(),
                    visit.planned_start,
                    visit.signed_out_at,
                    visit.returned_at,
                    visitors,
                    visit.authorised_by,
                    visit.authorised_at,
                    record.submitted_at if submitted else None,
                    record.submitted_by if submitted else None,
                    record.get_outcome_display() if submitted else None,
                    record.outcome_details if submitted else None,
                    record.nobody_answered if submitted else None,
                    record.sealed_note_left if submitted else None,
                    row.seen if row else None,
                    row.spoken_to if row else None,
                    row.seen_alone if row else None,
                    row.why_not if row else None,
                    len([c for c in concerns if c.pupil_id in (None, pupil.pk)]),
                    any(c.is_immediate for c in concerns if c.pupil_id in (None, pupil.pk)),
                    len([a for a in open_actions if a.pupil_id in (None, pupil.pk)]),
                    record.next_contact_on if submitted else None,
                )
            ]


def visits_csv(visits: Iterable[Visit]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(visit_rows(visits))
    return out.getvalue()
