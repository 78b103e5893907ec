"""The token of a visitor's check-in link: the link's id, timestamped and signed with the secret
key. It proves which link it is and when it was made; the row says whether it was used."""

import datetime

from django.conf import settings
from django.core import signing

SALT = "tracking.checkin-link"


class CheckInTokenInvalid(Exception):
    """Tampered, truncated or made with another key."""


class CheckInTokenExpired(Exception):
    def __init__(self, link_id: int):
        super().__init__("expired")
        self.link_id = link_id


def checkin_lifetime() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.CHECKIN_LINK_MINUTES)


def checkin_token_make(link_id: int) -> str:
    return signing.TimestampSigner(salt=SALT).sign(str(link_id))


def checkin_token_read(token: str) -> int:
    """The link id in a token made less than an hour ago."""
    signer = signing.TimestampSigner(salt=SALT)
    try:
        return int(signer.unsign(token, max_age=checkin_lifetime()))
    except signing.SignatureExpired as error:
        # The signature is good, only old: say so, and audit it on the right sign-out.
        value = signer.unsign(token)
        raise CheckInTokenExpired(int(value)) from error
    except (signing.BadSignature, ValueError) as error:
        raise CheckInTokenInvalid() from error


# R-ESC-8: the one-tap acknowledgement link in a manager's or monitor's alert.
ACK_SALT = "tracking.ack-link"


def ack_lifetime() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.ACK_LINK_MINUTES)


def ack_token_make(link_id: int) -> str:
    return signing.TimestampSigner(salt=ACK_SALT).sign(str(link_id))


def ack_token_read(token: str) -> int:
    """The acknowledgement link id in a token made within its lifetime."""
    signer = signing.TimestampSigner(salt=ACK_SALT)
    try:
        return int(signer.unsign(token, max_age=ack_lifetime()))
    except signing.SignatureExpired as error:
        raise CheckInTokenExpired(int(signer.unsign(token))) from error
    except (signing.BadSignature, ValueError) as error:
        raise CheckInTokenInvalid() from error


# R-ESC-11: the phone call's own webhooks (what to say, the key pressed) carry the call's
# Notification id, signed: Twilio's signature proves Twilio sent it, this that Homeward made it.
VOICE_SALT = "tracking.voice-call"
VOICE_TOKEN_DAYS = 2


def voice_token_make(notification_id: int) -> str:
    return signing.TimestampSigner(salt=VOICE_SALT).sign(str(notification_id))


def voice_token_read(token: str) -> int:
    """The call's Notification id; CheckInTokenInvalid for anything tampered or too old."""
    signer = signing.TimestampSigner(salt=VOICE_SALT)
    try:
        return int(signer.unsign(token, max_age=datetime.timedelta(days=VOICE_TOKEN_DAYS)))
    except (signing.BadSignature, ValueError) as error:
        raise CheckInTokenInvalid() from error
