"""The PDFs, read back with pypdf: real values in the 001 form's fields, the marking and the page
furniture on every page, nothing cut off, the fonts embedded, every download audited (R-SEC-3)."""

import datetime
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from audit.models import AuditEvent
from contacts.models import ContactLog
from records import pdf, services
from tests.auth import sign_in
from tests.factories import PupilFactory, assessment_for, visit_draft, visit_returned
from visits.models import Visit

LONDON = timezone.get_current_timezone()


@pytest.fixture(autouse=True)
def _wednesday_afternoon(time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 25, 14, 5, tzinfo=LONDON), tick=False)


def pages_of(content: bytes) -> list[str]:
    assert content.startswith(b"%PDF-")
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(content)).pages]


def assert_page_furniture(pages: list[str], *, school: str, printed_by: str):
    """Every page: the school, OFFICIAL-SENSITIVE, page x of y, who printed it and when."""
    for number, text in enumerate(pages, start=1):
        assert school in text, f"page {number} lacks the school's name"
        assert "OFFICIAL-SENSITIVE" in text, f"page {number} lacks the marking"
        assert f"Page {number} of {len(pages)}" in text
        assert f"Printed by {printed_by} on 25/11/2026 14:05" in text


@pytest.fixture
def recorded_visit(returned_visit, sam, tess, complete_record):
    services.action_create(
        actor=sam,
        visit=returned_visit,
        description="Attendance officer to ring on Monday",
        owner=tess,
        due_on=datetime.date(2026, 11, 30),
    )
    complete_record(returned_visit, sam)
    return Visit.objects.get(pk=returned_visit.pk)


def _download(client, user, name, **kwargs):
    sign_in(client, user)
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    return response.content


def test_the_home_visits_form_pdf_has_the_001_fields_filled_with_the_visits_values(
    client, recorded_visit, dana
):
    # R-REC-1: person visiting, job role, address, pupil, reason, date and time, comments,
    # signatures, authorised by and when, outcome, action required.
    content = _download(client, dana, "records:record_pdf", visit_pk=recorded_visit.pk)
    text = " ".join(pages_of(content))
    expected = [
        "Home Visits form",
        "Person visiting: Sam Example; Tess Example",
        "Job role: Staff; Staff",
        "Visited home address: 12 Elm Grove, Leeds, LS6 2BD",
        "Student name: Aisha Ahmed",
        "Reason for visit: Attendance issues or concerns",
        "On (date): 25/11/2026 at (time): 14:05",
        "Mother says Aisha has had a cough for a week.",  # comments
        "Signed (staff name): Sam Example, submitted 25/11/2026 14:05",
        "Signed (parent / guardian name): Sarah Ahmed",
        "Visit authorised by Safeguarding Lead / Deputy Safeguarding Lead: Dana Example",
        "Date: 25/11/2026 Time: 14:05",
        "Outcome of home visit Child seen, no concerns",
        "Action required Attendance officer to call on Monday at 09:30.",
        "Attendance officer to ring on Monday",  # the action, its owner and due date
        "30/11/2026",
        "Seen: Yes Spoken to: Yes Seen alone: No",
        '“I’ve been poorly but I want to come back,” she said. "I miss Miss Patel."',
    ]
    for value in expected:
        assert value in text, value


def test_every_page_carries_the_school_the_marking_page_x_of_y_and_who_printed_it(
    client, recorded_visit, dana
):
    content = _download(client, dana, "records:record_pdf", visit_pk=recorded_visit.pk)
    assert_page_furniture(
        pages_of(content), school="Oakfield Primary School", printed_by="Dana Example"
    )


def test_long_text_and_many_pupils_are_never_cut_off(
    sam, tess, dana, hugh, olive, pupil, complete_record
):
    short = visit_returned(sam, pupil, [sam, tess], dana)
    complete_record(short, sam)
    short_pages = pages_of(pdf.home_visit_form_pdf(visit=short, printed_by=dana))

    siblings = [
        PupilFactory(household=pupil.household, first_name=f"Sibling{n}", last_name="Ahmed")
        for n in range(6)
    ]
    long_visit = visit_returned(sam, pupil, [sam, tess], dana)
    long_visit.pupils.add(*siblings)
    paragraph = " ".join(
        f"Observation {n:03d} of the visit, written at length." for n in range(120)
    )
    complete_record(
        long_visit,
        sam,
        comments=paragraph + " END-OF-COMMENTS",
        adults_presentation=paragraph + " END-OF-ADULTS",
    )
    pages = pages_of(pdf.home_visit_form_pdf(visit=long_visit, printed_by=dana))
    text = " ".join(pages)
    assert len(pages) > len(short_pages) + 2
    for marker in ("END-OF-COMMENTS", "END-OF-ADULTS", "Observation 119", "Observation 000"):
        assert marker in text
    assert text.count("Observation 119") == 2
    for sibling in siblings:
        assert sibling.full_name in text
    assert_page_furniture(pages, school="Oakfield Primary School", printed_by="Dana Example")


