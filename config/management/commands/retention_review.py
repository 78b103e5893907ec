"""List what is due for a retention review (IRMS Information Management Toolkit for Schools),
for a DSL to decide. Nothing is deleted: deciding and destroying stay with people.

- Child protection records: reviewed when the pupil reaches date of birth + 25 years. A pupil
  whose child protection file came from another school (through Homeward or on paper, R-REC-8)
  has one, whether or not their CP flag is set.
- Tracking data about staff (sign-out and return times, mobiles, phone-ins, the call log and
  the locations a visitor chose to share with a check-in, R-TRK-8: all held by the visit's
  SignOut and deleted with it): reviewed RETENTION_STAFF_TRACKING_DAYS after the visit ended.

The list names pupils and visits by number (and UPN), never by name, so it is safe to keep in a
scheduled job's log; each opens in Homeward at the link shown.
"""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from audit.services import audit_event_create
from schools.models import Pupil, School
from transfers.models import ReceivedFile
from visits.models import Visit

CHILD_PROTECTION_YEARS = 25


def years_after(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def years_before(day: datetime.date, years: int) -> datetime.date:
    return years_after(day, -years)


def child_protection_due(*, schools, as_of: datetime.date):
    """Pupils with child protection records whose date of birth + 25 years has come: those
    flagged CP, and those who hold a file received from another school (R-REC-8: a received
    file is a child protection file, kept to the same date)."""
    received = ReceivedFile.objects.values("pupil_id")
    return (
        Pupil.objects.filter(
            Q(child_protection=True) | Q(pk__in=received),
            school__in=schools,
            date_of_birth__lte=years_before(as_of, CHILD_PROTECTION_YEARS),
        )
        .select_related("school")
        .annotate(
            n_visits=Count("visits", distinct=True),
            n_received=Coalesce(
                Subquery(
                    ReceivedFile.objects.filter(pupil=OuterRef("pk"))
                    .order_by()
                    .values("pupil")
                    .annotate(n=Count("pk"))
                    .values("n")
                ),
                0,
            ),
        )
        .order_by("school__name", "date_of_birth", "pk")
    )


def staff_tracking_due(*, schools, as_of: datetime.date, days: int):
    """Visits whose tracking data about staff is older than `days` (counted from the return,
    else the sign-out, else the planned end). That data includes each visitor's description
    ("what they are wearing today", SignOutVisitor.wearing), deleted with the sign-out."""
    cutoff = timezone.make_aware(
        datetime.datetime.combine(as_of - datetime.timedelta(days=days), datetime.time.min)
    )
    ended = (
        Q(returned_at__lt=cutoff)
        | Q(returned_at__isnull=True, signed_out_at__lt=cutoff)
        | Q(returned_at__isnull=True, signed_out_at__isnull=True, planned_end__lt=cutoff)
    )
    return (
        Visit.objects.filter(school__in=schools)
        .exclude(signed_out_at__isnull=True)
        .filter(ended)
        .select_related("school")
        .annotate(n_visitors=Count("visitors", distinct=True))
        .order_by("school__name", "signed_out_at", "pk")
    )


class Command(BaseCommand):
    help = "List records due for a retention review (IRMS). Lists only; never deletes."

    def add_arguments(self, parser):
        parser.add_argument("--school", help="Only this school (its URN).")
        parser.add_argument(
            "--as-of", help="Review as of this date, DD/MM/YYYY or YYYY-MM-DD (default: today)."
        )
        parser.add_argument(
            "--staff-tracking-days",
            type=int,
            default=None,
            help="Days to keep tracking data about staff "
            "(default: the RETENTION_STAFF_TRACKING_DAYS setting).",
        )

    def handle(self, *args, **options):
        as_of = self._date(options["as_of"]) if options["as_of"] else timezone.localdate()
        days = options["staff_tracking_days"]
        if days is None:
            days = settings.RETENTION_STAFF_TRACKING_DAYS
        if days < 1:
            raise CommandError("--staff-tracking-days must be at least 1.")
        schools = School.objects.all()
        if options["school"]:
            schools = schools.filter(urn=options["school"])
            if not schools.exists():
                raise CommandError(f"No school has the URN {options['school']}.")

        pupils = list(child_protection_due(schools=schools, as_of=as_of))
        visits = list(staff_tracking_due(schools=schools, as_of=as_of, days=days))
        write = self.stdout.write
        write(f"Retention review as of {as_of:%d/%m/%Y}. Nothing has been deleted.\n")
        write(
            f"Child protection records due for review (date of birth + {CHILD_PROTECTION_YEARS}"
            f" years): {len(pupils)}"
        )
        for pupil in pupils:
            due = years_after(pupil.date_of_birth, CHILD_PROTECTION_YEARS)
            upn = f", UPN {pupil.upn}" if pupil.upn else ""
            write(
                f"  {pupil.school.name}: pupil #{pupil.pk}{upn}, review due {due:%d/%m/%Y}, "
                f"{pupil.n_visits} visit(s)"
                + (f", {pupil.n_received} file(s) from other schools" if pupil.n_received else "")
                + f" — {self._link('pupils:pupil_detail', pupil.pk)}"
            )
        write(f"\nTracking data about staff older than {days} days: {len(visits)} visit(s)")
        for visit in visits:
            ended = visit.returned_at or visit.signed_out_at
            write(
                f"  {visit.school.name}: visit #{visit.pk}, ended "
                f"{timezone.localtime(ended):%d/%m/%Y}, {visit.n_visitors} visitor(s) — "
                f"{self._link('visits:detail', visit.pk)}"
            )
        write("\nA DSL decides for each: keep (and why), or destroy securely and record it.")
        for school in {p.school for p in pupils} | {v.school for v in visits}:
            audit_event_create(
                actor=None,
                school=school,
                obj=school,
                event_type="retention.reviewed",
                changes={
                    "as_of": as_of.isoformat(),
                    "child_protection_due": sum(p.school_id == school.pk for p in pupils),
                    "staff_tracking_due": sum(v.school_id == school.pk for v in visits),
                },
            )

    @staticmethod
    def _date(text: str) -> datetime.date:
        for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
            try:
                return datetime.datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a date)
            except ValueError:
                continue
        raise CommandError(f"--as-of {text!r} is not a date like 22/11/2026.")

    @staticmethod
    def _link(name: str, pk: int) -> str:
        return settings.SITE_URL + reverse(name, kwargs={"pk": pk})
