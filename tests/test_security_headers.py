"""Headers and the Content Security Policy (issue #7): every page carries a strict CSP with no
inline script or style, X-Frame-Options DENY, a Referrer-Policy and (signed in) no-store; and no
template puts inline script, style or event handlers on a page, or the CSP would block it."""

import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

from django.test import override_settings
from django.urls import reverse

from tests.auth import sign_in, sign_in_with_password
from tests.test_every_url import world  # noqa: F401  (the fixture: every page's objects)
from tests.urls_under_test import PAGES, PUBLIC, PUBLIC_KWARGS

ROOT = Path(__file__).resolve().parent.parent


class InlineCode(HTMLParser):
    """Collects whatever a strict CSP would block: inline <script> and <style>, style="",
    on*="" handlers and javascript: links."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.found.append("an inline <script>")
        if tag == "style":
            self.found.append("a <style> block")
        for name, value in attrs:
            if name == "style":
                self.found.append(f'style="{value}" on <{tag}>')
            if name.startswith("on"):
                self.found.append(f"{name}= on <{tag}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"a javascript: {name}")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part
    }


def every_page(client, world):  # noqa: F811
    """(name, response) for every page of the app, as a person allowed to open it sees it, and
    every public page."""
    for name in sorted(PUBLIC):
        if name == "logout":
            continue
        client.logout()
        yield name, client.get(reverse(name, kwargs=PUBLIC_KWARGS.get(name, {})), follow=True)
    for name, page in sorted(PAGES.items()):
        if not page.allowed:
            continue
        sign_in(client, world[page.allowed[0]])
        send = client.post if page.method == "post" else client.get
        yield name, send(reverse(name, kwargs=page.kwargs(world)), follow=True)


def test_every_page_sends_a_strict_content_security_policy_and_the_other_headers(
    client,
    world,  # noqa: F811
):
    for name, response in every_page(client, world):
        directives = policy(response)
        assert directives["default-src"] == ["'self'"], name
        assert directives["script-src"] == ["'self'"], name
        assert directives["style-src"] == ["'self'"], name
        assert directives["frame-ancestors"] == ["'none'"], name
        assert directives["object-src"] == ["'none'"], name
        assert response["X-Frame-Options"] == "DENY", name
        assert response["Referrer-Policy"] == "same-origin", name
        assert response["X-Content-Type-Options"] == "nosniff", name


def test_every_signed_in_page_is_never_stored(client, world):  # noqa: F811
    for name, response in every_page(client, world):
        if name in PAGES:
            assert "no-store" in response["Cache-Control"], name


def test_no_page_carries_inline_script_style_or_event_handlers(client, world):  # noqa: F811
    for name, response in every_page(client, world):
        assert response.status_code == 200 or name in PUBLIC, name
        if "text/html" in response.get("Content-Type", ""):  # not the PDFs, exports, calendars
            assert inline_code(response.content.decode()) == [], name


def test_the_sign_in_steps_lockout_and_error_pages_carry_no_inline_code(client, dana):
    from tests.auth import authenticator_for

    pages = {"sign-in": client.get(reverse("login"))}
    authenticator_for(dana)
    pages["code step"] = sign_in_with_password(client, "dana", "correct-horse-battery")
    for _ in range(5):
        pages["locked out"] = sign_in_with_password(client, "dana", "wrong-password-1")
    pages["not found"] = client.get("/no-such-page/")
    client.logout()
    sign_in_with_password(client, "sam-not-here", "x")
    for label, response in pages.items():
        assert inline_code(response.content.decode()) == [], label
    assert pages["locked out"].status_code == 429


def test_the_two_factor_set_up_page_carries_no_inline_code(client, dana):
    from tests.auth import enrolment_code_typed

    sign_in_with_password(client, "dana", "correct-horse-battery")
    url = reverse("two_factor:setup")
    pages = [client.get(url)]
    enrolment_code_typed(client, dana)
    pages += [client.get(url), client.post(url, {"set_up_view-current_step": "welcome"})]
    for response in pages:
        assert inline_code(response.content.decode()) == []
    assert 'name="enrolment-code"' in pages[0].content.decode()
    assert 'class="qr-code' in pages[2].content.decode()


def test_htmx_is_configured_for_the_policy(signed_in, sam):
    page = signed_in(sam).get(reverse("visits:mine")).content.decode()
    assert '<meta name="htmx-config"' in page
    assert '"includeIndicatorStyles": false' in page
    assert '"allowEval": false' in page
    assert "htmx" in page and "<script src=" in page


def test_the_detector_finds_inline_code():
    html = (
        '<div style="color:red" onclick="x()"><script>alert(1)</script><style>p{}</style>'
        '<a href="javascript:x()">x</a><script src="/static/a.js"></script></div>'
    )
    assert len(inline_code(html)) == 5


def test_the_security_checks_refuse_a_weakened_policy():
    from config.checks import content_security_policy_is_strict

    weak = {"DIRECTIVES": {"default-src": ["'self'"], "script-src": ["'self'", "'unsafe-inline'"]}}
    with override_settings(CONTENT_SECURITY_POLICY=weak):
        ids = [error.id for error in content_security_policy_is_strict(None)]
    assert ids.count("homeward.E001") == 3  # unsafe script-src, no style-src, no frame-ancestors
    assert content_security_policy_is_strict(None) == []


def test_the_security_checks_refuse_missing_protections():
    from django.conf import settings

    from config.checks import protections_are_installed, sessions_are_short

    without_otp = [m for m in settings.MIDDLEWARE if "otp" not in m]
    with override_settings(MIDDLEWARE=without_otp):
        assert [e.id for e in protections_are_installed(None)] == ["homeward.E002"]
    with override_settings(SESSION_ABSOLUTE_SECONDS=24 * 3600):
        assert [w.id for w in sessions_are_short(None)] == ["homeward.W004"]
    assert protections_are_installed(None) == [] and sessions_are_short(None) == []


def test_the_deploy_check_passes_with_production_settings():
    """What `make deploy-check` runs (CI too): Django's deployment checks and ours, failing on
    any warning."""
    env = {
        **os.environ,
        "ENV_FILE": "config/production.env.example",
        "SECRET_KEY": "k" * 20 + "-production-only-" + "q" * 20,
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