def test_the_pdf_embeds_the_liberation_fonts_from_fonts_liberation2(recorded_visit, dana):
    # The fonts are installed by the set-up, so the PDF looks the same everywhere.
    reader = PdfReader(io.BytesIO(pdf.home_visit_form_pdf(visit=recorded_visit, printed_by=dana)))
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts.add(str(font["/BaseFont"]))
            assert "/FontFile2" in font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
    assert fonts and all(re.search(r"\+Liberation-?Sans", name) for name in fonts), fonts


@pytest.mark.parametrize("form", sorted(pdf.BLANK_FORMS))
def test_the_blank_paper_copies_hold_the_forms_fields_and_nobodys_details(
    client, sam, oakfield, pupil, form
):
    content = _download(client, sam, "records:blank_pdf", school_pk=oakfield.pk, form=form)
    pages = pages_of(content)
    text = " ".join(pages)
    fields = {
        "home-visit-form": [
            "Person visiting:",
            "Job role:",
            "Visited home address:",
            "Student name:",
            "Reason for visit:",
            "On (date):",
            "at (time):",
            "Comments",
            "Signed (staff name):",
            "Signed (parent / guardian name):",
            "Visit authorised by Safeguarding Lead / Deputy Safeguarding Lead:",
            "Outcome of home visit",
            "Action required",
        ],
        "risk-assessment": [
            "Lone working risk assessment",
            "Aggressive or violent parent / student / family member",
            "Driving",
            "Movement through public areas",
            "Illness or injury / accident",
            "Attack by dog or other animal",
            "Severity of harm",
            "Likelihood",
            "Risk level",
            "2 people to visit",
        ],
        "doorstep-assessment": [
            "Worker and signatures",
            "Name and address of family / child",
            "Why is this family listed as vulnerable?",
            "When did you last have contact with this family?",
            "Is failure to make contact typical of this family?",
            "Give details of all other methods you have tried to make contact.",
            "Have you consulted your Lead DSL and Head Teacher?",
            "Family in isolation due to Covid 19",
            "Not safe",
        ],
    }[form]
    for field in fields:
        assert field in text, field
    for private in ("Aisha", "Elm Grove"):
        assert private not in text
    assert_page_furniture(pages, school="Oakfield Primary School", printed_by="Sam Example")


def test_the_standard_risk_assessment_pdf_shows_the_hazard_table_and_the_assessment(
    client, recorded_visit, sam
):
    content = _download(client, sam, "records:assessment_pdf", visit_pk=recorded_visit.pk)
    text = " ".join(pages_of(content))
    for value in (
        "Work activity risk assessment",
        "Date of assessment: 25/11/2026 14:05",
        "Assessor: Sam Example",
        "Overall risk: Low",
        "Visit: 12 Elm Grove, Leeds, LS6 2BD, 26/11/2026 10:00",
        "Attack by dog or other animal",
        "Avoid contact with animals",
    ):
        assert value in text, value


def test_the_risk_assessment_pdf_prints_the_assessors_own_rows_and_ratings(
    client, sam, tess, dana, pupil
):
    # R-RA-2: a household flag adds a row; the PDF holds what the assessor chose.
    from schools.services import household_risk_flag_add

    household_risk_flag_add(
        actor=dana, household=pupil.household, kind="aggressive_adult", notes="Shouted at staff"
    )
    visit = visit_draft(sam, pupil, [sam, tess])
    assessment = assessment_for(visit, sam)
    flag_row = assessment.hazard_rows.get(source="flag")
    content = _download(client, sam, "records:assessment_pdf", visit_pk=visit.pk)
    text = " ".join(pages_of(content))
    assert flag_row.hazard in text
    assert flag_row.get_risk_level_display() in text


