from django import forms

from schools.models import User

from .describe import event_words


class AuditSearchForm(forms.Form):
    """The audit search's filters. Every field is optional; bad values are shown on the form."""

    pupil = forms.CharField(label="Pupil", required=False, max_length=100, help_text="Name or UPN.")
    actor = forms.ModelChoiceField(
        label="Who", queryset=User.objects.none(), required=False, empty_label="Anyone"
    )
    kind = forms.ChoiceField(label="What happened", required=False)
    # A date picker like every other date field (issue 14); dd/mm/yyyy still typed by hand.
    date_from = forms.DateField(
        label="From",
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label="To",
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, people, kinds: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actor"].queryset = people
        self.fields["kind"].choices = [("", "Anything")] + sorted(
            ((k, event_words(k)) for k in kinds), key=lambda choice: choice[1]
        )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned
