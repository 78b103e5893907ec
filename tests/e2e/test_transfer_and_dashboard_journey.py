"""Issue 17 in real browsers, against the real stack (tests/e2e/stack.py): Dana, the DSL at
Oakfield, marks a pupil with a safeguarding file as leaving and sends the file to Birchwood; Bea,
Birchwood's DSL, is emailed, reviews the offer and accepts it (R-REC-8); then Tara, the trust's
safeguarding lead, opens the trust dashboard and sees both schools side by side, with its charts
and the small numbers shown as "fewer than 5".

Every page is checked with axe-core (no serious or critical violation) and screenshotted at
desktop and phone width into var/e2e/screenshots."""

import datetime
import time
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, axe_violations, screenshot, shell

pytestmark = pytest.mark.e2e

WIDE = {"width": 1366, "height": 900}

# The world this journey needs beyond seed_demo, built straight into the stack's database (the
# test is about what the people do next): Zara, an Oakfield pupil whose file is one phone call
# logged about her, and Tara, the trust's safeguarding lead. Running it twice changes nothing.
WORLD = """
import datetime
from django.utils import timezone
from contacts.services import contact_log_create
from schools.models import Household, Pupil, School, Trust, User
from schools.services import trust_role_add

oakfield = School.objects.get(urn="100001")
household, _ = Household.objects.get_or_create(
    school=oakfield,
    address_line_1="4 Heron Walk",
    defaults={"town": "Leeds", "postcode": "LS6 3QP"},
)
zara, made = Pupil.objects.get_or_create(
    school=oakfield,
    household=household,
    first_name="Zara",
    last_name="Whitmore",
    defaults={"date_of_birth": datetime.date(2016, 4, 2), "year_group": "5"},
)
if made:
    contact_log_create(
        actor=User.objects.get(username="sam"),
        household=household,
        pupil=zara,
        counterpart="family",
        contacted="Mrs Whitmore (mother)",
        channel="phone",
        outcome="spoke_to_parent",
        occurred_at=timezone.now(),
        notes="Mother says the family moves to Birchwood's catchment next week.",
    )
tara, made = User.objects.get_or_create(
    username="tara",
    defaults={"first_name": "Tara", "last_name": "Ellis", "email": "tara@trust.school.example"},
)
if made:
    tara.set_password("homeward-demo-2026")
    tara.save()
    trust = Trust.objects.get(name="Aire Valley Learning Trust")
    trust_role_add(actor=None, user=tara, trust=trust)
"""


def _clean_at_both_widths(page, name: str) -> None:
    size = page.viewport_size
    for label, viewport in (("desktop", WIDE), ("phone", PHONE["viewport"])):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(200)
        screenshot(page, f"{name}-{label}")
        violations = axe_violations(page)
        assert violations == [], (page.url, label, violations)
    page.set_viewport_size(size or DESKTOP["viewport"])


