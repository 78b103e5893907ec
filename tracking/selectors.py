"""Reads of sign-outs that apply the access rules (R-SEC-1), and what the board shows.

- A sign-out of another school: 404.
- The board, the calls and the emergency page: the school's view_board holders (office, DSLs,
  Head, managers). A visitor may act on their own sign-out from their phone.
- The manager's decision: receive_escalations holders, and the visit's named managers.
- Nobody here reads assessment narratives, concerns or records (R-SEC-1): office staff see
  names, address, times, phones and vehicle.
"""

import datetime
import json
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.core.signing import BadSignature, Signer
from django.db.models import Prefetch, Q, QuerySet, Subquery
from django.http import Http404
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone

from schools.models import User
from schools.selectors import schools_for_user, schools_requiring
from visits.models import Status as VisitStatus
from visits.models import Visit, Visitor

from .board_rows import rows_html
from .ladder import ESCALATION_SCAN, checkin_due_for
from .models import (
    CallAttempt,
    EscalationDecision,
    EscalationStep,
    Heartbeat,
    Notification,
    SignOut,
    SignOutVisitor,
    TrackingEvent,
)

STALE_AFTER = datetime.timedelta(minutes=2)


def escalation_heartbeat() -> dict:
    """How long ago the escalation scan last ran, and whether that is too long."""
    beat = Heartbeat.objects.filter(name=ESCALATION_SCAN).first()
    return _heartbeat_of(beat and beat.last_ran_at, timezone.now())


# ---------------------------------------------------------------------------------------------
# One sign-out, for a user
# ---------------------------------------------------------------------------------------------


def _in_doubt() -> Q:
    return Q(status=Notification.Status.UNKNOWN) | Q(
        status=Notification.Status.FAILED, retry_at__isnull=True
    )


def _signouts() -> QuerySet[SignOut]:
    return SignOut.objects.select_related("school", "visit__household").prefetch_related(
        Prefetch("visitors", queryset=SignOutVisitor.objects.select_related("user__profile"))
    )


def _get(queryset: QuerySet[SignOut], user: User, pk) -> SignOut:
    try:
        return queryset.filter(school__in=schools_for_user(user)).get(pk=pk)
    except SignOut.DoesNotExist as error:
        raise Http404("Not found.") from error


def _is_visitor(signout: SignOut, user: User) -> SignOutVisitor | None:
    return next((v for v in signout.visitors.all() if v.user_id == user.pk), None)


def is_named_manager(signout: SignOut, user: User) -> bool:
    """The people R-ESC-3 alerts may act on the escalation even without a school role."""
    from .messages import managers_for

    return any(manager.pk == user.pk for manager in managers_for(signout))


def signout_get(*, user: User, pk, visitor_may_act: bool = False) -> SignOut:
    """A sign-out for the board's actions (view_board); with `visitor_may_act`, its own visitors
    may act too (from their phone)."""
    signout = _get(_signouts(), user, pk)
    if user.has_perm("schools.view_board", signout.school):
        return signout
    if visitor_may_act and _is_visitor(signout, user):
        return signout
    raise PermissionDenied("Only the office, the visit's visitors and managers can do this.")


def signout_emergency_get(*, user: User, pk) -> SignOut:
    """The emergency page: view_board holders (the office reads it to the Police too) and the
    named managers. Never the visitors themselves: it holds their next of kin."""
    queryset = _signouts().select_related(
        "visit__out_of_hours_manager", "school__designated_manager", "resolved_by"
    )
    signout = _get(queryset, user, pk)
    if user.has_perm("schools.view_board", signout.school) or is_named_manager(signout, user):
        return signout
    raise PermissionDenied("Only the office and managers can open the emergency page.")


def signout_decision_get(*, user: User, pk) -> SignOut:
    """R-ESC-4: the manager records the decision: receive_escalations holders (managers, DSLs,
    the Head) and the visit's named managers; not the office."""
    queryset = _signouts().select_related(
        "visit__out_of_hours_manager", "school__designated_manager", "resolved_by"
    )
    signout = _get(queryset, user, pk)
    if user.has_perm("schools.receive_escalations", signout.school) or is_named_manager(
        signout, user
    ):
        return signout
    raise PermissionDenied("Only a manager can record the escalation decision.")


def may_decide(*, user: User, signout: SignOut) -> bool:
    return user.has_perm("schools.receive_escalations", signout.school) or is_named_manager(
        signout, user
    )


