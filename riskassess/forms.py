"""The assessment page's forms and the contact log form. They check the shape of what was posted
and say what is wrong in plain English; the rules themselves live in riskassess.services and
contacts.services."""

from dataclasses import dataclass

from django import forms
from django.forms import formset_factory
from django.forms.models import fields_for_model
from django.utils import timezone

from contacts.models import ContactLog
from core.error_summary import SummaryError, field_anchor
from core.limits import NOTE_TEXT, NamedLengthLimits
from schools.models import Household, Professional
from visits.models import Visit

from .catalogue import MEASURE_GROUP_LABELS, MEASURES, RETIRED
from .models import (
    DOORSTEP_FIELDS,
    PREPARATION_FIELDS,
    ChildSeen,
    HazardCategory,
    HazardRow,
    Likelihood,
    RiskAssessment,
    Severity,
    YesNo,
)
from .services import HazardRowInput

TEXTAREA = forms.Textarea(attrs={"rows": 3})
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AssessmentAnswersForm(NamedLengthLimits, forms.Form):
    """The 003 preparation questions (R-RA-4) and, on a doorstep visit, the 000 questions
    (R-RA-5). Every answer is required except the notes on seeing the child."""

    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, visit: Visit, assessment: RiskAssessment | None, **kwargs):
        names = PREPARATION_FIELDS + (DOORSTEP_FIELDS if visit.is_doorstep else ())
        # Version 0: the page showed no assessment yet (riskassess.services.assessment_save).
        kwargs["initial"] = {"version": 0}
        if assessment is not None:
            kwargs["initial"] = {name: getattr(assessment, name) for name in names}
            kwargs["initial"]["version"] = assessment.version
        super().__init__(*args, **kwargs)
        model_fields = fields_for_model(RiskAssessment, fields=names)
        for name in names:
            field = model_fields[name]
            field.required = name != "child_seen_notes"
            if isinstance(field.widget, forms.Textarea):
                field.widget = forms.Textarea(attrs={"rows": 2})  # grows as typed; page stays short
            if name in ("complete_by", "last_contact_on"):
                field.widget = DATE
                field.input_formats = ["%Y-%m-%d", "%d/%m/%Y"]
            if name == "child_seen":
                field.choices = ChildSeen.choices
                field.widget = forms.RadioSelect(choices=ChildSeen.choices)
            if name == "no_contact_typical":
                field.choices = YesNo.choices
                field.widget = forms.RadioSelect(choices=YesNo.choices)
            field.error_messages["required"] = _required_message(name)
            self.fields[name] = field
        self.doorstep_names = DOORSTEP_FIELDS if visit.is_doorstep else ()
        self.name_length_limits()  # issue 19: for the fields added above

    @property
    def preparation_fields(self):
        return [self[name] for name in PREPARATION_FIELDS]

    @property
    def doorstep_fields(self):
        return [self[name] for name in self.doorstep_names]

    def clean(self):
        data = super().clean()
        last = data.get("last_contact_on")
        # R-RA-5, checked here too so it comes with the other errors rather than after them.
        if last is not None and last > timezone.localdate() and "last_contact_on" in self.fields:
            self.add_error(
                "last_contact_on", "The last contact with the family cannot be in the future."
            )
        return data

    def answers(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.fields if name != "version"}


def _required_message(name: str) -> str:
    if name in DOORSTEP_FIELDS:
        return "Every question of the doorstep assessment must be answered."
    return "Answer this preparation question."


SEVERITY_ERROR = "Choose a severity of 1 (minor), 2 (serious) or 3 (major) on the 3×3 matrix."
LIKELIHOOD_ERROR = (
    "Choose a likelihood of 1 (remote), 2 (possible) or 3 (likely) on the 3×3 matrix."
)


