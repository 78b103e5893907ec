"""django-allauth's OpenID Connect provider, with what Homeward adds on top of it.

allauth (65.x) already does discovery, authorisation code + PKCE, `state`, and checks the ID
token's issuer, audience and expiry. Homeward adds two checks allauth's generic provider leaves
out, using allauth's own JWT helpers, never a hand-written OAuth:

* the ID token's signature is always verified against the provider's JWKS (allauth skips it when
  the token came straight from the token endpoint, which the standard allows);
* a `nonce` is sent with every authorisation request and kept in allauth's state; the ID token
  must carry the same one (checked in sso.adapter, where the state is known).
"""

import secrets

from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.http import Http404


class HomewardOIDCAdapter(OpenIDConnectOAuth2Adapter):
    def _decode_id_token(self, app, id_token: str) -> dict:
        return jwtkit.verify_and_decode(
            credential=id_token,
            keys_url=self.openid_config["jwks_uri"],
            issuer=self.openid_config["issuer"],
            audience=app.client_id,
            lookup_kid=jwtkit.lookup_kid_jwk,
            verify_signature=True,
        )


class HomewardOIDCProvider(OpenIDConnectProvider):
    """Registered with allauth by sso/provider.py under allauth's own id, `openid_connect`
    (allauth's module is not installed); its URLs come from sso/oidc_urls.py."""

    package = "sso.oidc_urls"
    oauth2_adapter_class = HomewardOIDCAdapter

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        auth_params = kwargs.pop("auth_params", None)
        if auth_params is None:
            auth_params = self.get_auth_params()
        nonce = secrets.token_urlsafe(32)
        auth_params["nonce"] = nonce
        return super().redirect(
            request, process, next_url, data, auth_params=auth_params, nonce=nonce, **kwargs
        )


@login_not_required
def login(request, provider_id):
    try:
        view = OAuth2LoginView.adapter_view(HomewardOIDCAdapter(request, provider_id))
        return view(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None


@login_not_required
def callback(request, provider_id):
    try:
        view = OAuth2CallbackView.adapter_view(HomewardOIDCAdapter(request, provider_id))
        return view(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None
