"""Issue 15, in process: what a signed-in request, the DSL queue, My visits and the Home Visits
form PDF cost on PostgreSQL with 100,000 past visits, side by side in one run.

Each page is asked through Django's test client (the whole middleware stack and template, no
HTTP server), ROUNDS rounds of REQUESTS requests each, the pages interleaved round by round; a
figure is the median of the rounds' medians. Wall time and this process's CPU time are both
given: the machine is shared, and CPU time is the less disturbed. My visits' main query is
EXPLAINed (ANALYZE, BUFFERS) into the result, and checked for a sequential scan of
visits_visit.

Needs PostgreSQL and Redis (as a deployment has them). Builds its own database, BENCH_DATABASE
(homeward_bench_perf), unless BENCH_REUSE=1 finds it built. Writes bench/results/perf.md.
bench/trust_load.py builds its data with build_data() here.
"""

import datetime
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DATABASE = os.environ.get("BENCH_DATABASE", "homeward_bench_perf")
PAST_VISITS = int(os.environ.get("BENCH_PAST_VISITS", "100000"))


def busy_words(load: float) -> str:
    """What the load average says about the figures beside it (the benches say, not assume)."""
    cores = os.cpu_count() or 1
    if load > cores:
        return " (**the machine was busy** with other work: wall times are inflated)"
    return " (a quiet machine: this bench's own processes)"


WAITING = 40
OUT_NOW = 5
ROUNDS = 3
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "40"))
PSQL = "/usr/bin/psql"

sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = f"{PG}/{DATABASE}"
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("HOMEWARD_DEV", "true")  # a benchmark runs on a developer machine
os.environ["DEBUG"] = "false"
os.environ["ALLOWED_HOSTS"] = "127.0.0.1,testserver"
os.environ["LOG_LEVEL"] = "WARNING"


def database_ready() -> bool:
    """BENCH_REUSE=1 and the database holds the past visits already."""
    if os.environ.get("BENCH_REUSE") != "1":
        return False
    out = subprocess.run(
        [PSQL, f"{PG}/{DATABASE}", "-qAtc", "SELECT count(*) FROM visits_visit"],
        capture_output=True,
        text=True,
    )
    return out.returncode == 0 and int(out.stdout.strip() or 0) >= PAST_VISITS


