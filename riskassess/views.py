"""Thin views: access through a selector, a form, one service call, redirect or render."""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from audit.services import audit_read
from contacts.services import ContactInvalid, contact_log_create
from visits.models import EDITABLE

from . import forms, gates, selectors, services
from .catalogue import DOORSTEP_CHECKLIST, SELF_ISOLATING_ADVICE, SELF_ISOLATING_DECISION
from .doorstep import doorstep_steps
from .matrix import matrix_rows


@login_required
@require_http_methods(["GET", "POST"])
def assessment(request, visit_pk: int):
    """The visit's risk assessment: on a doorstep visit the 000 questions, then the hazard table
    on the 3×3 matrix, then the 003 preparation."""
    visit = selectors.assessment_visit_get(user=request.user, visit_pk=visit_pk)
    current = selectors.assessment_of(visit)
    if current is not None and request.method == "GET":
        audit_read(actor=request.user, obj=current, what="assessment")  # R-SEC-2: reads too
    rows = services.rows_to_start_with(visit=visit, assessment=current)
    data = request.POST if request.method == "POST" else None
    answers = forms.AssessmentAnswersForm(data, visit=visit, assessment=current)
    table = forms.hazard_rows_formset(rows=rows, data=data)
    # Both checked, so every error shows in one pass (issue 14).
    valid = data is not None and all([answers.is_valid(), table.is_valid()])
    if valid:
        try:
            services.assessment_save(
                actor=request.user,
                visit=visit,
                rows=table.inputs(),
                answers=answers.answers(),
                version=answers.cleaned_data["version"],
            )
        except services.AssessmentInvalid as error:
            answers.add_error(None, error.messages)
        except services.AssessmentConflict as error:
            answers.add_error(None, str(error))
        else:
            messages.success(request, "Risk assessment saved.")
            return redirect("riskassess:assessment", visit_pk=visit.pk)
    return render(
        request,
        "riskassess/assessment.html",
        {
            "visit": visit,
            "assessment": current,
            "answers": answers,
            "table": table,
            "error_summary": forms.assessment_error_summary(answers, table) if data else [],
            "editable": visit.status in EDITABLE,
            "matrix": matrix_rows(),
            "gaps": gates.assessment_gaps(visit, current) if current else [],
            "currency": gates.assessment_currency(visit) if current else [],
            "can_sign_off": request.user.has_perm("schools.sign_off_risk", visit.school),
            "isolating": gates.self_isolating_problem(visit),
        },
    )


@login_required
@require_GET
def doorstep(request, visit_pk: int):
    """R-RA-5..7 for a doorstep visit: which 000 steps the contact log shows and which are still
    missing, the self-isolation decision, and the visitors' checklist."""
    visit = selectors.assessment_visit_get(user=request.user, visit_pk=visit_pk)
    if not visit.is_doorstep:
        return redirect("riskassess:assessment", visit_pk=visit.pk)
    steps = doorstep_steps(visit)
    return render(
        request,
        "riskassess/doorstep.html",
        {
            "visit": visit,
            "assessment": selectors.assessment_of(visit),
            "steps": steps,
            "missing": [step for step in steps if not step.done],
            "blockers": gates.submission_blockers(visit),
            "isolating": visit.household.self_isolating,
            "decision": SELF_ISOLATING_DECISION,
            "advice": SELF_ISOLATING_ADVICE,
            "checklist": DOORSTEP_CHECKLIST,
        },
    )


def _assessment_or_404(visit):
    current = selectors.assessment_of(visit)
    if current is None:
        raise Http404("This visit has no risk assessment yet.")
    return current


@login_required
@require_http_methods(["GET", "POST"])
def sign_off(request, visit_pk: int):
    """R-RA-3: a DSL, the Headteacher or a trust lead, not the assessor, signs off."""
    visit = selectors.assessment_visit_get(
        user=request.user, visit_pk=visit_pk, perm="sign_off_risk"
    )
    current = _assessment_or_404(visit)
    form = forms.ConfirmForm(request.POST or None, initial={"version": current.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.assessment_sign_off(
                actor=request.user, visit=visit, version=form.cleaned_data["version"]
            )
        except services.AssessmentInvalid as error:
            form.add_error(None, error.messages)
        except services.AssessmentConflict as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Risk assessment signed off.")
            return redirect("riskassess:assessment", visit_pk=visit.pk)
    return render(
        request,
        "riskassess/sign_off.html",
        {
            "visit": visit,
            "assessment": current,
            "form": form,
            "problems": services.sign_off_problems(
                actor=request.user, visit=visit, assessment=current
            ),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def reconfirm(request, visit_pk: int):
    """R-RA-8: re-confirm a stale assessment in one step."""
    visit = selectors.assessment_visit_get(user=request.user, visit_pk=visit_pk)
    current = _assessment_or_404(visit)
    form = forms.ConfirmForm(request.POST or None, initial={"version": current.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.assessment_reconfirm(actor=request.user, visit=visit)
        except services.AssessmentInvalid as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, "Risk assessment re-confirmed.")
            return redirect("riskassess:assessment", visit_pk=visit.pk)
    return render(
        request,
        "riskassess/reconfirm.html",
        {
            "visit": visit,
            "assessment": current,
            "form": form,
            "reasons": gates.assessment_currency(visit),
        },
    )


# What the doorstep page's "log an attempt" links may pre-fill (the form checks them on post).
PREFILL = ("visit", "counterpart", "contact_number", "professional", "pupil")
PREFILL_VALUE = re.compile(r"[\w-]{1,30}")


@login_required
@require_http_methods(["GET", "POST"])
def contact_log(request, household_pk: int):
    """R-REC-7: the household's contact history, and a form to log a contact or attempt."""
    household = selectors.contact_household_get(user=request.user, pk=household_pk)
    if request.method == "GET":
        audit_read(actor=request.user, obj=household, what="contact_log")  # R-SEC-2: reads too
    if request.method == "POST":
        form = forms.ContactLogForm(request.POST, household=household)
    else:
        initial = {
            k: request.GET[k] for k in PREFILL if PREFILL_VALUE.fullmatch(request.GET.get(k, ""))
        }
        initial["occurred_at"] = timezone.localtime().replace(second=0, microsecond=0)
        form = forms.ContactLogForm(initial=initial, household=household)
    if request.method == "POST" and form.is_valid():
        try:
            log = contact_log_create(actor=request.user, household=household, **form.contact())
        except ContactInvalid as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            messages.success(request, "Contact logged.")
            if log.visit_id and log.visit.is_doorstep:
                return redirect("riskassess:doorstep", visit_pk=log.visit_id)
            return redirect("riskassess:contact_log", household_pk=household.pk)
    page = Paginator(selectors.contact_log_of(household=household), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "riskassess/contact_log.html",
        {"household": household, "form": form, "page": page},
    )


@login_required
@require_GET
def missing_contact(request):
    """R-CLO-2: in closure mode, families with no acknowledged contact for 5 school days (a
    call due within 24 hours) and for 20 days (inform the local authority)."""
    monitors = selectors.closure_monitors(user=request.user)
    return render(request, "riskassess/missing_contact.html", {"monitors": monitors})
