"""Browser tests: Playwright driving Debian's Chromium against the real stack (tests/e2e/stack.py).

Run with `make e2e` (it installs Chromium and axe-core, and needs PostgreSQL and Redis)."""

import base64
import os
import re
import time
from pathlib import Path

import pytest

from .stack import ROOT, Stack

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "var" / "e2e" / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "homeward-demo-2026"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture(scope="session")
def stack():
    """The whole stack, with a ladder "minute" of one second (ESCALATION_MINUTE_SECONDS) so an
    overdue visit escalates in test time, and the SMS sent through the real Twilio client to a
    fake Twilio on loopback whose texts the test reads (`stack.sms.texts()`). The client secret
    of Oakfield's Microsoft sign-in is in its environment, as in production, for the single
    sign-on journey (test_sso_journey.py registers the provider when it runs)."""
    from tests.sso.conftest import CLIENT_SECRET
    from tests.tracking.fake_providers import TWILIO_SID, TWILIO_TOKEN, fake_sms_provider

    with fake_sms_provider() as sms:
        app = Stack(
            extra_env={
                "ESCALATION_MINUTE_SECONDS": "1",
                "SMS_BACKEND": "tracking.sms.TwilioBackend",
                "TWILIO_ACCOUNT_SID": TWILIO_SID,
                "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
                "TWILIO_FROM": "+447700900999",
                "TWILIO_API_BASE_URL": sms.url,
                "SSO_CLIENT_SECRET_OAKFIELD_MICROSOFT": CLIENT_SECRET,
            }
        )
        app.sms = sms
        app.start()
        AUTHENTICATORS.update(demo_authenticators(app.seed_output))
        yield app
        app.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


# Each person's session cookies after their first sign-in in this run (see `person`).
SESSIONS: dict[str, list] = {}


@pytest.fixture
def person(browser, stack):
    """`person("dana")` → a page in Dana's own browser context, signed in."""
    contexts = []

    def open_as(username: str, *, phone: bool = False):
        context = browser.new_context(
            base_url=stack.url,
            locale="en-GB",
            timezone_id="Europe/London",
            # Bootstrap then skips its colour transitions: axe sees the settled colours.
            reduced_motion="reduce",
            **(PHONE if phone else DESKTOP),
        )
        contexts.append(context)
        page = context.new_page()
        if username in SESSIONS:
            # Signed in earlier in this run: the same browser session, as after a page reload.
            context.add_cookies(SESSIONS[username])
            page.goto("/")
        else:
            sign_in(page, username, stack)
            SESSIONS[username] = context.cookies()
        return page

    yield open_as
    for context in contexts:
        context.close()


# The sign-in's second step: the code box of the token form.
TOKEN_BOX = 'input[name="token-otp_token"]'

# The authenticator app of each person who set one up in this session: TOTP secret, last step.
AUTHENTICATORS: dict[str, dict] = {}


def demo_authenticators(seed_output: str) -> dict[str, dict]:
    """The authenticator key seed_demo printed for each enrolled demo user."""
    found = {}
    for line in seed_output.splitlines():
        match = re.match(r"\s+(\w+)\s+key ([A-Z2-7 ]+?)\s{2,}backup codes", line)
        if match:
            key = base64.b32decode(match.group(2).replace(" ", ""))
            found[match.group(1)] = {"key": key, "last": -1}
    return found


def demo_backup_codes(seed_output: str, username: str) -> list[str]:
    for line in seed_output.splitlines():
        if line.strip().startswith(f"{username} ") and "backup codes" in line:
            return line.split("backup codes")[1].split()
    return []


def sign_in(page, username: str, stack=None) -> None:
    """Username and password; then, as a DSL, Head or manager would: set up the authenticator
    app the first time (with an enrolment code emailed to her school address, then reading the
    key shown under the QR code), and type its code after."""
    page.goto("/accounts/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    # Each step waits for the page the button's POST leads to, so the next step never cuts
    # the POST short.
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if page.get_by_role("heading", name="Set up two-factor sign-in").count():
        if page.get_by_label("Enrolment code").count():
            with page.expect_navigation():
                page.get_by_role("button", name="Email me a code").click()
            page.get_by_label("Enrolment code").fill(_enrolment_code(stack, username))
            with page.expect_navigation():
                page.get_by_role("button", name="Continue").click()
        page.locator("main").get_by_role("button", name="Next").click()
        secret = page.locator("main code").first.inner_text().strip().replace(" ", "")
        AUTHENTICATORS[username] = {"key": base64.b32decode(secret), "last": -1}
        page.get_by_label("Six-digit code from your app").fill(_next_code(username))
        with page.expect_navigation():
            page.locator("main").get_by_role("button", name="Next").click()
        page.goto("/")
    elif page.locator(TOKEN_BOX).count():
        # Enrolled already (the demo's DSLs, Head and manager): the code from their app.
        page.locator(TOKEN_BOX).fill(_next_code(username))
        with page.expect_navigation():
            page.get_by_role("button", name="Verify").click()
    assert "/accounts/sign-in/" not in page.url, (username, page.locator("main").inner_text())


def _enrolment_code(stack, username: str) -> str:
    """The enrolment code in the newest email to the person (the fake SMTP server's mailbox)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for item in reversed(stack.mailbox.messages):
            message = item["message"]
            if any(address.startswith(f"{username}@") for address in item["to"]) and (
                "two-factor" in message["subject"]
            ):
                body = message.get_body(preferencelist=("plain",)).get_content()
                match = re.search(r"^([A-Z2-9]{5}-[A-Z2-9]{5})\s*$", body, re.MULTILINE)
                if match:
                    return match.group(1)
        time.sleep(0.2)
    raise AssertionError(f"no enrolment code was emailed to {username}")


def _next_code(username: str) -> str:
    """The app's code, never one already used (django-otp refuses a code twice; it accepts the
    next 30-second step's code a step early, so two sign-ins in one step still work)."""
    from django_otp.oath import totp

    app = AUTHENTICATORS[username]
    now = int(time.time()) // 30
    step = max(now, app["last"] + 1)
    while step > now + 1:  # a third sign-in within one step: wait for the next step
        time.sleep(1)
        now = int(time.time()) // 30
    app["last"] = step
    return f"{totp(app['key'], drift=step - now):06d}"


def shell(stack, code: str) -> str:
    """Run Python in the stack's Django (`manage.py shell -c`): a test's world, built straight
    into the database. Its traceback, if any, is the test's failure message."""
    import subprocess

    try:
        return stack.manage("shell", "--no-imports", "-c", code)
    except subprocess.CalledProcessError as error:
        raise AssertionError(f"manage.py shell failed:\n{error.stderr}") from error


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page) -> list[dict]:
    """Run axe-core (from npm, read from node_modules) on the page; serious or critical only.
    The mouse leaves the page first, so no button is measured in its hover colours."""
    page.mouse.move(0, 0)
    page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
            "why": [m["message"] for n in v["nodes"][:2] for m in n["any"]],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
