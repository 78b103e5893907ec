"""The stack comes up for real and a person can sign in and request a visit in Chromium."""

import pytest

from .conftest import axe_violations, screenshot

pytestmark = pytest.mark.e2e


def test_dana_signs_in_and_lands_on_her_queue(person):
    page = person("dana")
    assert page.url.endswith("/visits/queue/")
    assert page.get_by_role("heading", name="Visits waiting for authorisation").is_visible()
    screenshot(page, "queue-desktop")
    assert axe_violations(page) == []
