"""PDFs rendered by WeasyPrint from templates/records/pdf/ (A4).

Every page carries the school's name, the protective marking OFFICIAL-SENSITIVE, "Page x of y"
and who printed it and when (CSS @page margin boxes in templates/records/pdf/pdf.css). The text
is set in Liberation Sans from Debian's fonts-liberation2 (installed by `make system-deps`), so
a PDF looks the same on every machine.

Views call these and then records.services.document_download_record (R-SEC-3).
"""

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db.models import Prefetch, Q
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import CSS, HTML

from config.pdf_fetcher import static_only_url_fetcher
from schools.models import Pupil, School, User
from visits.models import Visit, Visitor

from . import paper, selectors
from .models import Action, Concern, ContactLog

MARKING = "OFFICIAL-SENSITIVE"
STYLESHEET = Path(settings.BASE_DIR) / "templates" / "records" / "pdf" / "pdf.css"

BLANK_FORMS = {
    "home-visit-form": ("Home Visits form", "records/pdf/home_visit_form.html"),
    "risk-assessment": ("Lone working risk assessment", "records/pdf/risk_assessment.html"),
    "doorstep-assessment": ("Doorstep risk assessment", "records/pdf/doorstep_assessment.html"),
}


@lru_cache(maxsize=1)
def _stylesheet() -> CSS:
    # Parsed once per process: every document shares it.
    return CSS(filename=str(STYLESHEET), url_fetcher=static_only_url_fetcher())


def pdf_render(*, template: str, context: dict, school: School, printed_by: User) -> bytes:
    """Render `template` to A4 PDF bytes, with the page furniture every document carries."""
    html = render_to_string(
        template,
        {
            **context,
            "school": school,
            "printed_by": printed_by,
            "printed_at": timezone.localtime(),
            "marking": MARKING,
        },
    )
    document = HTML(
        string=html, base_url=str(settings.BASE_DIR), url_fetcher=static_only_url_fetcher()
    )
    return document.write_pdf(stylesheets=[_stylesheet()])


def home_visit_form_pdf(*, visit: Visit, printed_by: User) -> bytes:
    """The completed Home Visits form of 001 (R-REC-1), then each child's answers (R-REC-2)."""
    return pdf_render(
        template="records/pdf/home_visit_form.html",
        context={"title": "Home Visits form", **_record_context(visit, printed_by)},
        school=visit.school,
        printed_by=printed_by,
    )


def _record_context(visit: Visit, reader: User) -> dict:
    context = selectors.record_page(visit=visit, reader=reader)
    visitors = [v for v in visit.visitors.all() if v.withdrawn_at is None]
    context["visitors"] = visitors
    context["job_roles"] = [
        getattr(getattr(v.user, "profile", None), "job_title", "") or "—" for v in visitors
    ]
    return context


def blank_form_pdf(*, form: str, school: School, printed_by: User) -> bytes:
    """A blank paper copy for when Homeward cannot be reached (a paper fallback)."""
    title, template = BLANK_FORMS[form]
    context = {"title": title, "blank": True}
    if form == "risk-assessment":
        context["rows"] = paper.blank_hazard_rows()
    if form == "doorstep-assessment":
        context["questions"] = [(question, "") for _, question in paper.DOORSTEP_QUESTIONS]
        context["interventions"] = paper.DOORSTEP_INTERVENTIONS
    return pdf_render(template=template, context=context, school=school, printed_by=printed_by)


def assessment_pdf(*, visit: Visit, printed_by: User) -> bytes:
    """The visit's risk assessment: the 001 hazard table, or the 000 doorstep form."""
    assessment = visit.risk_assessment
    context = {"visit": visit, "assessment": assessment, "blank": False}
    if assessment.kind == assessment.Kind.DOORSTEP:
        context.update(
            title="Doorstep risk assessment",
            questions=doorstep_answers(visit=visit, assessment=assessment),
            interventions=paper.DOORSTEP_INTERVENTIONS,
            isolating=visit.household.self_isolating,
        )
        template = "records/pdf/doorstep_assessment.html"
    else:
        context.update(title="Lone working risk assessment", rows=paper.hazard_rows(assessment))
        template = "records/pdf/risk_assessment.html"
    return pdf_render(
        template=template, context=context, school=visit.school, printed_by=printed_by
    )


def _when(value) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M") if value else ""


