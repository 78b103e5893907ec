"""Thin views: access through records.selectors, a form, a records.services call, then a
redirect or a render. Every PDF and export download is audited (R-SEC-3)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from audit.downloads import refuse_cross_site_download, same_site_download
from audit.services import audit_read, document_download_record
from core.numbers import is_whole_number
from schools.models import School
from schools.selectors import schools_for_user, schools_requiring
from visits import signals as visit_signals
from visits.common import VisitConflict
from visits.models import Status as VisitStatus
from visits.selectors import visit_get

from . import exports, pdf, selectors, services
from .forms import (
    ActionForm,
    ActionReassignForm,
    ActionStatusForm,
    ChronologyFilterForm,
    ConcernAcknowledgeForm,
    ConcernForm,
    ExportForm,
    PupilSeenForm,
    VisitRecordForm,
)


def _problems(error) -> list[str]:
    return list(getattr(error, "messages", [str(error)]))


def _download(content: bytes | str, *, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _part_asked(request) -> int | None:
    """?part=N of a long document (issue 19: long PDFs come in parts), or None."""
    value = request.GET.get("part", "")
    if not value:
        return None
    if not is_whole_number(value) or len(value) > 4:
        raise Http404("No such part.")
    return int(value)


def _choose_part(request, *, pupil, title: str, parts: int):
    """A long document is in parts, each quick to print: the links to every part."""
    query = request.GET.copy()
    links = []
    for number in range(1, parts + 1):
        query["part"] = str(number)
        links.append((number, f"{request.path}?{query.urlencode()}"))
    return render(
        request,
        "records/document_parts.html",
        {"pupil": pupil, "title": title, "parts": parts, "links": links},
    )


# The Home Visit record ------------------------------------------------------------------------


@login_required
@require_GET
def record(request, visit_pk: int):
    """The record of a visit, its concerns and actions (visitors, DSLs and the Headteacher)."""
    visit = selectors.record_visit_get(user=request.user, pk=visit_pk)
    audit_read(actor=request.user, obj=visit, what="record")  # R-SEC-2: reads too
    context = selectors.record_page(visit=visit, reader=request.user)
    context["is_visitor"] = selectors.is_active_visitor(request.user, visit)
    context["is_senior"] = request.user.has_perm("schools.view_records", visit.school)
    return render(request, "records/record.html", context)


def _record_forms(request, visit, record):
    data = request.POST if request.method == "POST" else None
    # The version the form was opened at (0: not started), so a save never silently overwrites
    # what the other visitor saved in between.
    form = VisitRecordForm(
        data, instance=record, initial={"version": record.version if record else 0}
    )
    answers = {row.pupil_id: row for row in record.pupils_seen.all()} if record else {}
    pupil_forms = [
        (pupil, PupilSeenForm(data, instance=answers.get(pupil.pk), prefix=f"pupil-{pupil.pk}"))
        for pupil in visit.pupils.all()
    ]
    return form, pupil_forms


@login_required
@require_http_methods(["GET", "POST"])
def record_edit(request, visit_pk: int):
    """R-REC-1, R-REC-2: the visitors complete the Home Visit form, save and come back, submit."""
    visit = selectors.record_visit_get_for_edit(user=request.user, pk=visit_pk)
    record = selectors.record_for_visit(visit=visit)
    if record is not None and record.is_submitted:
        messages.info(request, "This record has been submitted: it can be read, not changed.")
        return redirect("records:record", visit_pk=visit.pk)
    can_edit = visit.status == VisitStatus.RETURNED
    form, pupil_forms = _record_forms(request, visit, record)
    problems: list[str] = []
    valid = form.is_valid() and all(f.is_valid() for _, f in pupil_forms)
    if request.method == "POST" and can_edit and valid:
        try:
            services.record_save(
                actor=request.user,
                visit=visit,
                fields=form.record_fields(),
                pupils={pupil.pk: f.answers() for pupil, f in pupil_forms},
                version=form.cleaned_data["version"],
            )
            if "submit" in request.POST:
                services.record_submit(actor=request.user, visit=visit)
                messages.success(request, "The record is submitted and the visit is closed.")
                return redirect("records:record", visit_pk=visit.pk)
            messages.success(request, "Saved. You can come back to finish it.")
            return redirect("records:record_edit", visit_pk=visit.pk)
        except services.RecordConflict as error:
            messages.error(request, str(error))
            return redirect("records:record_edit", visit_pk=visit.pk)
        except (services.RecordBlocked, VisitConflict) as error:
            # The draft may have been saved: the next save must name its new version.
            problems = _problems(error)
            record = selectors.record_for_visit(visit=visit)
            form.data = form.data.copy()
            form.data["version"] = record.version if record else 0
    return render(
        request,
        "records/record_edit.html",
        {
            "visit": visit,
            "record": record,
            "form": form,
            "pupil_forms": pupil_forms,
            "problems": problems,
            "due_at": services.record_due_at(visit),
            "now": timezone.now(),
            "can_edit": can_edit,
        },
    )


# Concerns -------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def concern_raise(request, visit_pk: int):
    """R-REC-4: raise a concern; "immediate risk of harm" shows the call-now instruction first."""
    visit = selectors.record_visit_get(user=request.user, pk=visit_pk)
    form = ConcernForm(request.POST or None, visit=visit)
    instruction = False
    if request.method == "POST" and form.is_valid():
        try:
            services.concern_raise(
                actor=request.user,
                visit=visit,
                level=form.cleaned_data["level"],
                details=form.cleaned_data["details"],
                pupil=form.cleaned_data["pupil"],
                instruction_seen=form.cleaned_data["instruction_seen"],
            )
        except services.ImmediateRiskInstructionNotSeen:
            instruction = True
        except services.RecordBlocked as error:
            for problem in _problems(error):
                form.add_error(None, problem)
        else:
            messages.success(request, "The concern is recorded and the DSLs have been alerted.")
            return redirect("records:record", visit_pk=visit.pk)
    return render(
        request,
        "records/concern_form.html",
        {"visit": visit, "form": form, "instruction": instruction},
    )


@login_required
@require_http_methods(["GET", "POST"])
def concern_acknowledge(request, pk: int):
    concern = selectors.concern_get(user=request.user, pk=pk)
    form = ConcernAcknowledgeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.concern_acknowledge(
            actor=request.user, concern=concern, notes=form.cleaned_data["notes"]
        )
        messages.success(request, "Concern acknowledged.")
        return redirect("records:concerns")
    return render(request, "records/concern_acknowledge.html", {"concern": concern, "form": form})


# Actions --------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def action_add(request, visit_pk: int):
    """R-REC-6: an action from a visit, with an owner and a due date."""
    visit = selectors.record_visit_get(user=request.user, pk=visit_pk)
    owners = selectors.action_owner_choices(school=visit.school)
    form = ActionForm(request.POST or None, owners=owners, visit=visit)
    if request.method == "POST" and form.is_valid():
        try:
            services.action_create(actor=request.user, visit=visit, **form.cleaned_data)
        except services.RecordBlocked as error:
            for problem in _problems(error):
                form.add_error(None, problem)
        else:
            messages.success(request, "Action added.")
            return redirect("records:record", visit_pk=visit.pk)
    return render(request, "records/action_form.html", {"visit": visit, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def action(request, pk: int):
    """An action: its history, and its status for the owner (or a DSL) to move on."""
    action = selectors.action_get(user=request.user, pk=pk)
    form = ActionStatusForm(request.POST or None, initial={"status": action.status})
    if request.method == "POST" and form.is_valid():
        try:
            services.action_status_set(actor=request.user, action=action, **form.cleaned_data)
        except (services.RecordBlocked, services.RecordConflict) as error:
            for problem in _problems(error):
                form.add_error(None, problem)
        else:
            messages.success(request, "Action updated.")
            return redirect("records:action", pk=action.pk)
    return render(
        request,
        "records/action.html",
        {
            "action": action,
            "form": form,
            "can_reassign": request.user.has_perm("schools.view_records", action.school),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def action_reassign(request, pk: int):
    """R-REC-6: a DSL or the Headteacher reassigns an action, saying why."""
    action = selectors.action_get(user=request.user, pk=pk)
    if not request.user.has_perm("schools.view_records", action.school):
        raise PermissionDenied("Only a DSL or the Headteacher can reassign an action.")
    owners = selectors.action_owner_choices(school=action.school).exclude(pk=action.owner_id)
    form = ActionReassignForm(request.POST or None, owners=owners)
    if request.method == "POST" and form.is_valid():
        try:
            services.action_reassign(actor=request.user, action=action, **form.cleaned_data)
        except (services.RecordBlocked, services.RecordConflict) as error:
            for problem in _problems(error):
                form.add_error(None, problem)
        else:
            messages.success(request, f"Action reassigned to {form.cleaned_data['to_owner']}.")
            return redirect("records:action", pk=action.pk)
    return render(request, "records/action_reassign.html", {"action": action, "form": form})


@login_required
@require_GET
def my_actions(request):
    """R-REC-6: the actions I own."""
    schools_requiring(request.user, "request_visits")
    return render(request, "records/my_actions.html", selectors.my_actions_panel(user=request.user))


# The DSL dashboard ----------------------------------------------------------------------------


@login_required
@require_GET
def dashboard(request):
    """Overdue records (R-REC-3), open concerns (R-REC-4) and overdue actions (R-REC-6)."""
    context = selectors.dsl_panel(user=request.user)
    context["paper_schools"] = selectors.paper_form_schools(user=request.user)
    context.update(visit_signals.panels_for("records_dashboard", user=request.user))
    return render(request, "records/dashboard.html", context)


@login_required
@require_GET
def overdue_records(request):
    return render(
        request,
        "records/overdue_records.html",
        {"overdue_records": selectors.overdue_records(user=request.user)},
    )


@login_required
@require_GET
def concerns(request):
    return render(
        request,
        "records/concerns.html",
        {"open_concerns": list(selectors.open_concerns(user=request.user))},
    )


@login_required
@require_GET
def overdue_actions(request):
    return render(
        request,
        "records/overdue_actions.html",
        {
            "overdue_actions": list(selectors.overdue_actions(user=request.user)),
            "today": timezone.localdate(),
        },
    )


# The chronology -------------------------------------------------------------------------------


@login_required
@require_GET
def chronology(request, pk: int):
    """Everything about a pupil in time order, filterable by kind (R-REC-7)."""
    pupil, scope = selectors.pupil_file_scope_get(user=request.user, pk=pk)  # R-SEC-1
    audit_read(actor=request.user, obj=pupil, what="chronology")  # R-SEC-2: reads too
    form = ChronologyFilterForm(request.GET or None)
    kind = form.cleaned_data["kind"] if form.is_valid() else ""
    entries = selectors.chronology(pupil=pupil, scope=scope, kinds=[kind] if kind else None)
    return render(
        request,
        "records/chronology.html",
        {
            "pupil": pupil,
            "entries": entries,
            "form": form,
            "kind": kind,
            "is_senior": scope.whole,
        },
    )


# PDFs (R-SEC-3: each download is audited) -----------------------------------------------------


@login_required
@require_GET
@same_site_download("home-visit-form")  # issue 19: another site cannot start it
def record_pdf(request, visit_pk: int):
    """The Home Visits form of 001, completed (R-REC-1)."""
    visit = selectors.record_visit_get(user=request.user, pk=visit_pk)
    content = pdf.home_visit_form_pdf(visit=visit, printed_by=request.user)
    document_download_record(
        actor=request.user, school=visit.school, obj=visit, document="home-visit-form"
    )
    return _download(
        content, filename=f"visit-{visit.pk}-home-visit-form.pdf", content_type="application/pdf"
    )


@login_required
@require_GET
@same_site_download("risk-assessment")  # issue 19: another site cannot start it
def assessment_pdf(request, visit_pk: int):
    """The visit's risk assessment: the 001 hazard table or the 000 doorstep form."""
    visit = visit_get(user=request.user, pk=visit_pk)
    if getattr(visit, "risk_assessment", None) is None:
        raise Http404("This visit has no risk assessment yet.")
    content = pdf.assessment_pdf(visit=visit, printed_by=request.user)
    document_download_record(
        actor=request.user,
        school=visit.school,
        obj=visit.risk_assessment,
        document=f"{visit.risk_assessment.kind}-risk-assessment",
    )
    return _download(
        content, filename=f"visit-{visit.pk}-risk-assessment.pdf", content_type="application/pdf"
    )


