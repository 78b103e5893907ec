"""The MIS sync (R-SEC-5): read everything from Wonde first, then apply it in one transaction.

A run either completes or changes nothing (a failure while reading or writing rolls it all
back and is recorded on the run); the next run asks Wonde for what changed since the last
*completed* run started, so nothing is skipped.

What the sync never does: delete anything; overwrite a value a Homeward user changed since the
sync last wrote it (MisLink.synced); touch risk flags, notes, records or the chronology; merge
two people because they look alike (ambiguous matches go to the review list); give anyone a
role. A field Wonde does not send (switched off by the school) is absent, not empty: it is left
as it is. Every change is an audit event with actor None ("MIS sync") and the run's number.
"""

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import audit_events_create_many
from schools.models import Carer, ContactNumber, Household, Pupil, School
from schools.services import pupil_mark_left
from schools.validators import normalise_uk_phone, validate_uk_postcode

from .models import MisLink, SyncItem, SyncRun, WondeConnection
from .wonde import WondeClient, WondeError

MISSING = object()  # a field Wonde did not send: switched off, or not permitted
YEARS = {str(n) for n in range(1, 14)} | {"N", "R"}
PHONE_KINDS = (("mobile", "mobile"), ("home", "home phone"), ("work", "work phone"))


def _path(record, *keys):
    """record[k1]["data"]… with MISSING when any step is absent."""
    value = record
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return MISSING
        value = value[key]
    return value


def _text(value):
    if value is MISSING:
        return MISSING
    return (value or "").strip() if isinstance(value, str) or value is None else str(value)


def _date(value):
    if value is MISSING:
        return MISSING
    if isinstance(value, dict):
        value = value.get("date")
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _year(value):
    if value is MISSING:
        return MISSING
    text = str(value or "").strip().upper().removeprefix("YEAR ").removeprefix("Y")
    if text in ("RECEPTION",):
        return "R"
    if text in ("NURSERY", "N1", "N2"):
        return "N"
    return text if text in YEARS else None