def may_read_risk_notes(*, user: User, signout: SignOut) -> bool:
    """R-SEC-1: the office sees the risk flags' names; the notes behind them are for managers
    and safeguarding leads."""
    return user.has_perm("schools.receive_escalations", signout.school) or user.has_perm(
        "schools.view_records", signout.school
    )


def visit_for_signout(*, user: User, pk) -> Visit:
    """The visit to sign out: view_board holders at its school."""
    queryset = Visit.objects.select_related(
        "school", "household", "risk_assessment"
    ).prefetch_related(
        Prefetch(
            "visitors",
            queryset=Visitor.objects.filter(withdrawn_at__isnull=True).select_related(
                "user__profile"
            ),
        )
    )
    try:
        visit = queryset.filter(school__in=schools_for_user(user)).get(pk=pk)
    except Visit.DoesNotExist as error:
        raise Http404("Not found.") from error
    if not user.has_perm("schools.view_board", visit.school):
        raise PermissionDenied("Only the office signs visitors out.")
    return visit


def notification_get(*, user: User, pk) -> Notification:
    try:
        notification = (
            Notification.objects.select_related("signout__school", "step")
            .filter(signout__school__in=schools_for_user(user))
            .get(pk=pk)
        )
    except Notification.DoesNotExist as error:
        raise Http404("Not found.") from error
    if not user.has_perm("schools.view_board", notification.signout.school):
        raise PermissionDenied("Only the office and managers can resend messages.")
    return notification


def emergency_details(*, signout: SignOut) -> dict:
    """Everything the emergency page and the Police briefing show (R-ESC-3)."""
    events = list(
        TrackingEvent.objects.filter(signout=signout).select_related("recorded_by", "visitor")
    )
    calls = list(
        CallAttempt.objects.filter(signout=signout).select_related("visitor", "recorded_by")
    )
    steps = list(EscalationStep.objects.filter(signout=signout))
    notifications = list(
        Notification.objects.filter(signout=signout)
        .select_related("step")
        .order_by("created_at", "pk")
    )
    decisions = list(
        EscalationDecision.objects.filter(signout=signout).select_related("recorded_by")
    )
    contacts = [e for e in events if e.kind != TrackingEvent.Kind.SIGNED_OUT]
    contacts += [c for c in calls if not c.failed]
    last_contact = max(
        contacts,
        key=lambda item: getattr(item, "occurred_at", None) or item.called_at,
        default=None,
    )
    return {
        "timeline": _timeline(events, calls, steps, notifications, decisions),
        "events": events,
        "calls": calls,
        "steps": steps,
        "notifications": notifications,
        "decisions": decisions,
        "last_contact": last_contact,
        "risk_flags": list(signout.visit.household.risk_flags.all()),
        "summary": ladder_summary(signout),
        "acknowledgements": list(signout.acknowledgements.all()),
    }


def _timeline(events, calls, steps, notifications, decisions) -> list[dict]:
    """Everything that happened, in time order, in words."""
    from .messages import local_time

    items = []
    for e in events:
        text = e.get_kind_display()
        if e.new_expected_return_at:
            text += f" — back by {local_time(e.new_expected_return_at)}"
        if e.reason:
            text += f" ({e.reason})"
        items.append((e.occurred_at, 0, f"{text}, via {e.get_via_display()}"))
    for s in steps:
        late = (
            f" (due {local_time(s.due_at)})"
            if s.fired_at - s.due_at >= datetime.timedelta(minutes=1)
            else ""
        )
        items.append((s.fired_at, 1, f"{s.get_kind_display()}{late}"))
    for n in notifications:
        # R-ESC-11: what became of it, in words: "delivered 21:41", "not delivered — calling
        # instead", "call answered, acknowledged 21:44".
        items.append(
            (n.created_at, 2, f"{n.get_channel_display()} to {n.recipient_label}: {n.state_words}")
        )
    for c in calls:
        who = f" ({c.visitor})" if c.visitor else ""
        items.append(
            (c.called_at, 3, f"Call to {c.number_display}{who}: {c.get_outcome_display()}")
        )
    for d in decisions:
        outcome = f" — outcome: {d.get_outcome_display()}" if d.outcome else ""
        items.append((d.recorded_at, 4, f"{d.recorded_by}: {d.get_action_display()}{outcome}"))
    return [{"at": at, "text": text} for at, _, text in sorted(items, key=lambda i: i[:2])]


