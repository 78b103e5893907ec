"""Issue 14, point 12: the Police get a description of the visitors. Each member of staff may
upload a photo on their profile (checked with Pillow, size-limited, kept outside the public media
and served only through access-checked views), and the office may note what each visitor is
wearing today at sign-out. Both show on the emergency page and the Police briefing only
(R-ESC-3), and the photo goes when its owner removes it or leaves the school."""

import datetime
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from audit.models import AuditEvent
from schools.models import StaffProfile
from schools.services import membership_remove

from .conftest import NOON, sign_out

R = NOON + datetime.timedelta(hours=1)
minute = datetime.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _photos_in_a_folder_of_their_own(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private-media"


def _picture(kind="PNG", size=(900, 1200)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=kind)
    return SimpleUploadedFile(f"me.{kind.lower()}", out.getvalue(), content_type="image/png")


def _upload(client, upload):
    return client.post(reverse("my_photo"), {"photo": upload}, follow=True)


def test_a_member_of_staff_uploads_a_photo_kept_small_private_and_audited(
    clock, signed_in, sam, settings
):
    client = signed_in(sam)
    response = _upload(client, _picture())
    assert "Your photo is saved." in response.content.decode()
    photo = StaffProfile.objects.get(user=sam).photo
    stored = Path(settings.PRIVATE_MEDIA_ROOT) / photo.name
    with Image.open(stored) as image:
        assert image.format == "JPEG" and max(image.size) == 600
    own = client.get(reverse("my_photo_image"))
    assert own.status_code == 200 and own["Content-Type"] == "image/jpeg"
    assert "no-store" in own["Cache-Control"] and "private" in own["Cache-Control"]
    assert AuditEvent.objects.filter(event_type="staffprofile.photo_changed", actor=sam).exists()


@pytest.mark.parametrize(
    "upload, message",
    [
        (
            SimpleUploadedFile("me.png", b"<?php echo 1; ?>", content_type="image/png"),
            "That file is not a photo Homeward can read",
        ),
        (_picture("GIF", (10, 10)), "Choose a photo in JPEG, PNG or WebP format."),
    ],
)
def test_a_file_that_is_not_a_photo_is_refused_in_plain_words_and_nothing_is_kept(
    clock, signed_in, sam, upload, message
):
    page = _upload(signed_in(sam), upload).content.decode()
    assert message in page
    assert not StaffProfile.objects.filter(user=sam).exclude(photo="").exists()


def test_a_photo_over_5_mb_is_refused(clock, signed_in, sam):
    big = SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * (5 * 1024 * 1024 + 1))
    page = _upload(signed_in(sam), big).content.decode()
    assert "choose one of at most 5 MB" in page


def test_the_photo_is_served_only_to_those_who_may_open_the_emergency_page_r_esc_3(
    clock, signed_in, signout, sam, tess, olive, max, oscar
):
    _upload(signed_in(sam), _picture())
    url = reverse("tracking:visitor_photo", args=[signout.pk, sam.pk])
    assert signed_in(olive).get(url).status_code == 200  # the office
    assert signed_in(max).get(url).status_code == 200  # the manager
    assert signed_in(oscar).get(url).status_code == 404  # another school
    assert signed_in(tess).get(url).status_code == 403  # a visitor: not the emergency page
    # Someone who is not on this sign-out, or has no photo: nothing to show.
    other = reverse("tracking:visitor_photo", args=[signout.pk, olive.pk])
    assert signed_in(olive).get(other).status_code == 404
    no_photo = reverse("tracking:visitor_photo", args=[signout.pk, tess.pk])
    assert signed_in(olive).get(no_photo).status_code == 404


def test_what_they_wear_is_noted_at_sign_out_and_shown_with_the_photo_r_esc_3(
    clock, signed_in, visit, sam, tess, olive, max, scan
):
    _upload(signed_in(sam), _picture())
    client = signed_in(olive)
    response = client.post(
        reverse("tracking:signout", args=[visit.pk]),
        {
            "expected_return_at": "25/11/2026 13:00",
            "vehicle": "Blue Ford Focus YR19 KXT",
            f"mobile_{sam.pk}": "07700 900101",
            f"mobile_{tess.pk}": "07700 900102",
            f"wearing_{sam.pk}": "Navy coat, red scarf",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    signout = visit.signout
    page = client.get(reverse("tracking:emergency", args=[signout.pk])).content.decode()
    assert "Wearing today: Navy coat, red scarf" in page
    assert reverse("tracking:visitor_photo", args=[signout.pk, sam.pk]) in page
    assert 'alt="Photo of ' in page


def test_the_police_briefing_carries_the_photo_and_the_description(
    clock, signed_in, visit, sam, olive, max, scan, oakfield
):
    oakfield.designated_manager = max
    oakfield.save()
    signout = sign_out(visit, olive)
    signout.visitors.filter(user=sam).update(wearing="Navy coat, red scarf")
    clock.move_to(R + 31 * minute)
    scan()

    def briefing():
        response = signed_in(max).get(reverse("tracking:briefing_pdf", args=[signout.pk]))
        assert response["Content-Type"] == "application/pdf"
        reader = PdfReader(io.BytesIO(response.content))
        text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
        return text, sum(len(page.images) for page in reader.pages)

    text, images_without = briefing()
    assert "Wearing today: Navy coat, red scarf" in text
    _upload(signed_in(sam), _picture())
    text, images_with = briefing()
    assert images_without == 0 and images_with > 0  # Sam's photo; Tess has none


def test_a_photo_is_deleted_when_its_owner_removes_it_or_leaves_the_school(
    clock, signed_in, sam, tess, settings, django_capture_on_commit_callbacks
):
    _upload(signed_in(sam), _picture())
    stored = Path(settings.PRIVATE_MEDIA_ROOT) / StaffProfile.objects.get(user=sam).photo.name
    assert stored.exists()
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(sam).post(reverse("my_photo"), {"remove": "1"})
    assert not stored.exists()
    assert not StaffProfile.objects.get(user=sam).photo
    _upload(signed_in(tess), _picture())
    stored = Path(settings.PRIVATE_MEDIA_ROOT) / StaffProfile.objects.get(user=tess).photo.name
    with django_capture_on_commit_callbacks(execute=True):
        for membership in tess.memberships.all():
            membership_remove(actor=None, membership=membership)
    assert not stored.exists()