@login_required
@require_GET
@same_site_download("blank-form")  # issue 19: another site cannot start it
def blank_pdf(request, school_pk: int, form: str):
    """A blank paper copy of a form, for when Homeward cannot be used."""
    school = get_object_or_404(schools_for_user(request.user), pk=school_pk)
    if form not in pdf.BLANK_FORMS:
        raise Http404("No such form.")
    if not request.user.has_perm("schools.request_visits", school):
        raise PermissionDenied("Your role does not allow this (request visits).")
    content = pdf.blank_form_pdf(form=form, school=school, printed_by=request.user)
    document_download_record(
        actor=request.user, school=school, obj=school, document=f"blank-{form}"
    )
    return _download(content, filename=f"blank-{form}.pdf", content_type="application/pdf")


@login_required
@require_GET
@same_site_download("chronology")  # issue 19: another site cannot start it
def chronology_pdf(request, pk: int):
    pupil, scope = selectors.pupil_file_scope_get(user=request.user, pk=pk)  # R-SEC-1
    audit_read(actor=request.user, obj=pupil, what="chronology")  # R-SEC-2: reads too
    form = ChronologyFilterForm(request.GET or None)
    kind = form.cleaned_data["kind"] if form.is_valid() else ""
    part = _part_asked(request)
    try:
        content, parts = pdf.chronology_pdf(
            pupil=pupil,
            scope=scope,
            printed_by=request.user,
            kinds=[kind] if kind else None,
            part=part or 1,
        )
    except pdf.NoSuchPart as error:
        raise Http404(str(error)) from error
    if parts > 1 and part is None:
        return _choose_part(request, pupil=pupil, title="Chronology", parts=parts)
    document_download_record(
        actor=request.user,
        school=pupil.school,
        obj=pupil,
        document="chronology",
        details={"part": part or 1, "parts": parts} if parts > 1 else None,
    )
    suffix = f"-part-{part}-of-{parts}" if parts > 1 else ""
    return _download(
        content,
        filename=f"pupil-{pupil.pk}-chronology{suffix}.pdf",
        content_type="application/pdf",
    )


