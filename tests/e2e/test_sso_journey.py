"""Issue 16's single sign-on in a real browser (R-SEC-4): Oakfield signs in with Microsoft
Entra ID, played by the certified npm `oidc-provider` on 127.0.0.1 (tests/sso/oidc_provider.mjs,
the same provider the SSO tests drive with Django's test client), against the real stack.

Sam presses "Sign in with Oakfield Microsoft 365" on Homeward's sign-in page, types his account
at the provider's own page and comes back signed in. Dana, whose role needs two factors, comes
back straight in when the provider says it used MFA, and is asked for Homeward's code when it
does not."""

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, _next_code, axe_violations, screenshot, shell

pytestmark = pytest.mark.e2e

PROVIDER_ID = "oakfield-microsoft"
BUTTON = "Sign in with Oakfield Microsoft 365"

# Oakfield's Microsoft sign-in, pointing at the test provider, and the identities Sam and Dana
# are linked to (by an administrator, once: never by email address).
REGISTER = """
from schools.models import School, User
from sso.models import SignInProvider
from sso.services import identity_link
from allauth.socialaccount.models import SocialAccount

provider, _ = SignInProvider.objects.update_or_create(
    provider_id={provider_id!r},
    defaults=dict(
        school=School.objects.get(urn="100001"),
        kind=SignInProvider.Kind.ENTRA,
        name="Oakfield Microsoft 365",
        client_id={client_id!r},
        tenant_id={tenant!r},
        server_url={issuer!r},
        enabled=True,
    ),
)
for username, oid in (("sam", "oid-sam"), ("dana", "oid-dana")):
    user = User.objects.get(username=username)
    if not SocialAccount.objects.filter(provider=provider.provider_id, user=user).exists():
        identity_link(actor=None, user=user, provider=provider, uid=oid)
"""

# Off again afterwards: the other browser tests sign in with a password on a sign-in page
# without the button.
SWITCH_OFF = (
    "from sso.models import SignInProvider; "
    f"SignInProvider.objects.filter(provider_id={PROVIDER_ID!r}).update(enabled=False)"
)

SSO_SIGN_INS = (
    "from audit.models import AuditEvent; "
    "print(AuditEvent.objects.filter(event_type='sign_in.sso', actor__username={!r}).count())"
)


@pytest.fixture
def entra(stack):
    from tests.sso.conftest import CLIENT_ID, TENANT, OIDCServer

    server = OIDCServer(redirect_base=stack.url)
    server.start()
    shell(
        stack,
        REGISTER.format(
            provider_id=PROVIDER_ID, client_id=CLIENT_ID, tenant=TENANT, issuer=server.issuer
        ),
    )
    yield server
    shell(stack, SWITCH_OFF)
    server.stop()


@pytest.fixture
def fresh_browser(browser, stack):
    """A page in a browser context of its own, signed in as nobody."""
    contexts = []

    def open_page():
        context = browser.new_context(
            base_url=stack.url,
            locale="en-GB",
            timezone_id="Europe/London",
            reduced_motion="reduce",
            **DESKTOP,
        )
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def _through_the_provider(page, entra, stack, account: str) -> None:
    """Homeward's button, then the provider's own sign-in page, then back to Homeward."""
    page.goto("/accounts/sign-in/")
    page.get_by_role("button", name=BUTTON).click()
    page.wait_for_url(f"{entra.issuer}/interaction/**")
    expect(page.get_by_role("heading", name="Sign in to your organisation")).to_be_visible()
    page.get_by_label("Account").fill(account)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{stack.url}/**")


def _sso_sign_ins(stack, username: str) -> int:
    return int(shell(stack, SSO_SIGN_INS.format(username)).strip())


def test_r_sec_4_sam_signs_in_through_his_schools_microsoft_account(fresh_browser, entra, stack):
    page = fresh_browser()
    page.goto("/accounts/sign-in/")
    expect(page.get_by_role("button", name=BUTTON)).to_be_visible()
    screenshot(page, "sso-sign-in")
    assert axe_violations(page) == []
    before = _sso_sign_ins(stack, "sam")

    _through_the_provider(page, entra, stack, "sam")

    assert "/accounts/sign-in/" not in page.url
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_contain_text("Sam Patel")
    expect(nav.get_by_role("link", name="My visits")).to_be_visible()
    screenshot(page, "sso-signed-in-sam")
    assert _sso_sign_ins(stack, "sam") == before + 1


def test_r_sec_4_dana_is_straight_in_when_the_provider_used_mfa_and_asked_for_a_code_if_not(
    fresh_browser, entra, stack
):
    # The provider says it used a second factor (amr contains "mfa"): that counts.
    page = fresh_browser()
    _through_the_provider(page, entra, stack, "dana-mfa")
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Dana Whitfield")
    expect(page.get_by_role("link", name="To authorise")).to_be_visible()

    # Password only at the provider: Homeward asks for the code from her authenticator app.
    page = fresh_browser()
    _through_the_provider(page, entra, stack, "dana-password-only")
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    screenshot(page, "sso-verify")
    assert axe_violations(page) == []
    # Not in yet: her queue sends her back to the code.
    page.goto("/visits/queue/")
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    page.get_by_label("Six-digit code from your app (or a backup code)").fill(_next_code("dana"))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("link", name="To authorise")).to_be_visible()
    page.goto("/visits/queue/")
    expect(page.get_by_role("heading", name="Confirm it's you")).to_have_count(0)
