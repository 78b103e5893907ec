"""A real Celery worker (and beat) in a subprocess, on the test database and real Redis."""

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager, suppress
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def worker_environment(**extra) -> dict:
    db = connection.settings_dict
    url = (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": settings.REDIS_URL, **extra}
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    return env


def unique_queue() -> str:
    return f"test-{os.getpid()}-{uuid.uuid4().hex[:8]}"


@contextmanager
def celery_process(*args: str, **env):
    """Run `celery -A config <args>` until the block ends; the process group is killed after."""
    # The log goes to a file, not a pipe nobody reads: a full pipe would block the worker.
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below
        prefix="celery-", suffix=".log", delete=False
    )
    process = subprocess.Popen(  # noqa: S603 - our own command line
        [sys.executable, "-m", "celery", "-A", "config", *args, "--loglevel=INFO"],
        cwd=ROOT,
        env=worker_environment(**env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    process.log_path = log.name
    try:
        yield process
    except BaseException:
        # The test failed: show the end of the process's log with it.
        print(Path(log.name).read_text(errors="replace")[-6000:], file=sys.stderr)
        raise
    finally:
        with suppress(ProcessLookupError):  # the test killed it already
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        log.close()
        os.unlink(log.name)


def process_kill(process) -> None:
    """SIGKILL a celery_process mid-work, as the kernel's OOM killer or a power cut would."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def wait_for(condition, *, timeout: float = 30.0, interval: float = 0.2):
    """Poll `condition` until it is truthy; the worker is a real process, so this waits for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"gave up waiting after {timeout} s")
