"""Reads of the audit trail for the audit search page: DSLs, Heads and trust leads see the
events of the schools where they may read records (R-SEC-1, R-SEC-2)."""

import datetime
from functools import cache

from django.apps import apps
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from schools.models import Household, Pupil, User
from schools.selectors import schools_requiring

from .models import AuditEvent


def audit_schools(*, user: User):
    """The schools whose audit trail `user` may search: 403 for anyone who may not read records."""
    return schools_requiring(user, "view_records")


def audit_events_search(
    *,
    user: User,
    pupils: QuerySet[Pupil] | None = None,
    actor: User | None = None,
    kind: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[AuditEvent]:
    """The events matching every filter given, newest first. One query however many events,
    pupils or related objects there are."""
    events = AuditEvent.objects.filter(school__in=audit_schools(user=user))
    if pupils is not None:
        events = events.filter(_about_pupils(pupils))
    if actor is not None:
        events = events.filter(actor=actor)
    if kind:
        events = events.filter(event_type=kind)
    if date_from:
        events = events.filter(occurred_at__gte=_start_of_day(date_from))
    if date_to:
        events = events.filter(occurred_at__lt=_start_of_day(date_to + datetime.timedelta(days=1)))
    return events.select_related("actor", "school").order_by("-occurred_at", "-id")


def audit_pupils_matching(*, user: User, search: str) -> QuerySet[Pupil]:
    """The pupils (of the user's audit schools) whose name or UPN matches every word."""
    pupils = Pupil.objects.filter(school__in=audit_schools(user=user))
    for word in search.split()[:4]:
        pupils = pupils.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(upn__iexact=word)
        )
    return pupils


def audit_people(*, user: User) -> QuerySet[User]:
    """Everyone who holds a role at the user's audit schools: the "who" filter's choices."""
    return (
        User.objects.filter(memberships__school__in=audit_schools(user=user))
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def audit_kinds(*, user: User) -> list[str]:
    """The event types that occur in the user's audit schools: the "kind" filter's choices."""
    return list(
        AuditEvent.objects.filter(school__in=audit_schools(user=user))
        .order_by("event_type")
        .values_list("event_type", flat=True)
        .distinct()
    )


def _start_of_day(day: datetime.date) -> datetime.datetime:
    """Midnight at the school (Europe/London), as an aware datetime."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _about_pupils(pupils: QuerySet[Pupil]) -> Q:
    """Events about the pupils, their households, whatever names pupils (a visit lists its pupils),
    and anything that points at a pupil or at one of those (contact logs, assessments, sign-outs,
    records, actions…, whichever app adds them): each as a subquery, so the search stays one
    query. The apps above this one are found through the model registry, never imported."""
    about = _events_of(Pupil, pupils) | _events_of(
        Household, Household.objects.filter(pupils__in=pupils)
    )
    targets = {Pupil: pupils}
    for model, field_name in _models_naming_pupils():
        targets[model] = model._default_manager.filter(**{f"{field_name}__in": pupils})
        about |= _events_of(model, targets[model])
    for model, field_name, target in _models_pointing_at(tuple(targets)):
        related = model._default_manager.filter(**{f"{field_name}__in": targets[target]})
        about |= _events_of(model, related)
    return about


# Events written before a model moved app keep the label it had then (R-SEC-2: the trail is
# never rewritten), so a search for the model looks under both.
EARLIER_LABELS = {"contacts.contactlog": ("records.contactlog",)}


def _events_of(model, queryset: QuerySet) -> Q:
    ids = queryset.order_by().values(as_text=Cast("pk", output_field=CharField()))
    label = model._meta.label_lower
    return Q(object_type__in=(label, *EARLIER_LABELS.get(label, ())), object_id__in=ids)


@cache
def _models_naming_pupils() -> tuple[tuple[type, str], ...]:
    """Models with a many-to-many to Pupil (a visit and its pupils)."""
    return tuple(
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if field.many_to_many and field.concrete and field.related_model is Pupil
    )


@cache
def _models_pointing_at(targets: tuple[type, ...]) -> tuple[tuple[type, str, type], ...]:
    """Models with a foreign key (or one-to-one) to one of `targets`."""
    found = []
    for model in apps.get_models():
        if model in targets or model is AuditEvent:
            continue
        for field in model._meta.get_fields():
            if (
                field.is_relation
                and field.concrete
                and (field.many_to_one or field.one_to_one)
                and field.related_model in targets
            ):
                found.append((model, field.name, field.related_model))
    return tuple(found)
