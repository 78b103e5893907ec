"""The CSV of visits and outcomes for the school's safeguarding system (docs/exports.md)."""

import csv
import datetime
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from records import exports, services
from tests.auth import sign_in
from tests.factories import PupilFactory, visit_returned

from .conftest import queries_for

LONDON = timezone.get_current_timezone()


@pytest.fixture(autouse=True)
def _late_november(time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 25, 14, 5, tzinfo=LONDON), tick=False)


def _rows(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def _export(client, oakfield, start="2026-11-01", end="2026-11-30"):
    return client.get(
        reverse("records:export"), {"school": oakfield.pk, "start": start, "end": end}
    )


def test_the_documented_columns_are_the_csvs_columns():
    doc = (Path(settings.BASE_DIR) / "docs" / "exports.md").read_text()
    documented = re.findall(r"^\| `([a-z_]+)` \|", doc, flags=re.MULTILINE)
    assert tuple(documented) == exports.COLUMNS


def test_the_export_has_one_row_per_pupil_per_visit_with_its_outcome(
    client, sam, tess, dana, hugh, olive, pupil, oakfield, complete_record
):
    sibling = PupilFactory(household=pupil.household, first_name="Zain", last_name="Ahmed")
    visit = visit_returned(sam, pupil, [sam, tess], dana)
    visit.pupils.add(sibling)
    services.concern_raise(actor=sam, visit=visit, level="concern", details="x", pupil=sibling)
    complete_record(visit, sam)
    sign_in(client, dana)
    response = _export(client, oakfield)
    assert response.content.decode().splitlines()[0] == ",".join(exports.COLUMNS)
    rows = _rows(response)
    assert [row["pupil_name"] for row in rows] == ["Aisha Ahmed", "Zain Ahmed"]
    aisha, zain = rows
    assert aisha["visit_id"] == str(visit.pk)
    assert aisha["school_urn"] == "100001"
    assert aisha["planned_start"] == "26/11/2026 10:00"
    assert aisha["returned_at"] == "25/11/2026 14:05"
    assert aisha["visitors"] == "Sam Example; Tess Example"
    assert aisha["authorised_by"] == "Dana Example"
    assert aisha["outcome"] == "Child seen, no concerns"
    assert (aisha["seen"], aisha["spoken_to"], aisha["seen_alone"]) == ("yes", "yes", "no")
    assert (aisha["concerns"], zain["concerns"]) == ("0", "1")
    assert "I’ve been poorly" not in response.content.decode()  # the child's words stay inside


def test_the_date_range_is_inclusive_in_school_time(
    client, sam, tess, dana, hugh, olive, pupil, oakfield
):
    visit_returned(sam, pupil, [sam, tess], dana)  # planned for 26/11/2026 10:00
    sign_in(client, dana)
    assert len(_rows(_export(client, oakfield, start="2026-11-26", end="2026-11-26"))) == 1
    assert len(_rows(_export(client, oakfield, start="2026-11-01", end="2026-11-25"))) == 0
    assert len(_rows(_export(client, oakfield, start="2026-11-27", end="2026-11-30"))) == 0


def test_a_cell_that_looks_like_a_formula_is_neutralised(
    client, sam, tess, dana, hugh, olive, pupil, oakfield, complete_record
):
    visit = visit_returned(sam, pupil, [sam, tess], dana)
    complete_record(visit, sam, outcome_details='=HYPERLINK("http://evil")')
    sign_in(client, dana)
    assert _rows(_export(client, oakfield))[0]["outcome_details"].startswith("'=HYPERLINK")


def test_a_backwards_range_shows_the_form_again_with_a_plain_message(client, dana, oakfield):
    sign_in(client, dana)
    response = _export(client, oakfield, start="2026-11-30", end="2026-11-01")
    assert response.status_code == 200
    assert b"The end date must be on or after the start date." in response.content
    response = _export(client, oakfield, start="2025-01-01", end="2026-11-01")
    assert b"Export at most a year at a time." in response.content
    assert not AuditEvent.objects.filter(event_type="document.downloaded").exists()


def test_each_export_is_audited_with_the_school_and_dates(client, dana, oakfield):
    # R-SEC-3 applies to the export of personal data too.
    sign_in(client, dana)
    _export(client, oakfield)
    event = AuditEvent.objects.get(event_type="document.downloaded")
    assert (event.actor, event.school) == (dana, oakfield)
    assert event.changes == {"document": "visits-csv", "start": "2026-11-01", "end": "2026-11-30"}


def test_staff_the_office_and_other_schools_cannot_export(client, sam, olive, oscar, oakfield):
    # R-SEC-1
    for person in (sam, olive):
        sign_in(client, person)
        assert _export(client, oakfield).status_code == 403
    sign_in(client, oscar)  # Oakfield is not among Oscar's schools: the form refuses it
    response = _export(client, oakfield)
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content


def test_the_export_costs_the_same_queries_for_few_and_many(
    client, sam, tess, dana, hugh, olive, pupil, oakfield, complete_record
):
    complete_record(visit_returned(sam, pupil, [sam, tess], dana), sam)
    sign_in(client, dana)
    url = reverse("records:export") + f"?school={oakfield.pk}&start=2026-11-01&end=2026-11-30"
    few, _ = queries_for(client, url)
    for _ in range(5):
        visit = visit_returned(sam, pupil, [sam, tess], dana)
        services.concern_raise(actor=sam, visit=visit, level="concern", details="x")
        complete_record(visit, tess)
    many, response = queries_for(client, url)
    assert len(_rows(response)) == 6
    assert many == few