# ---------------------------------------------------------------------------------------------
# What the ladder has done and what it does next (R-ESC-8, R-ESC-9, R-ESC-10)
# ---------------------------------------------------------------------------------------------


def _next_step_words(signout: SignOut, number: int, members: dict | None = None) -> str:
    if number == 1:
        return "Overdue: the office alerted"
    if number < signout.manager_step:
        return "The office prompted to call again"
    if number == signout.manager_step:
        return "Manager alerted"
    if number < signout.everyone_step:
        user_id = signout.chain_user_ids[number - signout.manager_step - 1]
        if members is None:
            members = {u.pk: str(u) for u in User.objects.filter(pk=user_id)}
        who = members.get(user_id) or "the next person in the chain"
        return f"{who} (next in the escalation chain) alerted"
    if number == signout.everyone_step:
        return "Every DSL and the Headteacher alerted"
    return "Every DSL and the Headteacher reminded"


@dataclass(frozen=True)
class Message:
    """One outbox row as the board needs it (read with values_list: no model per message)."""

    pk: int
    signout_id: int
    channel: str
    template: str
    recipient_label: str
    status: str
    delivery_state: str
    created_at: datetime.datetime
    retry_at: datetime.datetime | None

    FIELDS = (
        "pk",
        "signout_id",
        "channel",
        "template",
        "recipient_label",
        "status",
        "delivery_state",
        "created_at",
        "retry_at",
    )

    @property
    def in_doubt(self) -> bool:
        return self.status == Notification.Status.UNKNOWN or (
            self.status == Notification.Status.FAILED and self.retry_at is None
        )

    def get_channel_display(self) -> str:
        return Notification.Channel(self.channel).label


def _messages_of(signout_ids) -> QuerySet:
    """The sign-outs' messages, oldest first, without the ones cancelled before they went."""
    return (
        Notification.objects.filter(signout_id__in=signout_ids)
        .exclude(status=Notification.Status.CANCELLED)
        .order_by("pk")
        .values_list(*Message.FIELDS)
    )


def ladder_summary(
    signout: SignOut, *, messages: list[Message] | None = None, members: dict | None = None
) -> dict:
    """For the board and the emergency page: who was alerted (and how each message fared), who
    acknowledged, what happens next and when, and the stand-down. Plain words only. The board
    passes each sign-out's `messages` and the chain `members` ({user id: name}) it read once
    for every row (R-ESC-12: no query per row); alone, it reads them itself.

    - alerted: the people alerted, in order, each once ("Max Example (manager)").
    - texts_sent / texts_delivered: SMS messages sent, and delivered by the provider's receipt.
    - acknowledged: "Max Example at 13:31", or "" when nobody has.
    - next: "Hugh Example (next in the escalation chain) alerted at 13:35 if nobody
      acknowledges", or "" when nothing more is due.
    - next_at: when the next step falls due (aware datetime), or None.
    - stood_down: "Stood down at 13:40: everyone alerted was told", or "".
    """
    from .acknowledgements import ALERT_TEMPLATES
    from .messages import local_time

    if messages is None:
        messages = [Message(*row) for row in _messages_of([signout.pk])]
    alerted = list(
        dict.fromkeys(m.recipient_label for m in messages if m.template in ALERT_TEMPLATES)
    )
    texts = [m for m in messages if m.channel == Notification.Channel.SMS]
    acknowledged = ""
    if signout.acknowledged_at:
        acknowledged = f"{signout.acknowledged_label} at {local_time(signout.acknowledged_at)}"
    next_text, next_at = "", None
    if signout.next_escalation_at is not None:
        next_at = signout.next_escalation_at
        number = signout.escalation_stage + 1
        condition = (
            "if nobody acknowledges" if number > signout.manager_step else "if nobody answers"
        )
        words = _next_step_words(signout, number, members)
        next_text = f"{words} at {local_time(next_at)} {condition}"
    stood_down = ""
    if signout.stood_down_at:
        stood_down = f"Stood down at {local_time(signout.stood_down_at)}: everyone alerted was told"
    return {
        "alerted": alerted,
        "texts_sent": sum(1 for m in texts if m.status == Notification.Status.SENT),
        "texts_delivered": sum(
            1 for m in texts if m.delivery_state == Notification.Delivery.DELIVERED
        ),
        "acknowledged": acknowledged,
        "next": next_text,
        "next_at": next_at,
        "stood_down": stood_down,
    }


