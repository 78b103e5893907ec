"""Sessions (issue #7): 30 minutes idle, 12 hours at most, a new session key at sign-in, every
session ended when the user is deactivated or their password changes, secure cookies in
production."""

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import time_machine
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from tests.auth import sign_in, sign_in_with_password

PASSWORD = "correct-horse-battery"
MONDAY_9AM = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=datetime.UTC)


def test_signing_in_gives_a_new_session_key(client, sam):
    client.get(reverse("login"))
    sign_in_with_password(client, "sam", "wrong-password-here")
    before = client.session.session_key
    assert before
    sign_in_with_password(client, "sam", PASSWORD)
    assert SESSION_KEY in client.session
    assert client.session.session_key != before


def test_thirty_idle_minutes_sign_you_out(client, sam):
    with time_machine.travel(MONDAY_9AM) as clock:
        sign_in(client, sam)
        clock.shift(datetime.timedelta(minutes=29))
        assert client.get(reverse("visits:mine")).status_code == 200
        clock.shift(datetime.timedelta(minutes=31))
        response = client.get(reverse("visits:mine"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_busy_session_still_ends_twelve_hours_after_signing_in(client, dana):
    with time_machine.travel(MONDAY_9AM) as clock:
        sign_in(client, dana)
        for _ in range(12 * 3 - 1):  # a page every 20 minutes for 11 hours 40
            clock.shift(datetime.timedelta(minutes=20))
            assert client.get(reverse("visits:queue")).status_code == 200
        clock.shift(datetime.timedelta(minutes=25))
        response = client.get(reverse("visits:queue"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
        assert SESSION_KEY not in client.session
        page = client.get(response["Location"]).content.decode()
    assert "signed out after 12 hours" in page


def test_signing_in_again_starts_a_new_twelve_hours(client, sam):
    with time_machine.travel(MONDAY_9AM) as clock:
        sign_in(client, sam)
        clock.shift(datetime.timedelta(hours=11, minutes=50))
        sign_in(client, sam)
        clock.shift(datetime.timedelta(minutes=20))
        assert client.get(reverse("visits:mine")).status_code == 200


def test_deactivating_a_user_ends_every_session_they_have(sam):
    phone, laptop = Client(), Client()
    sign_in(phone, sam)
    sign_in(laptop, sam)
    sam.is_active = False
    sam.save()
    for device in (phone, laptop):
        response = device.get(reverse("visits:mine"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_changing_your_password_signs_out_your_other_sessions_but_not_this_one(sam):
    phone, laptop = Client(), Client()
    sign_in(phone, sam)
    sign_in(laptop, sam)
    new = "a-much-longer-new-passphrase"
    response = laptop.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response["Location"] == reverse("password_change_done")
    assert laptop.get(reverse("visits:mine")).status_code == 200
    assert phone.get(reverse("visits:mine")).status_code == 302


def test_a_password_set_by_reset_or_the_admin_signs_out_every_session(sam):
    phone = Client()
    sign_in(phone, sam)
    sam.set_password("set-by-the-administrator-2026")
    sam.save()
    assert phone.get(reverse("visits:mine")).status_code == 302


def production_settings(**extra) -> dict:
    """The settings a production deployment gets, read by a fresh Python process."""
    env = {
        **os.environ,
        "PRODUCTION": "true",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "homeward.example",
        **extra,
    }
    env.pop("DATABASE_URL", None)
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in ("
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', "
        "'SECURE_HSTS_SECONDS', 'SESSION_COOKIE_HTTPONLY', 'SESSION_COOKIE_AGE', "
        "'SESSION_ABSOLUTE_SECONDS', 'SECURE_REFERRER_POLICY', 'X_FRAME_OPTIONS')}))"
    )
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_production_cookies_are_secure_and_https_is_enforced_with_hsts():
    values = production_settings()
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SESSION_COOKIE_AGE"] == 30 * 60
    assert values["SESSION_ABSOLUTE_SECONDS"] == 12 * 60 * 60
    assert values["SECURE_REFERRER_POLICY"] == "same-origin"
    assert values["X_FRAME_OPTIONS"] == "DENY"
