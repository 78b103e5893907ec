"""How long closure-mode monitoring (R-CLO-2) takes to list a school's families missing contact,
and how many queries it makes, for schools of 300 and 1,500 families with a term of contact log.

Runs against a throwaway SQLite database (or DATABASE_URL if set); writes
bench/results/missing_contact.md."""

import datetime
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("HOMEWARD_DEV", "true")  # a benchmark runs on a developer machine
TMP = tempfile.mkdtemp(prefix="homeward-bench-")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{TMP}/bench.sqlite3")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from contacts.models import ContactLog  # noqa: E402
from riskassess.models import ClosurePeriod, SchoolHoliday  # noqa: E402
from riskassess.selectors import closure_monitors  # noqa: E402
from schools import services  # noqa: E402
from schools.models import Household, Pupil, Role, User  # noqa: E402

RUNS = 5
TODAY = datetime.date(2026, 11, 25)


def school_with(families: int, urn: str, dsl: User):
    school = services.school_create(actor=None, name=f"Bench {urn}", urn=urn, closure_mode=True)
    services.membership_add(actor=None, user=dsl, school=school, role=Role.DSL)
    ClosurePeriod.objects.create(school=school, starts_on=datetime.date(2026, 9, 7))
    SchoolHoliday.objects.create(
        school=school,
        name="Half term",
        starts_on=datetime.date(2026, 10, 26),
        ends_on=datetime.date(2026, 10, 30),
    )
    households = Household.objects.bulk_create(
        Household(school=school, address_line_1=f"{n} Bench Road", town="Leeds", postcode="LS6 1AA")
        for n in range(families)
    )
    Pupil.objects.bulk_create(
        Pupil(
            school=school,
            household=h,
            first_name=f"P{h.pk}",
            last_name="Bench",
            date_of_birth=datetime.date(2017, 1, 1),
            year_group="4",
        )
        for h in households
    )
    logs = []
    for i, household in enumerate(households):
        for week in range(10):
            day = TODAY - datetime.timedelta(days=7 * week + i % 30)
            when = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))
            logs.append(
                ContactLog(
                    school=school,
                    household=household,
                    counterpart="family",
                    contacted="Parent",
                    channel="phone",
                    outcome="acknowledged" if (i + week) % 3 else "no_answer",
                    occurred_at=when,
                    recorded_by=dsl,
                )
            )
    ContactLog.objects.bulk_create(logs, batch_size=2000)
    return school


def measure(dsl: User) -> tuple[float, int, int]:
    timings = []
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            monitors = closure_monitors(user=dsl, today=TODAY)
            timings.append(time.perf_counter() - start)
    listed = sum(m.total for m in monitors)
    return statistics.median(timings) * 1000, len(queries), listed


def main() -> None:
    call_command("migrate", verbosity=0)
    rows = []
    for families, urn in ((300, "800001"), (1500, "800002")):
        dsl = User.objects.create(username=f"dsl{urn}")
        school_with(families, urn, dsl)
        ms, queries, listed = measure(dsl)
        rows.append(f"| {families} | {families * 10} | {listed} | {queries} | {ms:.0f} ms |")
        print(rows[-1], flush=True)
    engine = connection.vendor
    result = "\n".join(
        [
            "## missing_contact",
            "",
            f"`riskassess.selectors.closure_monitors` (R-CLO-2) on {engine}, median of {RUNS} "
            "runs: every family of a school in closure mode with its last acknowledged contact, "
            "counted in school days (weekends and a half-term skipped).",
            "",
            "| families | contact log rows | families listed | queries | time |",
            "|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
    (ROOT / "bench" / "results" / "missing_contact.md").write_text(result)


if __name__ == "__main__":
    main()