def _chain_members(signouts) -> dict[int, str]:
    """The names of the chain members the rows' next steps alert, in one query (or none)."""
    wanted = set()
    for signout in signouts:
        if signout.next_escalation_at is None:
            continue
        number = signout.escalation_stage + 1
        if signout.manager_step < number < signout.everyone_step:
            wanted.add(signout.chain_user_ids[number - signout.manager_step - 1])
    if not wanted:
        return {}
    return {u.pk: str(u) for u in User.objects.filter(pk__in=wanted)}


# ---------------------------------------------------------------------------------------------
# The board
# ---------------------------------------------------------------------------------------------

ALARM_STATES = ("overdue", "retrying", "manager", "help", "duress")


@dataclass
class BoardRow:
    signout: SignOut
    state: str
    label: str
    css: str
    seconds_to_return: int
    behind: bool = False  # a step is due by the clock but the scan has not fired it
    doubtful: list = field(default_factory=list)
    level: int = 0  # steps of the round done or due by the clock
    summary: dict = field(default_factory=dict)
    urls: dict = field(default_factory=dict)
    names: str = ""

    @property
    def alarm(self) -> bool:
        """Overdue or worse: the emergency page and the quick call form are shown."""
        return self.state in (*ALARM_STATES, "closed_case")

    @property
    def raises_alarm(self) -> bool:
        """R-ESC-12: counted in the page title and the banner, and rings when it first shows."""
        return self.state in ALARM_STATES

    @property
    def alarm_key(self) -> str:
        """Changes when the row turns overdue or climbs a step: board.js rings for a new key."""
        return f"{self.signout.pk}.{self.signout.ladder_round}.{self.state}.{self.level}"

    @property
    def countdown(self) -> str:
        return countdown_text(self.seconds_to_return)


def countdown_text(seconds: int) -> str:
    """ "in 12 min", "due now", "23 min late" (board.js keeps it ticking between refreshes)."""
    minutes = abs(seconds) // 60
    if seconds >= 60:
        return f"in {minutes} min"
    if seconds > -60:
        return "due now"
    return f"{minutes} min late"


STATE_LABELS = {
    "on_time": ("On time", "success"),
    "due": ("Due back now", "warning"),
    "overdue": ("Overdue: call them", "danger"),
    "retrying": ("Overdue: call again", "danger"),
    "manager": ("Manager alerted", "danger"),
    "help": ("Help requested", "danger"),
    # R-TRK-7: the office and managers only (the visitor's own phone never shows it).
    "duress": ("DURESS: do not ring their phone; consider 999", "danger"),
    "left_safely": ("Left the visit safely", "info"),
    "closed_case": ("Back — case open for the manager", "secondary"),
}


def _level(signout: SignOut, now: datetime.datetime) -> int:
    ladder_running = signout.next_escalation_at is not None
    by_clock = signout.steps_due_by(now) if ladder_running else 0
    return max(signout.escalation_stage, by_clock)


def board_state(signout: SignOut, now: datetime.datetime) -> tuple[str, bool]:
    """The row's state, computed from the stored times as well as the steps fired, so the board
    is right when Redis or the worker is down (then `behind` is true)."""
    ladder_running = signout.next_escalation_at is not None
    level = _level(signout, now)
    behind = ladder_running and level > signout.escalation_stage
    if not signout.is_open:
        return "closed_case", False
    if signout.duress_at is not None and signout.case_open:
        return "duress", False  # R-TRK-7
    if signout.help_requested_at is not None and signout.case_open:
        return "help", False
    if signout.case_open or level >= signout.manager_step:
        return "manager", behind
    if not ladder_running and signout.state == SignOut.State.LEFT_SAFELY:
        return "left_safely", False
    if level >= 2:
        return "retrying", behind
    if level == 1:
        return "overdue", behind
    if now >= signout.expected_return_at:
        return "due", False
    return "on_time", False


def next_clock_change(signout: SignOut, now: datetime.datetime) -> datetime.datetime | None:
    """When the row would change by the clock alone, with nothing written (issue 15): the
    expected return ("due back now") or the next step falling due (the row climbs, and says
    the scan is behind if it has not fired it). None when only a write can change it."""
    times = []
    if signout.is_open and now < signout.expected_return_at:
        times.append(signout.expected_return_at)
    if signout.next_escalation_at is not None:
        times.append(signout.step_due_at(_level(signout, now) + 1))
    return min(times, default=None)


def _board_row(signout: SignOut, now, **extra) -> BoardRow:
    state, behind = board_state(signout, now)
    label, css = STATE_LABELS[state]
    return BoardRow(
        signout=signout,
        state=state,
        label=label,
        css=css,
        seconds_to_return=int((signout.expected_return_at - now).total_seconds()),
        behind=behind,
        doubtful=extra.pop("doubtful", None) or getattr(signout, "doubtful", []),
        level=_level(signout, now),
        names=" and ".join(str(v.user) for v in signout.visitors.all()),
        **extra,
    )


def _local_day(now) -> tuple[datetime.datetime, datetime.datetime]:
    today = timezone.localdate(now)
    start = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    end = timezone.make_aware(
        datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time.min)
    )
    return start, end


# The row's actions: one reverse() each per render, the sign-out's id put in per row (issue 15).
_ROW_ACTIONS = (
    "returned",
    "going_home",
    "phone_in",
    "extend",
    "call",
    "help",
    "emergency",
    "row_actions",
)
_ID = 2_147_483_646  # an id no sign-out has, replaced by each row's


def _row_urls():
    """`urls(pk)`: the row's action URLs, from one reverse() per action per drawing."""
    patterns = {name: reverse(f"tracking:{name}", args=[_ID]) for name in _ROW_ACTIONS}
    marker = str(_ID)

    def urls(pk: int) -> dict[str, str]:
        text = str(pk)
        return {name: pattern.replace(marker, text) for name, pattern in patterns.items()}

    return urls


def board_row(signout: SignOut) -> BoardRow:
    """One row of the board, for its "More actions" menu (signout_get checked the access)."""
    return _board_row(signout, timezone.now(), urls=_row_urls()(signout.pk))


# How long the board may go without a full refresh, whatever its version says (issue 15).
BOARD_FULL_REFRESH = datetime.timedelta(seconds=60)


def _board_versions(*, school_ids: list[int]):
    """(school id, version, last scan) for these schools (their access already checked): one
    query, by primary key."""
    from schools.models import BoardVersion

    beat = Heartbeat.objects.filter(name=ESCALATION_SCAN).values("last_ran_at")[:1]
    return list(
        BoardVersion.objects.filter(school_id__in=school_ids)
        .annotate(beat=Subquery(beat))
        .order_by("school_id")
        .values_list("school_id", "version", "beat")
    )


# The poll's grant: which user drew the board of which schools, and when. Signed, so that a
# poll reads only the versions of the schools an access-checked drawing showed that user, in
# the minute before the next full drawing checks the access again (issue 15).
_POLL_SIGNER = Signer(salt="tracking.board-poll")


def _poll_grant(user: User, rows, drawn_at: str) -> str:
    schools = ",".join(str(school) for school, _, _ in rows)
    return _POLL_SIGNER.sign(f"{user.pk}|{schools}|{drawn_at}")


def _granted_schools(user: User, grant: str, drawn_at: str) -> list[int]:
    try:
        user_pk, schools, signed_at = _POLL_SIGNER.unsign(grant).split("|")
    except (BadSignature, ValueError):
        return []
    if user_pk != str(user.pk) or signed_at != drawn_at:
        return []
    return [int(school) for school in schools.split(",") if school]


def _version_token(rows) -> str:
    return "-".join(f"{school}.{version}" for school, version, _ in rows) or "none"


def _stale(last_ran_at, now) -> bool:
    return last_ran_at is None or now - last_ran_at > STALE_AFTER


def board_poll_unchanged(*, user: User, shown: dict, search: str = "") -> bool:
    """Issue 15: the board's poll carries what it shows (its version, the earliest time a row
    changes by the clock, when it was drawn, whether the scan looked stopped, its search). True
    when nothing the board shows can have changed: then the poll answers "unchanged" without
    drawing anything. One query (the versions and the scan's heartbeat, by primary key: the
    schools are those of the signed grant a drawing gave this user less than a minute ago),
    none at all when the clock alone says to redraw. Anything odd in `shown` means "changed":
    draw it again (the drawing checks the access)."""
    try:
        version = str(shown["v"])
        grant = str(shown["g"])
        drawn_at = float(shown["at"])
        due = float(shown["due"]) if shown.get("due") else None
        stale = shown["stale"] == "1"
        shown_search = str(shown.get("shown_q", ""))
    except (KeyError, TypeError, ValueError):
        return False
    now = timezone.now()
    clock = now.timestamp()
    if not 0 <= clock - drawn_at < BOARD_FULL_REFRESH.total_seconds():
        return False  # the safety net: a version bump missed still shows within a minute
    if (due is not None and clock >= due) or shown_search != search:
        return False
    schools = _granted_schools(user, grant, str(shown["at"]))
    if not schools:
        return False
    rows = _board_versions(school_ids=schools)
    if not rows or _version_token(rows) != version:
        return False
    return _stale(rows[0][2], now) == stale


_SIGNOUT_COLUMNS = (
    *(f.name for f in SignOut._meta.concrete_fields),
    "visit__id",
    "visit__household__id",
    "visit__household__address_line_1",
    "visit__household__address_line_2",
    "visit__household__town",
    "visit__household__postcode",
)
_VISITOR_COLUMNS = (
    "id",
    "signout",
    "user",
    "mobile",
    "user__id",
    "user__username",
    "user__first_name",
    "user__last_name",
)


def board_for_user(*, user: User, search: str = "") -> dict:
    """The office board. Its query count does not grow with the number of visitors out."""
    # The version is read first: a change committed while the rows are read shows now or at
    # the next poll, and is never missed (issue 15).
    # The permission query once, its answer a list of ids: the queries below then carry no
    # permission subquery to clone and plan (issue 15).
    schools = list(schools_requiring(user, "view_board").values_list("pk", flat=True))
    versions = _board_versions(school_ids=schools)
    now = timezone.now()
    start, end = _local_day(now)
    visitors = Prefetch("visitors", queryset=SignOutVisitor.objects.select_related("user"))
    # Only the columns the rows show: at 300 out, building models is most of a drawing.
    lean_visitors = Prefetch(
        "visitors",
        queryset=SignOutVisitor.objects.select_related("user").only(*_VISITOR_COLUMNS),
    )
    out = (
        SignOut.objects.filter(school_id__in=schools)
        .filter(
            Q(state__in=SignOut.OPEN_STATES)
            | Q(manager_alerted_at__isnull=False, resolved_at__isnull=True)
        )
        .select_related("visit__household")
        .only(*_SIGNOUT_COLUMNS)
        .prefetch_related(
            lean_visitors,
            _conditions(),
            Prefetch(
                "calls",
                queryset=CallAttempt.objects.order_by("-called_at", "-pk").only(
                    "id", "signout", "called_at", "number_called", "outcome"
                ),
                to_attr="call_log",
            ),
        )
    )
    waiting = (
        Visit.objects.filter(
            school_id__in=schools,
            status=VisitStatus.AUTHORISED,
            planned_start__gte=start,
            planned_start__lt=end,
        )
        .select_related("household")
        .prefetch_related(
            Prefetch(
                "visitors",
                queryset=Visitor.objects.filter(withdrawn_at__isnull=True).select_related("user"),
            )
        )
        .order_by("planned_start", "pk")
    )
    returned = (
        SignOut.objects.filter(
            school_id__in=schools,
            state__in=[SignOut.State.RETURNED, SignOut.State.WENT_HOME],
            closed_at__gte=start,
            closed_at__lt=end,
        )
        .select_related("visit__household")
        .prefetch_related(visitors)
        .order_by("-closed_at")
    )
    if search:
        words = Q()
        for word in search.split()[:3]:
            words &= (
                Q(visitors__user__first_name__icontains=word)
                | Q(visitors__user__last_name__icontains=word)
                | Q(visit__household__postcode__icontains=word)
            )
        out = out.filter(words).distinct()
    signouts = list(out)
    messages: dict[int, list[Message]] = {s.pk: [] for s in signouts}
    for row in _messages_of(list(messages)) if signouts else ():
        messages[row[1]].append(Message(*row))
    members = _chain_members(signouts)
    urls = _row_urls()
    rows = sorted(
        (
            _board_row(
                signout,
                now,
                doubtful=[m for m in messages[signout.pk] if m.in_doubt],
                summary=ladder_summary(signout, messages=messages[signout.pk], members=members),
                urls=urls(signout.pk),
            )
            for signout in signouts
        ),
        key=lambda row: (_URGENCY.index(row.state), row.signout.expected_return_at),
    )
    heartbeat = escalation_heartbeat() if not versions else _heartbeat_of(versions[0][2], now)
    changes = [next_clock_change(s, now) for s in signouts]
    changes.append(end)  # a new day: today's waiting and returned lists start again
    due = min(t for t in changes if t is not None)
    alarms = [row for row in rows if row.raises_alarm]
    alarm_text = ""
    if alarms:
        alarm_text = f"{len(alarms)} visit{pluralize(len(alarms))} overdue: act now"
    drawn_at = f"{now.timestamp():.3f}"
    poll = {
        "v": _version_token(versions),
        "g": _poll_grant(user, versions, drawn_at),
        "due": f"{due.timestamp():.0f}",
        "at": drawn_at,
        "stale": "1" if heartbeat["stale"] else "0",
        "shown_q": search,
    }
    resend = reverse("tracking:resend", args=[_ID])
    return {
        "now": now,
        "rows": rows,
        "rows_html": rows_html(rows, lambda pk: resend.replace(str(_ID), str(pk))),
        # Each row's "More actions" menu: board.js puts the row's id in place of menu_id.
        "menu_url": reverse("tracking:row_actions", args=[_ID]),
        "menu_id": _ID,
        "alarms": alarms,
        "alarm_keys": " ".join(row.alarm_key for row in alarms),
        "waiting": list(waiting),
        "returned": list(returned),
        "heartbeat": heartbeat,
        "search": search,
        # R-ESC-12: "(1) OVERDUE — Sign-out board"
        "title": f"({len(alarms)}) OVERDUE — Sign-out board" if alarms else "Sign-out board",
        "alarm_text": alarm_text,
        "poll_json": json.dumps(poll),
    }


