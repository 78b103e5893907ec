"""The whole journey in real browsers, each person in their own browser context, against the
real stack (gunicorn, PostgreSQL, a Celery worker and beat on Redis, SMTP and a fake Twilio on
loopback). A ladder "minute" lasts one second here (ESCALATION_MINUTE_SECONDS=1), so the
15-minute grace and the manager's step pass in seconds; the expected return is a real clock time.

Every main page visited is checked with axe-core (no serious or critical violation) and
screenshotted at desktop or phone size into var/e2e/screenshots."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, axe_violations, screenshot

pytestmark = pytest.mark.e2e

# The demo pupils (seed_demo): Layla's household is plain (two numbers, no flags); Harry's is
# self-isolating; Grace's is plain too.
LAYLA = "Iqbal, Layla (Year 4)"
HARRY = "Fraser, Harry (Year 6)"
GRACE = "Evans, Grace (Year 5)"


def _clock(minutes_ahead: float) -> datetime.datetime:
    """School time (Europe/London) `minutes_ahead` from now, as the people in the test see it."""
    from zoneinfo import ZoneInfo

    return datetime.datetime.now(ZoneInfo("Europe/London")) + datetime.timedelta(
        minutes=minutes_ahead
    )


def _accessible(page, name: str) -> None:
    """A main page, at desktop and at phone width: no serious or critical axe-core violation,
    and a screenshot of each (var/e2e/screenshots/<name>-desktop.png and -phone.png)."""
    size = page.viewport_size
    for label, viewport in (("desktop", DESKTOP["viewport"]), ("phone", PHONE["viewport"])):
        page.set_viewport_size(viewport)
        screenshot(page, f"{name}-{label}")
        violations = axe_violations(page)
        assert violations == [], (page.url, label, violations)
    page.set_viewport_size(size)


def _request_visit(page, *, pupil: str, kind: str = "Home visit", start_in: int = 5) -> int:
    """Sam's request form, as he fills it in; saved as a draft. Returns the visit's number."""
    page.goto("/visits/new/")
    # The searchable pupil picker (static/js/combobox.js): type, then choose the pupil.
    page.get_by_role("combobox", name="Pupil").fill(pupil)
    page.get_by_role("option", name=pupil).first.click()
    page.get_by_label(kind, exact=True).check()
    page.get_by_label("Reason*").select_option(label="Attendance issues or concerns")
    page.get_by_label("Purpose of the visit").fill(
        "Eight days missed this half term and no answer to letters; see the family."
    )
    start = _clock(start_in)
    page.get_by_label("Date*").fill(start.strftime("%Y-%m-%d"))
    page.get_by_label("Start*").fill(start.strftime("%H:%M"))
    page.get_by_label("End*").fill((start + datetime.timedelta(minutes=30)).strftime("%H:%M"))
    page.get_by_label("Back (or phoning in) by").fill(
        (start + datetime.timedelta(minutes=45)).strftime("%H:%M")
    )
    # Before 08:00 or after 18:00 a manager must be named (R-REQ-4); harmless in the day.
    page.get_by_label("Out of hours manager").select_option(label="Max Fielding — Business manager")
    page.get_by_label("Visitor 2", exact=True).select_option(
        label="Tess Okafor — Family support worker"
    )
    page.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_role("status").first).to_contain_text("Saved.")
    return int(re.search(r"/visits/(\d+)/", page.url).group(1))


def _assess_standard(page, visit: int) -> None:
    """The standard (lone working) assessment: 001's hazards come rated and controlled; Sam
    answers 003's preparation questions (R-RA-4)."""
    page.goto(f"/risk/visits/{visit}/assessment/")
    page.get_by_label("If you are refused entry").fill(
        "Leave calmly, tell the DSL and agree a letter home."
    )
    page.get_by_label("Who will be present").fill("Layla and her mother.")
    page.get_by_label("Anyone who must not be there").fill("None known")
    page.get_by_label("Seen with their parent or carer present").check()
    page.get_by_label("Who else should come").fill("Nobody else")
    page.get_by_label("Contingency plan").fill(
        "Sam leads, Tess stays near the door; leave if voices are raised."
    )
    page.get_by_label("The visit must happen by").fill(_clock(0).strftime("%Y-%m-%d"))
    page.get_by_label("If you do not gain access").fill(
        "Card through the door and a call the same afternoon."
    )
    page.get_by_role("button", name="Save the risk assessment").click()
    expect(page.get_by_role("status").first).to_contain_text("Risk assessment saved.")


