"""The Head's escalation chain settings (R-ESC-9): who is alerted, in order, after the manager
when nobody acknowledges, and how long each alert waits.

The Headteacher and the DSL edit it (`chain_school_for`: another school's chain does not exist
for anyone else, 404; any other role gets 403). Every change is one transaction on the school's
row (locked, so two people reordering at once take turns), renumbers the chain 1…n, and is
audited. A ladder already running keeps the chain it copied at sign-out (tracking.signouts).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import Http404

from audit.services import audit_event_create
from schools.models import EscalationChainMember, Membership, Role, School, User
from schools.selectors import schools_for_user

EDITORS = (Role.HEAD, Role.DSL)
MINUTES_LIMIT = 120


def chain_schools_for(user: User):
    """The schools whose chain `user` may edit."""
    return School.objects.filter(
        memberships__user=user, memberships__role__in=EDITORS, memberships__user__is_active=True
    ).distinct()


def chain_school_for(*, user: User, school_pk: int) -> School:
    """The school, for its chain page: 404 outside the user's schools, 403 unless they are its
    Headteacher or DSL."""
    school = schools_for_user(user).filter(pk=school_pk).first()
    if school is None:
        raise Http404("Not found.")
    if not Membership.objects.filter(user=user, school=school, role__in=EDITORS).exists():
        raise PermissionDenied("Only the Headteacher or the DSL can change the escalation chain.")
    return school


def chain_page(school: School) -> dict:
    """What the page shows: the chain in order, the staff who could be added, the manager."""
    members = list(
        EscalationChainMember.objects.filter(school=school)
        .select_related("user")
        .order_by("position", "pk")
    )
    in_chain = {m.user_id for m in members}
    staff = {}
    for membership in (
        Membership.objects.filter(school=school, user__is_active=True)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user_id")
    ):
        if membership.user_id in in_chain:
            continue
        entry = staff.setdefault(membership.user_id, {"user": membership.user, "roles": []})
        entry["roles"].append(membership.get_role_display())
    return {
        "school": school,
        "members": members,
        "candidates": list(staff.values()),
        "manager": school.designated_manager,
    }


def _locked(school: School) -> School:
    return School.objects.select_for_update().get(pk=school.pk)


def _renumber(school: School) -> list[int]:
    members = list(EscalationChainMember.objects.filter(school=school).order_by("position", "pk"))
    for number, member in enumerate(members, start=1):
        if member.position != number:
            member.position = number
            member.save(update_fields=["position"])
    return [m.user_id for m in members]


def _audit(actor: User, school: School, what: str, **changes) -> None:
    audit_event_create(
        actor=actor,
        school=school,
        obj=school,
        event_type="school.escalation_chain_changed",
        changes={"what": what, **changes},
    )


@transaction.atomic
def chain_member_add(*, actor: User, school: School, user_id: int) -> EscalationChainMember:
    """Add a member of the school's staff at the end of the chain."""
    school = _locked(school)
    user = (
        User.objects.filter(pk=user_id, is_active=True, memberships__school=school)
        .distinct()
        .first()
    )
    if user is None:
        raise ValidationError("Choose somebody on the school's staff.")
    if EscalationChainMember.objects.filter(school=school, user=user).exists():
        raise ValidationError(f"{user} is already in the chain.")
    last = EscalationChainMember.objects.filter(school=school).aggregate(Max("position"))
    member = EscalationChainMember.objects.create(
        school=school, user=user, position=(last["position__max"] or 0) + 1
    )
    order = _renumber(school)
    _audit(actor, school, "added", user=user.pk, order=order)
    return member


@transaction.atomic
def chain_member_move(*, actor: User, school: School, member_pk: int, direction: str) -> None:
    """Move one person up or down the chain by one place."""
    school = _locked(school)
    _renumber(school)
    members = list(EscalationChainMember.objects.filter(school=school).order_by("position"))
    index = next((i for i, m in enumerate(members) if m.pk == member_pk), None)
    if index is None:
        raise ValidationError("That person is no longer in the chain: the page has been updated.")
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other < len(members):
        return  # already first or last: nothing to do
    members[index].position, members[other].position = (
        members[other].position,
        members[index].position,
    )
    for member in (members[index], members[other]):
        member.save(update_fields=["position"])
    order = _renumber(school)
    _audit(actor, school, f"moved {direction}", user=members[index].user_id, order=order)


@transaction.atomic
def chain_member_remove(*, actor: User, school: School, member_pk: int) -> None:
    school = _locked(school)
    member = EscalationChainMember.objects.filter(school=school, pk=member_pk).first()
    if member is None:
        raise ValidationError("That person is no longer in the chain: the page has been updated.")
    user_id = member.user_id
    member.delete()
    order = _renumber(school)
    _audit(actor, school, "removed", user=user_id, order=order)


@transaction.atomic
def chain_minutes_update(
    *, actor: User, school: School, chain_step_minutes: int, chain_reminder_minutes: int
) -> School:
    """The minutes an alert waits before the next person, and between reminders."""
    errors = {}
    for field, value in (
        ("chain_step_minutes", chain_step_minutes),
        ("chain_reminder_minutes", chain_reminder_minutes),
    ):
        if not 1 <= value <= MINUTES_LIMIT:
            errors[field] = [f"Give a number of minutes from 1 to {MINUTES_LIMIT}."]
    if errors:
        raise ValidationError(errors)
    school = _locked(school)
    before = (school.chain_step_minutes, school.chain_reminder_minutes)
    school.chain_step_minutes = chain_step_minutes
    school.chain_reminder_minutes = chain_reminder_minutes
    school.save(update_fields=["chain_step_minutes", "chain_reminder_minutes"])
    _audit(
        actor,
        school,
        "minutes",
        before=list(before),
        after=[chain_step_minutes, chain_reminder_minutes],
    )
    return school
