from django import forms

from schools.models import User


class AuditSearchForm(forms.Form):
    """The audit search's filters. Every field is optional; bad values are shown on the form."""

    pupil = forms.CharField(label="Pupil", required=False, max_length=100, help_text="Name or UPN.")
    actor = forms.ModelChoiceField(
        label="Who", queryset=User.objects.none(), required=False, empty_label="Anyone"
    )
    kind = forms.ChoiceField(label="What happened", required=False)
    date_from = forms.DateField(label="From (dd/mm/yyyy)", required=False)
    date_to = forms.DateField(label="To (dd/mm/yyyy)", required=False)

    def __init__(self, *args, people, kinds: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actor"].queryset = people
        self.fields["kind"].choices = [("", "Anything")] + [(k, k) for k in kinds]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned
