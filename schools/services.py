"""Every write to the school directory goes through here, with its audit event."""

import datetime
import threading
from contextlib import contextmanager

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from guardian.models import GroupObjectPermission

from core.changes import model_changes
from core.request_memo import forget

from .models import (
    BoardVersion,
    Household,
    HouseholdRiskFlag,
    Membership,
    School,
    StaffProfile,
    Trust,
    TrustRole,
    User,
)
from .roles import ROLE_PERMISSIONS, TRUST_LEAD, group_name
from .signals import directory_change_announce


@transaction.atomic
def school_create(*, actor: User | None, name: str, urn: str, trust: Trust | None = None, **policy):
    """Create a school with its per-school permission groups."""
    school = School(name=name, urn=urn, trust=trust, **policy)
    school.full_clean()
    school.save()
    school_groups_sync(school=school)
    directory_change_announce(
        actor=actor, school=school, obj=school, event_type="school.created", changes={"name": name}
    )
    return school


def school_groups_sync(*, school: School) -> None:
    """Make sure the school has one group per role holding that role's permissions on it,
    and that the trust's safeguarding leads are in its trust-lead group.

    Idempotent, and a handful of queries whatever the number of roles and permissions: the
    groups and guardian's object permissions are written in bulk, skipping any already there."""
    content_type = ContentType.objects.get_for_model(School)
    codenames = {perm for perms in ROLE_PERMISSIONS.values() for perm in perms}
    permissions = {
        permission.codename: permission
        for permission in Permission.objects.filter(
            content_type=content_type, codename__in=codenames
        )
    }
    names = {role: group_name(school.pk, role) for role in ROLE_PERMISSIONS}
    Group.objects.bulk_create([Group(name=name) for name in names.values()], ignore_conflicts=True)
    groups = {group.name: group for group in Group.objects.filter(name__in=names.values())}
    GroupObjectPermission.objects.bulk_create(
        [
            GroupObjectPermission(
                group=groups[names[role]],
                permission=permissions[perm],
                content_type=content_type,
                object_pk=str(school.pk),
            )
            for role, perms in ROLE_PERMISSIONS.items()
            for perm in perms
        ],
        ignore_conflicts=True,
    )
    forget()  # bulk_create sends no post_save: this request works its permissions out again
    lead_group = groups[names[TRUST_LEAD]]
    leads = User.objects.filter(trust_roles__trust_id=school.trust_id) if school.trust_id else []
    lead_group.user_set.set(leads)


@transaction.atomic
def membership_add(*, actor: User | None, user: User, school: School, role: str) -> Membership:
    membership, created = Membership.objects.get_or_create(user=user, school=school, role=role)
    Group.objects.get(name=group_name(school.pk, role)).user_set.add(user)
    if created:
        directory_change_announce(
            actor=actor,
            school=school,
            obj=membership,
            event_type="membership.added",
            changes={"user": user.pk, "role": role},
        )
    return membership


@transaction.atomic
def membership_remove(*, actor: User | None, membership: Membership) -> None:
    school, user, role = membership.school, membership.user, membership.role
    directory_change_announce(
        actor=actor,
        school=school,
        obj=membership,
        event_type="membership.removed",
        changes={"user": user.pk, "role": role},
    )
    membership.delete()
    Group.objects.get(name=group_name(school.pk, role)).user_set.remove(user)
    if not user.memberships.exists():
        # Issue 14: someone who has left keeps no photo with Homeward.
        profile = StaffProfile.objects.filter(user=user).exclude(photo="").first()
        if profile is not None:
            old = profile.photo.name
            profile.photo = ""
            profile.save(update_fields=["photo"])
            _delete_on_commit(profile.photo.storage, old)


@transaction.atomic
def trust_role_add(*, actor: User | None, user: User, trust: Trust) -> TrustRole:
    trust_role, created = TrustRole.objects.get_or_create(user=user, trust=trust)
    for school in trust.schools.all():
        Group.objects.get(name=group_name(school.pk, TRUST_LEAD)).user_set.add(user)
        if created:
            directory_change_announce(
                actor=actor,
                school=school,
                obj=trust_role,
                event_type="trust_lead.added",
                changes={"user": user.pk, "trust": trust.pk},
            )
    return trust_role


@transaction.atomic
def trust_role_remove(*, actor: User | None, trust_role: TrustRole) -> None:
    for school in trust_role.trust.schools.all():
        Group.objects.get(name=group_name(school.pk, TRUST_LEAD)).user_set.remove(trust_role.user)
        directory_change_announce(
            actor=actor,
            school=school,
            obj=trust_role,
            event_type="trust_lead.removed",
            changes={"user": trust_role.user_id},
        )
    trust_role.delete()


@transaction.atomic
def staff_profile_save(*, actor: User | None, user: User, **fields) -> StaffProfile:
    profile, _ = StaffProfile.objects.get_or_create(user=user)
    for name, value in fields.items():
        setattr(profile, name, value)
    profile.full_clean()
    profile.save()
    return profile


@transaction.atomic
def staff_photo_set(*, actor: User, user: User, upload) -> StaffProfile:
    """Keep `upload` as the user's photo (issue 14): checked and re-encoded by
    schools.photos.photo_prepare (ValidationError in plain words); the old photo is deleted."""
    from .photos import photo_prepare

    prepared = photo_prepare(upload)
    profile, _ = StaffProfile.objects.select_for_update().get_or_create(user=user)
    old = profile.photo.name if profile.photo else ""
    profile.photo.save(prepared.name, prepared, save=True)
    if old:
        _delete_on_commit(profile.photo.storage, old)
    _announce_photo(actor=actor, user=user, event_type="staffprofile.photo_changed")
    return profile


