"""R-SEC-4: signing in with the school's Microsoft (Entra ID) or Google Workspace account,
against a real OpenID Connect provider on 127.0.0.1 (tests/sso/conftest.py): discovery, JWKS,
authorisation code + PKCE and signed ID tokens, all from the npm package `oidc-provider`."""

import pytest
from allauth.socialaccount.models import SocialAccount
from axes.models import AccessAttempt, AccessLog
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django_otp.oath import totp

from audit.models import AuditEvent
from config.security import SIGNED_IN_AT_SESSION_KEY
from sso.models import SignInSettings
from sso.services import invitation_create
from tests.auth import authenticator_for, sign_in_with_password

from .conftest import Flow, linked, sso_sign_in

pytestmark = pytest.mark.django_db

MICROSOFT = "oakfield-microsoft"


def signed_in_as(client):
    return client.session.get(SESSION_KEY)


def refusal(reason):
    return AuditEvent.objects.filter(event_type="sign_in.sso_refused", changes__reason=reason)


# Good sign-ins


def test_a_linked_person_signs_in_with_the_schools_microsoft_account(
    client, oidc_server, entra, sam
):
    # R-SEC-4
    linked(sam, entra, "oid-sam")
    response = sso_sign_in(client, oidc_server, MICROSOFT, "sam")
    assert response.status_code == 302
    assert signed_in_as(client) == str(sam.pk)
    assert client.get(reverse("visits:mine")).status_code == 200
    event = AuditEvent.objects.get(event_type="sign_in.sso")
    assert event.actor == sam
    assert event.changes == {"provider": MICROSOFT, "provider_mfa": False}


def test_an_sso_sign_in_starts_the_same_session_limits_and_axes_record_as_a_password(
    client, oidc_server, entra, sam
):
    # R-SEC-4: session limits and the sign-in record apply exactly as to passwords
    linked(sam, entra, "oid-sam")
    sso_sign_in(client, oidc_server, MICROSOFT, "sam")
    assert SIGNED_IN_AT_SESSION_KEY in client.session
    assert AccessLog.objects.filter(username=sam.username).exists()


def test_a_linked_person_signs_in_with_the_schools_google_workspace_account(
    client, oidc_server, google, sam
):
    # R-SEC-4
    linked(sam, google, "sam-google")
    response = sso_sign_in(client, oidc_server, "oakfield-google", "sam-google")
    assert response.status_code == 302
    assert signed_in_as(client) == str(sam.pk)


def test_sign_in_still_works_after_the_provider_rotates_its_signing_key(
    client, oidc_server, entra, sam
):
    # R-SEC-4: the keys are read from the provider's JWKS, not remembered
    linked(sam, entra, "oid-sam")
    oidc_server.rotate_key()
    assert sso_sign_in(client, oidc_server, MICROSOFT, "sam").status_code == 302
    assert signed_in_as(client) == str(sam.pk)


# Tokens that are refused


def test_a_token_from_another_microsoft_tenant_is_refused_even_with_a_known_object_id(
    client, oidc_server, entra, sam
):
    # R-SEC-4: the tenant is pinned
    linked(sam, entra, "oid-sam")
    response = sso_sign_in(client, oidc_server, MICROSOFT, "intruder")
    assert response.status_code == 403
    assert "another organisation" in response.content.decode()
    assert signed_in_as(client) is None
    assert refusal("wrong_tenant").exists()


def test_a_personal_google_account_is_refused_where_the_school_pinned_its_domain(
    client, oidc_server, google, sam
):
    # R-SEC-4: the Google Workspace domain (hd) is pinned
    linked(sam, google, "sam-gmail")
    response = sso_sign_in(client, oidc_server, "oakfield-google", "sam-gmail")
    assert response.status_code == 403
    assert signed_in_as(client) is None


@pytest.mark.parametrize("mischief", ["wrong_audience", "expired", "bad_signature"])
def test_an_id_token_for_another_app_expired_or_badly_signed_is_refused(
    client, oidc_server, entra, sam, mischief
):
    # R-SEC-4
    linked(sam, entra, "oid-sam")
    response = sso_sign_in(client, oidc_server, MICROSOFT, "sam", mischief=mischief)
    assert response.status_code == 401
    assert "could not be completed or verified" in response.content.decode()
    assert signed_in_as(client) is None
    assert not AuditEvent.objects.filter(event_type="sign_in.sso").exists()


