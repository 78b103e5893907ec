"""The whole application for the browser tests, for real: gunicorn on PostgreSQL, a Celery
worker and beat on Redis, an SMTP server on loopback that catches the email, all started here
and stopped when the session ends."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from contextlib import closing
from email import message_from_bytes, policy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG = os.environ.get("E2E_POSTGRES", "postgres://postgres@127.0.0.1:5432")
PSQL = shutil.which("psql") or "/usr/bin/psql"
REDIS = os.environ.get("E2E_REDIS", "redis://127.0.0.1:6379/9")


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """A real SMTP server on loopback (aiosmtpd) that keeps every message it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append({"to": envelope.rcpt_tos, "message": message})
        return "250 OK"

    def start(self):
        self.controller.start()

    def stop(self):
        self.controller.stop()

    def to(self, address: str) -> list:
        return [m["message"] for m in self.messages if address in m["to"]]


class Stack:
    def __init__(self, *, extra_env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database = f"homeward_e2e_{uuid.uuid4().hex[:6]}"
        self.mailbox = Mailbox()
        self.env = {
            **os.environ,
            # The application's own settings, as deployed: not the test suite's (which pytest
            # puts in the environment, and which turn the reminders and the nav cache off).
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"{PG}/{self.database}",
            "REDIS_URL": REDIS,
            "CELERY_QUEUE": f"e2e-{uuid.uuid4().hex[:8]}",
            "SITE_URL": self.url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "EMAIL_URL": f"smtp://127.0.0.1:{self.mailbox.port}",
            "ESCALATION_SCAN_SECONDS": "1",
            "DEBUG": "false",
            **(extra_env or {}),
        }
        self.processes: list[subprocess.Popen] = []
        self.logs = ROOT / "var" / "e2e"

    def manage(self, *args: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def _celery(self, name: str, *args: str) -> None:
        """`celery -A config <args>` as the process `name` (its log: <name>.log)."""
        self._spawn(name, sys.executable, "-m", "celery", "-A", "config", *args, "--loglevel=INFO")

    def _spawn(self, name: str, *command: str) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        self.processes.append(
            subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def start(self) -> "Stack":
        subprocess.run(
            [PSQL, PG + "/postgres", "-qc", f"CREATE DATABASE {self.database}"], check=True
        )
        self.mailbox.start()
        self.manage("migrate", "--no-input", "-v", "0")
        # The demo's printed two-factor keys and backup codes (seed_demo enrols DSLs, Heads
        # and managers), read by tests/e2e/conftest.py.
        self.seed_output = self.manage("seed_demo")
        bin_dir = Path(sys.executable).parent
        self._spawn(
            "web",
            str(bin_dir / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--access-logfile",
            "-",
        )
        # As deployed (deploy/homeward-worker.service, homeward-scan.service): the sends on a
        # prefork worker, the escalation scan on a worker of its own, so a storm of sends (the
        # demo's own pair running its ladder and fallback calls) never holds up a scan or the
        # journey's alerts.
        queue = self.env["CELERY_QUEUE"]
        self._celery("worker", "worker", "-Q", queue, "-n", f"send-{self.database}@%h",
                     "--pool=prefork", "--concurrency=2")  # fmt: skip
        self._celery("scan", "worker", "-Q", f"{queue}-scan", "-n", f"scan-{self.database}@%h",
                     "--pool=solo")  # fmt: skip
        self._celery("beat", "beat", "-s", str(self.logs / f"beat-{self.database}"))
        self.wait_until_up()
        return self

    def wait_until_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"the web server did not start; see {self.logs}/web.log")

    def stop(self) -> None:
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.mailbox.stop()
        subprocess.run(
            [
                PSQL,
                PG + "/postgres",
                "-qc",
                f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)",
            ],
            check=False,
        )
