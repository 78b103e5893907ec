"""A real OpenID Connect provider (npm `oidc-provider`, tests/sso/oidc_provider.mjs) on
127.0.0.1, and helpers that walk its authorisation-code flow with Django's test client."""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urljoin

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("oidc_provider.mjs")

TENANT = "8f9c1c52-6c3e-4d7b-9a43-0a1b2c3d4e5f"
OTHER_TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT_ID = "homeward-oakfield"
CLIENT_SECRET = "a-test-client-secret"  # noqa: S105 - the test provider's
PROVIDER_IDS = ("oakfield-microsoft", "oakfield-google", "trust-microsoft")

ACCOUNTS = {
    # Entra: the person is the object ID (oid); the tenant is tid.
    "sam": {"claims": {"tid": TENANT, "oid": "oid-sam", "email": "sam@oakfield.example"}},
    "dana-mfa": {"claims": {"tid": TENANT, "oid": "oid-dana"}, "amr": ["pwd", "mfa"]},
    "dana-password-only": {"claims": {"tid": TENANT, "oid": "oid-dana"}, "amr": ["pwd"]},
    "olive": {"claims": {"tid": TENANT, "oid": "oid-olive"}},
    # Another organisation's tenant, with the same object ID as Sam's.
    "intruder": {"claims": {"tid": OTHER_TENANT, "oid": "oid-sam"}},
    # In the school's tenant, not linked, but with Sam's email address.
    "stranger": {"claims": {"tid": TENANT, "oid": "oid-stranger", "email": "sam@oakfield.example"}},
    "newcomer": {"claims": {"tid": TENANT, "oid": "oid-newcomer"}},
    # Google: the Workspace domain is hd; a personal Google account has none.
    "sam-google": {"claims": {"hd": "oakfield.sch.uk", "email": "sam@oakfield.sch.uk"}},
    "sam-gmail": {"claims": {"email": "sam.personal@gmail.example"}},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_signing_key(kid: str) -> dict:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key))
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


class OIDCServer:
    """`redirect_base`: where the client's redirect URIs live (Django's test client is
    http://testserver; the browser tests' stack has its own address)."""

    def __init__(self, redirect_base: str = "http://testserver"):
        self.redirect_base = redirect_base
        self.port = _free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.process = None
        self.keys = [new_signing_key("key-1")]

    def start(self):
        redirect_uris = [
            f"{self.redirect_base}/accounts/sso/{pid}/login/callback/" for pid in PROVIDER_IDS
        ]
        env = {
            **os.environ,
            "OIDC_PORT": str(self.port),
            "OIDC_JWKS": json.dumps({"keys": self.keys}),
            "OIDC_CLIENTS": json.dumps(
                [
                    {
                        "client_id": CLIENT_ID,
                        "client_secret": CLIENT_SECRET,
                        "redirect_uris": redirect_uris,
                        "token_endpoint_auth_method": "client_secret_post",
                    }
                ]
            ),
            "OIDC_ACCOUNTS": json.dumps(ACCOUNTS),
            "NODE_PATH": str(ROOT / "node_modules"),
        }
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - lives as long as the server
        self.process = subprocess.Popen(  # noqa: S603 - our own test script
            [shutil.which("node"), str(SCRIPT)],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        # Ready when discovery answers (no fixed wait).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        self.log.seek(0)
        raise RuntimeError(f"the test OpenID Connect provider did not start: {self.log.read()}")

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def rotate_key(self):
        """A new signing key; the old one stays published in the JWKS (as providers rotate)."""
        self.stop()
        self.keys = [new_signing_key(f"key-{len(self.keys) + 1}"), *self.keys]
        self.start()

    def mischief(self, mode: str):
        requests.post(f"{self.issuer}/__test/mischief?mode={mode}", timeout=5)


@pytest.fixture(scope="session")
def oidc_server():
    if not (ROOT / "node_modules" / "oidc-provider").exists():
        pytest.fail("npm ci first: the SSO tests need the oidc-provider package")
    server = OIDCServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def entra(oakfield, oidc_server, monkeypatch):
    """Oakfield's Microsoft Entra sign-in, pointing at the test provider."""
    from sso.models import SignInProvider

    monkeypatch.setenv("SSO_CLIENT_SECRET_OAKFIELD_MICROSOFT", CLIENT_SECRET)
    return SignInProvider.objects.create(
        school=oakfield,
        kind=SignInProvider.Kind.ENTRA,
        provider_id="oakfield-microsoft",
        name="Oakfield Microsoft 365",
        client_id=CLIENT_ID,
        tenant_id=TENANT,
        server_url=oidc_server.issuer,
    )


@pytest.fixture
def google(oakfield, oidc_server, monkeypatch):
    from sso.models import SignInProvider

    monkeypatch.setenv("SSO_CLIENT_SECRET_OAKFIELD_GOOGLE", CLIENT_SECRET)
    return SignInProvider.objects.create(
        school=oakfield,
        kind=SignInProvider.Kind.GOOGLE,
        provider_id="oakfield-google",
        name="Oakfield Google",
        client_id=CLIENT_ID,
        hosted_domain="oakfield.sch.uk",
        server_url=oidc_server.issuer,
    )


def linked(user, provider, uid):
    from sso.services import identity_link

    return identity_link(actor=None, user=user, provider=provider, uid=uid)


class Flow:
    def __init__(self, client, server, provider_id, account):
        self.client, self.server = client, server
        self.provider_id, self.account = provider_id, account
        self.callback_url = None

    def start(self, url=None):
        """Homeward's sign-in button, then the provider (scripted sign-in) back to the
        redirect URI; returns the callback URL with its code and state, not yet opened."""
        if url is None:
            hint = quote(f"login_hint={self.account}")
            response = self.client.post(
                f"/accounts/sso/{self.provider_id}/login/?auth_params={hint}"
            )
        else:
            response = self.client.post(url)
        assert response.status_code == 302, response.content[:500]
        url = response["Location"]
        session = requests.Session()
        while url.startswith(self.server.issuer):
            answer = session.get(url, allow_redirects=False, timeout=10)
            assert answer.status_code in (302, 303), answer.text[:500]
            url = urljoin(url, answer.headers["Location"])
        self.callback_url = url
        return url

    def finish(self, mischief=None):
        if mischief:
            self.server.mischief(mischief)
        return self.client.get(self.callback_url)


def sso_sign_in(client, server, provider_id, account, mischief=None):
    flow = Flow(client, server, provider_id, account)
    flow.start()
    return flow.finish(mischief)