@transaction.atomic
def staff_photo_remove(*, actor: User | None, user: User) -> None:
    """Delete the user's photo, file and all (by the user, or when they leave: retention)."""
    profile = StaffProfile.objects.select_for_update().filter(user=user).first()
    if profile is None or not profile.photo:
        return
    old = profile.photo.name
    profile.photo = ""
    profile.save(update_fields=["photo"])
    _delete_on_commit(profile.photo.storage, old)
    _announce_photo(actor=actor, user=user, event_type="staffprofile.photo_removed")


def _delete_on_commit(storage, name: str) -> None:
    transaction.on_commit(lambda: storage.delete(name))


def _announce_photo(*, actor, user: User, event_type: str) -> None:
    for membership in user.memberships.select_related("school"):
        directory_change_announce(
            actor=actor, school=membership.school, obj=user, event_type=event_type
        )


@transaction.atomic
def directory_object_save(*, actor: User | None, instance, school: School, before: dict) -> None:
    """Validate and save a directory object (pupil, household, carer, number, professional, …),
    auditing what changed. Used by the admin and the importer."""
    instance.full_clean()
    adding = instance._state.adding
    instance.save()
    fields = [f.attname for f in instance._meta.concrete_fields]
    directory_change_announce(
        actor=actor,
        school=school,
        obj=instance,
        event_type=f"{instance._meta.model_name}.{'created' if adding else 'changed'}",
        changes=model_changes(instance, fields, before),
    )


@transaction.atomic
def directory_object_delete(*, actor: User | None, instance, school: School) -> None:
    directory_change_announce(
        actor=actor,
        school=school,
        obj=instance,
        event_type=f"{instance._meta.model_name}.deleted",
        changes={"repr": str(instance.pk)},
    )
    instance.delete()


@transaction.atomic
def household_risk_flag_add(
    *, actor: User | None, household: Household, kind: str, notes: str = ""
) -> HouseholdRiskFlag:
    """Record a known risk at an address. It makes assessments made before now stale (R-RA-8)."""
    flag = HouseholdRiskFlag(household=household, kind=kind, notes=notes, recorded_by=actor)
    flag.full_clean()
    flag.save()
    Household.objects.filter(pk=household.pk).update(risk_flags_changed_at=flag.recorded_at)
    household.risk_flags_changed_at = flag.recorded_at
    directory_change_announce(
        actor=actor,
        school=household.school,
        obj=household,
        event_type="household.risk_flag_added",
        changes={"kind": kind},
    )
    return flag


@transaction.atomic
def pupil_mark_left(
    *, actor: User | None, pupil, left_on: datetime.date, leaving_to: str = ""
) -> None:
    """The pupil has left (or will leave on `left_on`): marked by a person or by the MIS sync
    (actor None). Their safeguarding file is then due to follow them."""
    type(pupil).objects.filter(pk=pupil.pk).update(left_on=left_on, leaving_to=leaving_to.strip())
    directory_change_announce(
        actor=actor,
        school=pupil.school,
        obj=pupil,
        event_type="pupil.left",
        changes={"left_on": left_on.isoformat(), "leaving_to": leaving_to.strip()},
    )
    pupil.refresh_from_db(fields=["left_on", "leaving_to"])


@transaction.atomic
def pupil_mark_returned(*, actor: User | None, pupil) -> None:
    """A pupil marked as left is back on the school's roll."""
    type(pupil).objects.filter(pk=pupil.pk).update(left_on=None, leaving_to="")
    directory_change_announce(
        actor=actor, school=pupil.school, obj=pupil, event_type="pupil.returned"
    )
    pupil.refresh_from_db(fields=["left_on", "leaving_to"])


def board_changed(*school_ids) -> None:
    """The school's sign-out board shows something new: bump its version (issue 15). Call it in
    the transaction that made the change, so a poll never sees the change without the bump (nor
    the bump without the change). One statement per call, the schools in id order (no deadlock
    between two services bumping the same schools); the row is made on first use.

    The bump locks the school's version row until the transaction commits, so every other
    change to that school's board waits for it. Inside `board_changes_at_end()` the schools are
    only noted, and bumped once as the block ends: the busy paths (a text reply, a ladder step,
    a delivery receipt) hold the lock for their commit only, not their whole transaction."""
    ids = sorted({int(pk) for pk in school_ids if pk is not None})
    if not ids:
        return
    pending = getattr(_board_pending, "ids", None)
    if pending is not None:
        pending.update(ids)
        return
    _board_bump(ids)


_board_pending = threading.local()


@contextmanager
def board_changes_at_end():
    """Within the block (inside the caller's transaction), `board_changed` notes the schools;
    one bump is made for them all as the block ends, still inside that transaction. Nested
    blocks join the outermost. On an exception nothing is bumped: the transaction rolls back."""
    if getattr(_board_pending, "ids", None) is not None:
        yield  # an enclosing block bumps
        return
    _board_pending.ids = set()
    try:
        yield
        ids = sorted(_board_pending.ids)
    finally:
        _board_pending.ids = None
    if ids:
        _board_bump(ids)


def _board_bump(ids: list[int]) -> None:
    table = BoardVersion._meta.db_table
    values = ", ".join(["(%s, 1)"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (school_id, version) VALUES {values} "  # noqa: S608 (no input)
            f"ON CONFLICT (school_id) DO UPDATE SET version = {table}.version + 1",
            ids,
        )