def _heartbeat_of(last_ran_at, now) -> dict:
    if last_ran_at is None:
        return {"last_ran_at": None, "seconds_ago": None, "stale": True}
    return {
        "last_ran_at": last_ran_at,
        "seconds_ago": max(0, int((now - last_ran_at).total_seconds())),
        "stale": _stale(last_ran_at, now),
    }


_URGENCY = [
    "duress",  # R-TRK-7
    "help",
    "manager",
    "retrying",
    "overdue",
    "due",
    "on_time",
    "left_safely",
    "closed_case",
]


# ---------------------------------------------------------------------------------------------
# The visitor's own page, and the manager's escalations
# ---------------------------------------------------------------------------------------------


def _conditions() -> Prefetch:
    """The authoriser's conditions ("phone the office on arrival"), newest decision first: the
    visitors read them on their phone and the office on the board (R-AUTH-4)."""
    from visits.models import Authorisation

    return Prefetch(
        "visit__authorisations",
        queryset=Authorisation.objects.filter(decision=Authorisation.Decision.AUTHORISED)
        .exclude(conditions="")
        .order_by("-decided_at"),
        to_attr="conditions_given",
    )


def signouts_of_visitor(*, user: User) -> list[BoardRow]:
    """My visit: the sign-outs I am out on now, for my phone."""
    now = timezone.now()
    signouts = (
        SignOut.objects.filter(
            visitors__user=user,
            state__in=SignOut.OPEN_STATES,
            school__in=schools_for_user(user),
        )
        .select_related("school", "visit__household")
        .prefetch_related(
            Prefetch("visitors", queryset=SignOutVisitor.objects.select_related("user")),
            Prefetch("notifications", queryset=Notification.objects.none(), to_attr="doubtful"),
            _conditions(),
        )
        .distinct()
    )
    return [_visitor_row(signout, now) for signout in signouts if not _hidden_by_duress(signout)]


def _hidden_by_duress(signout: SignOut) -> bool:
    """R-TRK-7: after the duress PIN, the visitor's phone shows what it would have shown had
    the action been done: a visit they said they were back from (or going home from) is gone."""
    return signout.duress_at is not None and signout.duress_shows in (
        SignOut.State.RETURNED,
        SignOut.State.WENT_HOME,
    )


def _visitor_row(signout: SignOut, now) -> BoardRow:
    """My visit's row. R-TRK-7: after the duress PIN (or three wrong PINs) it shows neither
    help nor DURESS: the case is the office's and the managers', and the phone may not be in
    the visitor's hands."""
    if signout.help_requested_at is not None and signout.duress_at is not None:
        if signout.duress_shows == SignOut.State.LEFT_SAFELY:
            signout.state = SignOut.State.LEFT_SAFELY
        elif signout.checkin_interval_seconds:
            # A check-in under duress: the next one looks due as after a real check-in.
            signout.checkin_due_at = checkin_due_for(signout, now=signout.duress_at)
        label, css = STATE_LABELS[
            "left_safely" if signout.state == SignOut.State.LEFT_SAFELY else "on_time"
        ]
        return BoardRow(
            signout=signout,
            state="left_safely" if signout.state == SignOut.State.LEFT_SAFELY else "on_time",
            label=label,
            css=css,
            seconds_to_return=int((signout.expected_return_at - now).total_seconds()),
            behind=False,
            doubtful=signout.doubtful,
        )
    return _board_row(signout, now)


