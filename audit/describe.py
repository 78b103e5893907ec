"""The audit trail in plain words (issue 14, point 9): what each event type means ("Read the
chronology"), what it is about ("Risk assessment for Amy Brown's visit on 03/12/2026", never
"riskassess.riskassessment #1" or "Pupil #3") and its changes as a readable list. The directory's
objects are named here; the apps above name theirs through audit.signals.objects_described."""

from collections import defaultdict
from dataclasses import dataclass

from django.urls import reverse

from core.numbers import is_whole_number
from schools.models import Household, Membership, Pupil, School, User

from . import signals


@dataclass
class Described:
    text: str
    url: str = ""


# What an event type means. Types not listed read from their parts ("signout.extended" →
# "Sign-out: extended").
EVENT_WORDS = {
    "visit.created": "Drafted a visit request",
    "visit.changed": "Changed a visit request",
    "visit.submitted": "Submitted a visit for authorisation",
    "visit.authorised": "Authorised a visit",
    "visit.refused": "Refused a visit",
    "visit.changes_requested": "Asked for changes to a visit",
    "visit.returned_for_authorisation": "Sent a visit back for authorisation after a change",
    "visit.head_consulted": "Consulted the Headteacher on a doorstep visit",
    "visit.cancelled": "Cancelled a visit",
    "visit.visitor_withdrew": "Withdrew from a visit",
    "visit.signed_out": "Signed visitors out",
    "visit.returned": "Recorded visitors back",
    "visit.recorded": "Completed a Home Visit record",
    "assessment.created": "Made a risk assessment",
    "assessment.changed": "Changed a risk assessment",
    "assessment.signed_off": "Signed off a risk assessment",
    "assessment.reconfirmed": "Re-confirmed a risk assessment",
    "record.created": "Started a Home Visit record",
    "record.submitted": "Submitted a Home Visit record",
    "concern.raised": "Raised a concern",
    "concern.acknowledged": "Acknowledged a concern",
    "action.created": "Set an action",
    "action.reassigned": "Reassigned an action",
    "action.status_changed": "Changed an action's status",
    "contact.logged": "Logged a contact with a family",
    "contactlog.created": "Logged a contact with a family",
    "signout.created": "Signed visitors out",
    "signout.returned": "Recorded visitors back at school",
    "signout.extended": "Gave visitors more time",
    "signout.cancelled": "Closed a sign-out for a cancelled visit",
    "signout.help_requested": "Asked for help while out",
    "signout.reminded": "Reminded visitors to sign back in",
    "signout.reopened": "Reopened a sign-out: the visitors were still out",
    "signout.briefing_printed": "Printed the Police briefing",
    "call_attempt.recorded": "Recorded a call to a visitor",
    "escalation.acknowledged": "Took an overdue visit's case",
    "escalation.decision_recorded": "Recorded what was done about an overdue visit",
    "escalation.resolved": "Closed an overdue visit's case",
    "escalation.stood_down": "Stood the alarm down",
    "household.changed": "Changed a household",
    "household.risk_flag_added": "Added a risk flag to a household",
    "pupil.changed": "Changed a pupil's details",
    "pupil.left": "Marked a pupil as left",
    "pupil.returned": "Marked a pupil as back on roll",
    "pupils.imported": "Imported pupils",
    "membership.added": "Gave someone a role",
    "membership.removed": "Removed someone's role",
    "school.created": "Set up a school",
    "document.downloaded": "Downloaded a document",
    "retention.reviewed": "Reviewed what to delete under the retention policy",
    "sign_in.sso": "Signed in with the school's account",
    "sign_in.sso_refused": "Was refused sign-in with the school's account",
}

READ_WORDS = {
    "visit": "Opened a visit",
    "assessment": "Read a risk assessment",
    "pupil": "Opened a pupil's page",
    "household": "Opened a household's page",
    "chronology": "Read the chronology",
    "contact_log": "Read a family's contact log",
    "record": "Read a Home Visit record",
    "concern": "Read a concern",
    "pdf": "Opened a PDF",
    "emergency": "Opened the emergency page",
    "briefing": "Opened the Police briefing",
}