class HazardRowForm(NamedLengthLimits, forms.Form):
    """One row of the hazard table (R-RA-2)."""

    key = forms.CharField(max_length=40, widget=forms.HiddenInput, initial="new")
    hazard = forms.CharField(label="Hazard", max_length=200, required=False)
    category = forms.ChoiceField(
        label="Kind of hazard",
        choices=[("", "Choose…"), *HazardCategory.choices],
        required=False,
    )
    harm = forms.CharField(label="Harm that could occur", max_length=200, required=False)
    # Required only on a row that is there to be rated: hazard_rows_formset marks them on the
    # page's own rows, and clean() asks for them on an added row (the optional blank row shows
    # no "required" mark).
    severity = forms.TypedChoiceField(
        label="Severity",
        coerce=int,
        empty_value=None,
        required=False,
        choices=[("", "Choose…"), *((s.value, f"{s.value} — {s.label}") for s in Severity)],
        error_messages={"required": SEVERITY_ERROR, "invalid_choice": SEVERITY_ERROR},
    )
    likelihood = forms.TypedChoiceField(
        label="Likelihood",
        coerce=int,
        empty_value=None,
        required=False,
        choices=[("", "Choose…"), *((lk.value, f"{lk.value} — {lk.label}") for lk in Likelihood)],
        error_messages={"required": LIKELIHOOD_ERROR, "invalid_choice": LIKELIHOOD_ERROR},
    )
    controls = forms.MultipleChoiceField(
        label="Control measures",
        choices=[(m.code, m.text) for m in MEASURES.values()],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "A control measure in the form is not in the catalogue."},
    )
    other_controls = forms.CharField(
        max_length=NOTE_TEXT,
        label="Other control measures (write your own)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    remove = forms.BooleanField(label="Remove this hazard", required=False)

    # Set by the page from the server's own rows, never from the POST.
    row: "RowFacts | None" = None

    @property
    def is_added(self) -> bool:
        return self.row is None or self.row.removable

    @property
    def hazard_name(self) -> str:
        if self.row is not None and not self.row.removable:
            return self.row.hazard
        return (self["hazard"].value() or "").strip() or "the hazard you are adding"

    def clean(self):
        """Every problem of the row at once (issue 14): the same checks as
        riskassess.services._check_row, so nothing waits for a second attempt (R-RA-2)."""
        data = super().clean()
        if data.get("remove"):
            for name in ("severity", "likelihood", "controls", "hazard", "category"):
                self.errors.pop(name, None)
            return data
        if self.is_added:
            if not (data.get("hazard") or "").strip() and "hazard" not in self.errors:
                self.add_error("hazard", "Name the hazard you are adding.")
            if not data.get("category") and "category" not in self.errors:
                self.add_error("category", f"Choose what kind of hazard “{self.hazard_name}” is.")
        # R-RA-2: every hazard is rated on the 3×3 matrix and has at least one control.
        if data.get("severity") is None and "severity" not in self.errors:
            self.add_error("severity", SEVERITY_ERROR)
        if data.get("likelihood") is None and "likelihood" not in self.errors:
            self.add_error("likelihood", LIKELIHOOD_ERROR)
        no_controls = not data.get("controls") and not (data.get("other_controls") or "").strip()
        if no_controls and "controls" not in self.errors:
            self.add_error(
                "controls",
                f"Choose or write at least one control measure for “{self.hazard_name}”.",
            )
        return data

    def as_input(self) -> HazardRowInput:
        data = self.cleaned_data
        return HazardRowInput(
            key=data["key"],
            severity=data.get("severity"),
            likelihood=data.get("likelihood"),
            controls=tuple(data.get("controls") or ()),
            other_controls=data.get("other_controls") or "",
            hazard=data.get("hazard") or "",
            category=data.get("category") or "",
            harm=data.get("harm") or "",
            remove=bool(data.get("remove")),
        )

    def control_groups(self) -> list[tuple[str, list[tuple[object, bool]], bool]]:
        """The catalogue for this row: its own kind of hazard first and open, then the rest
        folded away (open if something in them is ticked)."""
        ticked = set(self["controls"].value() or [])
        category = self.row.category if self.row else (self["category"].value() or "other")
        order = [category] + [c for c in HazardCategory.values if c != category]
        groups = []
        for position, group in enumerate(order):
            measures = [
                (m, m.code in ticked)
                for m in MEASURES.values()
                if m.category == group and (m.code not in RETIRED or m.code in ticked)
            ]
            if measures:
                is_open = position == 0 or any(on for _, on in measures)
                groups.append((MEASURE_GROUP_LABELS[group], measures, is_open))
        return groups


@dataclass
class RowFacts:
    """What the page shows about a row whatever was posted: its fixed name and where it came
    from, and its saved risk level."""

    key: str
    hazard: str
    category: str
    source: str
    source_label: str
    risk_level: str = ""
    risk_level_label: str = ""

    @property
    def removable(self) -> bool:
        return self.source == HazardRow.Source.ADDED


class BaseHazardRowFormSet(forms.BaseFormSet):
    def inputs(self) -> list[HazardRowInput]:
        """The submitted rows, skipping the blank 'add a hazard' row left empty."""
        return [
            form.as_input() for form in self.forms if form.has_changed() or not form.empty_permitted
        ]


HazardRowFormSet = formset_factory(
    HazardRowForm, formset=BaseHazardRowFormSet, extra=1, max_num=60, validate_max=True
)


def row_facts(row) -> RowFacts:
    """RowFacts for a saved HazardRow or a HazardRowInput default."""
    sources = dict(HazardRow.Source.choices)
    if isinstance(row, HazardRow):
        return RowFacts(
            key=f"row:{row.pk}",
            hazard=row.hazard,
            category=row.category,
            source=row.source,
            source_label=sources[row.source],
            risk_level=row.risk_level,
            risk_level_label=row.get_risk_level_display(),
        )
    source = HazardRow.Source.FLAG if row.key.startswith("flag:") else HazardRow.Source.STANDARD
    return RowFacts(
        key=row.key,
        hazard=row.hazard,
        category=row.category,
        source=source,
        source_label=sources[source],
    )


def row_initial(row) -> dict:
    facts = row_facts(row)
    return {
        "key": facts.key,
        "hazard": row.hazard,
        "category": row.category,
        "harm": row.harm,
        "severity": row.severity,
        "likelihood": row.likelihood,
        "controls": list(row.controls),
        "other_controls": row.other_controls,
    }


def hazard_rows_formset(*, rows: list, data=None) -> BaseHazardRowFormSet:
    """The hazard table, each form told the facts of its row by the server (a key the server
    does not know shows as a plain row, and the service refuses it)."""
    facts = {row_facts(row).key: row_facts(row) for row in rows}
    # A posted table is read as posted: the blank "add a hazard" row is compared with an empty
    # row, not with whatever row the server would show at that position now.
    initial = None if data is not None else [row_initial(r) for r in rows]
    formset = HazardRowFormSet(data=data, prefix="rows", initial=initial)
    for form in formset.forms:
        key = form["key"].value()
        form.row = facts.get(key)
        if form.row is not None:
            # The page's own rows are rated (shown as required); clean() still asks an added
            # row that is being removed for nothing.
            form.fields["severity"].required = not form.row.removable
            form.fields["likelihood"].required = not form.row.removable
    return formset


def _field_anchor(bound) -> str:
    # The controls are drawn by hand (hazard_row.html): the link goes to their fieldset.
    if bound.name == "controls":
        return f"{bound.form.prefix}-controls"
    return field_anchor(bound)


def assessment_error_summary(answers, table) -> list[SummaryError]:
    """Every error of the assessment page in the order of the page (the doorstep questions, the
    hazards, the preparation), each linked to its field (the GOV.UK error summary)."""
    summary = [SummaryError(str(e)) for e in answers.non_field_errors()]
    summary += [SummaryError(str(e)) for e in table.non_form_errors()]
    if not answers.is_bound:
        return summary

    def answer_errors(fields):
        for bound in fields:
            for error in bound.errors:
                summary.append(SummaryError(f"{bound.label}: {error}", _field_anchor(bound)))

    answer_errors(answers.doorstep_fields)
    for form in table.forms:
        for error in form.non_field_errors():
            summary.append(SummaryError(f"{form.hazard_name}: {error}", f"{form.prefix}-row"))
        names = ("hazard", "category", "harm", "severity", "likelihood", "controls")
        for name in (*names, "other_controls"):
            for error in form[name].errors:
                text = error if form.hazard_name in error else f"{form.hazard_name}: {error}"
                summary.append(SummaryError(text, _field_anchor(form[name])))
    answer_errors(answers.preparation_fields)
    return summary


# ---------------------------------------------------------------------------------------------
# The contact log
# ---------------------------------------------------------------------------------------------


class ContactLogForm(NamedLengthLimits, forms.Form):
    """One contact or attempt (R-REC-7)."""

    counterpart = forms.ChoiceField(
        label="Who was contacted", choices=ContactLog.Counterpart.choices
    )
    contact_number = forms.ModelChoiceField(
        label="Family number",
        queryset=None,
        required=False,
        empty_label="—",
        error_messages={"invalid_choice": "That number is not one of this household's numbers."},
    )
    professional = forms.ModelChoiceField(
        label="Professional",
        queryset=None,
        required=False,
        empty_label="—",
        error_messages={"invalid_choice": "That professional is not in the school's directory."},
    )
    contacted = forms.CharField(
        label="Name (if not chosen above)",
        max_length=150,
        required=False,
        help_text="e.g. MASH duty team, PC Smith, Birchwood Academy office.",
    )
    number_or_address = forms.CharField(
        label="Number or address used", max_length=150, required=False
    )
    channel = forms.ChoiceField(label="How", choices=ContactLog.Channel.choices)
    # No default: logging an acknowledgement by accident would hide a missing family (R-CLO-2).
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=[("", "Choose…"), *ContactLog.Outcome.choices],
        error_messages={"required": "Choose the outcome."},
    )
    occurred_at = forms.DateTimeField(
        label="When",
        input_formats=["%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"required": "Give the date and time of the contact."},
    )
    pupil = forms.ModelChoiceField(
        label="About",
        queryset=None,
        required=False,
        empty_label="The whole household",
        error_messages={"invalid_choice": "That pupil does not live in this household."},
    )
    notes = forms.CharField(label="Notes", required=False, widget=TEXTAREA, max_length=NOTE_TEXT)
    visit = forms.ModelChoiceField(
        queryset=None,
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "That visit is to another household."},
    )

    def __init__(self, *args, household: Household, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact_number"].queryset = household.contact_numbers.all()
        self.fields["contact_number"].label_from_instance = lambda n: (
            f"{n.label}: {n.display}"
            + (" (emergency contact)" if n.emergency_contact else "")
            + ("" if n.current else " (no longer current)")
        )
        self.fields["professional"].queryset = Professional.objects.filter(school=household.school)
        self.fields["pupil"].queryset = household.pupils.all()
        self.fields["pupil"].label_from_instance = lambda p: p.full_name
        self.fields["visit"].queryset = Visit.objects.filter(household=household)

    def contact(self) -> dict:
        return dict(self.cleaned_data)


class ConfirmForm(NamedLengthLimits, forms.Form):
    """A sign-off or re-confirmation of the version the user read."""

    version = forms.IntegerField(widget=forms.HiddenInput)