def _submit(page, visit: int) -> None:
    page.goto(f"/visits/{visit}/")
    page.get_by_role("button", name="Submit for authorisation").click()
    page.wait_for_load_state()
    warnings = page.get_by_role("button", name="I have read the warnings: submit")
    if warnings.count():  # an evening run: R-REQ-4's warning, read and accepted
        warnings.click()
        page.wait_for_load_state()
    assert page.url.endswith(f"/visits/{visit}/")


def test_a_visit_from_request_through_an_overdue_alarm_to_its_record_and_pdf(person, stack):
    # Sam requests a visit for today with Tess and fills the standard risk assessment.
    sam = person("sam")
    visit = _request_visit(sam, pupil=LAYLA)
    _accessible(sam, "visit-draft")
    _assess_standard(sam, visit)
    _accessible(sam, "risk-assessment")
    _submit(sam, visit)
    expect(sam.locator("main")).to_contain_text("Submitted")

    # Dana signs in with her authenticator app and authorises it from her queue.
    dana = person("dana")
    assert dana.url.endswith("/visits/queue/")
    row = dana.get_by_role("row", name=re.compile(f"#{visit} Layla Iqbal"))
    expect(row).to_be_visible()
    _accessible(dana, "queue")
    row.get_by_role("link", name="Decide").click()
    _accessible(dana, "decide")
    dana.get_by_label("Authorise the visit").check()
    dana.get_by_role("button", name="Record the decision").click()
    expect(dana.get_by_role("status").first).to_contain_text("Decision recorded")

    # Olive signs Sam and Tess out, expected back in about a minute.
    olive = person("olive")
    olive.goto("/tracking/board/")
    waiting = olive.get_by_role("region", name="Waiting to sign out today")
    # The demo has other visits waiting too: Sam and Tess's is the one with this visit's link.
    waiting.locator(f'a[href="/tracking/visits/{visit}/sign-out/"]').click()
    _accessible(olive, "sign-out")
    olive.get_by_label("Vehicle").fill("Blue Ford Fiesta YX19 ABC")
    back = _clock(1.5).replace(second=0, microsecond=0)
    olive.get_by_label("Expected back (or phoning in) at").fill(back.strftime("%Y-%m-%dT%H:%M"))
    olive.get_by_role("button", name="Sign them out").click()
    # (Another test may have left Sam and Tess out on another visit: this one is in the Fiesta.)
    card = olive.get_by_role("article", name="Sam Patel and Tess Okafor").filter(
        has_text="Blue Ford Fiesta YX19 ABC"
    )
    expect(card).to_contain_text("On time")
    _accessible(olive, "board")

    # The expected return passes, then the 15 "minutes" of grace (seconds here): the board,
    # refreshing itself every 5 s (htmx), turns overdue without anybody reloading it (R-TRK-3).
    url_before = olive.url
    # (Its state is the row's badge: "Next: Overdue: the office alerted at ..." is in the row
    # from the start.)
    expect(card.locator("header .badge")).to_contain_text(OVERDUE, timeout=150_000)
    assert olive.url == url_before
    _accessible(olive, "board-overdue")

    # Olive calls both mobiles and records each failed call (R-ESC-2).
    calls_page = card.get_by_role("link", name="Record a call").get_attribute("href")
    for number in ("Sam Patel — 07700 900101", "Tess Okafor — 07700 900102"):
        olive.goto(calls_page)
        olive.get_by_label("Number called").select_option(label=number)
        olive.get_by_label("No answer").check()
        olive.get_by_role("button", name="Record the call").click()
        olive.wait_for_load_state()
    olive.goto(calls_page)
    _accessible(olive, "record-a-call")
    expect(olive.locator("main")).to_contain_text("No answer")

    # Max, the manager, is emailed and texted the emergency page (R-ESC-3)...
    signout = int(re.search(r"/tracking/(\d+)/calls/", calls_page).group(1))
    emergency = _wait_for_manager_alerts(stack, signout)
    max_ = person("max")
    max_.goto(emergency)
    expect(max_.get_by_role("heading", level=1)).to_contain_text("Emergency: Sam Patel and Tess")
    expect(max_.locator("main")).to_contain_text("Blue Ford Fiesta YX19 ABC")
    _accessible(max_, "emergency")
    # ... and records what he did and the outcome, which resolves the case (R-ESC-4).
    max_.get_by_role("link", name="Record your decision").click()
    _accessible(max_, "decision")
    max_.get_by_label("Contacted the visitor").check()
    max_.get_by_label("Notes").fill("Sam answered on the third try: still with the family, safe.")
    max_.get_by_label("Outcome").select_option(label="Visitors found safe")
    max_.get_by_role("button", name=re.compile("Record")).click()
    expect(max_.get_by_role("status").first).to_contain_text("the case is resolved")

    # Sam, on his phone, marks them back at school, then writes the Home Visit form.
    sam_phone = person("sam", phone=True)
    sam_phone.goto("/tracking/my-visit/")
    _accessible(sam_phone, "my-visit")
    # One tap asks again (a stray tap must not close tracking); confirming leads to the record.
    sam_phone.get_by_role("link", name="Back at school").click()
    sam_phone.get_by_role("button", name="Back at school").click()
    expect(sam_phone.get_by_role("status").first).to_contain_text("back at school")
    assert f"/records/visits/{visit}/edit/" in sam_phone.url
    sam_phone.goto(f"/records/visits/{visit}/edit/")
    _accessible(sam_phone, "home-visit-form")
    _write_record(sam_phone)
    _accessible(sam_phone, "record")

    # The PDF of the Home Visit form opens and holds the visit's values.
    with sam_phone.expect_download() as download:
        sam_phone.get_by_role("link", name="Download PDF").click()
    text = _pdf_text(download.value.path())
    for value in (
        f"#{visit}",
        "Layla Iqbal",
        "Sam Patel",
        "Tess Okafor",
        "Miss, I want to come back after the holidays",
        "Child seen, no concerns",
    ):
        assert value in text, value


