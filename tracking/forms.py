"""Forms of the board and the visitor's phone. Times are typed in school time (Europe/London)
and stored in UTC."""

import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.limits import NOTE_TEXT, NamedLengthLimits

from .models import CallAttempt, EscalationDecision

LONDON_FORMATS = ("%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M")


def london_aware(naive: datetime.datetime) -> datetime.datetime:
    """A wall-clock time in school time, as an aware datetime.

    The hour the clocks go back happens twice: we take the first (earlier) one, so the ladder
    starts sooner rather than later. The hour the clocks go forward does not exist: refused."""
    zone = timezone.get_current_timezone()
    first = naive.replace(tzinfo=zone, fold=0)
    round_trip = first.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
    if round_trip != naive:
        raise ValidationError(
            "%(time)s does not exist on that day: the clocks went forward. Give a later time.",
            code="imaginary_time",
            params={"time": naive.strftime("%H:%M")},
        )
    return first


class LondonDateTimeField(forms.Field):
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.datetime):
            return value if timezone.is_aware(value) else london_aware(value)
        for pattern in LONDON_FORMATS:
            try:
                naive = datetime.datetime.strptime(value.strip(), pattern)  # noqa: DTZ007
            except ValueError:
                continue
            return london_aware(naive)
        raise ValidationError("Give a date and time, like 22/11/2026 14:05.", code="invalid")

    def prepare_value(self, value):
        if isinstance(value, datetime.datetime) and timezone.is_aware(value):
            return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")
        return value


class LondonTimeField(forms.Field):
    """A time today, school time ("16:40"); a time earlier than now means tomorrow."""

    widget = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.datetime):
            return value
        try:
            clock = datetime.datetime.strptime(value.strip(), "%H:%M").time()  # noqa: DTZ007
        except ValueError as error:
            raise ValidationError("Give a time, like 16:40.", code="invalid") from error
        now = timezone.localtime()
        candidate = london_aware(datetime.datetime.combine(now.date(), clock))
        if candidate <= now:
            tomorrow = now.date() + datetime.timedelta(days=1)
            candidate = london_aware(datetime.datetime.combine(tomorrow, clock))
        return candidate

    def prepare_value(self, value):
        if isinstance(value, datetime.datetime) and timezone.is_aware(value):
            return timezone.localtime(value).strftime("%H:%M")
        return value


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's errors on the form: on their field when the form has it, else on top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


