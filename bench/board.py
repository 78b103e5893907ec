"""The sign-out board in-process (issue 15, targets 2 and 3), on PostgreSQL.

The demo school with 100,000 past visits; 5 visits out in every state of the ladder (on time,
due, overdue with calls and texts sent and delivered, the manager alerted, a message in doubt);
then 300 out on time (the rows bench/web.py measured before, issue 15's baseline); then the same
300 in an incident, two in three overdue with their texts and calls. The board is requested
through Django's test client in this process (the whole middleware stack, the signed-in session
included; no network). Median of 3 runs each:

- the full board page at 300 out: time and size of the HTML (targets ≤ 100 ms, ≤ 250 KB);
- the poll when nothing changed (204), at 5 and at 300 out (target ≤ 5 ms), each run the median
  of 50 polls;
- the poll after a change (a call recorded: the version moves) at 5 out (target ≤ 20 ms).

Writes bench/results/board.md. Needs PostgreSQL (BENCH_POSTGRES, database homeward_board).
"""

import datetime
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DATABASE = os.environ.get("BENCH_BOARD_DATABASE", "homeward_board")
PAST_VISITS = int(os.environ.get("BENCH_PAST_VISITS", "100000"))
PSQL = shutil.which("psql") or "/usr/bin/psql"
RUNS = 3
POLLS = 50

sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = f"{PG}/{DATABASE}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("HOMEWARD_DEV", "true")  # a benchmark runs on a developer machine
os.environ["DEBUG"] = "false"
os.environ["ALLOWED_HOSTS"] = "testserver"


def busy_words(load: float) -> str:
    """What the load average says about the figures beside it (as bench/perf.py says it)."""
    if load > (os.cpu_count() or 1):
        return " (**the machine was busy** with other work: wall times are inflated)"
    return " (a quiet machine: this bench's own processes)"


def past_visits(school, sam, tess, pupils, now) -> None:
    from visits.models import Status, Visit, Visitor

    batch = Visit.objects.bulk_create(
        (
            Visit(
                school=school,
                household=pupils[i % len(pupils)].household,
                requested_by=sam,
                status=Status.RECORDED,
                reason="attendance",
                purpose="Benchmark visit",
                planned_start=now - datetime.timedelta(hours=2 + i),
                planned_end=now - datetime.timedelta(hours=1 + i),
                planned_return=now - datetime.timedelta(hours=i),
                submitted_at=now - datetime.timedelta(days=1, hours=i),
            )
            for i in range(PAST_VISITS)
        ),
        batch_size=5000,
    )
    Visitor.objects.bulk_create(
        (Visitor(visit=v, user=u, role_on_visit="lead") for v in batch for u in (sam, tess)),
        batch_size=5000,
    )


def shape(signout, n: int, now, *, quiet: bool) -> None:
    """Row n's place on the ladder: quiet, 20 to 119 minutes to go; otherwise from 20 minutes
    to go to 35 minutes late, every step 5 minutes from now (nothing changes by the clock while
    the unchanged polls are measured)."""
    late = -(20 + n % 100) if quiet else (n % 12) * 5 - 20
    signout.expected_return_at = now - datetime.timedelta(minutes=late)
    signout.chain_base_at = signout.manager_alerted_at = None
    steps = signout.steps_due_by(now)
    signout.escalation_stage = steps
    if steps >= signout.manager_step:
        signout.chain_base_at = signout.step_due_at(signout.manager_step)
        signout.manager_alerted_at = signout.chain_base_at
    signout.next_escalation_at = signout.step_due_at(steps + 1)


def ladder_traces(signouts, *, olive, now) -> None:
    """The texts (sent, delivered, one in doubt now and then), emails and calls each row's
    steps brought."""
    from tracking.models import CallAttempt, Notification

    messages, calls = [], []
    for s in signouts:
        for step in range(1, s.escalation_stage + 1):
            who = [("sms", "Olive's monitor phone (office)", "+447700900500")]
            if step == 1:
                who += [("email", "the office", "office@oakfield.example")]
                who += [("sms", "Sam Patel", "+447700900101")]
            if step == s.manager_step:
                who += [("sms", "Max Stone (manager)", "+447700900106")]
                who += [("email", "Max Stone (manager)", "max@oakfield.example")]
            for channel, label, address in who:
                messages.append(
                    Notification(
                        signout=s,
                        idempotency_key=f"bench:{s.pk}:{step}:{channel}:{address}",
                        channel=channel,
                        template="overdue_office" if step < s.manager_step else "manager",
                        recipient_label=label,
                        address=address,
                        body="Benchmark",
                        status="unknown" if s.pk % 17 == 0 and step == 1 else "sent",
                        sent_at=now,
                        delivery_state="delivered" if channel == "sms" else "",
                        due_at=now,
                        created_at=now,
                    )
                )
        if s.escalation_stage >= 1:
            calls.append(
                CallAttempt(
                    signout=s,
                    ladder_round=1,
                    number_called="+447700900101",
                    called_at=now,
                    outcome="no_answer",
                    recorded_by=olive,
                    recorded_at=now,
                )
            )
    Notification.objects.bulk_create(messages, batch_size=2000)
    CallAttempt.objects.bulk_create(calls)


