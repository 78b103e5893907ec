"""PDFs rendered by WeasyPrint from templates/records/pdf/ (A4).

Every page carries the school's name, the protective marking OFFICIAL-SENSITIVE, "Page x of y"
and who printed it and when (CSS @page margin boxes in templates/records/pdf/pdf.css). The text
is set in Liberation Sans from Debian's fonts-liberation2 (installed by `make system-deps`), so
a PDF looks the same on every machine.

Views call these and then audit.services.document_download_record (R-SEC-3).
"""

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db.models import Prefetch, Q
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import CSS, HTML

from contacts.models import ContactLog
from core.pdf_fetcher import shared_font_config, static_only_url_fetcher
from schools.models import Pupil, School, User
from visits.models import Visit, Visitor

from . import paper, selectors
from .models import Action, Concern

MARKING = "OFFICIAL-SENSITIVE"

# Issue 19: how much typed text one PDF combines. No field holds more than core.limits allows,
# and a long document (the chronology, the whole file) is cut into parts of at most this much
# text ("Part 1 of 3", ?part=2), so no render runs long inside a web request: 972,900
# characters took 14.5 s; this budget rendered in 2.9 s on the shared 2-core development machine.
PDF_TEXT_BUDGET = 120_000


class NoSuchPart(Exception):
    """A part number outside 1..parts."""


def text_size(*values) -> int:
    return sum(len(str(value)) for value in values if value)


def parts_by_budget(sizes: list[int], budget: int | None = None) -> list[tuple[int, int]]:
    """Cut items of `sizes` into consecutive (start, end) slices of at most `budget` characters
    each (an item larger than the budget alone; no item is larger than its fields' limits)."""
    budget = budget or PDF_TEXT_BUDGET
    parts: list[tuple[int, int]] = []
    start, used = 0, 0
    for index, size in enumerate(sizes):
        if index > start and used + size > budget:
            parts.append((start, index))
            start, used = index, 0
        used += size
    parts.append((start, len(sizes)))
    return parts


def _part(parts: list[tuple[int, int]], part: int) -> tuple[int, int]:
    if not 1 <= part <= len(parts):
        raise NoSuchPart(f"There is no part {part}: this document has {len(parts)}.")
    return parts[part - 1]


def _entry_size(entry) -> int:
    return text_size(entry.title, entry.who, entry.detail, entry.quote) + 100


STYLESHEET = Path(settings.BASE_DIR) / "templates" / "records" / "pdf" / "pdf.css"

BLANK_FORMS = {
    "home-visit-form": ("Home Visits form", "records/pdf/home_visit_form.html"),
    "risk-assessment": ("Lone working risk assessment", "records/pdf/risk_assessment.html"),
    "doorstep-assessment": ("Doorstep risk assessment", "records/pdf/doorstep_assessment.html"),
}


@lru_cache(maxsize=1)
def _stylesheet() -> CSS:
    # Parsed once per process: every document shares it.
    return CSS(
        filename=str(STYLESHEET),
        url_fetcher=static_only_url_fetcher(),
        font_config=shared_font_config(),
    )


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
    # Issue 15: one font configuration per process, not a new one (fontconfig's whole
    # lookup) per render.
    return document.write_pdf(stylesheets=[_stylesheet()], font_config=shared_font_config())


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


def chronology_parts(
    *, pupil: Pupil, scope: selectors.PupilFileScope, kinds: list[str] | None = None
) -> tuple[list, list[tuple[int, int]]]:
    entries = selectors.chronology(pupil=pupil, scope=scope, kinds=kinds)
    return entries, parts_by_budget([_entry_size(entry) for entry in entries])


def chronology_pdf(
    *,
    pupil: Pupil,
    scope: selectors.PupilFileScope,
    printed_by: User,
    kinds: list[str] | None = None,
    part: int = 1,
) -> tuple[bytes, int]:
    """Part `part` of the pupil's chronology, and how many parts there are (issue 19)."""
    entries, parts = chronology_parts(pupil=pupil, scope=scope, kinds=kinds)
    start, end = _part(parts, part)
    content = pdf_render(
        template="records/pdf/chronology.html",
        context={
            "title": "Chronology",
            "pupil": pupil,
            "entries": entries[start:end],
            "part": part,
            "parts": len(parts),
            "first": start + 1,
            "last": end,
            "total": len(entries),
        },
        school=pupil.school,
        printed_by=printed_by,
    )
    return content, len(parts)


def _record_size(context: dict) -> int:
    record = context.get("record")
    size = 2_000  # the form's own words and headings
    if record is not None:
        size += text_size(*(getattr(record, f.attname) for f in record._meta.concrete_fields))
        for row in record.pupils_seen.all():
            size += text_size(*(getattr(row, f.attname) for f in row._meta.concrete_fields))
    for concern in context.get("concerns", []):
        size += text_size(concern.details, concern.acknowledgement_notes)
    for action in context.get("actions", []):
        size += text_size(action.description, action.status_notes)
    return size


def pupil_file_pdf(
    *, pupil: Pupil, scope: selectors.PupilFileScope, printed_by: User, part: int = 1
) -> tuple[bytes, int]:
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
    open_actions = list(open_actions.distinct())
    open_concerns = list(
        Concern.objects.filter(
            Q(pupil=pupil) | Q(pupil__isnull=True, visit__pupils=pupil),
            acknowledged_at__isnull=True,
        ).distinct()
    )
    entries = selectors.chronology(pupil=pupil, scope=scope)
    # Issue 19: the details and open items, then the chronology, then the records, cut into
    # parts of at most PDF_TEXT_BUDGET characters.
    front = 2_000 + sum(text_size(c.details) for c in open_concerns)
    front += sum(text_size(a.description) for a in open_actions)
    sizes = [front] + [_entry_size(e) for e in entries] + [_record_size(r) for r in records]
    start, end = _part(parts_by_budget(sizes), part)
    parts = len(parts_by_budget(sizes))
    first_record = 1 + len(entries)

    def within(items, offset):
        return items[max(start - offset, 0) : max(end - offset, 0)]

    content = pdf_render(
        template="records/pdf/pupil_file.html",
        context={
            "title": "Safeguarding file",
            "pupil": pupil,
            "front": start == 0,
            "entries": within(entries, 1),
            "records": within(records, first_record),
            "open_actions": open_actions,
            "open_concerns": open_concerns,
            "part": part,
            "parts": parts,
        },
        school=pupil.school,
        printed_by=printed_by,
    )
    return content, parts
