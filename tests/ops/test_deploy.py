"""deploy/ as docs/deployment.md tells an administrator to use it: the systemd units pass
`systemd-analyze verify` and the HAProxy example passes `haproxy -c`. The units name
/opt/homeward and the proxy a certificate in /etc/haproxy: the test points them at this checkout
and a throw-away certificate, and changes nothing else."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = sorted(DEPLOY.glob("*.service"))


def test_there_are_units_for_the_web_the_workers_the_scan_and_beat():
    assert {unit.stem for unit in UNITS} == {
        "homeward-web",
        "homeward-worker",
        "homeward-scan",
        "homeward-beat",
    }


@pytest.mark.skipif(
    not shutil.which("systemd-analyze"),
    reason="systemd-analyze is not installed (Debian package systemd; `make system-deps`)",
)
def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path):
    for unit in UNITS:
        text = unit.read_text().replace("/opt/homeward", str(ROOT))
        (tmp_path / unit.name).write_text(text)
    result = subprocess.run(  # noqa: S603
        ["systemd-analyze", "verify", "--man=no", *sorted(str(p) for p in tmp_path.iterdir())],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        # The build machine has no homeward user or /etc/homeward: not the units' fault.
        if line.strip() and "homeward.env" not in line
    ]
    assert result.returncode == 0 and not problems, "\n".join(problems)


def test_the_web_unit_empties_the_metrics_directory_and_uses_the_gunicorn_config():
    web = (DEPLOY / "homeward-web.service").read_text()
    assert "PROMETHEUS_MULTIPROC_DIR=/run/homeward-web/prometheus" in web
    assert "ExecStartPre=/bin/rm -rf /run/homeward-web/prometheus" in web
    assert "--config /opt/homeward/deploy/gunicorn.conf.py" in web
    scan = (DEPLOY / "homeward-scan.service").read_text()
    worker = (DEPLOY / "homeward-worker.service").read_text()
    assert re.search(r"-Q homeward-scan\b", scan) and re.search(r"-Q homeward\b", worker)


@pytest.mark.skipif(
    not shutil.which("haproxy") or not shutil.which("openssl"),
    reason="haproxy or openssl is not installed (Debian packages haproxy, openssl; "
    "`make system-deps`)",
)
def test_the_haproxy_example_passes_haproxy_check(tmp_path):
    key, cert, pem = tmp_path / "key.pem", tmp_path / "cert.pem", tmp_path / "homeward.pem"
    subprocess.run(  # noqa: S603
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),  # noqa: S607
         "-out", str(cert), "-days", "1", "-subj", "/CN=homeward.example.org"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    pem.write_text(cert.read_text() + key.read_text())
    config = tmp_path / "haproxy.cfg"
    text = (DEPLOY / "haproxy.cfg").read_text()
    config.write_text(text.replace("/etc/haproxy/certs/homeward.pem", str(pem)))
    result = subprocess.run(  # noqa: S603
        ["haproxy", "-c", "-f", str(config)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "option forwardfor" in text and "/healthz" in text