OVERDUE = re.compile("Overdue|Manager alerted")


def _wait_for_manager_alerts(stack, signout: int) -> str:
    """Max's email and text about this sign-out (polled until they arrive; an earlier test may
    have alerted him about another): both carry the emergency page's link, and neither holds
    the child's name or address."""
    import time

    page = f"/tracking/{signout}/emergency/"
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        emails = [
            message
            for message in stack.mailbox.to("max@100001.school.example")
            if page in message.get_body(preferencelist=("plain",)).get_content()
        ]
        texts = [t for t in stack.sms.texts() if t["to"] == "+447700900106" and page in t["body"]]
        if emails and texts:
            break
        time.sleep(0.5)
    if not emails:
        print(
            stack.manage(
                "shell",
                "-c",
                "from tracking.models import Notification, EscalationStep, SignOut\n"
                f"so = SignOut.objects.get(pk={signout})\n"
                "print('STATE', so.state, so.escalation_stage, so.manager_step, so.chain_user_ids,"
                " so.acknowledged_at, so.visit.out_of_hours, so.visit.out_of_hours_manager_id)\n"
                f"for s in EscalationStep.objects.filter(signout_id={signout}).order_by('pk'):\n"
                "    print('STEP', s.number, s.kind, s.due_at, s.fired_at)\n"
                f"for n in Notification.objects.filter(signout_id={signout}).order_by('pk'):\n"
                "    print('NOTE', n.channel, n.template, n.address, n.status, n.step_id)\n",
            )
        )
    assert emails, (
        "Max was not emailed",
        page,
    )
    assert texts, "Max was not texted"
    email = emails[-1].get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://\S+/tracking/\d+/emergency/", texts[-1]["body"]).group(0)
    assert link in email
    for private in ("Layla", "Iqbal", "Ivy Terrace"):
        assert private not in texts[-1]["body"]
    return link


