"""The provider URLs allauth reverses by name (`openid_connect_login`, `openid_connect_callback`).
The callback is the redirect URI a school registers: /accounts/sso/<provider_id>/login/callback/.
"""

from django.urls import path

from . import oidc

urlpatterns = [
    path("<slug:provider_id>/login/", oidc.login, name="openid_connect_login"),
    path("<slug:provider_id>/login/callback/", oidc.callback, name="openid_connect_callback"),
]
