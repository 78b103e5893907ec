"""Two-factor sign-in (issue #7; DfE cyber security standards: MFA for anyone with access to
sensitive data). DSLs, deputies, Heads, managers, trust leads and administrators cannot reach any
page until they have set up an authenticator app, and a school can require it for everyone."""

from base64 import b32decode

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from schools import services
from schools.models import Role
from tests.auth import authenticator_for, enrolment_code_typed, sign_in, sign_in_with_password
from tests.factories import UserFactory, person
from tests.test_every_url import world  # noqa: F401  (the fixture: every page's objects)
from tests.urls_under_test import PAGES

PASSWORD = "correct-horse-battery"


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key):06d}"


def test_a_dsl_without_an_authenticator_app_is_sent_to_set_one_up_after_her_password(client, dana):
    response = sign_in_with_password(client, "dana", PASSWORD)
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"] == reverse("two_factor:setup")


def test_every_page_sends_an_unenrolled_dsl_to_set_up_two_factor_first(client, world):  # noqa: F811
    sign_in_with_password(client, "dana", PASSWORD)
    assert SESSION_KEY in client.session
    setup = reverse("two_factor:setup")
    for name, page in sorted(PAGES.items()):
        url = reverse(name, kwargs=page.kwargs(world))
        response = client.get(url)
        if name in ("two_factor:setup",):
            assert response.status_code == 200
            continue
        if name == "two_factor:qr":
            continue  # part of the set-up itself
        assert response.status_code == 302, name
        assert response["Location"] == setup, name


def test_the_set_up_page_offers_no_way_to_skip_it(client, dana):
    sign_in_with_password(client, "dana", PASSWORD)
    page = client.get(reverse("two_factor:setup")).content.decode()
    main = page.split('id="main"')[1].split("</main>")[0]
    assert "skip" not in main.lower()
    assert "cancel" not in main.lower()
    assert "<a " not in main, "the only ways on are setting it up or signing out"


def test_setting_up_the_app_verifies_the_session_and_opens_dana_s_queue(client, dana):
    sign_in_with_password(client, "dana", PASSWORD)
    enrolment_code_typed(client, dana)
    url = reverse("two_factor:setup")
    client.get(url)
    response = client.post(url, {"set_up_view-current_step": "welcome"})
    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("two_factor:qr") in page
    qr = client.get(reverse("two_factor:qr"))
    assert qr.status_code == 200
    assert qr["Content-Type"].startswith("image/svg+xml")
    secret = client.session["django_two_factor-qr_secret_key"]
    code = f"{totp(b32decode(secret)):06d}"
    response = client.post(url, {"set_up_view-current_step": "generator", "generator-token": code})
    assert response.status_code == 302
    assert response["Location"] == reverse("two_factor:setup_complete")
    assert TOTPDevice.objects.filter(user=dana, confirmed=True, name="default").exists()
    assert client.get(reverse("visits:queue")).status_code == 200
    assert "backup codes" in client.get(reverse("two_factor:setup_complete")).content.decode()


def test_a_wrong_code_at_set_up_is_refused_and_sets_nothing_up(client, dana):
    sign_in_with_password(client, "dana", PASSWORD)
    enrolment_code_typed(client, dana)
    url = reverse("two_factor:setup")
    client.get(url)
    client.post(url, {"set_up_view-current_step": "welcome"})
    response = client.post(
        url, {"set_up_view-current_step": "generator", "generator-token": "000000"}
    )
    assert response.status_code == 200
    assert "not valid" in response.content.decode().lower()
    assert not TOTPDevice.objects.filter(user=dana).exists()
    assert client.get(reverse("visits:queue")).status_code == 302


def test_a_dsl_with_an_app_signs_in_with_her_password_and_then_the_code(client, dana):
    device = authenticator_for(dana)
    response = sign_in_with_password(client, "dana", PASSWORD)
    assert response.status_code == 200
    assert SESSION_KEY not in client.session, "the password alone signs nobody in"
    response = client.post(
        reverse("login"),
        {"sign_in_view-current_step": "token", "token-otp_token": code_for(device)},
    )
    assert response.status_code == 302
    assert client.get(reverse("visits:queue")).status_code == 200


