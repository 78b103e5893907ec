"""Behind the load balancer every request arrives from the proxy's address: rate limits and
lockouts key on the client's own address, read from X-Forwarded-For (PROXY_COUNT entries from
the right), through one helper, core.client.client_address."""

import datetime

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.auth import sign_in_with_password

from .conftest import NOON
from .test_checkin_link import link_path

PROXY = "10.0.0.2"  # HAProxy: every request's REMOTE_ADDR


@pytest.fixture(autouse=True)
def _behind_the_proxy(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.PROXY_COUNT = 1
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def overdue(clock, signout, scan):
    """Sam and Tess are overdue: each has had a text with a check-in link."""
    clock.move_to(NOON + datetime.timedelta(hours=1, minutes=15))
    scan()
    return signout


def via_proxy(client_ip: str) -> dict:
    """What HAProxy sends on: its own address, and the client's appended to the header."""
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": client_ip}


def test_a_flood_of_check_in_link_guesses_from_one_client_does_not_rate_limit_another(
    client,
    overdue,
    sam,
):
    for number in range(25):
        client.get(
            reverse("tracking:checkin", args=[f"{number}:guess:guess"]), **via_proxy("198.51.100.7")
        )
    flooded = client.get(link_path(sam), **via_proxy("198.51.100.7"))
    assert flooded.status_code == 429
    # The visitor, behind the same proxy, still gets the page with its two buttons.
    response = client.get(link_path(sam), **via_proxy("203.0.113.20"))
    assert response.status_code == 200
    assert "I'm safe" in response.content.decode()


def test_a_client_cannot_dodge_the_check_in_rate_limit_by_writing_its_own_forwarded_header(
    client,
    overdue,
):
    # The left-most entries are the client's own writing; only the proxy's entry counts.
    for number in range(20):
        client.get(
            reverse("tracking:checkin", args=[f"{number}:guess:guess"]),
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{number}, 198.51.100.7",
        )
    response = client.get(
        reverse("tracking:checkin", args=["1:guess:guess"]),
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="192.0.2.99, 198.51.100.7",
    )
    assert response.status_code == 429


def test_a_flood_of_failed_sign_ins_from_one_client_does_not_lock_out_another(
    client, settings, sam
):
    settings.AXES_ADDRESS_FAILURE_LIMIT = 10
    for number in range(12):
        sign_in_with_password(
            client, f"nobody-{number}", "not-the-password", **via_proxy("198.51.100.7")
        )
    # The flooding address is locked...
    locked = sign_in_with_password(
        client, "sam", "correct-horse-battery", **via_proxy("198.51.100.7")
    )
    assert locked.status_code == 429
    # ...and Sam, at school behind the same load balancer, signs in.
    response = sign_in_with_password(
        client, "sam", "correct-horse-battery", **via_proxy("203.0.113.20")
    )
    assert response.status_code == 302