def visits_out(count: int, *, school, sam, olive, pupils, now, offset: int, quiet: bool):
    """`count` visits out, one visitor each, as the services leave them."""
    from schools.services import board_changed
    from tracking.models import SignOut, SignOutVisitor
    from visits.models import Status, Visit, Visitor

    visits = Visit.objects.bulk_create(
        Visit(
            school=school,
            household=pupils[i % len(pupils)].household,
            requested_by=sam,
            status=Status.OUT,
            reason="attendance",
            purpose="Benchmark visit",
            planned_start=now - datetime.timedelta(minutes=60),
            planned_end=now - datetime.timedelta(minutes=30),
            planned_return=now,
            signed_out_at=now - datetime.timedelta(minutes=60),
        )
        for i in range(count)
    )
    Visitor.objects.bulk_create(Visitor(visit=v, user=sam, role_on_visit="lead") for v in visits)
    signouts = []
    for n, visit in enumerate(visits, start=offset):
        signout = SignOut(
            visit=visit,
            school=school,
            signed_out_by=olive,
            signed_out_at=now - datetime.timedelta(minutes=60),
            vehicle="Blue Ford Fiesta AB12 CDE",
            expected_return_at=now,
            grace_seconds=900,
            retry_interval_seconds=300,
            retries=2,
            chain_step_seconds=300,
            reminder_seconds=600,
        )
        shape(signout, n, now, quiet=quiet)
        signouts.append(signout)
    signouts = SignOut.objects.bulk_create(signouts)
    SignOutVisitor.objects.bulk_create(
        SignOutVisitor(signout=s, user=sam, mobile="+447700900101") for s in signouts
    )
    ladder_traces(signouts, olive=olive, now=now)
    board_changed(school.pk)
    return signouts


def incident(signouts, *, olive, now, offset: int) -> None:
    """The quiet rows turn into an incident: two in three overdue, with their traces."""
    from schools.services import board_changed
    from tracking.models import SignOut

    for n, signout in enumerate(signouts, start=offset):
        shape(signout, n, now, quiet=False)
    SignOut.objects.bulk_update(
        signouts,
        [
            "expected_return_at",
            "escalation_stage",
            "chain_base_at",
            "manager_alerted_at",
            "next_escalation_at",
        ],
    )
    ladder_traces(signouts, olive=olive, now=now)
    board_changed(signouts[0].school_id)


def signed_in_client(username: str):
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from schools.models import User

    user = User.objects.get(username=username)
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="default", defaults={"confirmed": True}
    )
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.create()
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return client


CPU: list[float] = []  # this process's CPU time of each timed call, ms (not PostgreSQL's)


def timed(call) -> tuple[float, object]:
    started, cpu = time.perf_counter(), time.process_time()
    result = call()
    CPU.append((time.process_time() - cpu) * 1000)
    return (time.perf_counter() - started) * 1000, result


def shown_of(page: str) -> dict:
    import html
    import json
    import re

    return json.loads(html.unescape(re.search(r'hx-vals="([^"]+)"', page).group(1)))


def counted(call) -> int:
    """How many SQL statements `call` runs (the test client's request_started signal empties
    Django's own query log, so count them at the cursor)."""
    from django.db import connection

    statements = []

    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        call()
    return len(statements)


