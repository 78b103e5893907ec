"""Retention (issue #7, IRMS toolkit): `manage.py retention_review` lists child protection records
at date of birth + 25 years and staff tracking data after a configurable period, for a DSL to
decide. It never deletes anything, and it names no child."""

import datetime
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.models import AuditEvent
from tests.factories import HouseholdFactory, PupilFactory, visit_draft
from visits.models import Visit


def review(*args) -> str:
    out = StringIO()
    call_command("retention_review", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model is not AuditEvent
    }


@pytest.fixture
def grown_up(household):
    """A pupil with a child protection record, born 14/03/2000: due for review on 14/03/2025."""
    return PupilFactory(
        household=household,
        first_name="Imogen",
        last_name="Cartwright",
        upn="A123456789012",
        date_of_birth=datetime.date(2000, 3, 14),
        child_protection=True,
    )


def test_child_protection_records_are_due_at_date_of_birth_plus_25_years(grown_up, pupil):
    assert f"pupil #{grown_up.pk}" not in review("--as-of", "13/03/2025")
    listed = review("--as-of", "14/03/2025")
    assert f"pupil #{grown_up.pk}, UPN A123456789012, review due 14/03/2025" in listed
    assert f"pupil #{pupil.pk}" not in listed, "not a child protection record, and too young"


def test_a_pupil_without_a_child_protection_record_is_not_listed_at_25(household):
    older = PupilFactory(household=household, date_of_birth=datetime.date(1990, 1, 1))
    assert f"pupil #{older.pk}" not in review("--as-of", "01/01/2026")


def test_the_list_names_no_child(grown_up):
    listed = review("--as-of", "01/01/2026")
    assert "Imogen" not in listed and "Cartwright" not in listed
    assert "12 Elm Grove" not in listed and "14/03/2000" not in listed


def signed_out_and_back(visit: Visit, when: datetime.datetime) -> Visit:
    Visit.objects.filter(pk=visit.pk).update(
        signed_out_at=when, returned_at=when + datetime.timedelta(hours=1)
    )
    return visit


def test_staff_tracking_data_is_due_after_the_configured_period(sam, tess, pupil, settings):
    settings.RETENTION_STAFF_TRACKING_DAYS = 30
    old = signed_out_and_back(
        visit_draft(sam, pupil, [sam, tess]),
        timezone.make_aware(datetime.datetime(2026, 1, 5, 10, 0)),
    )
    recent = signed_out_and_back(
        visit_draft(sam, pupil, [sam, tess]),
        timezone.make_aware(datetime.datetime(2026, 2, 20, 10, 0)),
    )
    never_out = visit_draft(sam, pupil, [sam, tess])
    listed = review("--as-of", "01/03/2026")
    assert f"visit #{old.pk}, ended 05/01/2026, 2 visitor(s)" in listed
    assert f"visit #{recent.pk}" not in listed
    assert f"visit #{never_out.pk}" not in listed
    assert f"visit #{recent.pk}" in review("--as-of", "01/03/2026", "--staff-tracking-days", "5")


def test_the_review_deletes_nothing_and_is_itself_audited(grown_up, sam, tess, pupil):
    signed_out_and_back(
        visit_draft(sam, pupil, [sam, tess]),
        timezone.make_aware(datetime.datetime(2024, 1, 5, 10, 0)),
    )
    before = row_counts()
    listed = review("--as-of", "01/03/2026")
    assert "Nothing has been deleted" in listed
    assert row_counts() == before
    event = AuditEvent.objects.get(event_type="retention.reviewed")
    assert event.changes == {
        "as_of": "2026-03-01",
        "child_protection_due": 1,
        "staff_tracking_due": 1,
    }


def test_one_school_can_be_reviewed_on_its_own(grown_up, riverside):
    assert f"pupil #{grown_up.pk}" not in review("--as-of", "01/01/2026", "--school", "900001")
    with pytest.raises(CommandError, match="No school has the URN"):
        review("--school", "000000")


def test_a_bad_date_is_explained(db):
    with pytest.raises(CommandError, match="not a date like 22/11/2026"):
        review("--as-of", "31/02/2026")


# R-REC-8: a child protection file that came from another school is reviewed like any other.


@pytest.fixture
def arrived_with_a_file(birchwood, bea):
    """A pupil at Birchwood, not flagged CP, whose file came from Oakfield through Homeward
    (born 02/05/2001: due for review on 02/05/2026)."""
    from tests.transfers.conftest import received_file

    pupil = PupilFactory(
        household=HouseholdFactory(school=birchwood),
        first_name="Nadia",
        last_name="Okonkwo",
        date_of_birth=datetime.date(2001, 5, 2),
        child_protection=False,
    )
    received_file(pupil, by=bea, from_school_name="Oakfield Primary School")
    return pupil


def test_r_rec_8_a_file_received_through_homeward_is_due_for_review_at_25(arrived_with_a_file):
    assert f"pupil #{arrived_with_a_file.pk}" not in review("--as-of", "01/05/2026")
    listed = review("--as-of", "02/05/2026")
    assert (
        f"pupil #{arrived_with_a_file.pk}, review due 02/05/2026, 0 visit(s), "
        "1 file(s) from other schools" in listed
    )
    assert "Nadia" not in listed and "Okonkwo" not in listed


def test_r_rec_8_a_file_that_arrived_on_paper_is_due_for_review_at_25(birchwood, bea):
    from transfers.services import paper_file_record

    pupil = PupilFactory(
        household=HouseholdFactory(school=birchwood), date_of_birth=datetime.date(2001, 5, 2)
    )
    paper_file_record(
        actor=bea,
        pupil=pupil,
        from_school_name="Hillside Infants",
        received_on=datetime.date(2012, 9, 10),
        kept_where="The DSL office, locked cabinet",
    )
    paper_file_record(
        actor=bea,
        pupil=pupil,
        from_school_name="Moorside Juniors",
        received_on=datetime.date(2013, 9, 9),
        kept_where="The DSL office, locked cabinet",
    )
    listed = review("--as-of", "02/05/2026", "--school", "100002")
    assert f"pupil #{pupil.pk}, review due 02/05/2026, 0 visit(s), 2 file(s) from other" in listed
    assert listed.count(f"pupil #{pupil.pk},") == 1, "listed once, however many files"


def test_r_rec_8_received_files_count_in_the_audited_review(arrived_with_a_file, grown_up):
    before = row_counts()
    review("--as-of", "01/06/2026")
    assert row_counts() == before
    changes = {
        e.school.name: e.changes["child_protection_due"]
        for e in AuditEvent.objects.filter(event_type="retention.reviewed")
    }
    assert changes == {"Birchwood Academy": 1, "Oakfield Primary School": 1}
