"""Staff photos for the emergency page and the Police briefing (issue 14, point 12).

A photo is optional and uploaded by the member of staff on their profile. It is kept outside the
public media (settings.PRIVATE_MEDIA_ROOT): nothing serves it but an access-checked view of
tracking (the emergency page's), never a public URL. Every upload is opened with Pillow, checked
and re-encoded as a small JPEG, so what is stored is a picture and nothing else (no metadata, no
location, no file that is also something else)."""

import io
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a larger picture is refused before it is decoded (a decompression bomb)
STORED_SIZE = (600, 600)
FORMATS = {"JPEG", "PNG", "WEBP"}


class PrivateStorage(FileSystemStorage):
    """Files no web server publishes, under settings.PRIVATE_MEDIA_ROOT (read when used, so a
    test's own folder applies), only read by Homeward's own views: no URL."""

    @property
    def base_location(self):
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self):
        import os

        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("Staff photos have no public address: use the access-checked view.")


def private_storage() -> FileSystemStorage:
    return PrivateStorage()


def photo_prepare(upload) -> ContentFile:
    """The upload checked and re-encoded, or a ValidationError in plain words."""
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            f"The photo is {upload.size / 1024 / 1024:.1f} MB: choose one of at most 5 MB."
        )
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            if probe.format not in FORMATS:
                raise ValidationError("Choose a photo in JPEG, PNG or WebP format.")
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise ValidationError("The photo is too large in pixels: choose a smaller one.")
            probe.verify()
        upload.seek(0)
        with Image.open(upload) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
            image.thumbnail(STORED_SIZE)
            out = io.BytesIO()
            image.save(out, format="JPEG", quality=85)
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise ValidationError(
            "That file is not a photo Homeward can read: choose a JPEG, PNG or WebP picture."
        ) from error
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.jpg")
