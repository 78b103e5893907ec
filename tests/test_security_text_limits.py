"""Issue 19 item 5: free text is bounded. Every text field has a limit; a form refuses longer text
naming the field and its limit, keeping what was saved; a request body over the cap gets a calm
page; text boxes show a character counter."""

import importlib
import inspect

import pytest
from django import forms
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from core.limits import LONG_TEXT, REQUEST_BODY_LIMIT
from records.models import Concern, VisitRecord
from tests.auth import sign_in
from tests.records.conftest import COMPLETE, SEEN

BOUNDED_APPS = ("contacts", "records", "riskassess", "schools", "tracking", "visits")
FORM_MODULES = ("records.forms", "riskassess.forms", "tracking.forms", "visits.forms")


@pytest.fixture
def returned_visit(sam, tess, dana, hugh, olive, pupil):
    from tests.factories import visit_returned

    return visit_returned(sam, pupil, [sam, tess], dana)


def _post(visit, **fields):
    data = {"version": fields.pop("version"), "save": "1"}
    data.update({**COMPLETE, **fields})
    for pupil in visit.pupils.all():
        for name, value in SEEN.items():
            if name == "seen":
                value = "yes" if value else "no"
            if value is True:
                value = "on"
            if value is False:
                continue
            data[f"pupil-{pupil.pk}-{name}"] = value
    return data


def test_a_972900_character_comment_is_refused_naming_the_field_and_its_limit(
    client, returned_visit, sam
):
    # Issue 19: it used to save, and its PDF then took 14.5 s inside the request.
    sign_in(client, sam)
    url = reverse("records:record_edit", args=[returned_visit.pk])
    assert client.post(url, _post(returned_visit, version="0", comments="Half")).status_code == 302
    saved = VisitRecord.objects.get(visit=returned_visit)
    response = client.post(
        url, _post(returned_visit, version=str(saved.version), comments="x" * 972_900)
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Comments can be at most 10,000 characters; this has 972,900." in page
    again = VisitRecord.objects.get(visit=returned_visit)
    assert again.comments == "Half" and again.version == saved.version  # nothing lost


def test_a_body_over_the_cap_gets_a_calm_page_and_changes_nothing(client, returned_visit, sam):
    sign_in(client, sam)
    url = reverse("records:record_edit", args=[returned_visit.pk])
    client.post(url, _post(returned_visit, version="0", comments="Half"))
    huge = _post(returned_visit, version="1", comments="x" * (REQUEST_BODY_LIMIT + 10))
    response = client.post(url, huge)
    assert response.status_code == 413
    page = response.content.decode()
    assert "too much to send at once" in page and "Traceback" not in page
    assert VisitRecord.objects.get(visit=returned_visit).comments == "Half"


def test_every_free_text_field_of_every_model_has_a_limit():
    unbounded = [
        f"{model._meta.label}.{field.name}"
        for app in BOUNDED_APPS
        for model in apps.get_app_config(app).get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, (models.CharField, models.TextField)) and not field.max_length
    ]
    assert unbounded == []


def test_every_text_field_of_every_form_has_a_limit():
    unbounded = []
    for name in FORM_MODULES:
        module = importlib.import_module(name)
        for form_name, form in inspect.getmembers(module, inspect.isclass):
            if not issubclass(form, forms.BaseForm) or form.__module__ != name:
                continue
            for field_name, field in form.base_fields.items():
                if isinstance(field, forms.UUIDField):  # a fixed format, checked as a UUID
                    continue
                if isinstance(field, forms.CharField) and field.max_length is None:
                    unbounded.append(f"{form_name}.{field_name}")
    assert unbounded == []


def test_a_save_that_skips_the_forms_is_refused_too(returned_visit, tess):
    # The model backstop (config.apps.refuse_overlong_text): nothing over the limit is stored.
    with pytest.raises(ValidationError, match="at most 10,000 characters"):
        Concern.objects.create(
            school=returned_visit.school,
            visit=returned_visit,
            level="concern",
            details="x" * (LONG_TEXT + 1),
            raised_by=tess,
        )
    assert not Concern.objects.exists()


