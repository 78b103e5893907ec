"""Lockout and passwords (issue #7): 5 failed sign-ins for a username within 15 minutes lock that
username, an address is locked after many more, and the page says the same whether or not the
account exists. Passwords: at least 12 characters, not a common one, hashed with Argon2."""

import datetime
import re

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from tests.auth import sign_in, sign_in_with_password

PASSWORD = "correct-horse-battery"


def fail(client, username: str, times: int, **extra):
    for _ in range(times):
        response = sign_in_with_password(client, username, "not-the-password", **extra)
    return response


def page_text(response) -> str:
    text = response.content.decode()
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)


def test_five_failures_lock_the_username_even_with_the_right_password(client, dana):
    assert fail(client, "dana", 4).status_code == 200
    response = fail(client, "dana", 1)
    assert response.status_code == 429
    assert "Sign-in is paused" in response.content.decode()
    response = sign_in_with_password(client, "dana", PASSWORD)
    assert response.status_code == 429
    assert SESSION_KEY not in client.session


def test_the_lockout_page_does_not_say_whether_the_account_exists(client, dana):
    real = fail(client, "dana", 5)
    invented = fail(client, "nobody-by-this-name", 5)
    assert real.status_code == invented.status_code == 429
    assert page_text(real) == page_text(invented)
    assert "dana" not in page_text(real)


def test_the_lock_lifts_after_fifteen_minutes(client, sam):
    with time_machine.travel(datetime.datetime(2026, 11, 23, 9, 0, tzinfo=datetime.UTC)) as clock:
        fail(client, "sam", 5)
        clock.shift(datetime.timedelta(minutes=14))
        assert sign_in_with_password(client, "sam", PASSWORD).status_code == 429
        clock.shift(datetime.timedelta(minutes=16))
        response = sign_in_with_password(client, "sam", PASSWORD)
        assert response.status_code == 302
        assert SESSION_KEY in client.session


def test_one_person_s_typos_do_not_lock_out_their_colleagues_on_the_school_network(
    client, dana, sam
):
    fail(client, "dana", 5)
    response = sign_in_with_password(client, "sam", PASSWORD)
    assert response.status_code == 302, "Sam shares the school's address with Dana"


def test_an_address_trying_many_usernames_is_locked(client, sam, settings):
    settings.AXES_ADDRESS_FAILURE_LIMIT = 8
    for n in range(8):
        fail(client, f"guess{n}", 1)
    response = sign_in_with_password(client, "sam", PASSWORD)
    assert response.status_code == 429


def test_a_lockout_is_recorded_for_the_administrator(client, dana):
    from axes.models import AccessAttempt

    fail(client, "dana", 5)
    attempt = AccessAttempt.objects.get(username="dana")
    assert attempt.failures_since_start == 5
    assert "not-the-password" not in attempt.post_data, "passwords are never stored"


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-pw1", "at least 12 characters"),
        ("password1234", "too common"),
        ("483920174635", "entirely numeric"),
    ],
)
def test_a_weak_new_password_is_refused_with_the_reason(signed_in, sam, password, reason):
    response = signed_in(sam).post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": password, "new_password2": password},
    )
    assert response.status_code == 200
    assert reason in response.content.decode()
    sam.refresh_from_db()
    assert sam.check_password(PASSWORD)


def test_passwords_are_hashed_with_argon2():
    from config import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    validators = {v["NAME"].rsplit(".", 1)[1]: v for v in project_settings.AUTH_PASSWORD_VALIDATORS}
    assert validators["MinimumLengthValidator"]["OPTIONS"]["min_length"] == 12
    assert "CommonPasswordValidator" in validators


def test_a_signed_in_user_is_not_counted_as_a_failure(signed_in, sam):
    from axes.models import AccessAttempt

    sign_in(signed_in(sam), sam)
    assert not AccessAttempt.objects.exists()


def test_behind_the_tls_proxy_the_address_is_the_one_the_proxy_saw(rf, settings):
    from core.client import client_address

    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.PROXY_COUNT = 1
    request = rf.post(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7"
    )  # the client wrote 6.6.6.6 itself; our proxy appended 203.0.113.7
    assert client_address(request) == "203.0.113.7"
    settings.SECURE_PROXY_SSL_HEADER = None
    assert client_address(request) == "10.0.0.2"
