"""R-REC-8, to a school not on Homeward: an AES-encrypted zip of the whole file and its
chronology, a signed link that downloads it once and expires, the password given separately;
or the receipt recorded by hand. Every refusal changes nothing and is audited."""

import datetime
import io
import re

import pytest
import pyzipper
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from records.models import Concern
from transfers import services
from transfers.models import FileTransfer

from .test_homeward_route import _leave, aisha_with_a_file  # noqa: F401  (fixture)

RECIPIENT = "dsl@elsewhere.example"


@pytest.fixture(autouse=True)
def _a_thursday_in_term(time_machine, emails_at_once):
    time_machine.move_to(
        datetime.datetime(2026, 11, 26, 9, 0, tzinfo=timezone.get_current_timezone()), tick=False
    )


@pytest.fixture
def sent(client, dana, aisha_with_a_file):  # noqa: F811
    """Dana sends Aisha's file as a package: (transfer, password, link path)."""
    _leave(client, dana, aisha_with_a_file, to="Elsewhere Primary")
    transfer = FileTransfer.objects.get(pupil=aisha_with_a_file)
    mail.outbox.clear()
    response = client.post(
        reverse("transfers:package", args=[transfer.pk]),
        {"to_school_name": "Elsewhere Primary", "recipient_email": RECIPIENT},
    )
    assert response.status_code == 200
    password = re.search(r'font-monospace mb-1">([a-z0-9-]+)<', response.content.decode())[1]
    path = re.search(r"(/transfers/link/[^\s]+/)", mail.outbox[0].body)[1]
    transfer.refresh_from_db()
    return transfer, password, path


def _refusals(reason):
    return AuditEvent.objects.filter(event_type="transfer.link_refused", changes__reason=reason)


def test_the_link_is_emailed_without_the_password_or_the_childs_details(sent):
    transfer, password, _path = sent
    assert transfer.status == FileTransfer.Status.SENT
    message = mail.outbox[0]
    assert message.to == [RECIPIENT]
    assert password not in message.body
    assert "Aisha" not in message.body and "Ahmed" not in message.body
    assert password not in str(transfer.__dict__)  # never stored


def test_the_receiving_dsl_downloads_once_opens_it_with_the_password_and_confirms(
    client, sent, dana, hugh
):
    transfer, password, path = sent
    client.logout()
    assert "Download the file" in client.get(path).content.decode()
    response = client.post(path, {"email": RECIPIENT.upper(), "step": "download"})
    assert response["Content-Type"] == "application/zip"
    with pyzipper.AESZipFile(io.BytesIO(response.content)) as package:
        package.setpassword(password.encode())
        names = package.namelist()
        assert package.read("safeguarding-file.pdf").startswith(b"%PDF")
        assert "Bruise on her arm." in package.read("chronology.csv").decode("utf-8-sig")
    assert {"safeguarding-file.pdf", "chronology.csv"} <= set(names)
    with pyzipper.AESZipFile(io.BytesIO(response.content)) as package:
        package.setpassword(b"wrong")
        with pytest.raises(RuntimeError):
            package.read("chronology.csv")
    assert AuditEvent.objects.filter(
        event_type="document.downloaded", changes__document="transfer-package"
    ).exists()

    # A second download (a replayed link) is refused and changes nothing.
    replay = client.post(path, {"email": RECIPIENT, "step": "download"})
    assert "already been downloaded" in replay.content.decode()
    assert _refusals("replayed").count() == 1

    mail.outbox.clear()
    done = client.post(path, {"email": RECIPIENT, "name": "Jo Bloggs, DSL", "step": "confirm"})
    assert "receipt is confirmed" in done.content.decode()
    transfer.refresh_from_db()
    assert transfer.status == FileTransfer.Status.RECEIVED
    assert transfer.received_by_name == "Jo Bloggs, DSL" and transfer.on_time
    assert transfer.package is None
    assert sorted(m.to[0] for m in mail.outbox) == [dana.email, hugh.email]
    # Oakfield keeps the receipt only.
    assert not Concern.objects.filter(pupil=transfer.pupil).exists()
    # The link is now closed.
    assert (
        "not valid" in client.get(path).content.decode()
        or "closed" in client.get(path).content.decode()
    )