def test_an_id_token_with_another_sign_ins_nonce_is_refused(client, oidc_server, entra, sam):
    # R-SEC-4: replayed nonce
    linked(sam, entra, "oid-sam")
    response = sso_sign_in(client, oidc_server, MICROSOFT, "sam", mischief="other_nonce")
    assert response.status_code == 403
    assert signed_in_as(client) is None
    assert refusal("nonce").exists()


def test_a_replayed_callback_signs_nobody_in(client, oidc_server, entra, sam):
    # R-SEC-4: replayed state: each state is used once
    linked(sam, entra, "oid-sam")
    flow = Flow(client, oidc_server, MICROSOFT, "sam")
    flow.start()
    assert flow.finish().status_code == 302
    client.post(reverse("logout"))
    assert signed_in_as(client) is None
    replayed = flow.finish()
    assert replayed.status_code == 401
    assert signed_in_as(client) is None


def test_a_callback_from_another_browser_signs_nobody_in(client, oidc_server, entra, sam):
    # R-SEC-4: the state belongs to the session that started the sign-in
    from django.test import Client

    linked(sam, entra, "oid-sam")
    flow = Flow(client, oidc_server, MICROSOFT, "sam")
    flow.start()
    other = Client()
    assert other.get(flow.callback_url).status_code == 401
    assert other.session.get(SESSION_KEY) is None


# People


def test_an_unknown_identity_is_refused_even_with_a_matching_email_address(
    client, oidc_server, entra, sam
):
    # R-SEC-4: never linked by a matching email address alone
    sam.email = "sam@oakfield.example"
    sam.save()
    response = sso_sign_in(client, oidc_server, MICROSOFT, "stranger")
    assert response.status_code == 403
    assert "not linked to anyone in Homeward" in response.content.decode()
    assert signed_in_as(client) is None
    assert not SocialAccount.objects.exists()
    assert refusal("unknown_identity").get().changes["uid"] == "oid-stranger"


def test_a_deactivated_person_is_refused(client, oidc_server, entra, sam):
    # R-SEC-4
    linked(sam, entra, "oid-sam")
    sam.is_active = False
    sam.save()
    response = sso_sign_in(client, oidc_server, MICROSOFT, "sam")
    assert response.status_code == 403
    assert signed_in_as(client) is None
    assert refusal("deactivated").get().object_id == str(sam.pk)


def test_a_person_locked_out_by_failed_passwords_cannot_sign_in_with_sso_either(
    client, oidc_server, entra, sam
):
    # R-SEC-4: lockout applies to SSO exactly as to passwords
    linked(sam, entra, "oid-sam")
    for _ in range(5):
        sign_in_with_password(client, sam.username, "not-the-password")
    response = sso_sign_in(client, oidc_server, MICROSOFT, "sam")
    assert response.status_code == 429
    assert signed_in_as(client) is None


def test_a_refused_sso_sign_in_counts_as_a_failed_sign_in(client, oidc_server, entra, sam):
    # R-SEC-4
    linked(sam, entra, "oid-sam")
    sam.is_active = False
    sam.save()
    sso_sign_in(client, oidc_server, MICROSOFT, "sam")
    assert AccessAttempt.objects.get(username=sam.username).failures_since_start == 1


def test_an_identity_linked_at_another_school_is_refused(client, oidc_server, entra, bea):
    # R-SEC-4: Oakfield's tenant signs in only Oakfield's staff
    linked(bea, entra, "oid-sam")
    response = sso_sign_in(client, oidc_server, MICROSOFT, "sam")
    assert response.status_code == 403
    assert refusal("not_at_school").exists()


# Two factors


def test_a_dsl_whose_provider_says_mfa_reaches_her_pages_without_homewards_code(
    client, oidc_server, entra, dana
):
    # R-SEC-4: the provider's MFA counts when the ID token's amr says "mfa"
    authenticator_for(dana)
    linked(dana, entra, "oid-dana")
    assert sso_sign_in(client, oidc_server, MICROSOFT, "dana-mfa").status_code == 302
    assert client.get(reverse("visits:queue")).status_code == 200


