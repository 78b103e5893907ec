"""R-ESC-9: the Headteacher orders the escalation chain in Chromium, on a desktop and a phone,
with plain buttons (no script needed); the page passes axe."""

import pytest

from .conftest import axe_violations, screenshot

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_hugh_orders_the_escalation_chain(person, phone):
    # R-ESC-9
    page = person("hugh", phone=phone)
    if phone:
        page.set_viewport_size({"width": 390, "height": 844})
    else:
        page.set_viewport_size({"width": 1366, "height": 900})
    page.goto("/tracking/escalation-chain/")
    assert page.get_by_role("heading", name="Escalation chain").is_visible()
    chain = page.locator("#chain-order").locator("xpath=..").locator("ol li")
    if chain.count() < 2:
        for _ in range(2 - chain.count()):
            page.get_by_label("Add somebody to the end of the chain").select_option(index=1)
            page.get_by_role("button", name="Add to the chain").click()
            assert page.get_by_text("added to the end of the chain").is_visible()
    second = chain.nth(1).locator("span.me-auto").inner_text().strip()
    chain.nth(1).get_by_role("button", name="Move up").click()
    assert page.get_by_text("The chain's order was saved.").is_visible()
    assert chain.first.locator("span.me-auto").inner_text().strip() == second
    screenshot(page, f"escalation-chain-{'phone' if phone else 'desktop'}")
    assert axe_violations(page) == []
