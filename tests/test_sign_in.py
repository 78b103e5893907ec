import pytest
from django.core import mail
from django.urls import reverse
from django_otp.oath import totp

from tests.auth import authenticator_for, sign_in_with_password

PASSWORD = "correct-horse-battery"


def sign_in_as_a_person(client, user, *, with_code: bool):
    """Username and password; then, for someone with an authenticator app, its current code."""
    response = sign_in_with_password(client, user.username, PASSWORD)
    if with_code:
        assert b'name="token-otp_token"' in response.content, "the page asks for the app's code"
        device = authenticator_for(user)
        response = client.post(
            reverse("login"),
            {
                "sign_in_view-current_step": "token",
                "token-otp_token": f"{totp(device.bin_key):06d}",
            },
        )
    return client.get(response["Location"], follow=True) if response.status_code == 302 else None


@pytest.mark.parametrize(
    ("username", "home", "second_factor"),
    [
        ("sam", "visits:mine", False),
        ("dana", "visits:queue", True),
        ("hugh", "visits:queue", True),
        ("olive", "tracking:board", False),
        ("max", "tracking:escalations", True),
    ],
)
def test_each_role_lands_on_its_own_home_after_signing_in(
    client, sam, dana, hugh, olive, max, username, home, second_factor
):
    user = {"sam": sam, "dana": dana, "hugh": hugh, "olive": olive, "max": max}[username]
    if second_factor:
        authenticator_for(user)  # DSLs, Heads and managers sign in with their app's code
    response = sign_in_as_a_person(client, user, with_code=second_factor)
    assert response.redirect_chain[-1][0] == reverse(home)
    assert response.status_code == 200


def test_dana_lands_on_her_queue_which_shows_a_helpful_empty_state(client, dana):
    authenticator_for(dana)
    response = sign_in_as_a_person(client, dana, with_code=True)
    assert "Nothing is waiting for you" in response.content.decode()


def test_a_wrong_password_shows_a_clear_message_and_signs_nobody_in(client, dana):
    response = sign_in_with_password(client, "dana", "wrong-password")
    assert response.status_code == 200
    assert "enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_user_with_no_school_is_told_so_calmly(client, db):
    from tests.auth import sign_in
    from tests.factories import UserFactory

    sign_in(client, UserFactory(username="newcomer"))
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert "not part of a school yet" in response.content.decode()


def test_a_password_reset_emails_a_link_and_no_child_data(client, dana, pupil):
    client.post(reverse("password_reset"), {"email": dana.email})
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "/accounts/password-reset/" in body
    assert pupil.last_name not in body


def test_signed_in_pages_are_never_cached(signed_in, dana):
    response = signed_in(dana).get(reverse("visits:queue"))
    assert "no-store" in response["Cache-Control"]


def test_a_missing_page_is_a_calm_404_without_a_stack_trace(signed_in, dana):
    response = signed_in(dana).get("/no-such-page/")
    assert response.status_code == 404
    assert "Traceback" not in response.content.decode()


def test_a_password_reset_link_is_built_from_site_url_not_from_a_forged_host_header(
    client, dana, settings
):
    """Issue 19: a request with a forged Host must not send Dana a link to the attacker's site."""
    settings.SITE_URL = "https://homeward.example"
    settings.ALLOWED_HOSTS = ["homeward.example", "attacker.example"]
    client.post(reverse("password_reset"), {"email": dana.email}, HTTP_HOST="attacker.example")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    html = message.alternatives[0][0] if message.alternatives else ""
    for text in (message.body, html):
        assert "attacker.example" not in text
    assert "https://homeward.example/accounts/password-reset/" in message.body