def test_a_dsl_whose_provider_did_not_use_mfa_must_enter_homewards_code(
    client, oidc_server, entra, dana
):
    # R-SEC-4: otherwise Homeward's TOTP, afterwards
    device = authenticator_for(dana)
    linked(dana, entra, "oid-dana")
    sso_sign_in(client, oidc_server, MICROSOFT, "dana-password-only")
    assert signed_in_as(client) == str(dana.pk)
    response = client.get(reverse("visits:queue"))
    assert response["Location"] == reverse("sso:verify")

    client.post(reverse("sso:verify"), {"token": f"{totp(device.bin_key):06d}"})
    assert client.get(reverse("visits:queue")).status_code == 200
    assert client.get(reverse("sso:verify"))["Location"] == reverse("home")


def test_a_wrong_code_after_sso_does_not_verify_the_session(client, oidc_server, entra, dana):
    # R-SEC-4
    authenticator_for(dana)
    linked(dana, entra, "oid-dana")
    sso_sign_in(client, oidc_server, MICROSOFT, "dana-password-only")
    wrong = client.post(reverse("sso:verify"), {"token": "000000"})
    assert "not right" in wrong.content.decode()
    assert client.get(reverse("visits:queue"))["Location"] == reverse("sso:verify")


def test_a_dsl_without_an_authenticator_app_is_sent_to_set_one_up(client, oidc_server, entra, dana):
    # R-SEC-4
    linked(dana, entra, "oid-dana")
    sso_sign_in(client, oidc_server, MICROSOFT, "dana-password-only")
    response = client.get(reverse("visits:queue"))
    assert response["Location"] == reverse("two_factor:setup")


# Linking


def test_an_invitation_links_a_person_once_and_signs_them_in(
    client, oidc_server, entra, sam, admin_user
):
    # R-SEC-4: linked once, by an invitation link
    _, token = invitation_create(actor=admin_user, user=sam, provider=entra)
    url = reverse("sso:invitation", kwargs={"token": token})
    assert "Continue to Oakfield Microsoft 365" in client.get(url).content.decode()
    flow = Flow(client, oidc_server, MICROSOFT, "newcomer")
    flow.start(url=url + "?auth_params=login_hint%3Dnewcomer")
    assert flow.finish().status_code == 302
    assert signed_in_as(client) == str(sam.pk)
    assert SocialAccount.objects.get(user=sam).uid == "oid-newcomer"
    assert AuditEvent.objects.filter(
        event_type="sso.identity_linked", object_id=str(sam.pk)
    ).exists()

    client.post(reverse("logout"))
    assert client.get(url).status_code == 404  # used


def test_an_invitation_does_not_accept_an_account_from_another_tenant(
    client, oidc_server, entra, sam, admin_user
):
    # R-SEC-4
    _, token = invitation_create(actor=admin_user, user=sam, provider=entra)
    url = reverse("sso:invitation", kwargs={"token": token})
    flow = Flow(client, oidc_server, MICROSOFT, "intruder")
    flow.start(url=url + "?auth_params=login_hint%3Dintruder")
    assert flow.finish().status_code == 403
    assert not SocialAccount.objects.exists()


def test_an_administrator_links_a_person_in_the_admin_with_an_audit_event(admin_client, entra, sam):
    # R-SEC-4: linked by an administrator
    response = admin_client.post(
        reverse("admin:socialaccount_socialaccount_add"),
        {"user": sam.pk, "provider": entra.pk, "uid": "oid-sam"},
    )
    assert response.status_code == 302
    assert SocialAccount.objects.get(user=sam).provider == MICROSOFT
    assert AuditEvent.objects.filter(event_type="sso.identity_linked").exists()


# Password sign-in


def test_a_school_can_turn_password_sign_in_off_for_its_staff(client, entra, sam, oakfield):
    # R-SEC-4: whether password sign-in stays available
    sam.set_password("correct-horse-battery")
    sam.save()
    SignInSettings.objects.create(school=oakfield, password_sign_in=False)
    response = sign_in_with_password(client, sam.username, "correct-horse-battery")
    assert "use the button below" in response.content.decode()
    assert signed_in_as(client) is None


