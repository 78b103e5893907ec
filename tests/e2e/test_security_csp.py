"""In a real browser, under the real Content Security Policy (issue #7): signing in with the
authenticator app works, and no page has anything the policy blocks (Chromium reports every
blocked script, style or handler on the console)."""

import pytest

pytestmark = pytest.mark.e2e

PAGES = [
    "/",
    "/visits/",
    "/visits/new/",
    "/visits/queue/",
    "/tracking/board/",
    "/directory/pupils/",
    "/audit/",
    "/accounts/two-factor/",
    "/accounts/two-factor/backup-codes/",
    "/accounts/password/",
]


def test_nothing_on_any_page_is_blocked_by_the_content_security_policy(browser, stack):
    from .conftest import DESKTOP, sign_in

    context = browser.new_context(base_url=stack.url, **DESKTOP)
    page = context.new_page()
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    sign_in(page, "hugh", stack)  # sets up his authenticator app on the way
    assert page.url.endswith("/visits/queue/")
    for path in PAGES:
        response = page.goto(path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
    page.goto("/visits/queue/")
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("button", name="Show navigation").click()  # Bootstrap's JS under the CSP
    page.get_by_role("button", name="More").click()  # and its dropdown
    assert page.get_by_role("link", name="Audit trail").is_visible()
    context.close()
    assert refused == []