def test_a_save_imports_nothing_the_tasks_are_registered_once_at_start_up(
    returned_visit, monkeypatch
):
    # The backstop runs on every save of every model: it once imported every app's tasks
    # module per field per save (the start-up registration had slipped into its loop), which
    # doubled the CPU of an SMS reply. Registration happens once, in HomewardConfig.ready().
    imported = []
    real = importlib.import_module
    monkeypatch.setattr(
        importlib,
        "import_module",
        lambda name, *a, **k: imported.append(name) or real(name, *a, **k),
    )
    returned_visit.purpose = "A purpose within its limit."
    returned_visit.save()
    assert imported == []
    from celery import current_app

    assert "tracking.tasks.notification_send" in current_app.tasks


def test_text_boxes_carry_their_limit_for_the_character_counter(client, returned_visit, sam):
    sign_in(client, sam)
    page = client.get(reverse("records:record_edit", args=[returned_visit.pk])).content.decode()
    assert f'maxlength="{LONG_TEXT}"' in page
    assert "js/counter.js" in page


# Long documents come in parts, each of bounded text -----------------------------------------


def test_parts_never_combine_more_than_the_budget():
    from records.pdf import parts_by_budget

    sizes = [40, 30, 50, 10, 100, 5]
    parts = parts_by_budget(sizes, budget=80)
    assert parts == [(0, 2), (2, 4), (4, 5), (5, 6)]
    for start, end in parts:
        assert sum(sizes[start:end]) <= 80 or end - start == 1
    assert parts_by_budget([], budget=80) == [(0, 0)]


@pytest.fixture
def long_file(returned_visit, sam, tess, dana, pupil):
    """A file with more text than one small part: the record, and concerns of 5,000 chars."""
    from records import services
    from tests.records.conftest import record_answers

    services.record_save(actor=sam, visit=returned_visit, **record_answers(returned_visit))
    services.record_submit(actor=sam, visit=returned_visit)
    for n in range(4):
        services.concern_raise(
            actor=tess, visit=returned_visit, level="concern", details=f"Worry {n} " + "w" * 5_000
        )
    return returned_visit


@pytest.mark.parametrize("name", ["records:chronology_pdf", "records:pupil_file_pdf"])
def test_a_long_document_comes_in_parts_each_a_bounded_render(
    client, long_file, pupil, dana, settings, monkeypatch, name
):
    # Issue 19: no render combines more than PDF_TEXT_BUDGET characters.
    import io

    from pypdf import PdfReader

    from audit.models import AuditEvent
    from records import pdf

    monkeypatch.setattr(pdf, "PDF_TEXT_BUDGET", 6_000)
    sign_in(client, dana)
    url = reverse(name, args=[pupil.pk])
    chooser = client.get(url)
    assert chooser.status_code == 200 and chooser["Content-Type"].startswith("text/html")
    page = chooser.content.decode()
    assert "Download part 1 of" in page
    parts = int(page.split("Download part 1 of ")[1].split(" ")[0])
    assert parts >= 4  # four 5,000-character concerns at most one per part
    seen = ""
    for number in range(1, parts + 1):
        response = client.get(url, {"part": number})
        assert response.status_code == 200
        assert f"-part-{number}-of-{parts}.pdf" in response["Content-Disposition"]
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
        assert f"Part {number} of {parts}" in text
        seen += text
    for n in range(4):
        assert f"Worry {n}" in seen  # every part together is the whole document
    assert client.get(url, {"part": parts + 1}).status_code == 404
    assert client.get(url, {"part": "x"}).status_code == 404
    downloads = AuditEvent.objects.filter(event_type="document.downloaded")
    assert downloads.count() == parts  # each part downloaded is audited; the chooser is not