class SignOutForm(NamedLengthLimits, forms.Form):
    """R-TRK-1: each visitor's mobile, the vehicle, the expected return; R-RA-8 re-confirm."""

    expected_return_at = LondonDateTimeField(
        label="Expected back (or phoning in) at",
    )
    # Checked by the service with the other R-TRK-1 rules, so every error shows at once.
    vehicle = forms.CharField(
        max_length=120,
        required=False,
        help_text="Make, colour and registration — or “on foot”.",
    )
    reconfirm_assessment = forms.BooleanField(
        required=False,
        label="I have checked the risk assessment still holds and re-confirm it",
    )

    def __init__(self, *args, visitors, stale_reasons: list[str], grace_minutes: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[
            "expected_return_at"
        ].help_text = f"School time. The visit becomes overdue {grace_minutes} minutes after this."
        self.visitors = visitors
        self.stale_reasons = stale_reasons
        for visitor in visitors:
            profile = getattr(visitor.user, "profile", None)
            self.fields[f"mobile_{visitor.user_id}"] = forms.CharField(
                label=f"{visitor.user}'s mobile",
                max_length=20,
                initial=profile.work_mobile_display if profile else "",
                widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
            )
            self.fields[f"wearing_{visitor.user_id}"] = forms.CharField(
                label=f"What {visitor.user} is wearing today (optional)",
                max_length=200,
                required=False,
                help_text="e.g. navy coat, red scarf: for the Police if they are not back.",
                widget=forms.TextInput(attrs={"autocomplete": "off"}),
            )
        self.name_length_limits()
        if not stale_reasons:
            del self.fields["reconfirm_assessment"]

    def mobile_fields(self):
        return [self[f"mobile_{v.user_id}"] for v in self.visitors]

    def visitor_fields(self):
        return [(self[f"mobile_{v.user_id}"], self[f"wearing_{v.user_id}"]) for v in self.visitors]

    def wearing(self) -> dict[int, str]:
        return {
            v.user_id: (self.cleaned_data.get(f"wearing_{v.user_id}") or "").strip()
            for v in self.visitors
        }

    def mobiles(self) -> dict[int, str]:
        return {v.user_id: self.cleaned_data.get(f"mobile_{v.user_id}", "") for v in self.visitors}


class ExtendForm(NamedLengthLimits, forms.Form):
    """R-TRK-2: "need more time until 16:40" with a reason."""

    new_expected_return_at = LondonTimeField(label="New time back (or phoning in)")
    reason = forms.CharField(
        required=False,
        max_length=300,
        label="Why more time?",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class CallAttemptForm(NamedLengthLimits, forms.Form):
    """R-ESC-2: the number called, the time and the outcome."""

    number = forms.ChoiceField(label="Number called")
    other_number = forms.CharField(
        required=False, max_length=20, label="Another number", help_text="If not listed above."
    )
    called_at = LondonTimeField(label="Called at", required=False, help_text="Blank: now.")
    outcome = forms.ChoiceField(choices=CallAttempt.Outcome.choices, widget=forms.RadioSelect)
    notes = forms.CharField(required=False, max_length=300)

    OTHER = "other"

    def __init__(self, *args, signout, **kwargs):
        super().__init__(*args, **kwargs)
        self.signout = signout
        choices = [
            (f"{v.user_id}:{v.mobile}", f"{v.user} — {v.mobile_display}")
            for v in signout.visitors.all()
        ]
        self.fields["number"].choices = [*choices, (self.OTHER, "Another number")]

    def clean(self):
        cleaned = super().clean()
        choice = cleaned.get("number")
        if choice == self.OTHER and not cleaned.get("other_number"):
            self.add_error("other_number", "Give the number you called.")
        return cleaned

    def called(self) -> tuple[int | None, str]:
        choice = self.cleaned_data["number"]
        if choice == self.OTHER:
            return None, self.cleaned_data["other_number"]
        user_id, number = choice.split(":", 1)
        return int(user_id), number

    def call_time(self) -> datetime.datetime:
        value = self.cleaned_data.get("called_at")
        now = timezone.now()
        # A bare time is "today"; LondonTimeField rolls past times to tomorrow, so roll back.
        if value is not None and value > now + datetime.timedelta(minutes=1):
            value -= datetime.timedelta(days=1)
        return value or now


class DecisionForm(NamedLengthLimits, forms.Form):
    """R-ESC-4: the manager's decision and, when known, the outcome that resolves the case."""

    action = forms.ChoiceField(
        choices=EscalationDecision.Action.choices, widget=forms.RadioSelect, label="What you did"
    )
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=NOTE_TEXT
    )
    outcome = forms.ChoiceField(
        choices=[
            ("", "Not resolved yet — keep the case open"),
            *EscalationDecision.Outcome.choices,
        ],
        required=False,
        label="Outcome",
    )


class PinsForm(forms.Form):
    """R-TRK-7: the visitor's check-in PIN and duress PIN (never shown again once typed)."""

    pin = forms.CharField(
        label="Check-in PIN (4 to 6 digits)",
        max_length=6,
        widget=forms.PasswordInput(
            attrs={"inputmode": "numeric", "autocomplete": "new-password", "pattern": "[0-9]*"}
        ),
    )
    duress_pin = forms.CharField(
        label="Duress PIN (4 to 6 digits, different)",
        max_length=6,
        help_text="Use it when somebody is making you check in: everything looks normal, but "
        "your manager and the office are alerted at once.",
        widget=forms.PasswordInput(
            attrs={"inputmode": "numeric", "autocomplete": "new-password", "pattern": "[0-9]*"}
        ),
    )


class ChainMinutesForm(forms.Form):
    """R-ESC-9: how long an alert waits for an acknowledgement, and the reminders after."""

    chain_step_minutes = forms.IntegerField(
        label="Minutes each person has to acknowledge before the next person is alerted",
        min_value=1,
        max_value=120,
        error_messages={
            "required": "Give a number of minutes.",
            "invalid": "Give a whole number of minutes, like 5.",
            "min_value": "Give at least 1 minute.",
            "max_value": "Give at most 120 minutes.",
        },
    )
    chain_reminder_minutes = forms.IntegerField(
        label="Once everyone has been alerted: minutes between reminders",
        min_value=1,
        max_value=120,
        error_messages={
            "required": "Give a number of minutes.",
            "invalid": "Give a whole number of minutes, like 10.",
            "min_value": "Give at least 1 minute.",
            "max_value": "Give at most 120 minutes.",
        },
    )