@login_required
@require_GET
@same_site_download("safeguarding-file")  # issue 19: another site cannot start it
def pupil_file_pdf(request, pk: int):
    """A pupil's whole safeguarding file, for the transfer to a new school."""
    pupil, scope = selectors.pupil_file_scope_get(user=request.user, pk=pk, whole_file=True)
    part = _part_asked(request)
    try:
        content, parts = pdf.pupil_file_pdf(
            pupil=pupil, scope=scope, printed_by=request.user, part=part or 1
        )
    except pdf.NoSuchPart as error:
        raise Http404(str(error)) from error
    if parts > 1 and part is None:
        return _choose_part(request, pupil=pupil, title="Whole safeguarding file", parts=parts)
    document_download_record(
        actor=request.user,
        school=pupil.school,
        obj=pupil,
        document="safeguarding-file",
        details={"part": part or 1, "parts": parts} if parts > 1 else None,
    )
    suffix = f"-part-{part}-of-{parts}" if parts > 1 else ""
    return _download(
        content,
        filename=f"pupil-{pupil.pk}-safeguarding-file{suffix}.pdf",
        content_type="application/pdf",
    )


# The export -----------------------------------------------------------------------------------


@login_required
@require_GET
def export(request):
    """A CSV of visits and their outcomes for a date range (columns in docs/exports.md)."""
    schools = selectors.export_schools(user=request.user)
    form = ExportForm(request.GET or None, schools=schools)
    if request.GET:
        refuse_cross_site_download(request, document="visits-csv")  # issue 19
    if request.GET and form.is_valid():
        school: School = form.cleaned_data["school"]
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        content = exports.visits_csv(selectors.export_visits(school=school, start=start, end=end))
        document_download_record(
            actor=request.user,
            school=school,
            obj=school,
            document="visits-csv",
            details={"start": start.isoformat(), "end": end.isoformat()},
        )
        return _download(
            content,
            filename=f"visits-{school.urn}-{start:%Y%m%d}-{end:%Y%m%d}.csv",
            content_type="text/csv; charset=utf-8",
        )
    return render(request, "records/export.html", {"form": form})
