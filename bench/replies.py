"""SMS replies benchmark (R-TRK-5): signed Twilio webhooks, each a visitor's "SAFE", posted at a
steady 100 a second for 30 s to gunicorn on PostgreSQL; one in twenty is posted again (a
provider's retry). Measures the time from posting the webhook to its answer, which Homeward
gives only after the transaction that closes the sign-out and queues the reply SMS committed.
Then counts: every reply acted on (0 lost), none twice (0 double-applied).

Writes bench/results/replies.md. Needs PostgreSQL and Redis (the Celery broker), as deployed.
Target: p95 under 1 s at 100 replies/s, 0 lost, 0 double-applied.
"""

import datetime
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

from cpu import named_cpu, process_tree_cpu

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DATABASE = "homeward_bench_replies"
RATE = int(os.environ.get("BENCH_REPLY_RATE", "100"))
WARM_SECONDS = 2
SECONDS = int(os.environ.get("BENCH_SECONDS", "30"))
TOKEN = "bench-twilio-token"  # noqa: S105 - the benchmark's own server only
PSQL = "/usr/bin/psql"
CORES = os.cpu_count() or 1

sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = f"{PG}/{DATABASE}"
# Redis as deployed: the Celery broker the answers are handed to (no worker takes them here:
# the queue is emptied at the end), and the cache.
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
QUEUE = "bench-replies"
os.environ["REDIS_URL"] = REDIS
os.environ["CELERY_QUEUE"] = QUEUE
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("HOMEWARD_DEV", "true")  # a benchmark runs on a developer machine


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def mobile(n: int) -> str:
    return f"+4474001{n:05d}"


def build_data(count: int) -> None:
    """`count` sign-outs open, each with one visitor on their own mobile."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from schools.models import Pupil, User
    from tracking.models import SignOut, SignOutVisitor
    from visits.models import Status, Visit

    call_command("migrate", "--no-input", "-v", "0")
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    sam, olive = User.objects.get(username="sam"), User.objects.get(username="olive")
    pupil = Pupil.objects.filter(school__urn="100001").first()
    now = timezone.now()
    visits = Visit.objects.bulk_create(
        Visit(
            school=pupil.school,
            household=pupil.household,
            requested_by=sam,
            status=Status.OUT,
            reason="attendance",
            purpose="Benchmark visit",
            planned_start=now - datetime.timedelta(minutes=30),
            planned_end=now + datetime.timedelta(minutes=30),
            planned_return=now + datetime.timedelta(hours=1),
            submitted_at=now - datetime.timedelta(days=1),
        )
        for _ in range(count)
    )
    signouts = SignOut.objects.bulk_create(
        SignOut(
            visit=visit,
            school=visit.school,
            signed_out_by=olive,
            signed_out_at=now - datetime.timedelta(minutes=30),
            vehicle="On foot",
            expected_return_at=now + datetime.timedelta(hours=1),
            grace_seconds=900,
            retry_interval_seconds=300,
            retries=2,
            next_escalation_at=now + datetime.timedelta(hours=1, minutes=15),
        )
        for visit in visits
    )
    SignOutVisitor.objects.bulk_create(
        SignOutVisitor(signout=signout, user=sam, mobile=mobile(n))
        for n, signout in enumerate(signouts)
    )


def signed_replies(url: str, count: int) -> list[tuple[int, bytes, str]]:
    """Each visitor's "SAFE" as Twilio would post it: (n, form body, signature). Signed before
    the clock starts: a provider signs on its own machines, not on Homeward's."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(TOKEN)
    out = []
    for n in range(count):
        form = {"MessageSid": f"SMbench{n:06d}", "From": mobile(n), "Body": "SAFE"}
        form["To"] = "+447700900999"
        out.append(
            (n, urllib.parse.urlencode(form).encode(), validator.compute_signature(url, form))
        )
    return out


def post_reply(url: str, data: bytes, signature: str) -> float:
    request = urllib.request.Request(url, data=data, headers={"X-Twilio-Signature": signature})  # noqa: S310
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        response.read()
        assert response.status == 200, response.status
    return time.monotonic() - started


def _queue_drop() -> None:
    import redis

    client = redis.Redis.from_url(REDIS)
    for key in client.scan_iter(f"*{QUEUE}*"):
        client.delete(key)


