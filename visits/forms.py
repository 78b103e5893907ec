"""The visit request form and the decision forms. Rules live in the visit services
(visits.requests, visits.authorisation, visits.cancellation); the forms turn what a person typed
into typed values and show the services' messages against the fields."""

import datetime
import uuid

from django import forms
from django.urls import reverse
from django.utils import timezone

from core.limits import LONG_TEXT, NOTE_TEXT, NamedLengthLimits
from schools.models import Pupil, Role, User

from .models import Kind, ParentsTold, Reason, Visit, Visitor
from .requests import VISITING_ROLES

VISITOR_SLOTS = 4


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        title = getattr(getattr(user, "profile", None), "job_title", "")
        return f"{user.get_full_name() or user.username}{f' — {title}' if title else ''}"


class PupilChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, pupil):
        return f"{pupil.last_name}, {pupil.first_name} ({pupil.get_year_group_display()})"


class SiblingsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, pupil):
        return f"{pupil.full_name} ({pupil.get_year_group_display()})"


class VisitRequestForm(NamedLengthLimits, forms.Form):
    request_token = forms.UUIDField(widget=forms.HiddenInput, required=False)
    pupil = PupilChoiceField(
        queryset=Pupil.objects.none(), help_text="The household's address fills in from here."
    )
    siblings = SiblingsField(
        queryset=Pupil.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Siblings in the same household to include",
    )
    kind = forms.ChoiceField(
        choices=Kind.choices, initial=Kind.STANDARD, widget=forms.RadioSelect, label="Type of visit"
    )
    reason = forms.ChoiceField(choices=[("", "Choose a reason"), *Reason.choices])
    reason_other = forms.CharField(required=False, max_length=200, label="If other, what")
    purpose = forms.CharField(
        max_length=LONG_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Purpose of the visit",
        help_text="Why visit? Make sure a home visit is really necessary.",
    )
    outcome_wanted = forms.CharField(
        max_length=LONG_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Outcome wanted",
    )
    who_must_be_seen = forms.CharField(
        required=False, max_length=200, help_text="e.g. the child and one parent or carer"
    )
    announced = forms.BooleanField(
        required=False, initial=True, label="The parents know about the visit"
    )
    parents_told_how = forms.ChoiceField(
        choices=ParentsTold.choices, initial=ParentsTold.PHONE, label="How the parents were told"
    )
    parents_told_on = forms.DateField(
        required=False,
        label="When they were told",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    visit_date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), label="Date"
    )
    start_time = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"), label="Start"
    )
    end_time = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"), label="End"
    )
    return_time = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        label="Back (or phoning in) by",
        help_text="The office starts calling 15 minutes after this time.",
    )
    returns_to_school = forms.BooleanField(
        required=False,
        initial=True,
        label="Returning to school afterwards",
        help_text="Untick if going straight home: you will phone the office when you leave.",
    )
    vehicle = forms.CharField(
        required=False, max_length=120, help_text="Make, colour and registration."
    )
    interpreter_needed = forms.BooleanField(required=False)
    interpreter_language = forms.CharField(required=False, max_length=60)
    cultural_notes = forms.CharField(
        max_length=NOTE_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="e.g. remove shoes, dress, language.",
    )
    out_of_hours_manager = StaffChoiceField(
        queryset=User.objects.none(),
        required=False,
        help_text="Needed when the visit is before 08:00 or after 18:00.",
    )
    unscheduled = forms.BooleanField(
        required=False,
        label="Unscheduled: requested on the day from the field",
        help_text="Only for households visited before.",
    )
    risk_rechecked = forms.BooleanField(
        required=False, label="I re-checked the household's risk information today"
    )

    def __init__(self, *args, user: User, schools, visit: Visit | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.visit = user, visit
        self.fields["pupil"].queryset = Pupil.objects.filter(school__in=schools).order_by(
            "last_name", "first_name"
        )
        staff = (
            User.objects.filter(
                memberships__school__in=schools,
                memberships__role__in=VISITING_ROLES,
                is_active=True,
            )
            .select_related("profile")
            .distinct()
            .order_by("first_name", "last_name")
        )
        managers = (
            User.objects.filter(
                memberships__school__in=schools,
                memberships__role__in=[Role.MANAGER, Role.HEAD, Role.DSL, Role.DEPUTY_DSL],
                is_active=True,
            )
            .select_related("profile")
            .distinct()
        )
        self.fields["out_of_hours_manager"].queryset = managers
        # htmx: choosing the pupil offers their siblings (works without JavaScript on save).
        self.fields["pupil"].widget.attrs.update(
            {
                "hx-get": reverse("visits:siblings"),
                "hx-target": "#siblings",
                "hx-trigger": "change",
                # static/js/combobox.js makes it searchable; without JavaScript it stays a list.
                "data-combobox": "",
            }
        )
        for slot in range(1, VISITOR_SLOTS + 1):
            self.fields[f"visitor_{slot}"] = StaffChoiceField(
                queryset=staff,
                required=slot <= 1,
                label=f"Visitor {slot}",
                empty_label="—",
            )
            # Visitors 2–4 are optional, and so is their role: it is only read when someone
            # is chosen (an empty role then means the usual "Second visitor").
            self.fields[f"role_{slot}"] = forms.ChoiceField(
                choices=Visitor.RoleOnVisit.choices,
                initial=Visitor.RoleOnVisit.LEAD if slot == 1 else Visitor.RoleOnVisit.SECOND,
                label=f"Role of visitor {slot}",
                required=slot <= 1,
            )
        # Siblings: the other pupils of the chosen pupil's household.
        try:
            pupil_id = int(self.data.get("pupil") or self.initial.get("pupil") or 0)
        except (TypeError, ValueError):
            pupil_id = 0
        household_pupils = Pupil.objects.filter(
            school__in=schools, household__pupils=pupil_id
        ).exclude(pk=pupil_id)
        chosen = (
            Pupil.objects.filter(school__in=schools, pk=pupil_id)
            .select_related("household")
            .first()
        )
        self.household = chosen.household if chosen else None
        self.fields["siblings"].queryset = household_pupils.order_by("date_of_birth")

    def visitor_slots(self):
        for slot in range(1, VISITOR_SLOTS + 1):
            yield self[f"visitor_{slot}"], self[f"role_{slot}"]

    def clean(self):
        cleaned = super().clean()
        date, start, end, back = (
            cleaned.get(k) for k in ("visit_date", "start_time", "end_time", "return_time")
        )
        if date and start and end and back:
            zone = timezone.get_current_timezone()
            cleaned["planned_start"] = timezone.make_aware(
                datetime.datetime.combine(date, start), zone
            )
            cleaned["planned_end"] = timezone.make_aware(datetime.datetime.combine(date, end), zone)
            cleaned["planned_return"] = timezone.make_aware(
                datetime.datetime.combine(date, back), zone
            )
            # R-REQ-3: shown against the fields here; the service enforces it too.
            if end <= start:
                self.add_error("end_time", "The visit must end after it starts.")
            elif back < end:
                self.add_error("return_time", "The return time must be after the visit ends.")
        if cleaned.get("reason") == Reason.OTHER and not cleaned.get("reason_other"):
            self.add_error("reason_other", "Say what the other reason is.")
        if cleaned.get("interpreter_needed") and not cleaned.get("interpreter_language"):
            self.add_error("interpreter_language", "Which language does the interpreter speak?")
        seen = set()
        for slot in range(1, VISITOR_SLOTS + 1):
            user = cleaned.get(f"visitor_{slot}")
            if user is not None and user.pk in seen:
                self.add_error(f"visitor_{slot}", "This person is already a visitor.")
            if user is not None:
                seen.add(user.pk)
        return cleaned

    def visit_data(self) -> dict:
        c = self.cleaned_data
        told_on = c.get("parents_told_on")
        return {
            "kind": c["kind"],
            "reason": c["reason"],
            "reason_other": c.get("reason_other", ""),
            "purpose": c["purpose"],
            "outcome_wanted": c.get("outcome_wanted", ""),
            "who_must_be_seen": c.get("who_must_be_seen", ""),
            "announced": c.get("announced", False),
            "parents_told_how": c["parents_told_how"],
            "parents_told_at": timezone.make_aware(
                datetime.datetime.combine(told_on, datetime.time(9, 0))
            )
            if told_on
            else None,
            "planned_start": c["planned_start"],
            "planned_end": c["planned_end"],
            "planned_return": c["planned_return"],
            "returns_to_school": c.get("returns_to_school", False),
            "vehicle": c.get("vehicle", ""),
            "interpreter_needed": c.get("interpreter_needed", False),
            "interpreter_language": c.get("interpreter_language", ""),
            "cultural_notes": c.get("cultural_notes", ""),
            "out_of_hours_manager": c.get("out_of_hours_manager"),
            "unscheduled": c.get("unscheduled", False),
        }

    def pupils(self) -> list[Pupil]:
        return [self.cleaned_data["pupil"], *self.cleaned_data.get("siblings", [])]

    def visitors(self) -> list[tuple[User, str]]:
        return [
            (
                self.cleaned_data[f"visitor_{slot}"],
                self.cleaned_data.get(f"role_{slot}") or Visitor.RoleOnVisit.SECOND,
            )
            for slot in range(1, VISITOR_SLOTS + 1)
            if self.cleaned_data.get(f"visitor_{slot}")
        ]

    @classmethod
    def initial_for(cls, *, user: User, visit: Visit | None, pupil: Pupil | None = None) -> dict:
        if visit is None:
            initial = {"request_token": uuid.uuid4(), "visitor_1": user.pk}
            if pupil is not None:
                initial.update(
                    pupil=pupil.pk,
                    cultural_notes=pupil.cultural_notes,
                    interpreter_needed=bool(pupil.interpreter_language),
                    interpreter_language=pupil.interpreter_language,
                )
            return initial
        start, end, back = (
            timezone.localtime(getattr(visit, f))
            for f in ("planned_start", "planned_end", "planned_return")
        )
        pupils = sorted(visit.pupils.all(), key=lambda p: p.pk)
        initial = {
            "pupil": pupils[0].pk if pupils else None,
            "siblings": [p.pk for p in pupils[1:]],
            "visit_date": start.date(),
            "start_time": start.time().replace(second=0, microsecond=0),
            "end_time": end.time().replace(second=0, microsecond=0),
            "return_time": back.time().replace(second=0, microsecond=0),
            "parents_told_on": timezone.localtime(visit.parents_told_at).date()
            if visit.parents_told_at
            else None,
            "out_of_hours_manager": visit.out_of_hours_manager_id,
            "risk_rechecked": visit.risk_rechecked_at is not None
            and timezone.localdate(visit.risk_rechecked_at) == timezone.localdate(),
        }
        for name in (
            "kind",
            "reason",
            "reason_other",
            "purpose",
            "outcome_wanted",
            "who_must_be_seen",
            "announced",
            "parents_told_how",
            "returns_to_school",
            "vehicle",
            "interpreter_needed",
            "interpreter_language",
            "cultural_notes",
            "unscheduled",
        ):
            initial[name] = getattr(visit, name)
        for slot, visitor in enumerate(visit.visitors.filter(withdrawn_at__isnull=True), start=1):
            if slot <= VISITOR_SLOTS:
                initial[f"visitor_{slot}"] = visitor.user_id
                initial[f"role_{slot}"] = visitor.role_on_visit
        return initial


class DecisionForm(NamedLengthLimits, forms.Form):
    AUTHORISE, CHANGES, REFUSE = "authorise", "changes", "refuse"
    decision = forms.ChoiceField(
        choices=[
            (AUTHORISE, "Authorise the visit"),
            (CHANGES, "Send it back with changes to make"),
            (REFUSE, "Refuse the visit"),
        ],
        widget=forms.RadioSelect,
    )
    conditions = forms.CharField(
        max_length=NOTE_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Conditions (optional, when authorising)",
    )
    reason = forms.CharField(
        max_length=NOTE_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="What to change, or why it is refused",
    )

    def clean(self):
        cleaned = super().clean()
        decision = cleaned.get("decision")
        if decision == self.REFUSE and not cleaned.get("reason", "").strip():
            self.add_error("reason", "Give the reason for refusing the visit.")
        if decision == self.CHANGES and not cleaned.get("reason", "").strip():
            self.add_error("reason", "Say what needs to change.")
        return cleaned


class CancelForm(NamedLengthLimits, forms.Form):
    reason = forms.CharField(
        max_length=NOTE_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Why is the visit cancelled?",
    )


class VisitFilterForm(forms.Form):
    """The filters of the visits page (GET). Every choice is limited to the user's schools."""

    SORTS = (
        ("-start", "Newest visit first"),
        ("start", "Oldest visit first"),
        ("-submitted", "Most recently submitted"),
        ("status", "Status"),
        ("address", "Address"),
    )

    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search",
        help_text="A pupil's name, a street or postcode, or a visit number.",
    )
    school = forms.ModelChoiceField(queryset=None, required=False, empty_label="Every school")
    pupil = forms.ModelChoiceField(queryset=Pupil.objects.none(), required=False)
    household = forms.ModelChoiceField(queryset=None, required=False)
    staff = StaffChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="Anyone",
        label="Member of staff",
        help_text="Requested the visit or went on it.",
    )
    status = forms.ChoiceField(required=False, choices=[("", "Any status")])
    risk = forms.ChoiceField(required=False, label="Risk", choices=[("", "Any risk")])
    date_from = forms.DateField(
        required=False,
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        required=False,
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    doorstep = forms.BooleanField(required=False, label="Doorstep visits only")
    out_of_hours = forms.BooleanField(required=False, label="Out of hours only")
    overdue_record = forms.BooleanField(required=False, label="Record overdue")
    sort = forms.ChoiceField(required=False, choices=SORTS, label="Sort by")

    def __init__(self, *args, schools, **kwargs):
        from schools.models import Household

        from .models import Status
        from .selectors import RISK_CHOICES

        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        self.fields["school"].widget.attrs["class"] = "form-select"
        self.fields["pupil"].queryset = Pupil.objects.filter(school__in=schools)
        self.fields["household"].queryset = Household.objects.filter(school__in=schools)
        self.fields["staff"].queryset = (
            User.objects.filter(
                memberships__school__in=schools, memberships__role__in=VISITING_ROLES
            )
            .select_related("profile")
            .distinct()
            .order_by("first_name", "last_name")
        )
        self.fields["status"].choices = [("", "Any status"), *Status.choices]
        self.fields["risk"].choices = [("", "Any risk"), *RISK_CHOICES]
        if len(schools) < 2:
            del self.fields["school"]

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = dict(self.cleaned_data)
        data["status"] = [data["status"]] if data.get("status") else []
        return data