def test_the_wrong_recipient_gets_nothing_and_is_audited(client, sent):
    transfer, _password, path = sent
    client.logout()
    response = client.post(path, {"email": "someone@else.example", "step": "download"})
    assert response["Content-Type"].startswith("text/html")
    assert "not the email address" in response.content.decode()
    transfer.refresh_from_db()
    assert transfer.downloaded_at is None and transfer.status == FileTransfer.Status.SENT
    assert _refusals("wrong_recipient").count() == 1


def test_an_expired_link_gets_nothing_and_is_audited(client, sent, time_machine):
    transfer, _password, path = sent
    client.logout()
    time_machine.move_to(timezone.now() + datetime.timedelta(days=8), tick=False)
    response = client.post(path, {"email": RECIPIENT, "step": "download"})
    assert "expired" in response.content.decode()
    transfer.refresh_from_db()
    assert transfer.downloaded_at is None
    assert _refusals("expired").count() == 1


def test_a_tampered_link_gets_nothing(client, sent):
    transfer, _password, path = sent
    client.logout()
    response = client.post(path[:-3] + "xx/", {"email": RECIPIENT, "step": "download"})
    assert "not valid" in response.content.decode()
    transfer.refresh_from_db()
    assert transfer.downloaded_at is None


def test_receipt_cannot_be_confirmed_before_the_download(client, sent):
    transfer, _password, path = sent
    client.logout()
    response = client.post(path, {"email": RECIPIENT, "name": "Jo", "step": "confirm"})
    assert "Download the file before" in response.content.decode()
    transfer.refresh_from_db()
    assert transfer.status == FileTransfer.Status.SENT
    assert _refusals("not_downloaded").count() == 1


def test_a_pupil_who_comes_back_makes_the_link_useless(client, sent, dana):
    transfer, _password, path = sent
    client.post(reverse("transfers:pupil_returned", args=[transfer.pupil_id]))
    client.logout()
    response = client.post(path, {"email": RECIPIENT, "step": "download"})
    assert "not valid" in response.content.decode() or "closed" in response.content.decode()
    transfer.refresh_from_db()
    assert transfer.status == FileTransfer.Status.CANCELLED and transfer.downloaded_at is None


def test_dana_records_a_receipt_by_hand(client, dana, aisha_with_a_file):  # noqa: F811
    _leave(client, dana, aisha_with_a_file, to="St Anne's, Cork")
    transfer = FileTransfer.objects.get(pupil=aisha_with_a_file)
    response = client.post(
        reverse("transfers:receipt", args=[transfer.pk]),
        {
            "to_school_name": "St Anne's, Cork",
            "received_by_name": "Mrs Byrne, DSL",
            "received_on": "2026-11-26",
            "method": "post",
            "notes": "Recorded delivery AB123456789GB",
        },
    )
    assert response.status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == FileTransfer.Status.RECEIVED
    assert transfer.route == FileTransfer.Route.BY_HAND and transfer.receipt_method == "post"
    assert transfer.recorded_by == dana
    assert AuditEvent.objects.filter(event_type="transfer.receipt_recorded").exists()


def test_a_receipt_cannot_be_dated_in_the_future(dana, client, aisha_with_a_file):  # noqa: F811
    _leave(client, dana, aisha_with_a_file)
    transfer = FileTransfer.objects.get(pupil=aisha_with_a_file)
    with pytest.raises(services.TransferBlocked):
        services.transfer_receipt_record(
            actor=dana,
            transfer=transfer,
            to_school_name="X",
            received_by_name="Y",
            received_on=datetime.date(2026, 12, 1),
            method="post",
        )
    transfer.refresh_from_db()
    assert transfer.status == FileTransfer.Status.TO_SEND


def test_a_file_already_sent_cannot_be_sent_again(dana, sent):
    transfer, _password, _path = sent
    with pytest.raises(services.TransferBlocked):
        services.transfer_package_send(
            actor=dana, transfer=transfer, to_school_name="X", recipient_email="x@x.example"
        )


def test_staff_cannot_send_a_file(sam, dana, client, aisha_with_a_file):  # noqa: F811
    _leave(client, dana, aisha_with_a_file)
    transfer = FileTransfer.objects.get(pupil=aisha_with_a_file)
    with pytest.raises(services.TransferBlocked):
        services.transfer_package_send(
            actor=sam, transfer=transfer, to_school_name="X", recipient_email="x@x.example"
        )