def build_data() -> None:
    """A school with 100,000 past visits (requested by sam, sam and tess visiting, closed and
    last changed when they ended), 40 waiting for authorisation, and 5 visitors out now."""
    for sql in (
        f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)",
        f"CREATE DATABASE {DATABASE}",
    ):
        subprocess.run([PSQL, f"{PG}/postgres", "-qc", sql], check=True)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import F
    from django.utils import timezone

    from schools.models import Pupil, User
    from tracking.models import SignOut, SignOutVisitor
    from visits.models import Status, Visit, Visitor

    call_command("migrate", "--no-input", "-v", "0")
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    sam, tess = User.objects.get(username="sam"), User.objects.get(username="tess")
    pupils = list(Pupil.objects.filter(school__urn="100001"))
    now = timezone.now()

    def make(count, status, start_of, visitors):
        batch = Visit.objects.bulk_create(
            (
                Visit(
                    school=pupils[0].school,
                    household=pupils[i % len(pupils)].household,
                    requested_by=sam,
                    status=status,
                    reason="attendance",
                    purpose="Benchmark visit",
                    planned_start=start_of(i),
                    planned_end=start_of(i) + datetime.timedelta(hours=1),
                    planned_return=start_of(i) + datetime.timedelta(hours=2),
                    submitted_at=start_of(i) - datetime.timedelta(days=1),
                )
                for i in range(count)
            ),
            batch_size=5000,
        )
        Visit.pupils.through.objects.bulk_create(
            (
                Visit.pupils.through(visit_id=v.pk, pupil_id=pupils[i % len(pupils)].pk)
                for i, v in enumerate(batch)
            ),
            batch_size=5000,
        )
        Visitor.objects.bulk_create(
            (Visitor(visit=v, user=u, role_on_visit="lead") for v in batch for u in visitors),
            batch_size=5000,
        )
        return batch

    past = make(
        PAST_VISITS,
        Status.RECORDED,
        lambda i: now - datetime.timedelta(days=31, hours=i),
        (sam, tess),
    )
    # Closed visits were last changed when they were recorded, not when the bench ran.
    Visit.objects.filter(pk__in=[v.pk for v in past]).update(updated_at=F("planned_end"))
    make(WAITING, Status.SUBMITTED, lambda i: now + datetime.timedelta(days=1, minutes=i), (sam,))
    out = make(OUT_NOW, Status.OUT, lambda i: now - datetime.timedelta(minutes=30), (sam,))
    olive = User.objects.get(username="olive")
    signouts = SignOut.objects.bulk_create(
        SignOut(
            visit=visit,
            school=visit.school,
            signed_out_by=olive,
            signed_out_at=now - datetime.timedelta(minutes=30),
            vehicle="Blue Fiesta AB12 CDE",
            expected_return_at=now + datetime.timedelta(hours=2 + i),
            grace_seconds=900,
            retry_interval_seconds=300,
            retries=2,
            next_escalation_at=now + datetime.timedelta(hours=2, minutes=15 + i),
        )
        for i, visit in enumerate(out)
    )
    SignOutVisitor.objects.bulk_create(
        SignOutVisitor(signout=signout, user=sam, mobile=sam.profile.work_mobile)
        for signout in signouts
    )
    call_command("migrate", "--no-input", "-v", "0")  # (nothing: the database is current)
    with django.db.connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def session_cookie(username: str) -> tuple[str, str]:
    """A signed-in, second-factor-verified session for `username`, as sign-in leaves it."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from config.security import LAST_SEEN_SESSION_KEY, SIGNED_IN_AT_SESSION_KEY
    from schools.models import User

    user = User.objects.get(username=username)
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="default", defaults={"confirmed": True}
    )
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[SIGNED_IN_AT_SESSION_KEY] = session[LAST_SEEN_SESSION_KEY] = time.time()
    session.create()
    return settings.SESSION_COOKIE_NAME, session.session_key


def client_for(username: str | None):
    from django.test import Client

    client = Client()
    if username:
        name, key = session_cookie(username)
        client.cookies[name] = key
    return client


def explain(sql: str, params) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def my_visits_sql(username: str):
    """The SQL of My visits' main query (the one that reads visits_visit)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from schools.models import User
    from visits import selectors

    user = User.objects.get(username=username)
    with CaptureQueriesContext(connection) as captured:
        selectors.my_visits_grouped(user=user)
    main = next(q for q in captured.captured_queries if 'FROM "visits_visit"' in q["sql"])
    return main["sql"], sum(len(g["visits"]) for g in selectors.my_visits_grouped(user=user))