def offices_to_call(*, user: User) -> list[dict]:
    """The offline My visit page: each of my schools' office (monitor) phones. No child data."""
    from schools.validators import format_uk_phone

    schools = schools_for_user(user).exclude(monitor_phone="").order_by("name")
    return [
        {
            "name": school.name,
            "phone": school.monitor_phone,
            "phone_display": format_uk_phone(school.monitor_phone),
        }
        for school in schools.only("name", "monitor_phone")
    ]


def escalation_cases(*, user: User) -> dict:
    """The manager's page: open cases first (manager alerted or help asked, not resolved), then
    visits overdue now, then cases resolved in the last week."""
    schools = schools_requiring(user, "receive_escalations")
    now = timezone.now()
    base = (
        SignOut.objects.filter(school__in=schools)
        .select_related("school", "visit__household", "resolved_by")
        .prefetch_related(
            Prefetch("visitors", queryset=SignOutVisitor.objects.select_related("user"))
        )
    )
    open_cases = base.filter(manager_alerted_at__isnull=False, resolved_at__isnull=True).order_by(
        "manager_alerted_at"
    )
    overdue = base.filter(
        state__in=SignOut.OPEN_STATES,
        manager_alerted_at__isnull=True,
        escalation_stage__gte=1,
    ).order_by("expected_return_at")
    resolved = base.filter(resolved_at__gte=now - datetime.timedelta(days=7)).order_by(
        "-resolved_at"
    )
    return {"open_cases": list(open_cases), "overdue": list(overdue), "resolved": list(resolved)}


# ---------------------------------------------------------------------------------------------
# Operations: readiness and metrics (config/health.py, config/monitoring.py). All schools.
# ---------------------------------------------------------------------------------------------


def outbox_backed_up(*, older_than: datetime.timedelta) -> dict:
    """Whether the outbox is stuck: a message still waiting to send, or in doubt, for longer
    than `older_than`. Yes or no only (the readiness check is public: no counts)."""
    cutoff = timezone.now() - older_than
    waiting = Notification.objects.filter(status=Notification.Status.PENDING, created_at__lt=cutoff)
    doubtful = Notification.objects.filter(_in_doubt(), created_at__lt=cutoff)
    return {"pending": waiting.exists(), "in_doubt": doubtful.exists()}


def messages_by_state() -> dict[str, int]:
    """The outbox's unfinished messages: pending, sending, failed (will be retried), in doubt
    (the send started and never finished) and undelivered (failed, retries given up)."""
    Status = Notification.Status
    counts = dict.fromkeys(("pending", "sending", "failed", "in_doubt", "undelivered"), 0)
    rows = (
        Notification.objects.exclude(status__in=[Status.SENT, Status.CANCELLED])
        .values_list("status", "retry_at")
        .iterator()
    )
    for status, retry_at in rows:
        if status == Status.PENDING:
            counts["pending"] += 1
        elif status == Status.SENDING:
            counts["sending"] += 1
        elif status == Status.UNKNOWN:
            counts["in_doubt"] += 1
        elif status == Status.FAILED:
            counts["failed" if retry_at is not None else "undelivered"] += 1
    return counts


def signouts_open_and_overdue() -> dict[str, int]:
    """Sign-outs open now (visitors out, or left the visit and not yet back), and of those the
    ones whose ladder has started (past the expected time and its grace)."""
    open_ = SignOut.objects.filter(state__in=SignOut.OPEN_STATES)
    return {
        "open": open_.count(),
        "overdue": open_.filter(state=SignOut.State.OUT, escalation_stage__gte=1).count(),
    }


def lateness_recent(*, since: datetime.datetime) -> dict[str, list[float]]:
    """Seconds late: each ladder step fired since `since` (fired_at − due_at), and each alert
    message sent since then (sent_at − the time its step fell due)."""
    steps = EscalationStep.objects.filter(fired_at__gte=since).values_list("due_at", "fired_at")
    sent = Notification.objects.filter(
        status=Notification.Status.SENT, sent_at__gte=since
    ).values_list("due_at", "sent_at")
    return {
        "steps": [max(0.0, (fired - due).total_seconds()) for due, fired in steps],
        "messages": [max(0.0, (at - due).total_seconds()) for due, at in sent],
    }
