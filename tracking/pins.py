"""Check-in PINs and the duress PIN (R-TRK-7; docs/escalation.md "PINs").

On "Sign-in and security" a visitor may set a 4–6 digit check-in PIN and a different duress
PIN. Both are hashed with Django's password hashers, never shown, logged or sent (the audit
records that they were set, never what they are). Once set, saying "I'm OK" from the phone — My
visit, the check-in link or a text reply ("SAFE 4821") — needs the PIN:

- the check-in PIN does what was asked;
- the duress PIN gives exactly the same page or reply, but does not close tracking: it silently
  raises help marked DURESS (R-ESC-7's path), telling the manager chain and the office not to
  ring the visitor's phone and to consider 999. The visitor's own phone shows what it would
  have shown (SignOut.duress_shows); only the office and managers see DURESS;
- a wrong PIN is refused and counted; the third wrong PIN in a row raises help too;
- attempts are rate-limited per visitor (PIN_ATTEMPTS in PIN_WINDOW_SECONDS), beyond which no
  PIN is even checked.
"""

import re

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit.services import audit_event_create
from visits.models import Status as VisitStatus
from visits.models import Visit
from visits.progress import visit_mark_returned

from .common import TrackingConflict
from .models import CheckInPin, SignOut
from .signouts import signout_help_request
from .throttle import throttle_hit

PIN_FORMAT = re.compile(r"^\d{4,6}$")
WRONG_PINS_RAISE_HELP = 3
PIN_ATTEMPTS = 10
PIN_WINDOW_SECONDS = 600

# The phone's actions that say "I'm OK", and so need the PIN once one is set; and the state
# the visitor's phone shows after each (R-TRK-7). Help and more time never need it.
PIN_ACTIONS = {
    "phone_in": SignOut.State.LEFT_SAFELY,
    "returned": SignOut.State.RETURNED,
    "going_home": SignOut.State.WENT_HOME,
    "check_in": "",
}


class Verdict:
    OK = "ok"  # the check-in PIN: do what was asked
    DURESS = "duress"  # the duress PIN: help was raised; answer exactly as for OK
    WRONG = "wrong"
    MISSING = "missing"
    NOT_SET = "not_set"  # this visitor has no PIN: nothing to check
    LOCKED = "locked"  # too many tries: not checked


def pin_required(user) -> bool:
    return CheckInPin.objects.filter(user=user).exists()


def pins_set(*, user, pin: str, duress_pin: str) -> CheckInPin:
    """Set (or change) both PINs. Refused, with the reason in plain words, unless both are 4
    to 6 digits and different."""
    errors = {}
    if not PIN_FORMAT.match(pin or ""):
        errors["pin"] = ["Your check-in PIN must be 4 to 6 digits."]
    if not PIN_FORMAT.match(duress_pin or ""):
        errors["duress_pin"] = ["Your duress PIN must be 4 to 6 digits."]
    elif pin == duress_pin:
        errors["duress_pin"] = ["Your duress PIN must be different from your check-in PIN."]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    record, _ = CheckInPin.objects.update_or_create(
        user=user,
        defaults={
            "pin_hash": make_password(pin),
            "duress_hash": make_password(duress_pin),
            "failed_attempts": 0,
            "updated_at": now,
        },
    )
    audit_event_create(actor=user, school=None, obj=record, event_type="checkin_pin.set")
    return record


def pins_clear(*, user) -> None:
    record = CheckInPin.objects.filter(user=user).first()
    if record is not None:
        audit_event_create(actor=user, school=None, obj=record, event_type="checkin_pin.cleared")
        record.delete()


def pin_verify(*, user, pin: str, signout: SignOut, action: str, via: str, enqueue=None) -> str:
    """Check the PIN given with `action` (a key of PIN_ACTIONS) on `signout`. On the duress PIN
    or the third wrong PIN, help is raised here, silently. Returns a Verdict."""
    record = CheckInPin.objects.filter(user=user).first()
    if record is None:
        return Verdict.NOT_SET
    pin = (pin or "").strip()
    if not pin:
        return Verdict.MISSING
    if throttle_hit(
        key=f"checkin-pin:{user.pk}", limit=PIN_ATTEMPTS, window_seconds=PIN_WINDOW_SECONDS
    ):
        audit_event_create(
            actor=None,
            school=signout.school,
            obj=signout,
            event_type="checkin_pin.throttled",
            changes={"visitor": user.pk, "via": via},
        )
        return Verdict.LOCKED
    well_formed = bool(PIN_FORMAT.match(pin))
    # Both hashes are always checked, so the two PINs take the same time.
    normal = check_password(pin, record.pin_hash) and well_formed
    duress = check_password(pin, record.duress_hash) and well_formed
    if normal or duress:
        CheckInPin.objects.filter(pk=record.pk).update(failed_attempts=0)
    if normal:
        return Verdict.OK
    if duress:
        _raise(
            signout, user=user, via=via, why="duress", shows=PIN_ACTIONS[action], enqueue=enqueue
        )
        return Verdict.DURESS
    CheckInPin.objects.filter(pk=record.pk).update(failed_attempts=F("failed_attempts") + 1)
    count = CheckInPin.objects.values_list("failed_attempts", flat=True).get(pk=record.pk)
    audit_event_create(
        actor=None,
        school=signout.school,
        obj=signout,
        event_type="checkin_pin.wrong",
        changes={"visitor": user.pk, "via": via, "in_a_row": count},
    )
    if count == WRONG_PINS_RAISE_HELP:
        _raise(signout, user=user, via=via, why="wrong_pins", shows="", enqueue=enqueue)
    return Verdict.WRONG


@transaction.atomic
def _raise(signout: SignOut, *, user, via: str, why: str, shows: str, enqueue) -> None:
    """R-TRK-7, R-ESC-7: help, marked DURESS, with nothing on the visitor's phone to show it."""
    try:
        signout_help_request(
            actor=None,
            signout=signout,
            via=via,
            visitor=user,
            enqueue=enqueue,
            duress=why,
            duress_shows=shows,
        )
        if shows in (SignOut.State.RETURNED, SignOut.State.WENT_HOME):
            # The visit's own pages (the Home Visit record the phone opens next) look as after
            # a real return; tracking stays open, so the alarm cannot be silenced from here.
            visit = Visit.objects.get(pk=signout.visit_id)
            if visit.status == VisitStatus.OUT:
                visit_mark_returned(actor=None, visit=visit, at=timezone.now())
    except TrackingConflict:
        # Tracking closed meanwhile: nobody left to alert through the ladder; the audit says so.
        audit_event_create(
            actor=None,
            school=signout.school,
            obj=signout,
            event_type=f"checkin_pin.{why}_closed",
            changes={"visitor": user.pk, "via": via},
        )
