"""Reads of sign-outs that apply the access rules (R-SEC-1), and what the board shows.

- A sign-out of another school: 404.
- The board, the calls and the emergency page: the school's view_board holders (office, DSLs,
  Head, managers). A visitor may act on their own sign-out from their phone.
- The manager's decision: receive_escalations holders, and the visit's named managers.
- Nobody here reads assessment narratives, concerns or records (R-SEC-1): office staff see
  names, address, times, phones and vehicle.
"""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from schools.models import User
from schools.selectors import schools_for_user, schools_requiring
from visits.models import Status as VisitStatus
from visits.models import Visit, Visitor

from .ladder import ESCALATION_SCAN
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
    if beat is None:
        return {"last_ran_at": None, "seconds_ago": None, "stale": True}
    ago = timezone.now() - beat.last_ran_at
    return {
        "last_ran_at": beat.last_ran_at,
        "seconds_ago": max(0, int(ago.total_seconds())),
        "stale": ago > STALE_AFTER,
    }


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


def _next_step_words(signout: SignOut, number: int) -> str:
    if number == 1:
        return "Overdue: the office alerted"
    if number < signout.manager_step:
        return "The office prompted to call again"
    if number == signout.manager_step:
        return "Manager alerted"
    if number < signout.everyone_step:
        member = User.objects.filter(pk=signout.chain_user_ids[number - signout.manager_step - 1])
        who = str(member.first()) if member.exists() else "the next person in the chain"
        return f"{who} (next in the escalation chain) alerted"
    if number == signout.everyone_step:
        return "Every DSL and the Headteacher alerted"
    return "Every DSL and the Headteacher reminded"


def ladder_summary(signout: SignOut) -> dict:
    """For the board and the emergency page: who was alerted (and how each message fared), who
    acknowledged, what happens next and when, and the stand-down. Plain words only.

    - alerted: the people alerted, in order, each once ("Max Example (manager)").
    - acknowledged: "Max Example at 13:31", or "" when nobody has.
    - next: "Hugh Example (next in the escalation chain) alerted at 13:35 if nobody
      acknowledges", or "" when nothing more is due.
    - next_at: when the next step falls due (aware datetime), or None.
    - stood_down: "Stood down at 13:40: everyone alerted was told", or "".
    """
    from .acknowledgements import ALERT_TEMPLATES
    from .messages import local_time

    rows = Notification.objects.filter(signout=signout, template__in=ALERT_TEMPLATES).exclude(
        status=Notification.Status.CANCELLED
    )
    alerted = list(dict.fromkeys(rows.order_by("pk").values_list("recipient_label", flat=True)))
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
        next_text = f"{_next_step_words(signout, number)} at {local_time(next_at)} {condition}"
    stood_down = ""
    if signout.stood_down_at:
        stood_down = f"Stood down at {local_time(signout.stood_down_at)}: everyone alerted was told"
    return {
        "alerted": alerted,
        "acknowledged": acknowledged,
        "next": next_text,
        "next_at": next_at,
        "stood_down": stood_down,
    }


# ---------------------------------------------------------------------------------------------
# The board
# ---------------------------------------------------------------------------------------------


@dataclass
class BoardRow:
    signout: SignOut
    state: str
    label: str
    css: str
    seconds_to_return: int
    behind: bool = False  # a step is due by the clock but the scan has not fired it
    doubtful: list = field(default_factory=list)

    @property
    def alarm(self) -> bool:
        """Overdue or worse: the emergency page and the quick call form are shown."""
        return self.state in ("overdue", "retrying", "manager", "help", "closed_case")

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
    "left_safely": ("Left the visit safely", "info"),
    "closed_case": ("Back — case open for the manager", "secondary"),
}


def board_state(signout: SignOut, now: datetime.datetime) -> tuple[str, bool]:
    """The row's state, computed from the stored times as well as the steps fired, so the board
    is right when Redis or the worker is down (then `behind` is true)."""
    ladder_running = signout.next_escalation_at is not None
    by_clock = signout.steps_due_by(now) if ladder_running else 0
    behind = ladder_running and by_clock > signout.escalation_stage
    level = max(signout.escalation_stage, by_clock)
    if not signout.is_open:
        return "closed_case", False
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


def _board_row(signout: SignOut, now) -> BoardRow:
    state, behind = board_state(signout, now)
    label, css = STATE_LABELS[state]
    return BoardRow(
        signout=signout,
        state=state,
        label=label,
        css=css,
        seconds_to_return=int((signout.expected_return_at - now).total_seconds()),
        behind=behind,
        doubtful=signout.doubtful,
    )


def _local_day(now) -> tuple[datetime.datetime, datetime.datetime]:
    today = timezone.localdate(now)
    start = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    end = timezone.make_aware(
        datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time.min)
    )
    return start, end


def board_for_user(*, user: User, search: str = "") -> dict:
    """The office board. Its query count does not grow with the number of visitors out."""
    schools = schools_requiring(user, "view_board")
    now = timezone.now()
    start, end = _local_day(now)
    visitors = Prefetch("visitors", queryset=SignOutVisitor.objects.select_related("user"))
    out = (
        SignOut.objects.filter(school__in=schools)
        .filter(
            Q(state__in=SignOut.OPEN_STATES)
            | Q(manager_alerted_at__isnull=False, resolved_at__isnull=True)
        )
        .select_related("school", "visit__household")
        .prefetch_related(
            visitors,
            _conditions(),
            Prefetch(
                "notifications",
                queryset=Notification.objects.filter(_in_doubt()).order_by("created_at"),
                to_attr="doubtful",
            ),
            Prefetch(
                "calls",
                queryset=CallAttempt.objects.order_by("-called_at", "-pk"),
                to_attr="call_log",
            ),
        )
    )
    waiting = (
        Visit.objects.filter(
            school__in=schools,
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
            school__in=schools,
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
    rows = sorted(
        (_board_row(signout, now) for signout in out),
        key=lambda row: (_URGENCY.index(row.state), row.signout.expected_return_at),
    )
    return {
        "now": now,
        "rows": rows,
        "waiting": list(waiting),
        "returned": list(returned),
        "heartbeat": escalation_heartbeat(),
        "search": search,
    }


_URGENCY = [
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
    return [_board_row(signout, now) for signout in signouts]


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
