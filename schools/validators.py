"""Validators for the directory's UK-shaped data: postcodes, phone numbers, dates of birth."""

import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

# The Royal Mail format, as published for BS 7666: outward code, a space, inward code.
_POSTCODE = re.compile(
    r"^(GIR 0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]|"
    r"[A-HK-Y][0-9][ABEHMNPRVWXY]) [0-9][ABD-HJLNP-UW-Z]{2})$"
)


def normalise_postcode(value: str) -> str:
    """`sw1a1aa` → `SW1A 1AA`; anything that is not a postcode comes back unchanged."""
    compact = re.sub(r"\s+", "", value or "").upper()
    if 5 <= len(compact) <= 7:
        return f"{compact[:-3]} {compact[-3:]}"
    return (value or "").strip()


def validate_uk_postcode(value: str) -> None:
    if not _POSTCODE.match(normalise_postcode(value)):
        raise ValidationError(
            "“%(value)s” is not a UK postcode. Write it like SW1A 1AA.",
            code="invalid_postcode",
            params={"value": value},
        )


def normalise_uk_phone(value: str) -> str:
    """A valid UK number in E.164 (`+447700900123`); raises ValidationError otherwise."""
    try:
        parsed = phonenumbers.parse(value or "", "GB")
    except phonenumbers.NumberParseException as error:
        raise ValidationError(
            "“%(value)s” is not a phone number.", code="invalid_phone", params={"value": value}
        ) from error
    if parsed.country_code != 44 or not (
        phonenumbers.is_valid_number(parsed) or _is_allowed_drama_number(parsed)
    ):
        raise ValidationError(
            "“%(value)s” is not a valid UK phone number. Write it like 07700 900123.",
            code="invalid_phone",
            params={"value": value},
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# Ofcom reserves 07700 900000–900999 for drama and training: never anybody's phone. Libphonenumber
# calls them invalid; the demo data and the tests use them, production turns them off.
_DRAMA_MOBILES = re.compile(r"^7700900\d{3}$")


def _is_allowed_drama_number(parsed) -> bool:
    return bool(
        settings.ALLOW_DRAMA_PHONE_NUMBERS and _DRAMA_MOBILES.match(str(parsed.national_number))
    )


def validate_uk_phone(value: str) -> None:
    normalise_uk_phone(value)


def format_uk_phone(e164: str) -> str:
    """How a British reader writes the number: `07700 900123`."""
    try:
        parsed = phonenumbers.parse(e164, "GB")
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def validate_not_in_future(value) -> None:
    if value and value > timezone.localdate():
        raise ValidationError(
            "The date of birth %(value)s is in the future.",
            code="future_date",
            params={"value": value.strftime("%d/%m/%Y")},
        )