def test_the_doorstep_assessment_pdf_answers_from_the_contact_log_and_warns_of_isolation(
    client, sam, tess, hugh, pupil
):
    # R-RA-5, R-RA-6: the contact attempts answer "all other methods tried"; R-RA-7.
    household = pupil.household
    household.self_isolating = True
    household.self_isolating_since = datetime.date(2026, 11, 20)
    household.save()
    for when, outcome in ((9, "no_answer"), (11, "spoke_to_parent")):
        ContactLog.objects.create(
            school=household.school,
            household=household,
            counterpart="family",
            contact_number=household.contact_numbers.first(),
            channel="phone",
            outcome=outcome,
            notes=f"Call at {when}",
            occurred_at=datetime.datetime(2026, 11, 24, when, 0, tzinfo=LONDON),
            recorded_by=sam,
        )
    visit = visit_draft(sam, pupil, [sam, tess], kind="doorstep")
    assessment_for(visit, sam)
    content = _download(client, sam, "records:assessment_pdf", visit_pk=visit.pk)
    text = " ".join(pages_of(content))
    assert "Doorstep risk assessment" in text
    assert "Aisha Ahmed — 12 Elm Grove, Leeds, LS6 2BD" in text
    assert "24/11/2026 09:00 Phone call" in text and "No answer. Call at 9" in text
    assert "24/11/2026 11:00 Phone call" in text and "Spoke to parent or carer. Call at 11" in text
    # The assessor's own answers to the 000 questions come first (R-RA-5).
    # The last contact was four weeks before this Wednesday (tests.factories.doorstep_answers).
    assert "28/10/2026: Phone call with mother: all well, work collected." in text
    assert "History of domestic violence; mother has had suicidal thoughts." in text
    assert "the visit must not be undertaken" in text


def test_the_chronology_and_the_whole_file_print_with_every_record(
    client, recorded_visit, pupil, dana
):
    chronology = " ".join(pages_of(_download(client, dana, "records:chronology_pdf", pk=pupil.pk)))
    assert "Chronology: Aisha Ahmed" in chronology
    assert f"Home Visit record of visit #{recorded_visit.pk}" in chronology
    whole = pages_of(_download(client, dana, "records:pupil_file_pdf", pk=pupil.pk))
    text = " ".join(whole)
    assert "Safeguarding file: Aisha Ahmed" in text
    assert "Date of birth: 14/03/2017" in text
    assert "Person visiting: Sam Example; Tess Example" in text  # the full record
    assert_page_furniture(whole, school="Oakfield Primary School", printed_by="Dana Example")


def test_each_download_writes_an_audit_event(client, recorded_visit, pupil, oakfield, dana):
    # R-SEC-3: printing or downloading a PDF with personal data is audited.
    downloads = [
        ("records:record_pdf", {"visit_pk": recorded_visit.pk}, "home-visit-form"),
        ("records:assessment_pdf", {"visit_pk": recorded_visit.pk}, "standard-risk-assessment"),
        ("records:chronology_pdf", {"pk": pupil.pk}, "chronology"),
        ("records:pupil_file_pdf", {"pk": pupil.pk}, "safeguarding-file"),
        ("records:blank_pdf", {"school_pk": oakfield.pk, "form": "home-visit-form"}, None),
    ]
    for name, kwargs, document in downloads:
        before = AuditEvent.objects.filter(event_type="document.downloaded").count()
        _download(client, dana, name, **kwargs)
        event = AuditEvent.objects.filter(event_type="document.downloaded").last()
        assert AuditEvent.objects.filter(event_type="document.downloaded").count() == before + 1
        assert (event.actor, event.school, event.occurred_at) == (dana, oakfield, timezone.now())
        if document:
            assert event.changes["document"] == document


def test_the_office_never_downloads_a_record_or_a_file(
    client, recorded_visit, pupil, olive, max, oscar
):
    # R-SEC-1
    for person in (olive, max):
        sign_in(client, person)
        for name, kwargs in (
            ("records:record_pdf", {"visit_pk": recorded_visit.pk}),
            ("records:assessment_pdf", {"visit_pk": recorded_visit.pk}),
            ("records:chronology_pdf", {"pk": pupil.pk}),
            ("records:pupil_file_pdf", {"pk": pupil.pk}),
        ):
            assert client.get(reverse(name, kwargs=kwargs)).status_code == 403
    assert not AuditEvent.objects.filter(event_type="document.downloaded").exists()
