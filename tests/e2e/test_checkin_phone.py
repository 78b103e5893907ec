"""Issue 13 in the browser, on a phone-sized page: Kit (out now in the demo) sets a check-in PIN
and a duress PIN, says "I've left the visit safely" from My visit with the PIN and his location,
and, with the phone offline once the service worker is installed, My visit still shows the
office's number, 999 and the reply words."""

import os

import pytest
from playwright.sync_api import expect

from .conftest import PHONE, axe_violations, screenshot

# Playwright's offline mode does not reach a service worker's own fetches (microsoft/playwright
# #2311): with these events on, the test aborts them too, as a phone with no data would.
os.environ.setdefault("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")

LEEDS = {"latitude": 53.800755, "longitude": -1.549077, "accuracy": 20}


@pytest.fixture
def kit_phone(browser, stack, person):
    """Kit's phone: signed in, allowed to give its position (he is asked by the page)."""
    page = person("kit", phone=True)
    page.context.grant_permissions(["geolocation"], origin=stack.url)
    page.context.set_geolocation(LEEDS)
    return page


def test_a_pin_check_in_from_my_visit_with_the_location_shared(kit_phone):
    page = kit_phone
    page.goto("/tracking/my-pins/")
    page.get_by_label("Check-in PIN (4 to 6 digits)").fill("2468")
    page.get_by_label("Duress PIN (4 to 6 digits, different)").fill("97531")
    page.get_by_role("button", name="Set my PINs").click()
    expect(page.get_by_role("status").first).to_contain_text("Your PINs are set")
    assert axe_violations(page) == []
    screenshot(page, "pins-phone")

    page.goto("/tracking/my-visit/")
    section = page.locator("section").filter(has=page.get_by_role("button", name="I've left"))
    section.get_by_label("Your check-in PIN").fill("2468")
    section.get_by_label("Share my location with this check-in").check()
    expect(section.locator("[data-share-status]")).to_contain_text("Location ready")
    assert axe_violations(page) == []
    screenshot(page, "my-visit-pin-phone")
    section.get_by_role("button", name="I've left the visit safely").click()
    expect(page.get_by_role("status").first).to_contain_text("left the visit safely")


def test_my_visit_offline_shows_the_office_999_and_the_reply_words(kit_phone, stack):
    page = kit_phone
    page.goto("/tracking/my-visit/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function(
        "caches.keys().then(keys => Promise.all(keys.map(k => caches.open(k).then("
        "c => c.match('/tracking/my-visit/offline/'))))).then(found => found.some(Boolean))",
        timeout=30_000,
    )
    page.reload()  # now controlled by the worker
    page.context.set_offline(True)
    page.context.route(
        "**/*",
        lambda route: (
            route.abort("internetdisconnected")
            if route.request.service_worker
            else route.continue_()
        ),
    )
    try:
        page.goto("/tracking/my-visit/")
        main = page.locator("main")
        expect(main).to_contain_text("no connection")
        expect(page.get_by_role("link", name="999")).to_have_attribute("href", "tel:999")
        expect(main).to_contain_text("Call the office")
        for word in ("SAFE", "BACK", "HOME", "FINE", "HELP"):
            expect(main).to_contain_text(word)
        screenshot(page, "my-visit-offline-phone")
    finally:
        page.context.unroute("**/*")
        page.context.set_offline(False)


def test_the_pin_and_offline_pages_at_desktop_width(stack, person):
    page = person("kit")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto("/tracking/my-pins/")
    screenshot(page, "pins-desktop")
    page.goto("/tracking/my-visit/offline/")
    screenshot(page, "my-visit-offline-desktop")
    assert axe_violations(page) == []
    page.set_viewport_size(PHONE["viewport"])
