"""Issue 15, target 5: a trust's realistic load on one node, open loop at a fixed rate.

A trust of 50 schools: two office screens each polling the sign-out board every 5 s (20 polls/s)
and ~30 staff browsing (2 pages/s), for BENCH_SECONDS (60) s; then five times that (100 polls/s
+ 10 pages/s). gunicorn (3 sync workers) on PostgreSQL with 100,000 past visits, sessions in
Redis, the data bench/perf.py builds.

Open loop: every request is sent at its planned moment whether or not the earlier ones have
been answered, and its latency counts from that moment, so a slow server cannot slow the load
down and hide its own queueing. Latency percentiles are computed here from every request's own
timing. CPU use is read from /proc for the gunicorn master and its workers (user + system
time) over each phase, as a share of the machine's cores; the load generator's own CPU is given
too (it runs on the same machine).

Before the load phases, the same server's throughput: /healthz, a signed-in trivial page, the
DSL queue and My visits, each closed loop from 8 connections, interleaved, three rounds (targets
1 and 4 in requests/s).

The board poll is `GET /tracking/board/` with `HX-Request: true` and what the screen shows (the
last drawing's hx-vals), as htmx sends it; each of the 100 (500) screens keeps its own, so a screen
gets 204 while nothing changed and draws again when something did or its 60 s safety net is due
(BENCH_POLL overrides the path). Pages cycle through the DSL queue, My visits, the whole board and a
signed-in trivial page. Writes bench/results/trust_load.md.
"""

import asyncio
import datetime
import html
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import closing
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import perf  # noqa: E402  (sets the database, Redis and settings for this process)
from cpu import process_tree_cpu  # noqa: E402

ROOT = perf.ROOT
SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
POLL = os.environ.get("BENCH_POLL", "/tracking/board/")
PHASES = [("1× (20 polls/s + 2 pages/s)", 20, 2), ("5× (100 polls/s + 10 pages/s)", 100, 10)]
# Only to try the script out quickly (e.g. 0.1): the figures in RESULTS.md are at 1.
SCALE = float(os.environ.get("BENCH_RATE_SCALE", "1"))
LOAD_AT_START = os.getloadavg()[0]  # what else the machine was doing, before this bench's own work
# Before each measured phase, the screens open one by one over this many seconds (not measured).
WARMUP = float(os.environ.get("BENCH_WARMUP_SECONDS", "60"))
TIMEOUT = 10.0
INF = float("inf")


def ms(value: float) -> str:
    return f"> {TIMEOUT * 1000:.0f}" if value == INF else f"{value:.1f}"


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def fetch(port: int, path: str, headers: dict, *, body: list | None = None) -> int:
    """GET `path`: the status; the response's bytes are appended to `body` when one is given."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    status_line = await reader.readline()
    while chunk := await reader.read(65536):
        if body is not None:
            body.append(chunk)
    writer.close()
    return int(status_line.split()[1])


HX_VALS = re.compile(rb'id="board-live"[^>]*?hx-vals="([^"]*)"')


def shown_query(response: bytes) -> str | None:
    """What board.js sends with its next poll: the drawing's hx-vals, as a query string."""
    found = HX_VALS.search(response)
    if found is None:
        return None
    return urlencode(json.loads(html.unescape(found.group(1).decode())))


async def phase(
    port: int,
    polls: int,
    pages: int,
    seconds: float,
    sessions: dict,
    *,
    warmup: float = 0.0,
    on_measure=None,
) -> list:
    """Send polls/s board polls and pages/s pages at fixed intervals for `seconds`, after
    `warmup` seconds in which the office screens open one by one (not measured): at the end of
    it every screen shows the board, drawn at a moment of its own, as in a school day, rather
    than all of them drawing at once. `on_measure()` is called when the measured part starts."""
    page_cycle = [
        ("/visits/queue/", "dana", {}),
        ("/visits/", "tess", {}),
        ("/tracking/board/", "olive", {}),
        ("/accounts/password/changed/", "sam", {}),
    ]
    # Each office screen polls every 5 s (board.js) and sends what it shows, from its own last
    # drawing: its first poll draws the board, later ones get 204 until the board changes or
    # the 60 s safety net redraws it, as in a browser.
    screens = max(1, round(polls * 5))
    shown: list[str] = [""] * screens
    opens = [warmup * screen / screens for screen in range(screens)]
    plan = [
        (i / polls, "poll", POLL, "olive", {"HX-Request": "true"}, i % screens)
        for i in range(int(polls * (warmup + seconds)))
        if i / polls >= opens[i % screens]
    ]
    plan += [
        (warmup + i / pages, "page", *page_cycle[i % len(page_cycle)], None)
        for i in range(int(pages * seconds))
    ]
    plan.sort(key=lambda item: item[0])
    results: list[tuple[str, float, int | None]] = []
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.5

    async def one(at, kind, path, user, extra, screen):
        await asyncio.sleep(max(0.0, start + at - loop.time()))
        headers = {"Cookie": sessions[user], **extra}
        body = [] if screen is not None else None
        if screen is not None and shown[screen]:
            path = f"{path}?{shown[screen]}"
        try:
            status = await asyncio.wait_for(fetch(port, path, headers, body=body), TIMEOUT)
        except (TimeoutError, OSError):
            status = None
        if status == 200 and screen is not None:
            shown[screen] = shown_query(b"".join(body)) or ""
        if at >= warmup:
            # From the planned moment, not from when the request went out (open loop).
            results.append((kind, (loop.time() - (start + at)) * 1000, status))

    async def measure():
        await asyncio.sleep(max(0.0, start + warmup - loop.time()))
        if on_measure is not None:
            on_measure()

    await asyncio.gather(measure(), *(one(*item) for item in plan))
    return results