def _eventually(check, *, seconds: float = 30) -> bool:
    """Poll `check` until it is true or `seconds` pass (the worker sends after the commit)."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.25)
    return bool(check())


def _write_record(page) -> None:
    # Layla's part of the form: the fieldset that asks whether she was seen.
    layla = page.locator("fieldset").filter(
        has=page.get_by_role("group", name="Was the child seen?")
    )
    layla.get_by_label("Yes, seen").check()
    layla.get_by_label("Spoken to", exact=True).check()
    # R-REC-2: not seen alone, so the record says why.
    layla.get_by_label("If not seen, spoken to or seen alone: why not").fill(
        "Her mother stayed in the room; Layla was happy to talk with her there."
    )
    layla.get_by_label("What the child said, in their own words").fill(
        '"Miss, I want to come back after the holidays"'
    )
    layla.get_by_label("Physical presentation").fill("Well, tired.")
    layla.get_by_label("Emotional presentation").fill("Quiet at first, then chatty.")
    for question in ("Clothing (weather-appropriate, clean)", "Hunger", "Cleanliness"):
        layla.get_by_role("group", name=question).get_by_label("No concern").check()
    page.get_by_label("Who else was present").fill("Her mother.")
    page.get_by_label("How the adults presented").fill("Calm and welcoming.")
    page.get_by_label("The home (what you could see)").fill("Tidy front room, warm.")
    page.get_by_label("No, the family did not want help").check()
    page.get_by_label("Child seen, no concerns").check()
    page.get_by_label("Outcome in your words").fill("Layla will be back on Monday.")
    page.get_by_label("The parent or guardian declined to sign").check()
    page.get_by_label("Action required").fill("Attendance check on Monday.")
    with page.expect_navigation():
        page.get_by_role("button", name="Submit the record").click()
    if page.url.endswith("/edit/"):  # refused: say what the page said
        screenshot(page, "home-visit-form-refused")
        raise AssertionError(page.locator("main").inner_text())
    expect(page.get_by_role("status").first).to_contain_text("The record is submitted")


def _pdf_text(path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(path)
    return " ".join(page.extract_text() for page in reader.pages)


def test_a_doorstep_visit_to_a_self_isolating_household_cannot_be_submitted(person):
    # R-RA-7: 000 point 16 — "Not safe — the visit must not be undertaken".
    sam = person("sam")
    visit = _request_visit(sam, pupil=HARRY, kind="Doorstep visit (no entry)")
    sam.goto(f"/risk/visits/{visit}/doorstep/")
    expect(
        sam.get_by_role("heading", name="Not safe — the visit must not be undertaken")
    ).to_be_visible()
    _accessible(sam, "doorstep-not-safe")
    # The request says why it cannot go ahead, and offers no way to submit it.
    sam.goto(f"/visits/{visit}/")
    expect(sam.locator("main")).to_contain_text("the family is self-isolating")
    expect(sam.locator("main")).to_contain_text("Draft")
    expect(sam.get_by_role("button", name="Submit for authorisation")).to_have_count(0)
    _accessible(sam, "doorstep-blocked")


def _tab_to(page, locator, *, most: int = 80) -> None:
    """Press Tab (only) until `locator` has the keyboard focus."""
    for _ in range(most):
        if locator.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {locator}")


def test_dana_refuses_a_visit_with_a_reason_using_the_keyboard_alone(person, stack):
    sam = person("sam")
    visit = _request_visit(sam, pupil=GRACE)
    _assess_standard(sam, visit)
    _submit(sam, visit)

    dana = person("dana")
    dana.goto(f"/visits/{visit}/decide/")
    _accessible(dana, "decide-refusal")
    # The decision form with the keyboard alone: Tab to the choices, arrows to choose,
    # typing, and Enter to send.
    _tab_to(dana, dana.get_by_label("Authorise the visit"))
    dana.keyboard.press("ArrowDown")
    dana.keyboard.press("ArrowDown")
    expect(dana.get_by_label("Refuse the visit")).to_be_checked()
    # R-AUTH-4: first without a reason: refused, in plain English, and nothing decided.
    _tab_to(dana, dana.get_by_role("button", name="Record the decision"))
    dana.keyboard.press("Enter")
    expect(dana.locator("main")).to_contain_text("Give the reason for refusing the visit.")
    _accessible(dana, "decide-error")
    reason = "Grace's social worker visits tomorrow; a school visit the same day is not needed."
    _tab_to(dana, dana.get_by_label("What to change, or why it is refused"))
    dana.keyboard.type(reason)
    _tab_to(dana, dana.get_by_role("button", name="Record the decision"))
    dana.keyboard.press("Enter")
    expect(dana.get_by_role("status").first).to_contain_text("Decision recorded")

    sam.goto(f"/visits/{visit}/")
    expect(sam.locator("main")).to_contain_text("Refused")
    expect(sam.locator("main")).to_contain_text(reason)
    # The worker emails Sam (polled: it is sent after the decision is committed).
    subject = f"Homeward: Visit #{visit} has been refused"
    assert _eventually(
        lambda: (
            subject in [m["subject"].strip() for m in stack.mailbox.to("sam@100001.school.example")]
        )
    )


# The pages in the navigation, and the other pages people use every day (R-SEC-1 scoping
# aside, Dana as the DSL may open all of them).
MAIN_PAGES = {
    "my-visits": "/visits/",
    "request-form": "/visits/new/",
    "calendar": "/visits/calendar/",
    "data-quality": "/visits/data-quality/",
    "pupils": "/directory/pupils/",
    "records": "/records/",
    "my-actions": "/records/actions/mine/",
    "escalations": "/tracking/escalations/",
    "missing-contact": "/risk/missing-contact/",
    "audit": "/audit/",
    "two-factor": "/accounts/two-factor/",
}


def test_every_main_page_passes_axe_at_desktop_and_phone_size(person):
    dana = person("dana")
    for name, path in MAIN_PAGES.items():
        response = dana.goto(path)
        assert response.status == 200, path
        _accessible(dana, name)
    dana.goto("/directory/pupils/")
    dana.get_by_role("link", name=re.compile("Iqbal")).first.click()
    _accessible(dana, "pupil")
