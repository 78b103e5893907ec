"""Web benchmark: the DSL queue (and the office board, once tracking provides it) served by
gunicorn on PostgreSQL with 100,000 past visits, against a trivial view in the same run.

Load comes from wrk on loopback. Writes bench/results/web.md. Needs PostgreSQL, wrk (Debian).
Target: each page reaches at least half of the trivial view's throughput.
"""

import datetime
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DATABASE = "homeward_bench_web"
PAST_VISITS = int(os.environ.get("BENCH_PAST_VISITS", "100000"))
WAITING = 40
OUT_NOW = 300
DURATION = os.environ.get("BENCH_SECONDS", "10")
PSQL = shutil.which("psql") or "/usr/bin/psql"
WRK = shutil.which("wrk") or "/usr/bin/wrk"

sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = f"{PG}/{DATABASE}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("HOMEWARD_DEV", "true")  # a benchmark runs on a developer machine


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_data() -> dict:
    """A school with 100,000 past visits, visits waiting, and visitors out now."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from schools.models import Pupil, User
    from visits.models import Status, Visit, Visitor

    call_command("migrate", "--no-input", "-v", "0")
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    sam, tess = User.objects.get(username="sam"), User.objects.get(username="tess")
    pupils = list(Pupil.objects.filter(school__urn="100001"))
    now = timezone.now()

    def make(count, status, start_of):
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
            (Visitor(visit=v, user=u, role_on_visit="lead") for v in batch for u in (sam, tess)),
            batch_size=5000,
        )
        return batch

    make(PAST_VISITS, Status.RECORDED, lambda i: now - datetime.timedelta(hours=2 + i))
    make(WAITING, Status.SUBMITTED, lambda i: now + datetime.timedelta(days=1, minutes=i))
    out = make(OUT_NOW, Status.OUT, lambda i: now - datetime.timedelta(minutes=30))
    # 300 visitors' visits out now, their ladders waiting, as tracking.signouts leaves them.
    from tracking.models import SignOut, SignOutVisitor

    olive = User.objects.get(username="olive")
    signouts = SignOut.objects.bulk_create(
        SignOut(
            visit=visit,
            school=visit.school,
            signed_out_by=olive,
            signed_out_at=now - datetime.timedelta(minutes=30),
            vehicle="Blue Fiesta AB12 CDE",
            expected_return_at=now + datetime.timedelta(minutes=i % 120),
            grace_seconds=900,
            retry_interval_seconds=300,
            retries=2,
            next_escalation_at=now + datetime.timedelta(minutes=15 + i % 120),
        )
        for i, visit in enumerate(out)
    )
    SignOutVisitor.objects.bulk_create(
        SignOutVisitor(signout=signout, user=user, mobile=user.profile.work_mobile)
        for signout in signouts
        for user in (sam,)
    )
    return {"out": [v.pk for v in out]}


def session_cookie(username: str) -> str:
    """A signed-in session for `username`, made the way Django's login makes one."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from schools.models import User

    user = User.objects.get(username=username)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    # A verified second factor, as django_otp.login() records it after a code was accepted.
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="default", defaults={"confirmed": True}
    )
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def wrk(url: str, cookie: str | None) -> dict:
    command = [WRK, "-t2", "-c16", f"-d{DURATION}s", "--latency", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout

    def latency(percent):
        match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)", out, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": latency(50),
        "p95": latency(90) if not re.search(r"^\s+95%", out, re.M) else latency(95),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
    }


def main() -> int:
    if not Path(WRK).exists():
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 1
    subprocess.run(
        [PSQL, f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"],
        check=True,
    )
    subprocess.run([PSQL, f"{PG}/postgres", "-qc", f"CREATE DATABASE {DATABASE}"], check=True)
    started = time.monotonic()
    build_data()
    built_in = time.monotonic() - started
    port = free_port()
    env = {**os.environ, "DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1"}
    gunicorn = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "3",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        pages = [
            ("trivial view (/healthz: no database)", f"{base}/healthz", None),
            (
                "DSL queue (40 waiting, 100,000 past)",
                f"{base}/visits/queue/",
                session_cookie("dana"),
            ),
        ]
        pages.append(
            ("office board (300 visitors out)", f"{base}/tracking/board/", session_cookie("olive"))
        )
        results = [(name, wrk(url, cookie)) for name, url, cookie in pages]
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=10)
    trivial = results[0][1]["rps"]
    lines = [
        "## Web pages (bench/web.py)",
        "",
        f"gunicorn (3 sync workers) on PostgreSQL with {PAST_VISITS:,} past visits "
        f"(built in {built_in:.0f} s); load from wrk, 2 threads, 16 connections, {DURATION} s "
        "a page, on loopback. Target: each page at least half the trivial view's throughput.",
        "",
        "| page | requests/s | p50 ms | p95 ms | non-2xx | vs trivial | target met |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results:
        ratio = r["rps"] / trivial
        lines.append(
            f"| {name} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['errors']} | "
            f"{ratio:.2f} | {'—' if r is results[0][1] else ('yes' if ratio >= 0.5 else 'NO')} |"
        )
    text = "\n".join(lines) + "\n"
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "web.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