def main() -> int:
    started = time.monotonic()
    if not database_ready():
        build_data()
    built_in = time.monotonic() - started
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from weasyprint.text.fonts import FontConfiguration

    from records import pdf, selectors
    from schools.models import User
    from visits.models import Status, Visit

    pages = {
        "/healthz (no session)": (None, "/healthz"),
        "signed-in trivial view (password changed page)": ("sam", "/accounts/password/changed/"),
        f"DSL queue ({WAITING} waiting)": ("dana", "/visits/queue/"),
        "My visits (tess)": ("tess", "/visits/"),
    }
    clients = {name: client_for(user) for name, (user, _) in pages.items()}
    queries, writes, status = {}, {}, {}
    for name, (_, path) in pages.items():
        for _ in range(3):  # warm-up: connections, caches, templates
            clients[name].get(path)
        with CaptureQueriesContext(connection) as captured:
            response = clients[name].get(path)
        status[name] = response.status_code
        queries[name] = len(captured.captured_queries)
        writes[name] = sum(
            1
            for q in captured.captured_queries
            if "django_session" in q["sql"] and q["sql"].startswith(("UPDATE", "INSERT"))
        )

    dana = User.objects.get(username="dana")
    recorded = Visit.objects.filter(school__urn="100001", status=Status.RECORDED).exclude(
        purpose="Benchmark visit"
    )
    visit = selectors.record_visit_get(user=dana, pk=recorded.order_by("pk").first().pk)

    def form_shared():
        pdf.home_visit_form_pdf(visit=visit, printed_by=dana)

    def form_fresh_fonts():
        # As before issue 15: a FontConfiguration made for every render.
        import core.pdf_fetcher as fetcher

        fetcher._fonts.config = FontConfiguration()
        pdf.home_visit_form_pdf(visit=visit, printed_by=dana)
        fetcher._fonts.config = shared

    for _ in range(3):
        form_shared()
    import core.pdf_fetcher as fetcher_module

    shared = fetcher_module.shared_font_config()
    documents = {
        "Home Visits form PDF (one FontConfiguration per process)": form_shared,
        "Home Visits form PDF (a new FontConfiguration per render, as before)": form_fresh_fonts,
    }
    wall = {name: [] for name in [*pages, *documents]}
    cpu = {name: [] for name in wall}
    for _ in range(ROUNDS):
        for name, (_, path) in pages.items():
            w, c = [], []
            for _ in range(REQUESTS):
                t0, c0 = time.perf_counter(), time.process_time()
                clients[name].get(path)
                w.append((time.perf_counter() - t0) * 1000)
                c.append((time.process_time() - c0) * 1000)
            wall[name].append(statistics.median(w))
            cpu[name].append(statistics.median(c))
        for name, render in documents.items():
            w, c = [], []
            for _ in range(5):
                t0, c0 = time.perf_counter(), time.process_time()
                render()
                w.append((time.perf_counter() - t0) * 1000)
                c.append((time.process_time() - c0) * 1000)
            wall[name].append(statistics.median(w))
            cpu[name].append(statistics.median(c))

    sql, listed = my_visits_sql("tess")
    plan = explain(sql, None)
    seq_scan = "Seq Scan on visits_visit" in plan
    load = os.getloadavg()

    med = {name: statistics.median(values) for name, values in wall.items()}
    med_cpu = {name: statistics.median(values) for name, values in cpu.items()}
    healthz, trivial = "/healthz (no session)", "signed-in trivial view (password changed page)"
    queue, mine = f"DSL queue ({WAITING} waiting)", "My visits (tess)"
    form = "Home Visits form PDF (one FontConfiguration per process)"
    ratio = med_cpu[healthz] / med_cpu[trivial]

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    lines = [
        "## Issue 15 in process (bench/perf.py)",
        "",
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC. PostgreSQL with "
        f"{PAST_VISITS:,} past visits (built in {built_in:.0f} s), sessions in Redis "
        "(`core.sessions`, Django's `cached_db` written through), Django's test client in one "
        "process (every middleware and template, no HTTP server)."
        f" {ROUNDS} rounds of {REQUESTS} requests a page (5 renders a PDF), "
        "interleaved; each figure is the median of the rounds' medians. Load average "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores at the end"
        f"{busy_words(load[0])}; CPU time is this process's own.",
        "",
        "| page | status | queries | session writes | median wall ms | median CPU ms | "
        "rounds (CPU ms) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in wall:
        q = queries.get(name, "")
        lines.append(
            f"| {name} | {status.get(name, '')} | {q} | {writes.get(name, '')} | "
            f"{med[name]:.1f} | {med_cpu[name]:.1f} | "
            f"{', '.join(f'{v:.1f}' for v in cpu[name])} |"
        )
    lines += [
        "",
        "| target | figure | verdict |",
        "|---|---|---|",
        f"| 1. signed-in trivial view ≥ 0.5× /healthz | {ratio:.2f}× "
        f"(CPU {med_cpu[trivial]:.1f} ms "
        f"against {med_cpu[healthz]:.1f} ms; in process, so the HTTP server's own cost, the same "
        f"for both, is left out) | {verdict(ratio >= 0.5)} |",
        f"| 4. DSL queue ≤ 30 ms in process | {med[queue]:.1f} ms wall, {med_cpu[queue]:.1f} ms CPU"
        f" | {verdict(med[queue] <= 30)} (wall) |",
        f"| 4. My visits ≤ 20 ms in process ({listed} listed) | {med[mine]:.1f} ms wall, "
        f"{med_cpu[mine]:.1f} ms CPU | {verdict(med[mine] <= 20)} (wall) |",
        f"| 4. My visits: no sequential scan of visits_visit at {PAST_VISITS:,} visits | "
        f"{'a Seq Scan' if seq_scan else 'index scans only'} | {verdict(not seq_scan)} |",
        f"| 6. Home Visits form PDF ≤ 100 ms CPU median | {med_cpu[form]:.1f} ms CPU "
        f"({med[form]:.1f} ms wall) | {verdict(med_cpu[form] <= 100)} |",
        "",
        "My visits' main query, `EXPLAIN (ANALYZE, BUFFERS)`:",
        "",
        "```",
        plan,
        "```",
        "",
    ]
    text = "\n".join(lines)
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "perf.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
