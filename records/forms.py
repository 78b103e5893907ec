"""Forms of the records app. They check types and sizes; the rules live in records.services."""

import datetime

from django import forms
from django.utils import timezone

from core.limits import NamedLengthLimits

from .models import Action, Concern, PupilSeen, VisitRecord
from .selectors import CHRONOLOGY_KINDS
from .services import PUPIL_FIELDS, RECORD_FIELDS

TEXTAREA = {"rows": 3}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class VisitRecordForm(NamedLengthLimits, forms.ModelForm):
    """The visit-wide part of the Home Visit form (R-REC-1, R-REC-5, R-REC-6)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = VisitRecord
        fields = RECORD_FIELDS
        labels = {
            "nobody_answered": "No one answered the door",
            "sealed_note_left": "A sealed, addressed note was left",
            "sealed_note_details": "Where the note was left, or why none could be left",
            "others_present": "Who else was present",
            "adults_presentation": "How the adults presented",
            "home_conditions": "The home (what you could see)",
            "family_wanted_help": "Did the family want help?",
            "help_offered": "Help offered, or where the family was signposted",
            "acknowledgement": "Parent or guardian's acknowledgement",
            "acknowledged_by_name": "Typed name of the parent or guardian",
            "comments": "Comments",
            "outcome": "Outcome of the visit",
            "outcome_details": "Outcome in your words",
            "action_required": "Action required",
            "next_contact_on": "Next visit or contact arranged for",
            "next_contact_kind": "Next contact is a",
            "next_contact_notes": "Next contact: how and with whom",
        }
        help_texts = {
            "sealed_note_details": "",
            "adults_presentation": "Physical and emotional presentation; anyone under the "
            "influence; how they spoke to the child.",
            "acknowledged_by_name": "Only when they signed.",
            "action_required": "A summary; add each action with its owner and due date on the "
            "record page.",
        }
        widgets = {
            "sealed_note_details": forms.Textarea(attrs=TEXTAREA),
            "others_present": forms.Textarea(attrs=TEXTAREA),
            "adults_presentation": forms.Textarea(attrs=TEXTAREA),
            "home_conditions": forms.Textarea(attrs=TEXTAREA),
            "family_wanted_help": forms.RadioSelect,
            "help_offered": forms.Textarea(attrs=TEXTAREA),
            "acknowledgement": forms.RadioSelect,
            "comments": forms.Textarea(attrs=TEXTAREA),
            "outcome": forms.RadioSelect,
            "outcome_details": forms.Textarea(attrs=TEXTAREA),
            "action_required": forms.Textarea(attrs=TEXTAREA),
            "next_contact_on": DateInput,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Radio lists without Django's empty "---------" choice: blank means not answered yet.
        for name in ("family_wanted_help", "acknowledgement", "outcome"):
            self.fields[name].choices = [c for c in self.fields[name].choices if c[0]]
        self.fields["next_contact_kind"].choices = [("", "Choose")] + [
            c for c in self.fields["next_contact_kind"].choices if c[0]
        ]

    def clean_next_contact_on(self):
        value = self.cleaned_data["next_contact_on"]
        if value and value < timezone.localdate() - datetime.timedelta(days=1):
            raise forms.ValidationError("The next contact arranged cannot be in the past.")
        return value

    def record_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in RECORD_FIELDS}


SEEN_CHOICES = [("yes", "Yes, seen"), ("no", "No, not seen")]


class PupilSeenForm(NamedLengthLimits, forms.ModelForm):
    """One child's part of the form (R-REC-2)."""

    seen = forms.TypedChoiceField(
        label="Was the child seen?",
        choices=SEEN_CHOICES,
        coerce=lambda value: value == "yes",
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )

    class Meta:
        model = PupilSeen
        fields = PUPIL_FIELDS
        labels = {
            "spoken_to": "Spoken to",
            "seen_alone": "Seen alone",
            "why_not": "If not seen, spoken to or seen alone: why not",
            "child_said": "What the child said, in their own words",
            "physical_presentation": "Physical presentation",
            "emotional_presentation": "Emotional presentation",
            "clothing": "Clothing (weather-appropriate, clean)",
            "hunger": "Hunger",
            "cleanliness": "Cleanliness",
        }
        help_texts = {
            "child_said": "Write their exact words in quotation marks, and who said what. "
            "They are kept exactly as you type them.",
            "why_not": "You cannot insist on seeing a child; say what happened.",
        }
        widgets = {
            "why_not": forms.Textarea(attrs=TEXTAREA),
            "child_said": forms.Textarea(attrs=TEXTAREA),
            "physical_presentation": forms.Textarea(attrs=TEXTAREA),
            "emotional_presentation": forms.Textarea(attrs=TEXTAREA),
            "clothing": forms.RadioSelect,
            "hunger": forms.RadioSelect,
            "cleanliness": forms.RadioSelect,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and self.instance.pk and self.instance.seen is not None:
            self.initial["seen"] = "yes" if self.instance.seen else "no"
        for name in ("clothing", "hunger", "cleanliness"):
            self.fields[name].choices = [c for c in self.fields[name].choices if c[0]]

    def answers(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class ConcernForm(NamedLengthLimits, forms.Form):
    """R-REC-4."""

    level = forms.ChoiceField(
        label="How serious is it?", choices=Concern.Level.choices, widget=forms.RadioSelect
    )
    pupil = forms.ModelChoiceField(
        label="About", queryset=None, required=False, empty_label="The whole household"
    )
    details = forms.CharField(
        label="What was seen or said, and by whom",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    instruction_seen = forms.BooleanField(
        label="I have called the duty team (or 999), or I am about to, as the instruction says",
        required=False,
    )

    def __init__(self, *args, visit, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pupil"].queryset = visit.pupils.all()


class ConcernAcknowledgeForm(NamedLengthLimits, forms.Form):
    notes = forms.CharField(
        label="What you have done or will do (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs=TEXTAREA),
    )


class ActionForm(NamedLengthLimits, forms.Form):
    """R-REC-6: an owner, a due date and what to do."""

    description = forms.CharField(
        label="What needs to be done", max_length=2000, widget=forms.Textarea(attrs=TEXTAREA)
    )
    owner = forms.ModelChoiceField(label="Owner", queryset=None)
    due_on = forms.DateField(label="Due by", widget=DateInput)
    pupil = forms.ModelChoiceField(
        label="About", queryset=None, required=False, empty_label="The whole household"
    )

    def __init__(self, *args, owners, visit, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["pupil"].queryset = visit.pupils.all()


class ActionStatusForm(NamedLengthLimits, forms.Form):
    status = forms.ChoiceField(label="Status", choices=Action.Status.choices)
    notes = forms.CharField(
        label="Notes", required=False, max_length=2000, widget=forms.Textarea(attrs=TEXTAREA)
    )


class ActionReassignForm(NamedLengthLimits, forms.Form):
    """R-REC-6: who, when and why are recorded."""

    to_owner = forms.ModelChoiceField(label="New owner", queryset=None)
    reason = forms.CharField(
        label="Why it is being reassigned", max_length=1000, widget=forms.Textarea(attrs=TEXTAREA)
    )

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_owner"].queryset = owners


class ChronologyFilterForm(NamedLengthLimits, forms.Form):
    kind = forms.ChoiceField(
        label="Show",
        choices=[("", "Everything")] + list(CHRONOLOGY_KINDS.items()),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )


MAX_EXPORT_DAYS = 366


class ExportForm(NamedLengthLimits, forms.Form):
    school = forms.ModelChoiceField(label="School", queryset=None, empty_label=None)
    start = forms.DateField(label="From", widget=DateInput)
    end = forms.DateField(label="To (inclusive)", widget=DateInput)

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError("The end date must be on or after the start date.")
            if (end - start).days >= MAX_EXPORT_DAYS:
                raise forms.ValidationError("Export at most a year at a time.")
        return cleaned
