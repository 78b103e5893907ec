"""Issue 14, point 9: the audit trail reads in plain words (R-SEC-2): what happened ("Read the
chronology"), what about ("Risk assessment for Aisha Ahmed's visit on 26/11/2026", never
"riskassess.riskassessment #1" or "Pupil #3"), changes as a list, date pickers for the dates, and
a query count that does not grow with the events or the kinds of object on the page."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.services import audit_event_create, audit_read
from tests.factories import PupilFactory, assessment_for, visit_draft


@pytest.fixture(autouse=True)
def _a_wednesday_morning_at_school(time_machine):
    time_machine.move_to(
        datetime.datetime(2026, 11, 25, 9, 30, tzinfo=timezone.get_current_timezone()),
        tick=False,
    )


def _page(client, **filters) -> str:
    response = client.get(reverse("audit:search"), filters)
    assert response.status_code == 200
    return response.content.decode()


def _table(page: str) -> str:
    return page[page.index("<tbody>") : page.index("</tbody>")]


def test_events_and_objects_read_in_plain_words_r_sec_2(signed_in, dana, sam, tess, pupil):
    visit = visit_draft(sam, pupil, [sam, tess])
    assessment = assessment_for(visit, sam)
    audit_read(actor=dana, obj=pupil, what="chronology")
    audit_read(actor=dana, obj=assessment, what="assessment")
    audit_read(actor=dana, obj=pupil, what="pupil")
    table = _table(_page(signed_in(dana)))
    name = f"{pupil.first_name} {pupil.last_name}"
    when = f"{timezone.localtime(visit.planned_start):%d/%m/%Y}"
    assert "Read the chronology" in table
    assert f"Risk assessment for {name}&#x27;s visit on {when}" in table
    assert f'href="/directory/pupils/{pupil.pk}/">{name}</a>' in table
    assert "Drafted a visit request" in table
    for developer_words in ("read.chronology", "riskassess.riskassessment", "Pupil #"):
        assert developer_words not in table, developer_words
    assert not re.search(r"#\d", table)  # no object numbers


def test_changes_read_as_a_list_of_fields(signed_in, dana, pupil):
    audit_event_create(
        actor=dana,
        school=pupil.school,
        obj=pupil,
        event_type="pupil.changed",
        changes={"year_group": ["Y3", "Y4"], "cultural_notes": ["", "Speaks Polish at home"]},
    )
    table = _table(_page(signed_in(dana)))
    assert "<li>Year group: Y3 → Y4</li>" in table
    assert "<li>Cultural notes: (empty) → Speaks Polish at home</li>" in table
    assert "Changed a pupil&#x27;s details" in table


def test_the_kind_filter_and_the_dates_are_in_plain_words_and_date_pickers(signed_in, dana, pupil):
    audit_read(actor=dana, obj=pupil, what="chronology")
    page = _page(signed_in(dana), date_from="2026-11-25", kind="read.chronology")
    assert '<option value="read.chronology" selected>Read the chronology</option>' in page
    for name in ("date_from", "date_to"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
        assert 'type="date"' in tag
    assert 'value="2026-11-25"' in page
    assert "Read the chronology" in _table(page)


def test_naming_the_objects_costs_the_same_queries_for_one_visit_or_many(
    signed_in, dana, sam, tess, household
):
    client = signed_in(dana)

    def visits(count: int) -> None:
        for _ in range(count):
            child = PupilFactory(household=household)
            visit = visit_draft(sam, child, [sam, tess])
            audit_read(actor=dana, obj=assessment_for(visit, sam), what="assessment")
            audit_read(actor=dana, obj=child, what="pupil")

    def count() -> int:
        _page(client)  # warm up
        with CaptureQueriesContext(connection) as queries:
            _page(client)
        return len(queries)

    visits(1)
    few = count()
    visits(6)
    assert count() == few
