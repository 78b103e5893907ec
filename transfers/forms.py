"""Forms of the file transfer. They check types and sizes; the rules live in
transfers.services."""

from django import forms

from records.forms import DateInput
from schools.models import School

from .models import FileTransfer

HAND_METHODS = [
    (value, label)
    for value, label in FileTransfer.ReceiptMethod.choices
    if value not in ("homeward", "link")
]


class LeavingForm(forms.Form):
    left_on = forms.DateField(label="The day the pupil left (or will leave)", widget=DateInput)
    leaving_to = forms.CharField(
        label="Moving to (school), if known", max_length=200, required=False
    )


class OfferForm(forms.Form):
    to_school = forms.ModelChoiceField(
        label="The school the pupil is moving to", queryset=School.objects.none()
    )

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_school"].queryset = schools


class PackageForm(forms.Form):
    to_school_name = forms.CharField(label="Receiving school", max_length=200)
    recipient_email = forms.EmailField(
        label="The receiving DSL's email address",
        help_text="The download link goes here. The password is shown to you, to give them "
        "by phone.",
    )


class ReceiptForm(forms.Form):
    to_school_name = forms.CharField(label="Receiving school", max_length=200)
    received_by_name = forms.CharField(label="Received by (name and role)", max_length=200)
    received_on = forms.DateField(label="Received on", widget=DateInput)
    method = forms.ChoiceField(label="How it was handed over", choices=HAND_METHODS)
    notes = forms.CharField(
        label="Notes (for example the recorded delivery number)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="Why your school cannot accept this file",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class PaperFileForm(forms.Form):
    from_school_name = forms.CharField(label="From school", max_length=200)
    received_on = forms.DateField(label="Arrived on", widget=DateInput)
    kept_where = forms.CharField(
        label="Where the paper file is kept", max_length=200, help_text="e.g. the DSL's office"
    )
    notes = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class LinkForm(forms.Form):
    email = forms.EmailField(label="Your email address (the one this link was sent to)")
    name = forms.CharField(label="Your name and role", max_length=200, required=False)