def doorstep_answers(*, visit: Visit, assessment) -> list[tuple[str, str]]:
    """The 000 questions with what Homeward holds to answer them: the contact log (R-RA-6), the
    pupils' categories and professionals, the Headteacher's consultation (R-AUTH-3). Answers
    the assessment does not hold yet are left blank to complete by hand."""
    pupils = list(visit.pupils.prefetch_related("professionals"))
    contacts = list(
        ContactLog.objects.filter(household_id=visit.household_id)
        .select_related("contact_number", "professional", "recorded_by")
        .order_by("occurred_at")
    )

    def listed(entries) -> str:
        return "\n".join(
            f"{_when(c.occurred_at)} {c.get_channel_display()} — "
            f"{c.contact_number or c.professional or c.contacted or c.get_counterpart_display()}: "
            f"{c.get_outcome_display()}{'. ' + c.notes if c.notes else ''}"
            for c in entries
        )

    professional_kinds = (ContactLog.Counterpart.PROFESSIONAL, ContactLog.Counterpart.SOCIAL_WORKER)
    answered = [c for c in contacts if c.outcome in ContactLog.ACKNOWLEDGED_OUTCOMES]
    last = answered[-1] if answered else None
    categories = sorted({label for pupil in pupils for label in pupil.categories})
    professionals = sorted({str(p) for pupil in pupils for p in pupil.professionals.all()})
    visitors = ", ".join(str(v.user) for v in visit.visitors.all() if v.withdrawn_at is None)
    consulted = []
    if visit.head_consulted_at:
        consulted.append(
            f"Headteacher {visit.head_consulted_by} consulted {_when(visit.head_consulted_at)}"
        )
    if visit.authorised_at:
        consulted.append(f"Authorised by {visit.authorised_by} {_when(visit.authorised_at)}")

    def answered_by_assessor(name: str) -> str:
        return getattr(assessment, name, "") or ""

    def lines(*parts: str) -> str:
        return "\n".join(part for part in parts if part)

    last_from_assessor = ""
    if getattr(assessment, "last_contact_on", None):
        last_from_assessor = (
            f"{assessment.last_contact_on:%d/%m/%Y}: {answered_by_assessor('last_contact_details')}"
        )
    typical = ""
    if answered_by_assessor("no_contact_typical"):
        typical = assessment.get_no_contact_typical_display()
    # R-RA-5: the assessor's own answers first, then what the contact log shows (R-RA-6).
    answers = {
        "date": _when(assessment.confirmed_at),
        "workers": f"Assessed by {assessment.assessor}. Visitors: {visitors}",
        "family": f"{', '.join(p.full_name for p in pupils)} — {visit.household.address}",
        "vulnerable": lines(
            answered_by_assessor("vulnerable_because"),
            ("Categories on file: " + ", ".join(categories)) if categories else "",
        ),
        "last_contact": last_from_assessor
        or (
            f"{_when(last.occurred_at)}: {last.get_channel_display()}, "
            f"{last.get_outcome_display()}{'. ' + last.notes if last.notes else ''}"
            if last
            else "No answered contact is logged."
        ),
        "typical": typical,
        "escalated": answered_by_assessor("why_escalated"),
        "methods": lines(
            answered_by_assessor("contact_methods_tried"),
            ("Contact log:\n" + listed(contacts)) if contacts else "",
        ),
        "professionals": lines(
            answered_by_assessor("professionals_involved"),
            ", ".join(professionals),
            listed(c for c in contacts if c.counterpart in professional_kinds),
        ),
        "agencies": lines(
            answered_by_assessor("agencies_told"),
            listed(
                c
                for c in contacts
                if c.counterpart
                in (ContactLog.Counterpart.SOCIAL_CARE, ContactLog.Counterpart.POLICE)
            ),
        ),
        "consulted": lines(answered_by_assessor("dsl_and_head_consulted"), "; ".join(consulted)),
        "siblings": lines(
            answered_by_assessor("sibling_schools_considered"),
            listed(c for c in contacts if c.counterpart == ContactLog.Counterpart.OTHER_SCHOOL),
        ),
    }
    return [(question, answers.get(key, "")) for key, question in paper.DOORSTEP_QUESTIONS]


def chronology_pdf(
    *,
    pupil: Pupil,
    scope: selectors.PupilFileScope,
    printed_by: User,
    kinds: list[str] | None = None,
) -> bytes:
    entries = selectors.chronology(pupil=pupil, scope=scope, kinds=kinds)
    return pdf_render(
        template="records/pdf/chronology.html",
        context={"title": "Chronology", "pupil": pupil, "entries": entries},
        school=pupil.school,
        printed_by=printed_by,
    )


def pupil_file_pdf(*, pupil: Pupil, scope: selectors.PupilFileScope, printed_by: User) -> bytes:
    """The pupil's whole safeguarding file as one PDF, for the transfer to a new school: their
    details, the chronology, then every Home Visit record in full. R-SEC-1: for a reader whose
    scope is the whole file only (the DSLs, the Headteacher, trust leads)."""
    if not scope.whole:
        raise PermissionError("The whole safeguarding file is for the DSLs and the Headteacher.")
    visits = list(
        Visit.objects.filter(pupils=pupil, record__status="submitted")
        .select_related("school", "household", "requested_by", "authorised_by")
        .prefetch_related(
            "pupils",
            Prefetch("visitors", queryset=Visitor.objects.select_related("user__profile")),
        )
        .order_by("record__submitted_at")
    )
    records = [_record_context(visit, printed_by) for visit in visits]
    pupil = (
        Pupil.objects.select_related("school", "household")
        .prefetch_related("professionals", "household__carers", "household__contact_numbers")
        .get(pk=pupil.pk)
    )
    open_actions = Action.objects.filter(
        Q(pupil=pupil) | Q(pupil__isnull=True, visit__pupils=pupil),
        status__in=Action.OPEN_STATUSES,
    ).select_related("owner")
    return pdf_render(
        template="records/pdf/pupil_file.html",
        context={
            "title": "Safeguarding file",
            "pupil": pupil,
            "entries": selectors.chronology(pupil=pupil, scope=scope),
            "records": records,
            "open_actions": list(open_actions.distinct()),
            "open_concerns": list(
                Concern.objects.filter(
                    Q(pupil=pupil) | Q(pupil__isnull=True, visit__pupils=pupil),
                    acknowledged_at__isnull=True,
                ).distinct()
            ),
        },
        school=pupil.school,
        printed_by=printed_by,
    )
