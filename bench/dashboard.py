"""How long the trust leader's dashboard (insights) takes to render for a trust of 50 schools
and 100,000 visits requested in the term, and how many queries it makes. Target: <= 300 ms.

The whole page (every figure, both charts, the tables) through the view, in this process, with a
request as the trust lead, with the time spent waiting for the database apart: the median of RUNS
renders with nothing changed since the last, the median of RUNS renders each after CHANGED visits
moved on, and once counting every day (the first render after installing; then nightly, on the
worker).
Runs against a throwaway SQLite database, or DATABASE_URL if set
(PostgreSQL: what production runs; a database an earlier run built is reused). The tables are
ANALYZEd after the bulk load, as autovacuum would have done in a live database: without
statistics PostgreSQL plans 100,000 rows as a dozen and picks nested loops. Writes
bench/results/dashboard.md."""

import datetime
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("HOMEWARD_DEV", "true")
TMP = tempfile.mkdtemp(prefix="homeward-bench-")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{TMP}/bench.sqlite3")

import django  # noqa: E402

django.setup()

import time_machine  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.utils import timezone  # noqa: E402

from insights.models import SummaryState  # noqa: E402
from insights.views import dashboard  # noqa: E402
from records.models import PupilSeen, VisitRecord  # noqa: E402
from schools import services  # noqa: E402
from schools.models import Household, Pupil, Role, Trust, User  # noqa: E402
from visits.models import Authorisation, Reason, Visit  # noqa: E402