class Sync:
    def __init__(self, run: SyncRun):
        self.run = run
        self.school = run.school
        self.counts = dict.fromkeys(("added", "changed", "left", "refused", "review"), 0)
        self.items = []
        self.events = []
        self.new_links = []
        self.links = {}
        self.linked_ids = set()
        for link in MisLink.objects.filter(school=self.school):
            self.links[(link.kind, link.wonde_id)] = link
            self.linked_ids.add((link.kind, link.object_id))
        self.today = timezone.localdate()
        self.numbers = {}  # household pk → its numbers, read once per run
        # Homeward's pupils, read once (a delta touches few; a full sync compares with all).
        self.by_upn, self.by_name = {}, set()
        for pk, upn, first, last, born in Pupil.objects.filter(school=self.school).values_list(
            "pk", "upn", "first_name", "last_name", "date_of_birth"
        ):
            if upn:
                self.by_upn.setdefault(upn, []).append(pk)
            self.by_name.add((first.lower(), last.lower(), born))

    # Recording

    def item(self, action, kind, wonde_id, label, reason=""):
        self.counts[action] += 1
        self.items.append(
            SyncItem(
                run=self.run,
                action=action,
                kind=kind,
                wonde_id=str(wonde_id)[:40],
                label=str(label)[:200],
                reason=reason[:300],
            )
        )

    def audit(self, obj, event_type, changes=None):
        """Written with the run's other rows at the end, in the same transaction."""
        changes = {"by": "MIS sync", "sync_run": self.run.pk, **(changes or {})}
        self.events.append((obj, event_type, changes))

    def link(self, kind, wonde_id, obj, synced):
        link = MisLink(
            school=self.school, kind=kind, wonde_id=str(wonde_id), object_id=obj.pk, synced=synced
        )
        self.new_links.append(link)
        self.links[(kind, str(wonde_id))] = link
        self.linked_ids.add((kind, obj.pk))
        return link

    def update(self, obj, link, values: dict, kind: str, label: str) -> None:
        """Write the MIS's values, except absent ones, empty ones (never blanked), and ones a
        Homeward user changed since the sync last wrote them."""
        changes, kept = {}, []
        for field, new in values.items():
            if new is MISSING or new in (None, ""):
                continue
            current = getattr(obj, field)
            if current == new:
                continue
            last = link.synced.get(field, MISSING)
            if last is not MISSING and _stored(current) != last:
                kept.append(field)
                continue
            changes[field] = [_stored(current), _stored(new)]
            setattr(obj, field, new)
            link.synced[field] = _stored(new)
        if kept:
            self.item(
                "refused",
                kind,
                link.wonde_id,
                label,
                "Changed in Homeward since the last sync, so kept as Homeward has it: "
                + ", ".join(f.replace("_", " ") for f in kept),
            )
        if changes:
            obj.save(update_fields=list(changes))
            if link.pk is not None:  # a new link is saved, with its values, at the end
                link.save(update_fields=["synced"])
            self.audit(obj, f"mis.{kind}_changed", {"fields": changes})
            fields = ", ".join(f.replace("_", " ") for f in changes)
            self.item("changed", kind, link.wonde_id, label, fields)

    # Students

    def student(self, record) -> None:
        wonde_id = str(record.get("id", ""))
        first, last = _text(record.get("forename", MISSING)), _text(record.get("surname", MISSING))
        label = " ".join(v for v in (first, last) if v and v is not MISSING) or wonde_id
        values = {
            "first_name": first,
            "last_name": last,
            "date_of_birth": _date(record.get("date_of_birth", MISSING)),
            "year_group": _year(_path(record, "education_details", "data", "current_nc_year")),
            "upn": _text(_path(record, "education_details", "data", "upn")),
        }
        link = self.links.get(("pupil", wonde_id))
        pupil = Pupil.objects.filter(pk=link.object_id).first() if link else None
        if pupil is None:
            pupil = self.match_or_add_pupil(record, wonde_id, label, values)
            if pupil is None:
                return
        else:
            self.update(pupil, link, values, "pupil", label)
        self.contacts(record, pupil)
        leaving = _date(_path(record, "education_details", "data", "date_of_leaving"))
        if leaving and leaving is not MISSING and leaving <= self.today:
            self.mark_left(pupil, wonde_id, leaving)

    def match_or_add_pupil(self, record, wonde_id, label, values):
        upn = values["upn"]
        if upn and upn is not MISSING and upn in self.by_upn:
            same_upn = list(Pupil.objects.filter(pk__in=self.by_upn[upn]))
            if len(same_upn) == 1 and ("pupil", same_upn[0].pk) not in self.linked_ids:
                # Linked by the national pupil number. Where Homeward's values differ, they stay
                # (the MIS's values become the baseline, so the difference is reported).
                baseline = {k: _stored(v) for k, v in values.items() if v is not MISSING}
                self.link("pupil", wonde_id, same_upn[0], baseline)
                self.update(same_upn[0], self.links[("pupil", wonde_id)], values, "pupil", label)
                return same_upn[0]
            if same_upn:
                self.item("review", "pupil", wonde_id, label, "Another record has this UPN.")
                return None
        first, last, born = values["first_name"], values["last_name"], values["date_of_birth"]
        absent = [f for f, v in values.items() if f != "upn" and v in (MISSING, None, "")]
        if absent:
            self.item(
                "refused",
                "pupil",
                wonde_id,
                label,
                "The MIS sends no "
                + ", ".join(f.replace("_", " ") for f in absent)
                + " (switched off in Wonde?), so the pupil cannot be added.",
            )
            return None
        if (first.lower(), last.lower(), born) in self.by_name:
            self.item(
                "review",
                "pupil",
                wonde_id,
                label,
                "A pupil with the same name and date of birth is already in Homeward: check "
                "whether they are the same child before linking.",
            )
            return None
        household = self.household_for(record, wonde_id, label)
        if household is None:
            return None
        pupil = Pupil.objects.create(
            school=self.school,
            household=household,
            first_name=first,
            last_name=last,
            date_of_birth=born,
            year_group=values["year_group"],
            upn="" if values["upn"] is MISSING else values["upn"],
        )
        self.link("pupil", wonde_id, pupil, {k: _stored(v) for k, v in values.items()})
        if pupil.upn:
            self.by_upn.setdefault(pupil.upn, []).append(pupil.pk)
        self.by_name.add((first.lower(), last.lower(), born))
        self.audit(pupil, "mis.pupil_added", {"wonde_id": wonde_id})
        self.item("added", "pupil", wonde_id, label)
        return pupil

    def household_for(self, record, wonde_id, label):
        """The household of the pupil's first-priority contact with a home address; shared by
        siblings (keyed by that contact)."""
        contacts = _path(record, "contacts", "data")
        if contacts is MISSING:
            self.item(
                "refused",
                "pupil",
                wonde_id,
                label,
                "Wonde sends no contacts (switched off?): no household to add the pupil to.",
            )
            return None
        for contact in sorted(contacts, key=_priority):
            address = _path(contact, "contact_details", "data", "addresses", "home")
            if address is MISSING or not isinstance(address, dict):
                continue
            values = _address(address)
            if not values:
                continue
            key = str(contact.get("id"))
            link = self.links.get(("household", key))
            if link:
                household = Household.objects.filter(pk=link.object_id).first()
                if household:
                    return household
            household = Household.objects.create(school=self.school, **values)
            self.numbers[household.pk] = set()
            self.link("household", key, household, values)
            self.audit(household, "mis.household_added", {"wonde_contact": key})
            self.item("added", "household", key, str(household))
            return household
        self.item(
            "refused",
            "pupil",
            wonde_id,
            label,
            "No contact has a valid home address in the MIS, so there is no household to add "
            "the pupil to.",
        )
        return None

    def contacts(self, record, pupil) -> None:
        contacts = _path(record, "contacts", "data")
        if contacts is MISSING:
            return
        household = pupil.household
        for contact in sorted(contacts, key=_priority):
            contact_id = str(contact.get("id"))
            key = f"{contact_id}@{household.pk}"
            first = _text(contact.get("forename", MISSING))
            last = _text(contact.get("surname", MISSING))
            name = " ".join(v for v in (first, last) if v and v is not MISSING)
            relationship = _text(_path(contact, "relationship", "data", "relationship"))
            responsibility = _path(contact, "relationship", "data", "parental_responsibility")
            values = {
                "name": name or MISSING,
                "relationship": relationship if relationship else MISSING,
            }
            link = self.links.get(("carer", key))
            carer = Carer.objects.filter(pk=link.object_id).first() if link else None
            if carer is None:
                if not name:
                    self.item("refused", "carer", contact_id, contact_id, "No name in the MIS.")
                    continue
                carer = Carer.objects.create(
                    household=household,
                    name=name[:150],
                    relationship=(relationship or "Contact")[:60]
                    if relationship is not MISSING
                    else "Contact",
                    parental_responsibility=bool(responsibility)
                    if responsibility is not MISSING
                    else False,
                )
                self.link("carer", key, carer, {k: _stored(v) for k, v in values.items()})
                self.audit(carer, "mis.carer_added", {"wonde_id": contact_id})
                self.item("added", "carer", contact_id, name)
            else:
                self.update(carer, link, values, "carer", name or contact_id)
            phones = _path(contact, "contact_details", "data", "phones")
            if phones is MISSING or not isinstance(phones, dict):
                continue
            numbers = self.numbers.get(household.pk)
            if numbers is None:
                numbers = self.numbers[household.pk] = set(
                    ContactNumber.objects.filter(household=household).values_list(
                        "number", flat=True
                    )
                )
            for field, kind in PHONE_KINDS:
                raw = phones.get(field)
                if not raw:
                    continue
                try:
                    number = normalise_uk_phone(str(raw))
                except ValidationError:
                    self.item(
                        "refused", "contact number", contact_id, name, f"Not a UK number: {raw}"
                    )
                    continue
                if number in numbers:
                    continue
                numbers.add(number)
                added = ContactNumber.objects.create(
                    household=household,
                    carer=carer,
                    number=number,
                    label=f"{carer.name} ({carer.relationship}), {kind}"[:60],
                    emergency_contact=_priority(contact) <= 1,
                )
                self.audit(added, "mis.contact_number_added", {"carer": carer.pk})
                self.item("added", "contact number", contact_id, f"{name}, {kind}")

    def mark_left(self, pupil, wonde_id, left_on) -> None:
        if pupil.left_on is not None:
            return
        pupil_mark_left(actor=None, pupil=pupil, left_on=left_on)
        self.audit(pupil, "mis.pupil_marked_left", {"left_on": left_on.isoformat()})
        self.item("left", "pupil", wonde_id, pupil.full_name)

    def deletion(self, record) -> None:
        link = self.links.get(("pupil", str(record.get("id"))))
        if link is None:
            return
        pupil = Pupil.objects.filter(pk=link.object_id).first()
        if pupil is not None:
            left_on = _date(record.get("deleted_at") or record.get("created_at")) or self.today
            self.mark_left(pupil, link.wonde_id, min(left_on, self.today))

    # Staff

    def employee(self, record) -> None:
        User = get_user_model()
        wonde_id = str(record.get("id", ""))
        first, last = _text(record.get("forename", MISSING)), _text(record.get("surname", MISSING))
        label = " ".join(v for v in (first, last) if v and v is not MISSING) or wonde_id
        email = _text(_path(record, "contact_details", "data", "emails", "email"))
        values = {"first_name": first, "last_name": last, "email": email}
        link = self.links.get(("staff", wonde_id))
        if link:
            user = User.objects.filter(pk=link.object_id).first()
            if user is not None:
                self.update(user, link, values, "staff", label)
            return
        if email and email is not MISSING and User.objects.filter(email__iexact=email).exists():
            self.item(
                "review",
                "staff",
                wonde_id,
                label,
                "A Homeward account with this email address already exists: an administrator "
                "links them by hand if they are the same person.",
            )
            return
        if first in (MISSING, None, "") or last in (MISSING, None, ""):
            self.item("refused", "staff", wonde_id, label, "No name in the MIS.")
            return
        user = User(
            username=f"wonde-{wonde_id}"[:150],
            first_name=first[:150],
            last_name=last[:150],
            email="" if email is MISSING else email,
        )
        user.set_unusable_password()
        user.save()
        self.link("staff", wonde_id, user, {k: _stored(v) for k, v in values.items()})
        self.audit(user, "mis.staff_added", {"wonde_id": wonde_id, "roles": "none"})
        self.item("added", "staff", wonde_id, label, "No role: roles are given in Homeward.")

    def finish(self):
        MisLink.objects.bulk_create(self.new_links, batch_size=500)
        audit_events_create_many(actor=None, school=self.school, events=self.events)
        SyncItem.objects.bulk_create(self.items, batch_size=500)
        for name, count in self.counts.items():
            setattr(self.run, name, count)


