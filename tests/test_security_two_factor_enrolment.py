"""Issue 19, item 6: a first authenticator app is bound only with an enrolment code that reached
the person another way than her password (issued by an administrator, or emailed to her school
address): single-use, expiring, stored hashed. She is emailed whenever her authenticator app or
backup codes are set up or removed."""

from base64 import b32decode
from datetime import timedelta

import time_machine
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.enrolment import enrolment_code_issue
from config.models import TwoFactorEnrolmentCode
from tests.auth import authenticator_for, sign_in, sign_in_with_password

PASSWORD = "correct-horse-battery"
SETUP = "two_factor:setup"


def _bind_an_app(client):
    """The set-up wizard, as far as the app: True when an authenticator was bound."""
    url = reverse(SETUP)
    client.post(url, {"set_up_view-current_step": "welcome"})
    secret = client.session.get("django_two_factor-qr_secret_key")
    if secret is None:
        return False
    code = f"{totp(b32decode(secret)):06d}"
    client.post(url, {"set_up_view-current_step": "generator", "generator-token": code})
    return TOTPDevice.objects.filter(confirmed=True).exists()


def test_her_password_alone_cannot_bind_an_authenticator_app(client, dana):
    sign_in_with_password(client, "dana", PASSWORD)
    page = client.get(reverse(SETUP)).content.decode()
    assert "Enrolment code" in page
    assert 'class="qr-code' not in page
    assert not _bind_an_app(client)
    assert client.get(reverse("two_factor:qr")).status_code in (302, 404)
    assert not TOTPDevice.objects.filter(user=dana).exists()


def test_a_wrong_enrolment_code_is_refused(client, dana):
    enrolment_code_issue(actor=None, user=dana)
    sign_in_with_password(client, "dana", PASSWORD)
    response = client.post(reverse(SETUP), {"enrolment-code": "ABCDE-FGHJK"})
    assert response.status_code == 200
    assert "not valid" in response.content.decode()
    assert not _bind_an_app(client)


def test_a_valid_enrolment_code_lets_her_bind_her_app(client, dana):
    code = enrolment_code_issue(actor=None, user=dana)
    sign_in_with_password(client, "dana", PASSWORD)
    response = client.post(reverse(SETUP), {"enrolment-code": code.lower()})
    assert response.status_code == 302
    assert _bind_an_app(client)
    assert TOTPDevice.objects.filter(user=dana, confirmed=True).exists()
    assert client.get(reverse("visits:queue")).status_code == 200


def test_an_enrolment_code_works_once(client, dana):
    code = enrolment_code_issue(actor=None, user=dana)
    sign_in_with_password(client, "dana", PASSWORD)
    assert client.post(reverse(SETUP), {"enrolment-code": code}).status_code == 302
    client.logout()
    sign_in_with_password(client, "dana", PASSWORD)
    response = client.post(reverse(SETUP), {"enrolment-code": code})
    assert "not valid" in response.content.decode()
    assert not _bind_an_app(client)


def test_an_enrolment_code_expires_after_72_hours(client, dana):
    with time_machine.travel(timezone.now() - timedelta(hours=73), tick=False):
        code = enrolment_code_issue(actor=None, user=dana)
    sign_in_with_password(client, "dana", PASSWORD)
    response = client.post(reverse(SETUP), {"enrolment-code": code})
    assert "not valid" in response.content.decode()
    assert not _bind_an_app(client)


def test_an_enrolment_code_is_stored_only_as_a_hash(dana):
    code = enrolment_code_issue(actor=None, user=dana)
    stored = TwoFactorEnrolmentCode.objects.get(user=dana)
    assert code.replace("-", "") not in stored.code_hash
    assert len(stored.code_hash) == 64


def test_another_persons_code_does_not_work_for_her(client, dana, hugh):
    code = enrolment_code_issue(actor=None, user=hugh)
    sign_in_with_password(client, "dana", PASSWORD)
    response = client.post(reverse(SETUP), {"enrolment-code": code})
    assert "not valid" in response.content.decode()


def test_she_can_have_a_code_emailed_to_her_school_address(client, dana):
    sign_in_with_password(client, "dana", PASSWORD)
    client.post(reverse(SETUP), {"email_me": "1"})
    assert [m.to for m in mail.outbox] == [[dana.email]]
    body = mail.outbox[0].body
    code = next(line.strip() for line in body.splitlines() if "-" in line and len(line) == 11)
    assert client.post(reverse(SETUP), {"enrolment-code": code}).status_code == 302
    assert _bind_an_app(client)


def test_an_administrator_issues_a_code_with_a_command(dana, capsys):
    call_command("enrolment_code", "dana")
    code = capsys.readouterr().out.strip()
    assert len(code) == 11
    call_command("enrolment_code", "dana", "--email")
    assert mail.outbox[-1].to == [dana.email]
    assert TwoFactorEnrolmentCode.objects.filter(user=dana, used_at__isnull=True).count() == 1


def test_an_administrator_emails_codes_from_the_admin(admin_client, dana):
    response = admin_client.post(
        reverse("admin:schools_user_changelist"),
        {"action": "email_enrolment_code", "_selected_action": [dana.pk]},
    )
    assert response.status_code == 302
    assert mail.outbox[-1].to == [dana.email]
    assert "two-factor" in mail.outbox[-1].subject


def test_she_is_emailed_when_her_authenticator_app_is_set_up(client, dana):
    code = enrolment_code_issue(actor=None, user=dana)
    sign_in_with_password(client, "dana", PASSWORD)
    client.post(reverse(SETUP), {"enrolment-code": code})
    assert _bind_an_app(client)
    assert mail.outbox[-1].to == [dana.email]
    assert "authenticator app was set up" in mail.outbox[-1].subject


def test_she_is_emailed_when_backup_codes_are_made(signed_in, dana):
    signed_in(dana).post(reverse("two_factor:backup_tokens"))
    assert mail.outbox[-1].to == [dana.email]
    assert "backup codes" in mail.outbox[-1].subject


def test_she_is_emailed_when_her_authenticator_app_or_backup_codes_are_removed(client, dana):
    sign_in(client, dana)
    StaticDevice.objects.create(user=dana, name="backup")
    mail.outbox.clear()
    authenticator_for(dana).delete()
    StaticDevice.objects.get(user=dana).delete()
    subjects = [m.subject for m in mail.outbox]
    assert all(m.to == [dana.email] for m in mail.outbox)
    assert any("authenticator app was removed" in s for s in subjects)
    assert any("backup codes were removed" in s for s in subjects)
