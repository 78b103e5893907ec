"""Visits named in plain words for the audit trail (audit.signals.objects_described): "Amy
Brown's visit on 03/12/2026". The apps above use describe_by_visit for what belongs to a visit
(its risk assessment, sign-out, record), two queries per kind of object."""

from collections.abc import Callable

from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone

from audit.describe import Described
from schools.models import Pupil

from .models import Visit


def visit_words(visit: Visit) -> str:
    names = [f"{p.first_name} {p.last_name}" for p in visit.pupils.all()]
    who = " and ".join(names) if len(names) <= 2 else f"{names[0]} and {len(names) - 1} others"
    on = ""
    if visit.planned_start:
        on = f" on {timezone.localtime(visit.planned_start):%d/%m/%Y}"
    return f"{who}'s visit{on}" if who else f"a visit{on}"


def _pupils(path: str = "pupils") -> Prefetch:
    return Prefetch(path, queryset=Pupil.objects.only("first_name", "last_name"))


def describe_by_visit(
    model,
    wanted: dict[str, set[str]],
    words: str,
    url: Callable[[object], str] | None = None,
) -> dict:
    """{(label, id): Described} for the objects of `model` wanted, each having a `visit`:
    `words` is formatted with visit= the visit's words."""
    label = model._meta.label_lower
    ids = [int(i) for i in wanted.get(label, ()) if str(i).isdigit()]
    if not ids:
        return {}
    objects = model._default_manager.filter(pk__in=ids).select_related("visit")
    objects = objects.prefetch_related(
        Prefetch("visit__pupils", queryset=Pupil.objects.only("first_name", "last_name"))
    )
    return {
        (label, str(obj.pk)): Described(
            words.format(visit=visit_words(obj.visit)), url(obj) if url else ""
        )
        for obj in objects
    }


def objects_described(sender, *, wanted, **kwargs) -> dict:
    ids = [int(i) for i in wanted.get(Visit._meta.label_lower, ()) if str(i).isdigit()]
    if not ids:
        return {}
    visits = Visit.objects.filter(pk__in=ids).prefetch_related(_pupils())
    return {
        (Visit._meta.label_lower, str(visit.pk)): Described(
            visit_words(visit)[0].upper() + visit_words(visit)[1:],
            reverse("visits:detail", args=[visit.pk]),
        )
        for visit in visits
    }