def measure(client, label: str, *, change=None) -> dict:
    """Full page, unchanged poll and (with `change`) the poll after a change."""

    client.get("/tracking/board/")  # warm-up
    full, sizes, full_cpu = [], [], []
    for _ in range(RUNS):
        ms, response = timed(lambda: client.get("/tracking/board/"))
        assert response.status_code == 200, response.status_code
        full.append(ms)
        full_cpu.append(CPU[-1])
        sizes.append(len(response.content))
    page = response.content.decode()
    rows = page.count("board-row ")
    full_queries = counted(lambda: client.get("/tracking/board/"))
    unchanged, unchanged_cpu = [], []
    for _ in range(RUNS):
        shown = shown_of(client.get("/tracking/board/", HTTP_HX_REQUEST="true").content.decode())
        times, cpus = [], []
        for _ in range(POLLS):
            ms, response = timed(
                lambda shown=shown: client.get("/tracking/board/", shown, HTTP_HX_REQUEST="true")
            )
            if response.status_code != 204:
                # A demo row crossed a step by the clock: a real change; look again.
                shown = shown_of(response.content.decode())
                continue
            times.append(ms)
            cpus.append(CPU[-1])
        unchanged.append(statistics.median(times))
        unchanged_cpu.append(statistics.median(cpus))
    poll_queries = counted(lambda: client.get("/tracking/board/", shown, HTTP_HX_REQUEST="true"))
    changed, changed_cpu = [], []
    if change is not None:
        for _ in range(RUNS):
            shown = shown_of(
                client.get("/tracking/board/", HTTP_HX_REQUEST="true").content.decode()
            )
            change()
            ms, response = timed(
                lambda shown=shown: client.get("/tracking/board/", shown, HTTP_HX_REQUEST="true")
            )
            assert response.status_code == 200, response.status_code
            changed.append(ms)
            changed_cpu.append(CPU[-1])
    return {
        "label": label,
        "rows": rows,
        "full_ms": statistics.median(full),
        "full_cpu": statistics.median(full_cpu),
        "unchanged_cpu": statistics.median(unchanged_cpu),
        "changed_cpu": statistics.median(changed_cpu) if changed_cpu else None,
        "full_kb": statistics.median(sizes) / 1024,
        "full_queries": full_queries,
        "unchanged_ms": statistics.median(unchanged),
        "unchanged_queries": poll_queries,
        "changed_ms": statistics.median(changed) if changed else None,
    }


def own_work(username: str) -> str:
    """The board's own work, without the signed-in request around it: the selector that answers
    an unchanged poll, and the selector and template that draw the live part. `bench/board.py
    --reuse` measures it on the database the last full run left (300 out, an incident)."""
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from schools.models import User
    from tracking import selectors

    user = User.objects.get(username=username)
    request = RequestFactory().get("/tracking/board/")
    request.user = user
    polls, draws, draw_cpu, poll_cpu = [], [], [], []
    for _ in range(RUNS):
        shown = shown_of(
            render_to_string(
                "tracking/board_live.html", selectors.board_for_user(user=user), request=request
            )
        )
        times, cpus = [], []
        for _ in range(200):
            ms, unchanged = timed(
                lambda shown=shown: selectors.board_poll_unchanged(user=user, shown=shown)
            )
            if not unchanged:
                # A row crossed a step by the clock (the incident's steps are 5 minutes apart):
                # a real change; draw it and go on.
                shown = shown_of(
                    render_to_string(
                        "tracking/board_live.html",
                        selectors.board_for_user(user=user),
                        request=request,
                    )
                )
                continue
            times.append(ms)
            cpus.append(CPU[-1])
        polls.append(statistics.median(times))
        poll_cpu.append(statistics.median(cpus))
        ms, html = timed(
            lambda: render_to_string(
                "tracking/board_live.html", selectors.board_for_user(user=user), request=request
            )
        )
        draws.append(ms)
        draw_cpu.append(CPU[-1])
    rows = html.count("board-row ")
    return (
        f"\n### The board's own work, without the signed-in request (`bench/board.py --reuse`)\n\n"
        f"On the database of the run above ({rows} out, the incident), median of {RUNS}: the "
        f"selector answering an unchanged poll (median of 200 calls) "
        f"{statistics.median(polls):.2f} ms ({statistics.median(poll_cpu):.2f} ms CPU); "
        f"drawing the live part (selector and template, {len(html) / 1024:.0f} KB) "
        f"{statistics.median(draws):.1f} ms ({statistics.median(draw_cpu):.1f} ms CPU). Load "
        f"average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.\n"
    )


