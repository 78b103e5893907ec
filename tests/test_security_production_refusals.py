"""Issue 19: Homeward refuses to run on unsafe production settings (docs/operations.md).

Item 3: the development SECRET_KEY is used only when HOMEWARD_DEV=true says this is a developer's
machine or a test run; anywhere else (and always with PRODUCTION=true) start-up refuses, and a
system check errors. Item 4: `make deploy-check` checks the environment it is given and fails
when production would send email or texts nowhere, or links over plain HTTP."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from config.checks import (
    production_delivers_email_and_sms_over_https,
    secret_key_is_not_the_development_one,
    secret_key_is_set_for_deployment,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "config/production.env.example"
DEVELOPMENT_KEY = "homeward-insecure-development-key-change-me"
A_REAL_KEY = "r" * 30 + "-a-long-random-production-key-" + "z" * 20


def _environment(**settings) -> dict:
    """The test process's environment without the development flag or any key or production
    setting, plus `settings`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("HOMEWARD_DEV", "SECRET_KEY", "PRODUCTION", "DEBUG", "ENV_FILE")
        and not key.startswith(("EMAIL_", "SMS_", "SITE_URL"))
    }
    env.pop("DATABASE_URL", None)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env.update(settings)
    return env


def _start(**settings) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own command line
        [sys.executable, "manage.py", "check"],
        env=_environment(**settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_homeward_refuses_to_start_without_a_secret_key_outside_development():
    result = _start()
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_homeward_refuses_to_start_with_the_development_key_outside_development():
    result = _start(SECRET_KEY=DEVELOPMENT_KEY)
    assert result.returncode != 0
    assert "SECRET_KEY is not set (or is the development key)" in result.stderr


def test_production_refuses_the_development_key_even_with_the_development_flag_or_debug():
    result = _start(HOMEWARD_DEV="true", PRODUCTION="true", DEBUG="true")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_a_developer_machine_starts_with_the_development_key_when_it_says_so():
    result = _start(HOMEWARD_DEV="true")
    assert result.returncode == 0, result.stderr
    assert _start(SECRET_KEY=A_REAL_KEY).returncode == 0


def test_the_system_check_errors_on_the_development_key_outside_development():
    with override_settings(SECRET_KEY=DEVELOPMENT_KEY, DEVELOPMENT=False):
        assert [e.id for e in secret_key_is_not_the_development_one(None)] == ["homeward.E006"]
    with override_settings(SECRET_KEY=DEVELOPMENT_KEY, DEVELOPMENT=True):
        assert secret_key_is_not_the_development_one(None) == []
        assert [e.id for e in secret_key_is_set_for_deployment(None)] == ["homeward.E006"]
    with override_settings(SECRET_KEY=A_REAL_KEY, DEVELOPMENT=False):
        assert secret_key_is_not_the_development_one(None) == []
        assert secret_key_is_set_for_deployment(None) == []


SAFE = {
    "PRODUCTION": True,
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "SMS_BACKEND": "tracking.sms.TwilioBackend",
    "SITE_URL": "https://homeward.example",
}


@pytest.mark.parametrize(
    ("unsafe", "error"),
    [
        ({"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}, "homeward.E007"),
        ({"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}, "homeward.E007"),
        ({"SMS_BACKEND": "tracking.sms.ConsoleBackend"}, "homeward.E008"),
        ({"SMS_BACKEND": "tracking.sms.InMemoryBackend"}, "homeward.E008"),
        ({"SITE_URL": "http://homeward.example"}, "homeward.E009"),
    ],
)
def test_the_deploy_check_errors_when_production_would_send_nothing_or_plain_http_links(
    unsafe, error
):
    with override_settings(**SAFE):
        assert production_delivers_email_and_sms_over_https(None) == []
    with override_settings(**{**SAFE, **unsafe}):
        assert [e.id for e in production_delivers_email_and_sms_over_https(None)] == [error]
    with override_settings(**{**SAFE, **unsafe, "PRODUCTION": False}):
        assert production_delivers_email_and_sms_over_https(None) == []


def _make_deploy_check(**settings) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own command line
        [
            shutil.which("make"),
            "--no-print-directory",
            "-o",
            "venv",
            "deploy-check",
            f"ENV_FILE={EXAMPLE}",
        ],
        env=_environment(**settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_make_deploy_check_passes_on_the_example_production_environment():
    result = _make_deploy_check(SECRET_KEY=A_REAL_KEY)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("unsafe", "error"),
    [
        ({"EMAIL_URL": "consolemail://"}, "homeward.E007"),
        ({"EMAIL_URL": "memorymail://"}, "homeward.E007"),
        ({"SMS_BACKEND": "tracking.sms.ConsoleBackend"}, "homeward.E008"),
        ({"SMS_BACKEND": "tracking.sms.InMemoryBackend"}, "homeward.E008"),
        ({"SITE_URL": "http://homeward.example"}, "homeward.E009"),
    ],
)
def test_make_deploy_check_fails_on_each_unsafe_setting_in_the_environment_it_is_given(
    unsafe, error
):
    """The caller's environment wins over the file, so this is the real environment's value."""
    result = _make_deploy_check(SECRET_KEY=A_REAL_KEY, **unsafe)
    assert result.returncode != 0
    assert error in result.stdout + result.stderr


def test_make_deploy_check_fails_without_a_real_secret_key():
    result = _make_deploy_check()
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