def test_the_sign_in_page_offers_the_schools_provider(client, entra):
    assert "Sign in with Oakfield Microsoft 365" in client.get(reverse("login")).content.decode()


def _form_action(response) -> list[str]:
    policy = response["Content-Security-Policy"]
    directive = next(d.strip() for d in policy.split(";") if d.strip().startswith("form-action"))
    return directive.split()[1:]


def test_r_sec_4_the_sign_in_page_lets_its_buttons_go_on_to_the_providers_and_nowhere_else(
    client, entra, google, oidc_server
):
    """Browsers hold the redirect after a form's POST to the page's CSP form-action: without
    the provider's origin there, the button stops at Homeward (tests/e2e/test_sso_journey.py)."""
    assert _form_action(client.get(reverse("login"))) == ["'self'", oidc_server.issuer]
    entra.enabled = google.enabled = False
    entra.save()
    google.save()
    assert _form_action(client.get(reverse("login"))) == ["'self'"]


def test_r_sec_4_an_invitation_lets_its_button_go_on_to_its_provider(
    client, entra, oidc_server, sam, admin_user
):
    _, token = invitation_create(actor=admin_user, user=sam, provider=entra)
    response = client.get(reverse("sso:invitation", kwargs={"token": token}))
    assert _form_action(response) == ["'self'", oidc_server.issuer]
    # Elsewhere the policy is as strict as ever.
    assert _form_action(client.get(reverse("password_reset"))) == ["'self'"]


def test_a_provider_is_reached_at_the_origin_of_its_issuer(entra):
    from sso.models import SignInProvider

    assert entra.origin() == entra.server_url
    microsoft = SignInProvider(kind="entra", tenant_id="8f9c1c52-6c3e-4d7b-9a43-0a1b2c3d4e5f")
    assert microsoft.origin() == "https://login.microsoftonline.com"
    assert SignInProvider(kind="google", hosted_domain="x.sch.uk").origin() == (
        "https://accounts.google.com"
    )
    assert SignInProvider(kind="oidc").origin() == ""


def test_client_secrets_are_not_in_the_database(entra):
    # R-SEC-4: the secret comes from the environment
    field_names = {f.name for f in type(entra)._meta.get_fields()}
    assert not {"secret", "client_secret"} & field_names
    assert entra.secret_variable == "SSO_CLIENT_SECRET_OAKFIELD_MICROSOFT"


def test_an_identity_already_linked_to_someone_cannot_be_linked_again(
    admin_client, entra, sam, tess
):
    # R-SEC-4: a person is linked to their provider identity once
    linked(sam, entra, "oid-sam")
    response = admin_client.post(
        reverse("admin:socialaccount_socialaccount_add"),
        {"user": tess.pk, "provider": entra.pk, "uid": "oid-sam"},
    )
    assert response.status_code == 200
    assert "already linked" in response.content.decode()
    assert SocialAccount.objects.filter(user=tess).count() == 0


def test_a_trust_wide_tenant_signs_in_staff_of_every_school_in_the_trust_only(
    client, oidc_server, trust, sam, bea, oscar, monkeypatch
):
    # R-SEC-4: a provider per school or per trust
    from django.test import Client

    from sso.models import SignInProvider

    from .conftest import CLIENT_ID, CLIENT_SECRET, TENANT

    monkeypatch.setenv("SSO_CLIENT_SECRET_TRUST_MICROSOFT", CLIENT_SECRET)
    provider = SignInProvider.objects.create(
        trust=trust,
        kind=SignInProvider.Kind.ENTRA,
        provider_id="trust-microsoft",
        name="Aire Valley Microsoft 365",
        client_id=CLIENT_ID,
        tenant_id=TENANT,
        server_url=oidc_server.issuer,
    )
    linked(bea, provider, "oid-sam")  # Birchwood, in the trust
    assert sso_sign_in(client, oidc_server, "trust-microsoft", "sam").status_code == 302
    assert signed_in_as(client) == str(bea.pk)

    linked(oscar, provider, "oid-olive")  # Riverside, outside the trust
    other = Client()
    assert sso_sign_in(other, oidc_server, "trust-microsoft", "olive").status_code == 403