def main() -> int:
    if "--reuse" in sys.argv:
        import django

        django.setup()
        text = own_work("olive")
        result = ROOT / "bench" / "results" / "board.md"
        previous = result.read_text().split("\n### The board's own work")[0]
        result.write_text(previous + text)
        print(text)
        return 0
    subprocess.run(
        [PSQL, f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"],
        check=True,
    )
    subprocess.run([PSQL, f"{PG}/postgres", "-qc", f"CREATE DATABASE {DATABASE}"], check=True)
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from schools.models import Pupil, User
    from tracking.models import SignOut
    from tracking.signouts import call_attempt_record

    started = time.monotonic()
    call_command("migrate", "--no-input", "-v", "0")
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    sam, tess = User.objects.get(username="sam"), User.objects.get(username="tess")
    olive = User.objects.get(username="olive")
    pupils = list(Pupil.objects.filter(school__urn="100001").select_related("household"))
    school = pupils[0].school
    now = timezone.now()
    past_visits(school, sam, tess, pupils, now)
    call_command("run_escalations", stdout=open(os.devnull, "w"))  # noqa: SIM115 (the heartbeat)
    demo_out = SignOut.objects.filter(school=school, state__in=SignOut.OPEN_STATES).count()
    made = 5 - demo_out
    now = timezone.now()
    visits_out(
        made, school=school, sam=sam, olive=olive, pupils=pupils, now=now, offset=0, quiet=False
    )
    built_in = time.monotonic() - started
    client = signed_in_client("olive")
    target = SignOut.objects.filter(school=school, state="out").order_by("pk").first()

    def change():
        call_attempt_record(
            actor=olive,
            signout=target,
            number_called="07700 900101",
            called_at=timezone.now(),
            outcome="no_answer",
        )

    few = measure(client, "5 out", change=change)
    now = timezone.now()
    quiet = visits_out(
        295, school=school, sam=sam, olive=olive, pupils=pupils, now=now, offset=made, quiet=True
    )
    calm = measure(client, "300 out, on time (bench/web.py's rows)")
    incident(quiet, olive=olive, now=timezone.now(), offset=made)
    many = measure(client, "300 out, an incident: 2 in 3 overdue")

    def met(value, limit):
        return "met" if value <= limit else "NOT met"

    lines = [
        "## The sign-out board in-process (bench/board.py)",
        "",
        f"PostgreSQL, the demo school with {PAST_VISITS:,} past visits (built in "
        f"{built_in:.0f} s); visits out in every state of the ladder with their texts, receipts "
        "and calls. Requests through Django's test client in-process (every middleware, the "
        f"signed-in session included), median of {RUNS} runs; an unchanged poll's run is the "
        f"median of {POLLS} polls. A change is a call recorded (`call_attempt_record`).",
        "",
        "Each time is wall-clock in this process (waiting for PostgreSQL included), and in "
        "brackets this process's CPU time alone. Load average when it ran: "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        f"{busy_words(os.getloadavg()[0])}.",
        "",
        "| board | rows | full page ms | full page KB | full page queries | unchanged poll ms "
        "| unchanged poll queries | poll after a change ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in (few, calm, many):
        changed = "—"
        if r["changed_ms"] is not None:
            changed = f"{r['changed_ms']:.1f} ({r['changed_cpu']:.1f})"
        lines.append(
            f"| {r['label']} | {r['rows']} | {r['full_ms']:.1f} ({r['full_cpu']:.1f}) | "
            f"{r['full_kb']:.0f} | {r['full_queries']} | {r['unchanged_ms']:.2f} "
            f"({r['unchanged_cpu']:.2f}) | {r['unchanged_queries']} | {changed} |"
        )
    lines += [
        "",
        "Targets (issue 15):",
        "",
        f"- full page at 300 out ≤ 100 ms and ≤ 250 KB (before: 436 ms, 745 KB, bench/web.py's "
        f"rows): on time {calm['full_ms']:.1f} ms ({calm['full_cpu']:.1f} ms CPU), "
        f"{met(calm['full_ms'], 100)} (CPU {met(calm['full_cpu'], 100)}), "
        f"{calm['full_kb']:.0f} KB, {met(calm['full_kb'], 250)}; in an incident "
        f"{many['full_ms']:.1f} ms ({many['full_cpu']:.1f} ms CPU), "
        f"{met(many['full_ms'], 100)} (CPU {met(many['full_cpu'], 100)}), "
        f"{many['full_kb']:.0f} KB, {met(many['full_kb'], 250)}",
        f"- unchanged poll ≤ 5 ms: {few['unchanged_ms']:.2f} ms ({few['unchanged_cpu']:.2f} ms "
        f"CPU) at 5 out, {met(few['unchanged_ms'], 5)} (CPU {met(few['unchanged_cpu'], 5)}); "
        f"{many['unchanged_ms']:.2f} ms ({many['unchanged_cpu']:.2f} ms CPU) at 300 out, "
        f"{met(many['unchanged_ms'], 5)} (CPU {met(many['unchanged_cpu'], 5)}). Of its "
        f"{many['unchanged_queries']} queries one is the board's; the others are the signed-in "
        "request's own (the session read and write, the user, the two-factor device: issue "
        "15's first target, not the board's)",
        f"- poll with a change at 5 out ≤ 20 ms: {few['changed_ms']:.1f} ms "
        f"({few['changed_cpu']:.1f} ms CPU), {met(few['changed_ms'], 20)} "
        f"(CPU {met(few['changed_cpu'], 20)})",
        "",
    ]
    text = "\n".join(lines)
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "board.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