def _stored(value):
    return value.isoformat() if isinstance(value, datetime.date) else value


def _priority(contact) -> int:
    value = _path(contact, "relationship", "data", "priority")
    try:
        return int(value)
    except (TypeError, ValueError):
        return 99


def _address(address: dict) -> dict | None:
    def part(key):
        return str(address.get(key) or "").strip()

    postcode = part("postcode").upper()
    line_1 = " ".join(p for p in (part("house_number") or part("house_name"), part("street")) if p)
    if part("apartment"):
        line_1 = f"{part('apartment')}, {line_1}"
    town = part("town")
    try:
        validate_uk_postcode(postcode)
    except ValidationError:
        return None
    if not line_1 or not town:
        return None
    return {
        "address_line_1": line_1[:150],
        "address_line_2": part("district")[:150],
        "town": town[:100],
        "postcode": postcode[:8],
    }


def mis_sync_run(*, school: School, requested_by=None, full: bool = False, client=None) -> SyncRun:
    """One sync of `school` from Wonde; returns the run (completed or failed, never half-done)."""
    connection = WondeConnection.objects.get(school=school)
    run = SyncRun.objects.create(
        school=school,
        requested_by=requested_by,
        updated_after=None if full else connection.synced_until,
    )
    started = timezone.now()
    try:
        if client is None:
            client = WondeClient(base_url=connection.base_url, token=connection.token())
        school_id = connection.wonde_school_id
        students = client.students(school_id, updated_after=run.updated_after)
        deletions = client.deletions(school_id, updated_after=run.updated_after)
        employees = client.employees(school_id, updated_after=run.updated_after)
    except WondeError as error:
        return _failed(run, str(error))
    try:
        with transaction.atomic():
            # One run per school at a time.
            WondeConnection.objects.select_for_update().get(pk=connection.pk)
            sync = Sync(run)
            for record in students:
                sync.student(record)
            for record in deletions:
                sync.deletion(record)
            for record in employees:
                sync.employee(record)
            sync.finish()
            run.status = SyncRun.Status.COMPLETED
            run.finished_at = timezone.now()
            run.save()
            WondeConnection.objects.filter(pk=connection.pk).update(synced_until=started)
    except Exception as error:  # noqa: BLE001 - recorded on the run; nothing was changed
        run.refresh_from_db()
        return _failed(run, f"The run stopped and changed nothing: {error}")
    return run


def _failed(run: SyncRun, reason: str) -> SyncRun:
    SyncRun.objects.filter(pk=run.pk).update(
        status=SyncRun.Status.FAILED, finished_at=timezone.now(), error=reason[:2000]
    )
    run.refresh_from_db()
    return run