def _emails_to(stack, address_start: str, subject_word: str, timeout: float = 30) -> list:
    """The messages to someone whose address starts so, sent by the stack's Celery worker."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [
            item["message"]
            for item in stack.mailbox.messages
            if any(a.startswith(address_start) for a in item["to"])
            and subject_word in item["message"]["subject"]
        ]
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"no email about {subject_word!r} reached {address_start}")


def test_bea_accepts_a_file_dana_sends_and_the_trust_lead_sees_the_dashboard(person, stack):
    """R-REC-8 end to end in the browser, then the trust's dashboard (issue 17)."""
    shell(stack, WORLD)
    today = datetime.datetime.now(ZoneInfo("Europe/London")).date()

    # Dana finds Zara, marks her as leaving today, and offers her file to Birchwood.
    dana = person("dana")
    dana.set_viewport_size(WIDE)
    dana.goto("/directory/pupils/?q=Whitmore")
    dana.get_by_role("link", name="Zara Whitmore").click()
    dana.get_by_role("link", name="Leaving and file transfer").click()
    dana.get_by_role("link", name="Mark as leaving").click()
    dana.get_by_label("The day the pupil left (or will leave)").fill(today.isoformat())
    dana.get_by_label("Moving to (school), if known").fill("Birchwood Academy")
    dana.get_by_role("button", name="Save").click()
    expect(dana.locator("main")).to_contain_text("Due at the new school by")
    _clean_at_both_widths(dana, "transfer-pupil")
    dana.get_by_role("link", name="Send to a school on Homeward").click()
    dana.get_by_label("The school the pupil is moving to").select_option(label="Birchwood Academy")
    _clean_at_both_widths(dana, "transfer-offer")
    dana.get_by_role("button", name="Send").click()
    expect(dana.locator("main")).to_contain_text("Waiting for the new school to accept")

    # Birchwood's DSL is told by email, with no child's details in it.
    offer = _emails_to(stack, "bea@", "child protection file is offered")[-1]
    body = offer.get_body(preferencelist=("plain",)).get_content()
    assert "Zara" not in body and "Whitmore" not in body

    # Bea reviews the offer and accepts it: the file is Birchwood's, as sealed documents.
    bea = person("bea")
    bea.set_viewport_size(WIDE)
    bea.goto("/transfers/")
    offered = bea.locator("li", has_text="A file from Oakfield Primary School")
    offered.get_by_role("link", name="Review and accept").click()
    expect(bea.locator("main")).to_contain_text("Pupil: Zara Whitmore")
    _clean_at_both_widths(bea, "transfer-accept")
    bea.get_by_role("button", name="Accept the file").click()
    expect(bea.get_by_role("status").first).to_contain_text("The file is accepted")
    expect(bea.locator("h1")).to_have_text("Zara Whitmore")
    expect(bea.locator("main")).to_contain_text("Birchwood Academy")
    expect(bea.get_by_role("link", name="Whole safeguarding file")).to_be_visible()
    expect(bea.get_by_role("link", name="Chronology (CSV)")).to_be_visible()
    _clean_at_both_widths(bea, "transfer-received")

    # Dana's page now holds the receipt, on time, and only the receipt.
    dana.reload()
    receipts = dana.get_by_role("heading", name="Transfer receipts").locator("xpath=..")
    expect(receipts).to_contain_text("Received")
    expect(receipts).to_contain_text("Bea Lindqvist (Accepted on Homeward), on time")
    expect(receipts).to_contain_text("keeps the receipt only")

    # Tara opens the trust dashboard and chooses the last two months and the next one (the
    # transfer falls due within it): both schools side by side, the charts drawn, and the one
    # transfer shown as "fewer than 5" across the trust.
    tara = person("tara")
    tara.set_viewport_size(WIDE)
    tara.goto("/insights/")
    expect(tara.locator("h1")).to_have_text("Safeguarding visits: Aire Valley Learning Trust")
    tara.get_by_label("Or from").fill((today - datetime.timedelta(days=60)).isoformat())
    tara.get_by_label("to", exact=True).fill((today + datetime.timedelta(days=30)).isoformat())
    tara.get_by_role("button", name="Show").click()
    expect(tara.locator("main")).to_contain_text(f"{today + datetime.timedelta(days=30):%d/%m/%Y}")
    charts = tara.locator("svg.hw-chart")
    expect(charts).to_have_count(2)
    for i in range(2):
        expect(charts.nth(i)).to_be_visible()
        assert charts.nth(i).bounding_box()["height"] > 100
    weekly = tara.get_by_role("img", name="Visits requested each week")
    expect(weekly).to_be_visible()
    transfers = tara.locator("table", has_text="Child protection file transfers due")
    expect(transfers.get_by_role("row", name="Oakfield Primary School")).to_contain_text(
        "fewer than 5"
    )
    expect(transfers.get_by_role("row", name="Birchwood Academy")).to_be_visible()
    assert "Zara" not in tara.locator("main").inner_text()
    _clean_at_both_widths(tara, "trust-dashboard")
