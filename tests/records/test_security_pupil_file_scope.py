"""R-SEC-1, issue 19 hole 1: listing yourself as a visitor on a draft visit must not open a
pupil's file. A visitor reads only what belongs to the visits they went on, from authorisation
onwards, and never other people's concerns; the DSLs and the Headteacher read the whole file.

Every document route is tried for every visit status: the chronology page (and its filtered
view), the chronology PDF, the whole-file PDF, the CSV export, the record pages and the pupil
page's "Chronology" link.
"""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from records import services as records_services
from schools.models import Role
from tests.auth import sign_in
from tests.factories import assessment_for, person, visit_draft
from visits.authorisation import visit_authorise, visit_refuse, visit_request_changes
from visits.cancellation import visit_cancel
from visits.models import Visit
from visits.progress import visit_mark_out, visit_mark_returned
from visits.requests import visit_submit

from .conftest import SEEN

LONDON = timezone.get_current_timezone()

# What other people's work put on Aisha's file (the `history` fixture below).
OTHERS_CONCERN = "Bruise on the arm"
OTHERS_CHILD_WORDS = "I miss Miss Patel"
OTHERS_CONTACT = "Rang mum"


@pytest.fixture(autouse=True)
def _monday_morning(time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 23, 9, 0, tzinfo=LONDON), tick=False)


@pytest.fixture
def history(sam, tess, dana, hugh, olive, pupil, complete_record, time_machine):
    """Other staff's work on Aisha's file: a call, a visit recorded with her words, a concern."""
    from contacts.models import ContactLog
    from tests.factories import visit_returned

    ContactLog.objects.create(
        school=pupil.school,
        household=pupil.household,
        pupil=pupil,
        counterpart="family",
        contact_number=pupil.household.contact_numbers.first(),
        channel="phone",
        outcome="no_answer",
        notes="Rang mum's mobile",
        occurred_at=timezone.now(),
        recorded_by=sam,
    )
    visit = visit_returned(sam, pupil, [sam, tess], dana)
    complete_record(visit, sam)
    records_services.concern_raise(actor=tess, visit=visit, level="concern", details=OTHERS_CONCERN)
    return visit


@pytest.fixture
def uma(oakfield):
    """A member of staff with no link to Aisha."""
    return person("uma", oakfield, Role.STAFF)


@pytest.fixture
def vic(oakfield):
    return person("vic", oakfield, Role.STAFF)


def _visit_in(status: str, *, uma, vic, dana, pupil, complete_record) -> Visit:
    """Uma's own visit to Aisha (Uma lead visitor, Vic second), brought to `status`."""
    visit = visit_draft(uma, pupil, [uma, vic], purpose="Uma's own visit")
    if status == "draft":
        return visit
    if status == "cancelled_as_draft":
        return visit_cancel(actor=uma, visit=visit, reason="Not needed")
    assessment_for(visit, uma)
    visit = visit_submit(actor=uma, visit=visit, warnings_confirmed=True)
    if status == "submitted":
        return visit
    if status == "changes_requested":
        return visit_request_changes(actor=dana, visit=visit, what_to_change="Go with a DSL")
    if status == "refused":
        return visit_refuse(actor=dana, visit=visit, reason="Not safe")
    if status == "cancelled_while_waiting":
        return visit_cancel(actor=uma, visit=visit, reason="Not needed")
    visit = visit_authorise(actor=dana, visit=visit)
    if status == "authorised":
        return visit
    if status == "cancelled_after_authorisation":
        return visit_cancel(actor=uma, visit=visit, reason="Family moved")
    visit = visit_mark_out(actor=None, visit=visit, at=timezone.now())
    if status == "out":
        return visit
    if status == "cancelled_while_out":
        return visit_cancel(actor=uma, visit=visit, reason="Called back")
    visit = visit_mark_returned(actor=None, visit=visit, at=timezone.now())
    if status == "returned":
        return visit
    words = {**SEEN, "child_said": "Uma heard this"}
    complete_record(visit, uma, comments="Uma's own record", pupils={pupil.pk: words})
    visit.refresh_from_db()
    assert visit.status == "recorded"
    return visit


# Statuses that never open anything of the file: the visitor has not been authorised to go.
CLOSED = (
    "draft",
    "submitted",
    "changes_requested",
    "refused",
    "cancelled_as_draft",
    "cancelled_while_waiting",
    "cancelled_after_authorisation",  # cancelled before they went: they never went
)
# From authorisation onwards, their own visit's part of the file (and a visit cut short while
# they were out: they went).
OPEN = ("authorised", "out", "returned", "recorded", "cancelled_while_out")


def _pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    return " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(content)).pages
    )


@pytest.mark.parametrize("status", CLOSED)
def test_a_draft_or_unauthorised_visit_does_not_open_the_pupils_file(
    client, history, pupil, uma, vic, dana, complete_record, status
):
    # R-SEC-1, issue 19 hole 1: Uma lists herself as visitor; no document route opens.
    visit = _visit_in(
        status, uma=uma, vic=vic, dana=dana, pupil=pupil, complete_record=complete_record
    )
    assert visit.status in status  # e.g. "cancelled" in "cancelled_as_draft"
    sign_in(client, uma)
    closed = [
        reverse("records:chronology", args=[pupil.pk]),
        reverse("records:chronology", args=[pupil.pk]) + "?kind=concern",
        reverse("records:chronology_pdf", args=[pupil.pk]),
        reverse("records:chronology_pdf", args=[pupil.pk]) + "?kind=record",
        reverse("records:pupil_file_pdf", args=[pupil.pk]),
        reverse("records:record", args=[history.pk]),
        reverse("records:record_pdf", args=[history.pk]),
        reverse("records:record", args=[visit.pk]),
        reverse("records:record_pdf", args=[visit.pk]),
        reverse("records:export") + f"?school={pupil.school_id}&start=2026-11-01&end=2026-11-30",
    ]
    for url in closed:
        response = client.get(url)
        assert response.status_code == 403, url
        assert OTHERS_CONCERN.encode() not in response.content
    page = client.get(reverse("pupils:pupil_detail", args=[pupil.pk])).content.decode()
    assert reverse("records:chronology", args=[pupil.pk]) not in page