NOUNS = {
    "signout": "Sign-out",
    "sms_reply": "Text message reply",
    "call_attempt": "Call",
    "calendar_feed": "Calendar feed",
    "two_factor": "Two-factor sign-in",
    "mis": "School information system",
    "sso": "School account sign-in",
    "trust_lead": "Trust safeguarding lead",
    "checkin": "Check-in link",
    "schoolholiday": "School holiday",
    "notification": "Message",
}


def event_words(event_type: str) -> str:
    if event_type in EVENT_WORDS:
        return EVENT_WORDS[event_type]
    noun, _, verb = event_type.partition(".")
    if noun == "read":
        return READ_WORDS.get(verb, f"Read: {verb.replace('_', ' ')}")
    noun_words = NOUNS.get(noun, noun.replace("_", " ").capitalize())
    return f"{noun_words}: {verb.replace('_', ' ')}" if verb else noun_words


def field_words(name: str) -> str:
    return name.replace("_", " ").strip().capitalize()


def change_lines(changes) -> list[str]:
    """An event's changes as lines a person reads: "Status: Draft → Submitted"."""
    if not changes:
        return []
    if not isinstance(changes, dict):
        return [_value(changes)]
    lines = []
    for name, value in changes.items():
        if _is_bare_reference(name, value):
            continue  # "User: 12" says nothing; the "About" column names the object
        if isinstance(value, list) and len(value) == 2:
            lines.append(f"{field_words(name)}: {_value(value[0])} → {_value(value[1])}")
        else:
            lines.append(f"{field_words(name)}: {_value(value)}")
    return lines


def _is_bare_reference(name: str, value) -> bool:
    reference = name.endswith("_id") or name in ("user", "pupil", "visit", "household", "school")
    return reference and isinstance(value, int) and not isinstance(value, bool)


def _value(value) -> str:
    if value in (None, "", [], {}):
        return "(empty)"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{field_words(k)} {_value(v)}" for k, v in value.items())
    text = str(value)
    return text.replace("_", " ") if text.isidentifier() and "_" in text else text


def pupil_words(pupil: Pupil) -> str:
    return f"{pupil.first_name} {pupil.last_name}"


def _directory(wanted: dict[str, set[str]]) -> dict:
    found = {}

    def ids(model) -> list[int]:
        return [int(i) for i in wanted.get(model._meta.label_lower, ()) if is_whole_number(str(i))]

    for pupil in Pupil.objects.filter(pk__in=ids(Pupil)):
        found[("schools.pupil", str(pupil.pk))] = Described(
            pupil_words(pupil), reverse("pupils:pupil_detail", args=[pupil.pk])
        )
    for household in Household.objects.filter(pk__in=ids(Household)):
        found[("schools.household", str(household.pk))] = Described(
            f"The household at {household}",
            reverse("pupils:household_detail", args=[household.pk]),
        )
    for school in School.objects.filter(pk__in=ids(School)):
        found[("schools.school", str(school.pk))] = Described(school.name)
    for membership in Membership.objects.filter(pk__in=ids(Membership)).select_related(
        "user", "school"
    ):
        found[("schools.membership", str(membership.pk))] = Described(
            f"{membership.user}'s role ({membership.get_role_display()}) at {membership.school}"
        )
    for user in User.objects.filter(pk__in=ids(User)):
        found[(User._meta.label_lower, str(user.pk))] = Described(str(user))
    return found


def describe_events(events) -> dict[tuple[str, str], Described]:
    """What each of `events` is about, in plain words: a fixed number of queries per kind of
    object, whatever the number of events."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for event in events:
        wanted[event.object_type].add(event.object_id)
    found = _directory(wanted)
    for _, answer in signals.objects_described.send(sender=None, wanted=dict(wanted)):
        found.update(answer or {})
    return found


def fallback(object_type: str) -> str:
    """An object nobody described (deleted since, or a kind no app names): its kind in words."""
    model = object_type.partition(".")[2]
    return f"A {NOUNS.get(model, model.replace('_', ' '))} (no longer on file)"
