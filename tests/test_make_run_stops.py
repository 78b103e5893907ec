"""`make run` (issue 14, point 13): Ctrl-C stops the web server, both workers and beat cleanly.
The processes of Procfile.dev are started by honcho, as `make run` starts them, in a folder of
their own; the whole group gets SIGINT, as a terminal sends it on Ctrl-C."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HONCHO = Path(sys.executable).parent / "honcho"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ctrl_c_stops_the_web_server_the_workers_and_beat_with_a_warm_shutdown(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        HOMEWARD_DEV="true",
        DEBUG="false",
        HOMEWARD_VAR_DIR=str(tmp_path),
        CELERY_QUEUE=f"make-run-test-{os.getpid()}",
        PYTHONUNBUFFERED="1",
    )
    log = tmp_path / "honcho.log"
    with log.open("w") as out:
        honcho = subprocess.Popen(
            [str(HONCHO), "start", "--no-colour", "-f", "Procfile.dev", "-p", str(free_port())],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 120  # a guard against a hang, not a measurement
            while time.monotonic() < deadline:
                text = log.read_text()
                if text.count(" ready.") >= 2 and "beat: Starting" in text:
                    break
                time.sleep(0.5)
            else:
                raise AssertionError(f"the processes did not start:\n{log.read_text()[-3000:]}")
            os.killpg(honcho.pid, signal.SIGINT)
            honcho.wait(timeout=60)
        finally:
            if honcho.poll() is None:
                os.killpg(honcho.pid, signal.SIGKILL)
    text = log.read_text()
    assert "SIGINT received" in text
    assert text.count("Warm shutdown") == 2, "the send worker and the scan worker"
    for name in ("web.1", "worker.1", "scan.1", "beat.1"):
        assert f"{name} stopped" in text
    assert "Traceback" not in text
    # The Makefile counts honcho's 130 (Ctrl-C) and 143 as a clean stop.
    assert honcho.returncode in (0, 130, 143)