def main() -> int:
    count = RATE * SECONDS
    warm = RATE * WARM_SECONDS
    load_before = os.getloadavg()[0]
    subprocess.run(
        [PSQL, f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"],
        check=True,
    )
    subprocess.run([PSQL, f"{PG}/postgres", "-qc", f"CREATE DATABASE {DATABASE}"], check=True)
    build_data(warm + count)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": base,
        "TWILIO_AUTH_TOKEN": TOKEN,
    }
    # As deployed: deploy/gunicorn.conf.py (two sync workers per core).
    gunicorn = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi",
            "-c",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
        start_new_session=True,
    )
    latencies, failures, lock = [], [], threading.Lock()
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        url = base + "/tracking/hooks/twilio/sms/"
        replies = signed_replies(url, warm + count)

        def one(data: bytes, signature: str, measured: bool = True) -> None:
            try:
                took = post_reply(url, data, signature)
            except Exception as error:  # noqa: BLE001 - counted and reported
                with lock:
                    failures.append(repr(error))
                return
            if measured:
                with lock:
                    latencies.append(took)

        def post_at_rate(batch, *, measured: bool) -> float:
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=64) as pool:
                for index, (n, data, signature) in enumerate(batch):
                    pause = started + index / RATE - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    pool.submit(one, data, signature, measured)
                    if n % 20 == 0:  # the provider retries one in twenty
                        pool.submit(one, data, signature, measured)
                sent = time.monotonic() - started
            return sent

        # Warm-up, not measured: each worker's first requests load the code and connect.
        post_at_rate(replies[:warm], measured=False)
        marks = (process_tree_cpu(gunicorn.pid), named_cpu("postgres"), time.process_time())
        started = time.monotonic()
        sent = post_at_rate(replies[warm:], measured=True)
        elapsed = time.monotonic() - started
        cpu = [
            process_tree_cpu(gunicorn.pid) - marks[0],
            named_cpu("postgres") - marks[1],
            time.process_time() - marks[2],
        ]
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=10)
        _queue_drop()

    from django.db.models import Count

    from tracking.models import Notification, SmsReply, TrackingEvent

    replies = SmsReply.objects.filter(outcome="applied").count()
    phoned_in = TrackingEvent.objects.filter(kind="phoned_in", via="sms").count()
    per_signout = max(
        (
            row["n"]
            for row in TrackingEvent.objects.filter(kind="phoned_in", via="sms")
            .values("signout")
            .annotate(n=Count("id"))
        ),
        default=0,
    )
    answers = Notification.objects.filter(idempotency_key__startswith="smsreply:").count()
    lost = warm + count - phoned_in
    doubled = max(0, per_signout - 1) + max(0, answers - warm - count)
    latencies.sort()
    p50 = statistics.median(latencies) * 1000 if latencies else float("nan")
    p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000 if latencies else float("nan")
    met = p95 < 1000 and lost == 0 and doubled == 0 and not failures
    share = " / ".join(f"{100 * seconds / elapsed / CORES:.0f}%" for seconds in cpu)
    lines = [
        "## SMS replies (bench/replies.py)",
        "",
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC. {count:,} signed Twilio "
        f"webhooks (“SAFE” from {count:,} visitors out), {RATE}/s for {SECONDS} s (sent in "
        f"{sent:.0f} s, all answered in {elapsed:.0f} s), one in twenty posted twice, to "
        "gunicorn as deployed (deploy/gunicorn.conf.py: 4 sync workers on 2 cores) on PostgreSQL, "
        f"after {warm:,} replies of warm-up (not timed; counted below), the answers handed to "
        "Celery on Redis. The "
        "answer comes after the sign-out is closed and the reply SMS queued, in one "
        "transaction. CPU is user + system time from /proc "
        f"over the load, as a share of the machine's {CORES} cores: gunicorn (master and "
        "workers) / PostgreSQL / the load generator (this process, which posts from 64 "
        f"threads). Load average {load_before:.1f} before. Target: p95 under 1 s, 0 lost, "
        "0 double-applied.",
        "",
        "| requests | p50 ms | p95 ms | failed requests | acted on | lost | double-applied "
        "| answers queued | CPU: gunicorn / PostgreSQL / load generator | target met |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {len(latencies) + len(failures)} | {p50:.1f} | {p95:.1f} | {len(failures)} | "
        f"{replies:,} of {warm + count:,} | {lost} | {doubled} | {answers:,} | {share} | "
        f"{'yes' if met else 'NO'} |",
    ]
    text = "\n".join(lines) + "\n"
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "replies.md").write_text(text)
    print(text)
    if failures:
        print(failures[:5], file=sys.stderr)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