SCHOOLS = int(os.environ.get("BENCH_SCHOOLS", "50"))
VISITS = int(os.environ.get("BENCH_VISITS", "100000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
CHANGED = 20  # visits moved on before each "changed" render
TARGET_MS = 300
TZ = timezone.get_current_timezone()
NOW = datetime.datetime(2026, 11, 26, 9, 0, tzinfo=TZ)
TERM_START = datetime.datetime(2026, 9, 1, 8, 0, tzinfo=TZ)


def build() -> User:
    rng = random.Random(17)
    trust = Trust.objects.create(name="Bench trust")
    lead = User.objects.create(username="lead")
    services.trust_role_add(actor=None, user=lead, trust=trust)
    per_school = VISITS // SCHOOLS
    reasons = Reason.values
    for n in range(SCHOOLS):
        school = services.school_create(
            actor=None, name=f"Bench school {n:02d}", urn=f"7{n:05d}", trust=trust
        )
        head = User.objects.create(username=f"head{n}")
        services.membership_add(actor=None, user=head, school=school, role=Role.HEAD)
        households = Household.objects.bulk_create(
            Household(
                school=school, address_line_1=f"{i} Bench Road", town="Leeds", postcode="LS6 1AA"
            )
            for i in range(200)
        )
        pupils = Pupil.objects.bulk_create(
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
        visits = []
        for i in range(per_school):
            submitted = TERM_START + datetime.timedelta(minutes=rng.randrange(0, 86 * 24 * 60))
            status = rng.choice(["recorded"] * 6 + ["refused", "cancelled", "submitted"])
            decided = submitted + datetime.timedelta(minutes=rng.randrange(5, 3000))
            start = submitted + datetime.timedelta(days=1)
            visits.append(
                Visit(
                    school=school,
                    household=households[i % 200],
                    requested_by=head,
                    reason=rng.choice(reasons),
                    purpose="Bench",
                    planned_start=start,
                    planned_end=start + datetime.timedelta(hours=1),
                    planned_return=start + datetime.timedelta(hours=1),
                    submitted_at=submitted,
                    status=status,
                    authorised_at=decided if status in ("recorded", "cancelled") else None,
                    returned_at=start + datetime.timedelta(hours=1)
                    if status == "recorded"
                    else None,
                    cancelled_at=decided if status == "cancelled" else None,
                )
            )
        visits = Visit.objects.bulk_create(visits, batch_size=2000)
        Authorisation.objects.bulk_create(
            (
                Authorisation(
                    visit=v,
                    decided_by=head,
                    decided_at=v.authorised_at or v.submitted_at + datetime.timedelta(hours=2),
                    decision="refused" if v.status == "refused" else "authorised",
                    reason="Bench" if v.status == "refused" else "",
                )
                for v in visits
                if v.status != "submitted"
            ),
            batch_size=2000,
        )
        recorded = [v for v in visits if v.status == "recorded"]
        records = VisitRecord.objects.bulk_create(
            (
                VisitRecord(
                    visit=v,
                    school=school,
                    status="submitted",
                    outcome=rng.choice(VisitRecord.Outcome.values),
                    started_by=head,
                    submitted_by=head,
                    submitted_at=v.returned_at + datetime.timedelta(hours=rng.randrange(1, 40)),
                )
                for v in recorded
            ),
            batch_size=2000,
        )
        PupilSeen.objects.bulk_create(
            (
                PupilSeen(
                    record=r,
                    pupil=pupils[i % 200],
                    seen=rng.random() < 0.8,
                    seen_alone=rng.random() < 0.5,
                )
                for i, r in enumerate(records)
            ),
            batch_size=2000,
        )
        print(f"school {n + 1}/{SCHOOLS}", end="\r", flush=True)
    print()
    return lead


def render_once(lead: User) -> tuple[float, float, int]:
    """(seconds for the whole view, seconds of it waiting for the database, queries)."""
    request = RequestFactory().get("/insights/", {"term": "2026-09-01"})
    request.user = lead
    request.session = {}
    waited = []

    def timed(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            waited.append(time.perf_counter() - began)

    with connection.execute_wrapper(timed):
        start = time.perf_counter()
        response = dashboard(request)
        elapsed = time.perf_counter() - start
    assert response.status_code == 200
    return elapsed, sum(waited), len(waited)


def changed_visits(n: int) -> None:
    """n visits of the term move on, as the services move them (status and updated_at)."""
    now = timezone.now()
    ids = list(
        Visit.objects.filter(status="submitted").order_by("?").values_list("pk", flat=True)[:n]
    )
    Visit.objects.filter(pk__in=ids).update(status="refused", updated_at=now)


def main() -> None:
    call_command("migrate", verbosity=0)
    with time_machine.travel(NOW, tick=False) as clock:
        lead = User.objects.filter(username="lead").first()
        if lead is None:  # DATABASE_URL may name a database an earlier run built
            built = time.perf_counter()
            lead = build()
            print(f"built in {time.perf_counter() - built:.0f} s", flush=True)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        # Counting every day: the first render after installing (then nightly, on the worker).
        SummaryState.objects.update(changes_since=None)
        cold = render_once(lead)
        # Every visit was written at or before the latest updated_at (an earlier run of this
        # bench on the same database moved some on): past the refresh's look-back from there,
        # one more render counts them once more, and then nothing has changed.
        latest = Visit.objects.aggregate(latest=Max("updated_at"))["latest"]
        clock.move_to(max(NOW, latest) + datetime.timedelta(minutes=10), tick=False)
        render_once(lead)
        unchanged = [render_once(lead) for _ in range(RUNS)]
        changed = []
        for _ in range(RUNS):
            changed_visits(CHANGED)
            changed.append(render_once(lead))
    load = os.getloadavg()[0]
    visits = Visit.objects.count()

    def row(label: str, runs: list[tuple[float, float, int]], judged: bool) -> str:
        ms = statistics.median(r[0] for r in runs) * 1000
        db_ms = statistics.median(r[1] for r in runs) * 1000
        worst = max(r[0] for r in runs) * 1000
        queries = "/".join(map(str, sorted({r[2] for r in runs})))
        met = ("met" if ms <= TARGET_MS else "**NOT met**") if judged else "—"
        return (
            f"| {label} | {connection.vendor} | {SCHOOLS} | {visits:,} | {queries} | "
            f"{ms:.0f} ms | {db_ms:.0f} ms | {worst:.0f} ms | {load:.1f} | {met} |"
        )

    rows = [
        row(f"nothing changed since the last render (median of {RUNS})", unchanged, True),
        row(f"{CHANGED} visits changed before each render (median of {RUNS})", changed, True),
        row(
            "counting every day (the first render after installing; nightly on the worker)",
            [cold],
            False,
        ),
    ]
    print("\n".join(rows))
    result = "\n".join(
        [
            "## dashboard",
            "",
            "The trust lead's dashboard (`insights.views.dashboard`: every figure, two SVG charts "
            "and the tables, side by side for every school), rendered in-process through the "
            f"view, measured {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC. Target: "
            f"{TARGET_MS} ms. The figures come from day rows per school (insights.summaries), "
            "brought up to date at each render: it counts again only the days whose visits "
            "changed. *Waiting for the database* is the part of the render spent in queries; "
            "the rest is Python. The load average (1 minute) when the run ended is shown.",
            "",
            "| render | database | schools | visits in the term | queries | median | of which "
            "waiting for the database | slowest | load average | target |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
    (ROOT / "bench" / "results" / "dashboard.md").write_text(result)


if __name__ == "__main__":
    main()