async def closed_loop(port: int, path: str, headers: dict, seconds: float, clients: int) -> dict:
    """`clients` connections asking `path` back to back for `seconds`: requests/s and latency."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    timings: list[float] = []
    errors = 0

    async def client():
        nonlocal errors
        while loop.time() < end:
            t0 = loop.time()
            try:
                status = await asyncio.wait_for(fetch(port, path, headers), TIMEOUT)
            except (TimeoutError, OSError):
                status = None
            if status is None or status >= 400:
                errors += 1
            else:
                timings.append((loop.time() - t0) * 1000)

    started = loop.time()
    await asyncio.gather(*(client() for _ in range(clients)))
    return {
        "rps": len(timings) / (loop.time() - started),
        "p95": percentile(timings, 95),
        "errors": errors,
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


THROUGHPUT_PAGES = [
    ("/healthz (no session)", "/healthz", None),
    ("signed-in trivial view", "/accounts/password/changed/", "sam"),
    (f"DSL queue ({perf.WAITING} waiting)", "/visits/queue/", "dana"),
    ("My visits", "/visits/", "tess"),
]
THROUGHPUT_SECONDS = float(os.environ.get("BENCH_THROUGHPUT_SECONDS", "5"))


def throughput_rounds(port: int, sessions: dict) -> dict:
    """Each page closed loop (8 connections) for THROUGHPUT_SECONDS, pages interleaved, three
    rounds: name -> list of three results."""
    found = {name: [] for name, _, _ in THROUGHPUT_PAGES}
    for _ in range(3):
        for name, path, user in THROUGHPUT_PAGES:
            headers = {"Cookie": sessions[user]} if user else {}
            found[name].append(asyncio.run(closed_loop(port, path, headers, THROUGHPUT_SECONDS, 8)))
            print(name, found[name][-1], flush=True)
    return found


def main() -> int:
    started = time.monotonic()
    if not perf.database_ready():
        perf.build_data()
    built_in = time.monotonic() - started
    import django

    django.setup()
    from django.conf import settings

    sessions = {}
    for user in ("olive", "dana", "tess", "sam"):
        name, key = perf.session_cookie(user)
        sessions[user] = f"{name}={key}"
    django.db.connections.close_all()
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
    rows = []
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        # Warm every worker: connections, templates, caches.
        asyncio.run(phase(port, 20, 4, 2, sessions))
        throughput = throughput_rounds(port, sessions)
        for name, polls, pages in PHASES:
            marks = {}

            def mark(marks=marks):
                marks.update(
                    load=os.getloadavg()[0],
                    cpu=process_tree_cpu(gunicorn.pid),
                    own=time.process_time(),
                    wall=time.monotonic(),
                )

            results = asyncio.run(
                phase(
                    port,
                    polls * SCALE,
                    pages * SCALE,
                    SECONDS,
                    sessions,
                    warmup=WARMUP,
                    on_measure=mark,
                )
            )
            wall = time.monotonic() - marks["wall"]
            cpu = process_tree_cpu(gunicorn.pid) - marks["cpu"]
            own = time.process_time() - marks["own"]
            load_before = marks["load"]
            # A request with no answer within TIMEOUT counts as slower than every answer.
            polls_ms = [ms if status else INF for kind, ms, status in results if kind == "poll"]
            pages_ms = [ms if status else INF for kind, ms, status in results if kind == "page"]
            errors = sum(1 for _, _, status in results if status is None or status >= 400)
            statuses = {}
            for _, _, status in results:
                statuses[status or "timeout"] = statuses.get(status or "timeout", 0) + 1
            rows.append(
                {
                    "name": name,
                    "sent": len(results),
                    "errors": errors,
                    "statuses": ", ".join(
                        f"{k}: {v}" for k, v in sorted(statuses.items(), key=str)
                    ),
                    "poll_p50": percentile(polls_ms, 50),
                    "poll_p95": percentile(polls_ms, 95),
                    "poll_max": max(polls_ms, default=float("nan")),
                    "page_p50": percentile(pages_ms, 50),
                    "page_p95": percentile(pages_ms, 95),
                    "cpu_share": cpu / wall / (os.cpu_count() or 1) * 100,
                    "own_share": own / wall / (os.cpu_count() or 1) * 100,
                    "load": (load_before, os.getloadavg()[0]),
                }
            )
            print(rows[-1], flush=True)
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        try:
            gunicorn.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(gunicorn.pid, signal.SIGKILL)
            gunicorn.wait(timeout=10)

    one, five = rows
    lines = [
        "## Trust load (bench/trust_load.py)",
        "",
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC. gunicorn (3 sync workers) on "
        f"PostgreSQL with {perf.PAST_VISITS:,} past visits (data ready in {built_in:.0f} s), "
        f"sessions `{settings.SESSION_ENGINE}` on Redis; open loop at a fixed "
        f"rate for {SECONDS:.0f} s a phase, latency from each request's planned moment, "
        "percentiles from every request's own timing (not wrk's), a request unanswered after "
        f"{TIMEOUT:.0f} s counted as slower than all. Board poll: "
        f"`GET {POLL}` with `HX-Request: true` ({perf.OUT_NOW} visitors out) and what the screen "
        "shows, from its own last drawing (one screen per 5 s of polls: 204 while nothing "
        "changed, a drawing when it did or the 60 s safety net is due), after a "
        f"{WARMUP:.0f} s warm-up, not measured, in which the screens open one by one; pages: "
        "DSL queue, "
        "My visits, the whole board, a signed-in trivial page in turn. CPU: the gunicorn master "
        "and workers' user + system time from /proc over the phase, as a share of the machine's "
        f"{os.cpu_count()} cores. Load average {LOAD_AT_START:.1f} when the bench started"
        f"{perf.busy_words(LOAD_AT_START)}.",
        "",
        "| phase | requests | errors (statuses) | poll p50 ms | poll p95 ms | poll max ms | "
        "page p50 ms | page p95 ms | gunicorn CPU (% of machine) | load generator CPU | "
        "load average before → after |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['sent']} | {r['errors']} ({r['statuses']}) | "
            f"{ms(r['poll_p50'])} | {ms(r['poll_p95'])} | {ms(r['poll_max'])} | "
            f"{ms(r['page_p50'])} | {ms(r['page_p95'])} | {r['cpu_share']:.1f}% | "
            f"{r['own_share']:.1f}% | "
            f"{r['load'][0]:.1f} → {r['load'][1]:.1f} |"
        )

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    import statistics

    rps = {name: statistics.median(r["rps"] for r in runs) for name, runs in throughput.items()}
    names = [name for name, _, _ in THROUGHPUT_PAGES]
    healthz, trivial, queue = names[0], names[1], names[2]
    lines += [
        "",
        f"Throughput, same server, before the load phases: each page closed loop from 8 "
        f"connections for {THROUGHPUT_SECONDS:.0f} s, pages interleaved, 3 rounds; median of the "
        "rounds (a new TCP connection per request: gunicorn's sync workers do not keep "
        "connections alive).",
        "",
        "| page | requests/s (median of 3) | rounds | p95 ms (per round) | errors | vs /healthz |",
        "|---|---|---|---|---|---|",
    ]
    for name, runs in throughput.items():
        rounds = ", ".join(f"{r['rps']:.0f}" for r in runs)
        p95s = ", ".join(f"{r['p95']:.0f}" for r in runs)
        lines.append(
            f"| {name} | {rps[name]:.0f} | {rounds} | {p95s} | "
            f"{sum(r['errors'] for r in runs)} | {rps[name] / rps[healthz]:.2f}× |"
        )
    lines += [
        "",
        "| target | figure | verdict |",
        "|---|---|---|",
        f"| 1. signed-in trivial view ≥ 0.5× /healthz (requests/s) | "
        f"{rps[trivial] / rps[healthz]:.2f}× ({rps[trivial]:.0f} against {rps[healthz]:.0f}) | "
        f"{verdict(rps[trivial] / rps[healthz] >= 0.5)} |",
        f"| 4. DSL queue ≥ 60 requests/s | {rps[queue]:.0f} | {verdict(rps[queue] >= 60)} |",
        # One target: the CPU share counts only with the polls answered in time and no errors
        # (a server starved of CPU by other work uses little of it while failing).
        f"| 5. 1×: ≤ 25% CPU of the machine with poll p95 ≤ 50 ms | {one['cpu_share']:.1f}% "
        f"CPU, poll p95 {ms(one['poll_p95'])} ms, {one['errors']} errors | "
        f"{verdict(one['cpu_share'] <= 25 and one['poll_p95'] <= 50 and not one['errors'])} |",
        f"| 5. 5×: poll p95 ≤ 200 ms, no errors | {ms(five['poll_p95'])} ms, {five['errors']} "
        f"errors of {five['sent']} | "
        f"{verdict(five['poll_p95'] <= 200 and five['errors'] == 0)} |",
        "",
    ]
    text = "\n".join(lines)
    (ROOT / "bench" / "results" / "trust_load.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