def test_a_draft_visit_does_not_open_the_pupils_chronology(client, history, pupil, uma, vic):
    # R-SEC-1: the penetration test's exact steps: 403, save a draft, still 403.
    url = reverse("records:chronology", args=[pupil.pk])
    sign_in(client, uma)
    assert client.get(url).status_code == 403
    visit_draft(uma, pupil, [uma])
    assert client.get(url).status_code == 403
    assert client.get(reverse("records:chronology_pdf", args=[pupil.pk])).status_code == 403


@pytest.mark.parametrize("status", OPEN)
def test_an_authorised_visit_opens_only_its_own_part_of_the_file(
    client, history, pupil, uma, vic, dana, complete_record, status
):
    # R-SEC-1: from authorisation on, the visitor reads their visit's part, nothing else.
    visit = _visit_in(
        status, uma=uma, vic=vic, dana=dana, pupil=pupil, complete_record=complete_record
    )
    sign_in(client, uma)
    page = client.get(reverse("records:chronology", args=[pupil.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    pdf = client.get(reverse("records:chronology_pdf", args=[pupil.pk]))
    assert pdf.status_code == 200
    printed = _pdf_text(pdf.content)
    for shown in (text, printed):
        assert f"#{visit.pk}" in shown  # her own visit
        assert f"#{history.pk}" not in shown  # not Sam and Tess's visit
        assert OTHERS_CONCERN not in shown
        assert OTHERS_CONTACT not in shown
        assert OTHERS_CHILD_WORDS not in shown
    if status == "recorded":
        assert f"Home Visit record of visit #{visit.pk}" in text
        assert "Uma heard this" in text and "Uma heard this" in printed
    # Her own visit's record page opens; Sam and Tess's and the whole file do not.
    assert client.get(reverse("records:record", args=[visit.pk])).status_code == 200
    assert client.get(reverse("records:record", args=[history.pk])).status_code == 403
    assert client.get(reverse("records:record_pdf", args=[history.pk])).status_code == 403
    assert client.get(reverse("records:pupil_file_pdf", args=[pupil.pk])).status_code == 403
    export = (
        reverse("records:export") + f"?school={pupil.school_id}&start=2026-11-01&end=2026-11-30"
    )
    assert client.get(export).status_code == 403
    detail = client.get(reverse("pupils:pupil_detail", args=[pupil.pk])).content.decode()
    assert reverse("records:chronology", args=[pupil.pk]) in detail


def test_a_visitor_never_reads_other_peoples_concerns(client, history, pupil, sam, tess):
    # R-SEC-1: Sam went on the visit where Tess raised a concern: he does not read it, on the
    # chronology, its PDF or the record page; he reads the one he raised himself.
    records_services.concern_raise(
        actor=sam, visit=history, level="concern", details="Sam's own worry"
    )
    sign_in(client, sam)
    page = client.get(reverse("records:chronology", args=[pupil.pk])).content.decode()
    record = client.get(reverse("records:record", args=[history.pk])).content.decode()
    printed = _pdf_text(client.get(reverse("records:chronology_pdf", args=[pupil.pk])).content)
    form = _pdf_text(client.get(reverse("records:record_pdf", args=[history.pk])).content)
    for shown in (page, record):
        assert "Sam&#x27;s own worry" in shown
        assert OTHERS_CONCERN not in shown
    assert "Sam's own worry" in printed
    assert OTHERS_CONCERN not in printed and OTHERS_CONCERN not in form
    assert OTHERS_CHILD_WORDS in page.replace("&quot;", '"')  # the visit he went on: its record


def test_a_withdrawn_visitor_reads_nothing_of_the_visit(
    client, history, pupil, uma, vic, dana, complete_record
):
    # R-SEC-1: a visitor who withdrew did not go.
    visit = _visit_in(
        "authorised", uma=uma, vic=vic, dana=dana, pupil=pupil, complete_record=complete_record
    )
    visit.visitors.filter(user=vic).update(withdrawn_at=timezone.now())
    sign_in(client, vic)
    assert client.get(reverse("records:chronology", args=[pupil.pk])).status_code == 403
    assert client.get(reverse("records:record", args=[visit.pk])).status_code == 403


def test_the_dsls_and_the_head_read_the_whole_file(client, history, pupil, dana, hugh):
    # R-SEC-1: view_records at the school reads everything.
    for reader in (dana, hugh):
        sign_in(client, reader)
        page = client.get(reverse("records:chronology", args=[pupil.pk])).content.decode()
        assert OTHERS_CONCERN in page and OTHERS_CONTACT in page
        record = client.get(reverse("records:record", args=[history.pk])).content.decode()
        assert OTHERS_CONCERN in record
        whole = client.get(reverse("records:pupil_file_pdf", args=[pupil.pk]))
        assert whole.status_code == 200
        assert OTHERS_CONCERN in _pdf_text(whole.content)
