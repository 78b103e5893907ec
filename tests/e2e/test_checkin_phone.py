"""Issue 13 in the browser, on a phone-sized page: Kit (out now in the demo) sets a check-in PIN
and a duress PIN, says "I've left the visit safely" from My visit with the PIN and his location,
and, with the phone offline once the service worker is installed, My visit still shows the
office's number, 999 and the reply words. At Birchwood, Lena and Joe go out on a short visit: ten
(ladder) minutes before they are due back the reminder reaches Lena's phone by text, and its link
checks her in."""

import os
import re
import time

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


REMINDED_VISIT = """
import datetime
from django.utils import timezone
from schools.models import Pupil, User
from tests.tracking.conftest import authorised_visit, sign_out
lena, joe, bea = (User.objects.get(username=name) for name in ("lena", "joe", "bea"))
pupil = Pupil.objects.filter(school__urn="100002").order_by("pk").first()
visit = authorised_visit(
    lena, pupil, [lena, joe], bea,
    start=timezone.now() + datetime.timedelta(minutes=2), out_of_hours_manager=bea,
)
signout = sign_out(visit, bea, back_in=datetime.timedelta(seconds=40))
print("SIGNOUT", signout.pk)
"""
LENA = "+447700900113"


def test_the_reminder_before_the_return_reaches_the_visitor_and_its_link_checks_her_in(
    browser, stack
):
    # R-TRK-6: the reminder is a due time of the escalation scan (beat, a ladder minute being a
    # second here): 10 minutes before the return it texts each visitor the check-in link and
    # the reply words (R-TRK-5), through the real Twilio client to the fake provider.
    pk = int(re.search(r"SIGNOUT (\d+)", stack.manage("shell", "-c", REMINDED_VISIT)).group(1))
    deadline, reminders = time.monotonic() + 60, []
    while not reminders and time.monotonic() < deadline:
        reminders = [
            text["body"]
            for text in stack.sms.texts()
            if text["to"] == LENA and text["body"].startswith("Homeward: you are due back")
        ]
        time.sleep(0.5)
    assert reminders, stack.manage(
        "shell",
        "-c",
        "from tracking.models import Notification, SignOut\n"
        f"so = SignOut.objects.get(pk={pk})\n"
        "print(so.state, so.reminder_due_at, so.expected_return_at)\n"
        "for n in Notification.objects.filter(signout=so):\n"
        "    print(n.template, n.address, n.status, n.last_error)\n",
    )
    [reminder] = reminders
    assert "Reply SAFE, BACK, HOME" in reminder and "In danger? Call 999." in reminder
    link = re.search(r"https?://\S+/tracking/check-in/\S+/", reminder).group(0)

    phone = browser.new_context(locale="en-GB", timezone_id="Europe/London", **PHONE)
    try:
        page = phone.new_page()
        page.goto(link)
        expect(page.get_by_role("heading", level=1)).to_have_text("Check in")
        assert axe_violations(page) == []
        screenshot(page, "reminder-check-in-phone")
        page.get_by_role("button", name="I'm safe").click()
        expect(page.get_by_role("status")).to_contain_text("the office knows you are safe")
        screenshot(page, "reminder-checked-in-phone")
    finally:
        phone.close()
    state = stack.manage(
        "shell",
        "-c",
        f"from tracking.models import SignOut; print(SignOut.objects.get(pk={pk}).state)",
    )
    assert state.strip().splitlines()[-1] == "left_safely", state
