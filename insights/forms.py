import datetime

from django import forms

from records.forms import DateInput

from .periods import Period, term_choices, term_of


class PeriodForm(forms.Form):
    term = forms.ChoiceField(label="Term", required=False)
    start = forms.DateField(label="Or from", required=False, widget=DateInput)
    end = forms.DateField(label="to", required=False, widget=DateInput)

    def __init__(self, *args, today: datetime.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["term"].choices = term_choices(today)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if (start is None) != (end is None):
            raise forms.ValidationError("Give both dates of the range, or choose a term.")
        if start and end and (end < start or (end - start).days > 400):
            raise forms.ValidationError("The range must run forwards, for at most 400 days.")
        return data

    def period(self) -> Period:
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("start") and data.get("end"):
            return Period(
                data["start"], data["end"], f"{data['start']:%d/%m/%Y} to {data['end']:%d/%m/%Y}"
            )
        if data.get("term"):
            return term_of(datetime.date.fromisoformat(data["term"]))
        return term_of(self.today)
