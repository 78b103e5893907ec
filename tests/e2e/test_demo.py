"""The living demo (seed_demo) in Chromium: each demo person signs in — the DSLs, Head and
manager with the two-factor key seed_demo printed — and lands on a page with something to act
on. Every page is checked with axe-core at desktop and phone width (no serious or critical
violation), and the navigation fits: one line for the DSL at 1366 px."""

import pytest

from .conftest import PHONE, axe_violations, screenshot

pytestmark = pytest.mark.e2e

WIDE = {"width": 1366, "height": 900}


def _clean_at_both_widths(page, name: str) -> None:
    for label, viewport in (("desktop", WIDE), ("phone", PHONE["viewport"])):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(200)
        screenshot(page, f"demo-{name}-{label}")
        assert axe_violations(page) == [], (name, label)
    page.set_viewport_size(WIDE)


def test_dana_finds_requests_to_decide_and_reads_the_risk_before_deciding(person):
    page = person("dana")
    page.set_viewport_size(WIDE)
    page.goto("/visits/queue/")
    assert page.get_by_role("link", name="Decide").count() >= 2
    # R-AUTH-6: the decision page shows the assessment, the flags and the confirmed warnings.
    page.get_by_role("link", name="Decide").first.click()
    assert page.get_by_role("heading", name="Risk assessment").is_visible()
    assert page.get_by_role("heading", name="Household risk flags").is_visible()
    _clean_at_both_widths(page, "dana-decide")
    # The navigation fits on one line at 1366 px.
    bar = page.locator("#nav-links").bounding_box()
    assert bar["height"] < 60, bar
    page.goto("/visits/all/")
    assert page.get_by_role("heading", name="All visits").is_visible()
    _clean_at_both_widths(page, "dana-all-visits")


def test_sam_finds_changes_requested_a_draft_and_a_record_due(person):
    page = person("sam")
    page.goto("/visits/")
    main = page.locator("main").inner_text()
    assert "Changes requested" in main and "Drafts to finish and submit" in main
    assert "the Home Visit record is due" in main
    _clean_at_both_widths(page, "sam-my-visits")


def test_olive_sees_two_pairs_out_on_the_board(person):
    page = person("olive")
    page.goto("/tracking/board/")
    assert page.get_by_role("button", name="Back at school").count() >= 2 or (
        "Back at school" in page.locator("main").inner_text()
    )
    assert "Conditions" in page.locator("main").inner_text()
    _clean_at_both_widths(page, "olive-board")


def test_a_visitor_out_now_has_the_address_the_conditions_and_a_call_to_the_office(person):
    page = person("ravi", phone=True)
    page.goto("/tracking/my-visit/")
    main = page.locator("main").inner_text()
    assert "Conditions" in main and "Call the office" in main
    assert page.get_by_role("button", name="I need help").is_visible()
    assert axe_violations(page) == []


@pytest.mark.parametrize(
    ("username", "path", "something_to_act_on"),
    [
        ("hugh", "/visits/queue/", "Decide"),
        ("tess", "/visits/", "Waiting for authorisation"),
        ("max", "/tracking/escalations/", "Escalations"),
        ("bea", "/visits/queue/", "Decide"),
        ("ade", "/tracking/my-visit/", "I need help"),
    ],
)
def test_every_demo_person_lands_with_something_to_act_on(
    person, username, path, something_to_act_on
):
    page = person(username)
    page.goto(path)
    assert something_to_act_on.lower() in page.locator("main").inner_text().lower()
    assert axe_violations(page) == []


def test_oscar_from_another_school_sees_nothing_of_oakfield(person):
    page = person("oscar")
    page.goto("/visits/all/")
    assert "Oakfield" not in page.locator("main").inner_text()