def test_a_wrong_code_does_not_sign_her_in(client, dana):
    authenticator_for(dana)
    sign_in_with_password(client, "dana", PASSWORD)
    response = client.post(
        reverse("login"), {"sign_in_view-current_step": "token", "token-otp_token": "123456"}
    )
    assert response.status_code == 200
    assert SESSION_KEY not in client.session


def test_a_backup_code_signs_her_in_once(client, dana):
    authenticator_for(dana)
    backup = StaticDevice.objects.create(user=dana, name="backup")
    backup.token_set.create(token="abcd1234")
    for attempt in ("first", "second"):
        client.logout()
        sign_in_with_password(client, "dana", PASSWORD)
        client.post(
            reverse("login"), {"sign_in_view-current_step": "token", "wizard_goto_step": "backup"}
        )
        response = client.post(
            reverse("login"),
            {"sign_in_view-current_step": "backup", "backup-otp_token": "abcd1234"},
        )
        signed_in = SESSION_KEY in client.session
        assert signed_in == (attempt == "first"), attempt
    assert response.status_code == 200


def test_backup_codes_can_be_made_once_verified(signed_in, dana):
    client = signed_in(dana)
    response = client.post(reverse("two_factor:backup_tokens"))
    assert response.status_code == 302
    assert StaticDevice.objects.get(user=dana).token_set.count() == 10
    page = client.get(reverse("two_factor:backup_tokens")).content.decode()
    token = StaticDevice.objects.get(user=dana).token_set.first().token
    assert token in page


def test_there_is_no_page_to_turn_two_factor_off(client):
    from django.urls import NoReverseMatch

    with pytest.raises(NoReverseMatch):
        reverse("two_factor:disable")


def test_an_enrolled_user_whose_session_was_never_verified_must_sign_in_again(client, dana):
    authenticator_for(dana)
    client.force_login(dana, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get(reverse("visits:queue"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert SESSION_KEY not in client.session


def test_an_htmx_request_is_sent_to_set_up_as_a_whole_page(client, dana):
    sign_in_with_password(client, "dana", PASSWORD)
    response = client.get(reverse("visits:queue"), headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == reverse("two_factor:setup")


@pytest.mark.parametrize("role", [Role.DEPUTY_DSL, Role.HEAD, Role.MANAGER, Role.DSL])
def test_every_role_with_access_to_sensitive_data_must_use_two_factor(client, oakfield, role):
    person("newcomer", oakfield, role)
    sign_in_with_password(client, "newcomer", PASSWORD)
    assert client.get(reverse("home"))["Location"] == reverse("two_factor:setup")


def test_a_trust_lead_must_use_two_factor(client, oakfield, trust):
    lead = UserFactory(username="tara")
    services.trust_role_add(actor=None, user=lead, trust=trust)
    sign_in_with_password(client, "tara", PASSWORD)
    assert client.get(reverse("home"))["Location"] == reverse("two_factor:setup")


def test_an_administrator_must_use_two_factor_even_in_the_admin(client, db):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    sign_in_with_password(client, "root", PASSWORD)
    assert client.get(reverse("admin:index"))["Location"] == reverse("two_factor:setup")


def test_staff_sign_in_with_a_password_alone_by_default(client, sam):
    sign_in_with_password(client, "sam", PASSWORD)
    assert client.get(reverse("visits:mine")).status_code == 200


def test_a_school_can_require_two_factor_for_everyone(client, sam, oakfield):
    oakfield.require_two_factor_for_all = True
    oakfield.save()
    sign_in_with_password(client, "sam", PASSWORD)
    assert client.get(reverse("visits:mine"))["Location"] == reverse("two_factor:setup")


def test_the_admin_s_own_password_only_sign_in_is_replaced_by_homeward_s(client, db):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=/admin/"


def test_tests_sign_in_gives_a_verified_second_factor(client, dana):
    sign_in(client, dana)
    assert client.get(reverse("visits:queue")).status_code == 200
