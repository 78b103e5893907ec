"""Sign-out, phone-ins and the overdue-return escalation ladder (R-TRK-*, R-ESC-*).

The ladder lives in these rows, never in Celery ETA tasks or in memory (R-ESC-5): a sign-out
stores its expected return time, the steps already fired and when the next one falls due. The
escalation scan claims due rows with conditional updates, so every step and every message happens
exactly once however many scans run. See docs/architecture.md, "The escalation engine".
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from core.limits import MESSAGE_TEXT, NOTE_TEXT


class SignOut(models.Model):
    """Visitors out on a visit: one per visit, from sign-out until they are back (R-TRK-1)."""

    class State(models.TextChoices):
        OUT = "out", "Out on the visit"
        LEFT_SAFELY = "left_safely", "Left the visit safely"
        RETURNED = "returned", "Back at school"
        WENT_HOME = "went_home", "Gone straight home"
        CANCELLED = "cancelled", "Visit cancelled"

    visit = models.OneToOneField("visits.Visit", on_delete=models.PROTECT, related_name="signout")
    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=12, choices=State.choices, default=State.OUT)
    signed_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_out_at = models.DateTimeField()
    vehicle = models.CharField(max_length=120, help_text="Make, colour, registration — or on foot.")
    # R the ladder counts from; a new expected time restarts the ladder (R-ESC-6).
    expected_return_at = models.DateTimeField()

    # The school's ladder settings when the visitors signed out (R-TRK-3, R-ESC-2, R-ESC-3), in
    # seconds: a school changing its settings mid-visit does not move a ladder already running.
    grace_seconds = models.PositiveIntegerField()
    retry_interval_seconds = models.PositiveIntegerField()
    retries = models.PositiveSmallIntegerField()
    # R-ESC-9: the escalation chain after the manager, copied at sign-out like the settings
    # above: the chain members' user ids in order, the minutes each waits for an
    # acknowledgement and the minutes between reminders once the chain is used up.
    chain_user_ids = models.JSONField(default=list, blank=True)
    chain_step_seconds = models.PositiveIntegerField(default=300)
    reminder_seconds = models.PositiveIntegerField(default=600)
    # When the manager step of the current round fell due (the chain counts from it).
    chain_base_at = models.DateTimeField(null=True, blank=True)

    # The ladder: which round (1, then +1 each new expected time), how many of its steps have
    # fired, and when the next one falls due (NULL once tracking is closed or the ladder is done).
    ladder_round = models.PositiveIntegerField(default=1)
    escalation_stage = models.PositiveSmallIntegerField(default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True)
    # R-TRK-6: when each visitor is texted a reminder, ten minutes before the expected return
    # (NULL once sent, or when there is none to send). A new expected time sets it again.
    reminder_due_at = models.DateTimeField(null=True, blank=True)
    # R-TRK-6: check-ins during long visits. The school's interval when the visitors signed out
    # (0: none asked), and when the next check-in is due (NULL when none is due: off, not out,
    # or the next would fall after the expected return, which the ladder watches anyway).
    checkin_interval_seconds = models.PositiveIntegerField(default=0)
    checkin_due_at = models.DateTimeField(null=True, blank=True)
    # R-TRK-6: a missed check-in starts a round of the ladder from the time it was missed
    # instead of from the expected return (NULL: the round counts from the expected return).
    ladder_from_at = models.DateTimeField(null=True, blank=True)

    # R-TRK-7: a duress PIN (or three wrong PINs) raised help silently. Shown to the office and
    # managers only; `duress_shows` is the state the visitor's own phone shows, as if the
    # action they were forced to take had been done ("" for a check-in).
    duress_at = models.DateTimeField(null=True, blank=True)
    duress_shows = models.CharField(max_length=12, blank=True)

    last_contact_at = models.DateTimeField(null=True, blank=True)
    manager_alerted_at = models.DateTimeField(null=True, blank=True)
    help_requested_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # R-ESC-4: an escalation stays open until the manager records an outcome.
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # R-ESC-8: who owns the case of the current round (the first to acknowledge it).
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_label = models.CharField(max_length=150, blank=True)
    # R-ESC-10: when everyone alerted was told the visitors are safe (latest round).
    stood_down_at = models.DateTimeField(null=True, blank=True)

    OPEN_STATES = (State.OUT, State.LEFT_SAFELY)

    class Meta:
        ordering = ["expected_return_at", "pk"]
        indexes = [
            # Used by the escalation scan: the sign-outs whose next step is due. Partial, so the
            # idle scan reads only the open ladders' due times, however many visits are closed.
            models.Index(
                fields=["next_escalation_at"],
                condition=Q(next_escalation_at__isnull=False),
                name="signout_due",
            ),
            # Used by the escalation scan: the reminders due (R-TRK-6). Partial, like signout_due.
            models.Index(
                fields=["reminder_due_at"],
                condition=Q(reminder_due_at__isnull=False),
                name="signout_reminder_due",
            ),
            # Used by the escalation scan: the check-ins due (R-TRK-6). Partial, like signout_due.
            models.Index(
                fields=["checkin_due_at"],
                condition=Q(checkin_due_at__isnull=False),
                name="signout_checkin_due",
            ),
            # Used by the board: a school's visitors out now.
            models.Index(fields=["school", "state"], name="signout_school_state"),
            # Used by the board and the escalations page: cases the manager has not resolved.
            models.Index(
                fields=["school", "manager_alerted_at"],
                condition=Q(resolved_at__isnull=True, manager_alerted_at__isnull=False),
                name="signout_open_case",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(next_escalation_at__isnull=True) | Q(state__in=["out", "left_safely"]),
                name="signout_ladder_only_while_out",
            ),
            # R-ESC-9: past the manager step only once the chain has started.
            models.CheckConstraint(
                condition=Q(escalation_stage__lte=F("retries") + 2)
                | Q(chain_base_at__isnull=False),
                name="signout_stage_within_ladder_or_chain",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(manager_alerted_at__isnull=False),
                name="signout_resolved_only_after_alert",
            ),
            models.CheckConstraint(
                condition=Q(retry_interval_seconds__gte=1) & Q(grace_seconds__gte=1),
                name="signout_ladder_seconds_positive",
            ),
            models.CheckConstraint(
                condition=Q(chain_step_seconds__gte=1) & Q(reminder_seconds__gte=1),
                name="signout_chain_seconds_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"Sign-out of visit #{self.visit_id} ({self.get_state_display()})"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @property
    def manager_step(self) -> int:
        """The step number that alerts the manager: after the overdue step and the retries."""
        return self.retries + 2

    @property
    def final_retry_step(self) -> int:
        return self.retries + 1

    @property
    def everyone_step(self) -> int:
        """R-ESC-9: the step that alerts every DSL and the Headteacher together: after the
        manager and each member of the chain copied at sign-out."""
        return self.manager_step + len(self.chain_user_ids) + 1

    def due_times(self) -> list[datetime.datetime]:
        """When each step up to the manager falls due: step n at R + grace + (n-1) × interval
        (R+15, R+20, R+25, R+30 with the defaults). Aware UTC datetimes, so clock changes in
        Europe/London never move them."""
        grace = datetime.timedelta(seconds=self.grace_seconds)
        interval = datetime.timedelta(seconds=self.retry_interval_seconds)
        # R-TRK-6: a round started by a missed check-in counts from when it was missed.
        first = self.ladder_from_at or self.expected_return_at + grace
        return [first + step * interval for step in range(self.manager_step)]

    def step_due_at(self, number: int) -> datetime.datetime:
        """When step `number` of the current round falls due, from the stored values alone. Up
        to the manager: `due_times()`. After it (R-ESC-9), counted from when the manager step
        fell due: each chain member and then everyone after another chain interval, then a
        reminder every reminder interval, without end."""
        if number <= self.manager_step:
            return self.due_times()[number - 1]
        base = self.chain_base_at or self.due_times()[-1]
        chain_step = datetime.timedelta(seconds=self.chain_step_seconds)
        after = number - self.manager_step
        chained = len(self.chain_user_ids) + 1  # the members, then everyone
        if after <= chained:
            return base + after * chain_step
        reminder = datetime.timedelta(seconds=self.reminder_seconds)
        return base + chained * chain_step + (after - chained) * reminder

    def steps_due_by(self, now: datetime.datetime) -> int:
        """How many steps of the current round are due at `now` (from the stored times alone)."""
        if self.chain_base_at is not None:
            base = self.chain_base_at  # the manager was alerted (by the ladder, or for help)
        else:
            count = sum(1 for due in self.due_times() if due <= now)
            if count < self.manager_step:
                return count
            base = self.due_times()[-1]
        elapsed = (now - base).total_seconds()
        chained = len(self.chain_user_ids) + 1
        after = min(chained, int(elapsed // self.chain_step_seconds))
        if after == chained:
            after += int((elapsed - chained * self.chain_step_seconds) // self.reminder_seconds)
        return self.manager_step + max(0, after)

    @property
    def case_open(self) -> bool:
        return self.manager_alerted_at is not None and self.resolved_at is None


class SignOutVisitor(models.Model):
    """A visitor on a sign-out and the mobile confirmed at the door (R-TRK-1)."""

    signout = models.ForeignKey(SignOut, on_delete=models.CASCADE, related_name="visitors")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    mobile = models.CharField(max_length=16, help_text="E.164, confirmed at sign-out.")
    # Issue 14: optional, for the Police briefing; deleted with the sign-out at retention.
    wearing = models.CharField(
        max_length=200,
        blank=True,
        help_text="What they are wearing today, for the emergency page and the Police briefing.",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["signout", "user"], name="signoutvisitor_once")
        ]
        # Used by SMS replies (R-TRK-5): the open sign-out of the mobile a reply came from.
        indexes = [models.Index(fields=["mobile"], name="signoutvisitor_mobile")]

    def __str__(self) -> str:
        return f"{self.user} on {self.signout}"

    @property
    def mobile_display(self) -> str:
        from schools.validators import format_uk_phone

        return format_uk_phone(self.mobile)


class TrackingEvent(models.Model):
    """Something a visitor or the office recorded while the visitors were out (R-TRK-2)."""

    class Kind(models.TextChoices):
        SIGNED_OUT = "signed_out", "Signed out"
        PHONED_IN = "phoned_in", "Left the visit safely"
        EXTENDED = "extended", "Needs more time"
        WENT_HOME = "went_home", "Going straight home"
        RETURNED = "returned", "Back at school"
        HELP = "help", "Asked for help"
        CHECKED_IN_SAFE = "checked_in_safe", "Checked in: safe"
        CANCELLED = "cancelled", "Visit cancelled while out"
        STILL_OUT = "still_out", "Still out: the return recorded was a mistake"
        CHECKED_IN = "checked_in", "Checked in: still on the visit, all well"  # R-TRK-6
        MISSED_CHECKIN = "missed_checkin", "Missed a check-in"  # R-TRK-6

    class Via(models.TextChoices):
        BOARD = "board", "the office board"
        PHONE = "phone", "the visitor's phone"
        LINK = "link", "the check-in link"
        SYSTEM = "system", "Homeward"
        SMS = "sms", "a text message reply"

    signout = models.ForeignKey(SignOut, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    via = models.CharField(max_length=8, choices=Via.choices)
    occurred_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    new_expected_return_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["signout", "occurred_at"], name="trackingevent_signout")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.occurred_at}"


class CallAttempt(models.Model):
    """One call by the office to a visitor (R-ESC-2): time, number called and outcome."""

    class Outcome(models.TextChoices):
        SPOKE_SAFE = "spoke_safe", "Spoke to them: they are safe"
        NO_ANSWER = "no_answer", "No answer"
        VOICEMAIL = "voicemail", "Left a voicemail"
        UNREACHABLE = "unreachable", "Phone off or unreachable"

    FAILED = (Outcome.NO_ANSWER, Outcome.VOICEMAIL, Outcome.UNREACHABLE)

    signout = models.ForeignKey(SignOut, on_delete=models.CASCADE, related_name="calls")
    ladder_round = models.PositiveIntegerField()
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    number_called = models.CharField(max_length=16)
    called_at = models.DateTimeField()
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    notes = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["called_at", "id"]

    def __str__(self) -> str:
        return f"Call to {self.number_called}: {self.get_outcome_display()}"

    @property
    def failed(self) -> bool:
        return self.outcome in self.FAILED

    @property
    def number_display(self) -> str:
        from schools.validators import format_uk_phone

        return format_uk_phone(self.number_called)


class EscalationStep(models.Model):
    """A step of the ladder that fired. The unique constraints are the last guard of exactly
    once (R-ESC-5): the conditional update on SignOut.escalation_stage is the first."""

    class Kind(models.TextChoices):
        OVERDUE = "overdue", "Overdue: office alerted, visitors asked to call in"
        RETRY = "retry", "Office prompted to call again"
        FINAL_RETRY = "final_retry", "Office prompted to make the final call"
        MANAGER = "manager", "Manager alerted"
        CHAIN = "chain", "Nobody acknowledged: the next person in the chain alerted"
        EVERYONE = "everyone", "Nobody acknowledged: every DSL and the Headteacher alerted"
        REMINDER = "reminder", "Nobody acknowledged yet: everyone reminded"
        HELP = "help", "Help requested: manager and office alerted"

    class Trigger(models.TextChoices):
        SCAN = "scan", "the escalation scan"
        FINAL_CALL_FAILED = "final_call_failed", "the final call was recorded as failed"
        HELP = "help", "a request for help"

    HELP_NUMBER = 0

    signout = models.ForeignKey(SignOut, on_delete=models.CASCADE, related_name="steps")
    ladder_round = models.PositiveIntegerField()
    number = models.PositiveSmallIntegerField(help_text="1 overdue … manager; 0 for help.")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    due_at = models.DateTimeField()
    fired_at = models.DateTimeField()

    class Meta:
        ordering = ["fired_at", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["signout", "ladder_round", "number"],
                condition=~Q(kind="help"),
                name="escalationstep_once_per_round",
            ),
            models.UniqueConstraint(
                fields=["signout"], condition=Q(kind="help"), name="escalationstep_help_once"
            ),
        ]
        # The leaders' figures look for steps fired since their last refresh (insights).
        indexes = [models.Index(fields=["fired_at"], name="escalationstep_fired")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} (round {self.ladder_round}) at {self.fired_at}"


class Notification(models.Model):
    """The outbox: one email or SMS to one recipient, created with its step, sent by a worker.

    Sending claims the row (PENDING → SENDING) before calling the provider, so two workers never
    both send. A send that crashed half-way stays SENDING and the scan marks it UNKNOWN: shown on
    the board with a resend button, never resent automatically (R-ESC-5).
    """

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"
        # R-ESC-11: the fallback for an alert that was not delivered (tracking.fallback).
        VOICE = "voice", "Phone call"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to send"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        UNKNOWN = "unknown", "In doubt: may not have been sent"
        CANCELLED = "cancelled", "Not needed any more"

    signout = models.ForeignKey(SignOut, on_delete=models.CASCADE, related_name="notifications")
    step = models.ForeignKey(
        EscalationStep,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    idempotency_key = models.CharField(max_length=200, unique=True)
    channel = models.CharField(max_length=5, choices=Channel.choices)
    template = models.CharField(max_length=40)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recipient_label = models.CharField(max_length=150, help_text="Who, in words: Max (manager).")
    address = models.CharField(max_length=254, help_text="Email address or E.164 mobile.")
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(max_length=MESSAGE_TEXT)
    html_body = models.TextField(blank=True, max_length=MESSAGE_TEXT)
    # Office and visitor prompts are not needed once the visitors are back; manager and help
    # alerts always go.
    supersedable = models.BooleanField(default=False)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    due_at = models.DateTimeField(help_text="When its step fell due: lateness counts from here.")
    created_at = models.DateTimeField()
    # When the scan should (re-)enqueue it: a lost broker message, or a failed send's backoff.
    retry_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_ref = models.CharField(max_length=100, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    resent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resent_at = models.DateTimeField(null=True, blank=True)

    # R-ESC-11: what the provider says became of an SMS, set only by its authenticated
    # callbacks (tracking.receipts); never moves back from a final state.
    class Delivery(models.TextChoices):
        QUEUED = "queued", "queued"
        SENT = "sent", "sent to the network"
        DELIVERED = "delivered", "delivered"
        UNDELIVERED = "undelivered", "not delivered"
        FAILED = "failed", "failed"

    delivery_state = models.CharField(max_length=12, choices=Delivery.choices, blank=True)
    provider_error_code = models.CharField(max_length=20, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivery_updated_at = models.DateTimeField(null=True, blank=True)

    # R-ESC-11: an alert SMS not delivered by `fallback_due_at` (or reported undelivered or
    # failed, which brings it forward to now) is repeated by a phone call and by email, once: a
    # due time of the escalation scan (tracking.fallback), claimed by a conditional update, the
    # repeats under the keys <the SMS's key>:fallback:voice and :fallback:email.
    fallback_due_at = models.DateTimeField(null=True, blank=True)
    fallback_fired_at = models.DateTimeField(null=True, blank=True)
    fallback_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="fallbacks"
    )

    # R-ESC-11: what Twilio says became of a phone call (its status callbacks), only forward.
    class CallState(models.TextChoices):
        QUEUED = "queued", "calling"
        RINGING = "ringing", "ringing"
        IN_PROGRESS = "in-progress", "call answered"
        COMPLETED = "completed", "call answered"
        BUSY = "busy", "line busy"
        NO_ANSWER = "no-answer", "no answer"
        FAILED = "failed", "call failed"
        CANCELED = "canceled", "call cancelled"

    call_state = models.CharField(max_length=12, choices=CallState.choices, blank=True)
    # Twilio's answering machine detection: human, machine_start, fax, unknown…
    answered_by = models.CharField(max_length=24, blank=True)
    call_answered_at = models.DateTimeField(null=True, blank=True)
    # R-ESC-8: "press 1" on this call acknowledged the case.
    call_acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # Used by delivery callbacks: the message with the provider's id.
            models.Index(
                fields=["provider_ref"],
                condition=~Q(provider_ref=""),
                name="notification_provider_ref",
            ),
            # Used by the escalation scan: messages to (re-)enqueue.
            models.Index(
                fields=["retry_at"], condition=Q(retry_at__isnull=False), name="notification_retry"
            ),
            # Used by the escalation scan: sends that started and never finished.
            models.Index(
                fields=["claimed_at"],
                condition=Q(status="sending"),
                name="notification_sending",
            ),
            # Used by the escalation scan: alerts whose fallback call is due (R-ESC-11).
            models.Index(
                fields=["fallback_due_at"],
                condition=Q(fallback_due_at__isnull=False),
                name="notification_fallback_due",
            ),
            # Used by the board: a sign-out's messages in doubt.
            models.Index(fields=["signout", "status"], name="notification_signout_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="notification_sent_has_time",
            ),
            models.CheckConstraint(
                condition=Q(retry_at__isnull=True) | Q(status__in=["pending", "failed"]),
                name="notification_retry_only_when_unsent",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_channel_display()} to {self.recipient_label}: {self.get_status_display()}"
        )

    @property
    def state_words(self) -> str:
        """What became of the message, in words, for the emergency page and the board:
        "delivered 21:41", "not delivered — calling instead", "call answered, acknowledged
        21:44" (R-ESC-11)."""
        from django.utils import timezone

        def at(value) -> str:
            return f"{timezone.localtime(value):%H:%M}"

        if self.channel == self.Channel.VOICE:
            return self._call_words(at)
        if self.fallback_fired_at and self.delivery_state != self.Delivery.DELIVERED:
            if self.delivery_state in (self.Delivery.UNDELIVERED, self.Delivery.FAILED):
                code = f" (error {self.provider_error_code})" if self.provider_error_code else ""
                return f"not delivered{code} — calling instead"
            return f"not delivered by {at(self.fallback_fired_at)} — calling instead"
        if self.delivery_state == self.Delivery.DELIVERED and self.delivered_at:
            return f"delivered {timezone.localtime(self.delivered_at):%H:%M}"
        if self.delivery_state in (self.Delivery.UNDELIVERED, self.Delivery.FAILED):
            code = f" (error {self.provider_error_code})" if self.provider_error_code else ""
            return f"not delivered{code}"
        if self.status == self.Status.SENT and self.sent_at:
            return f"sent {timezone.localtime(self.sent_at):%H:%M}"
        return self.get_status_display().lower()

    def _call_words(self, at) -> str:
        if self.call_acknowledged_at:
            return f"call answered, acknowledged {at(self.call_acknowledged_at)}"
        if self.answered_by.startswith(("machine", "fax")):
            return "answering machine — not acknowledged"
        C = self.CallState
        if self.call_state == C.IN_PROGRESS and self.call_answered_at:
            return f"call answered {at(self.call_answered_at)}"
        if self.call_state == C.COMPLETED and self.call_answered_at:
            return f"call answered {at(self.call_answered_at)}, not acknowledged"
        if self.call_state:
            return self.get_call_state_display()
        if self.status == self.Status.SENT and self.sent_at:
            return f"calling {at(self.sent_at)}"
        if self.status in (self.Status.PENDING, self.Status.SENDING):
            return "calling"
        return f"call {self.get_status_display().lower()}"

    @property
    def in_doubt(self) -> bool:
        """Shown on the board with a resend button: may or may not have reached them."""
        return self.status == self.Status.UNKNOWN or (
            self.status == self.Status.FAILED and self.retry_at is None
        )


class CheckInLink(models.Model):
    """The one-time link texted to an overdue visitor: "I'm safe" or "15 more minutes".

    The token in the SMS is this row's id signed with the secret key and a timestamp; the row
    records the expiry (an hour) and the single use."""

    class Answer(models.TextChoices):
        SAFE = "safe", "I'm safe"
        MORE_TIME = "more_time", "15 more minutes"
        STILL_OUT = "still_out", "I am still out"  # R-TRK-4: after tracking closed

    signout = models.ForeignKey(SignOut, on_delete=models.CASCADE, related_name="checkin_links")
    visitor = models.ForeignKey(SignOutVisitor, on_delete=models.CASCADE, related_name="+")
    ladder_round = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    answer = models.CharField(max_length=10, choices=Answer.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["visitor", "ladder_round"], name="checkinlink_once_per_round"
            ),
            models.CheckConstraint(
                condition=Q(used_at__isnull=True) | ~Q(answer=""), name="checkinlink_used_answer"
            ),
        ]

    def __str__(self) -> str:
        return f"Check-in link for {self.visitor} (round {self.ladder_round})"


class EscalationDecision(models.Model):
    """What the manager decided and did (R-ESC-4). An outcome resolves the case."""

    class Action(models.TextChoices):
        CONTACTED_VISITOR = "contacted_visitor", "Contacted the visitor"
        CALLED_NEXT_OF_KIN = "next_of_kin", "Called the next of kin"
        CALLED_POLICE = "police", "Called the Police"
        OTHER = "other", "Other"

    class Outcome(models.TextChoices):
        SAFE = "safe", "Visitors found safe"
        HELPED = "helped", "Visitors found and given help"
        POLICE = "police", "Handed to the Police"
        OTHER = "other", "Other outcome (in the notes)"

    signout = models.ForeignKey(SignOut, on_delete=models.CASCADE, related_name="decisions")
    action = models.CharField(max_length=20, choices=Action.choices)
    notes = models.TextField(blank=True, max_length=NOTE_TEXT)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.recorded_by}"


class Heartbeat(models.Model):
    """When a periodic job last ran: the board warns when the escalation scan goes quiet."""

    name = models.CharField(max_length=60, unique=True)
    last_ran_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.last_ran_at}"


class Acknowledgement(models.Model):
    """R-ESC-8: somebody alerted said "I am dealing with it". One per sign-out round: the first
    owns the case (the conditional update on SignOut.acknowledged_at decides; this unique row is
    the second guard). Acknowledging is not resolving: the outcome is still needed (R-ESC-4)."""

    class Via(models.TextChoices):
        LINK = "link", "the link in their alert"
        PAGE = "page", "the emergency page"
        VOICE = "voice", "a key press on the phone call"

    signout = models.ForeignKey(SignOut, on_delete=models.CASCADE, related_name="acknowledgements")
    ladder_round = models.PositiveIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    label = models.CharField(max_length=150)
    via = models.CharField(max_length=8, choices=Via.choices)
    acknowledged_at = models.DateTimeField()

    class Meta:
        ordering = ["acknowledged_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["signout", "ladder_round"], name="acknowledgement_once_per_round"
            )
        ]

    def __str__(self) -> str:
        return f"Acknowledged by {self.label} at {self.acknowledged_at}"


# ---------------------------------------------------------------------------------------------
# Checking in from the phone (issue 13: R-TRK-5..8)
# ---------------------------------------------------------------------------------------------


class SmsReply(models.Model):
    """A text a visitor sent back to Homeward (R-TRK-5), one row per provider message id: a
    provider that posts the same message twice finds the row and nothing happens again.

    The text itself is never stored (it may hold a PIN, or come from a stranger): only the word
    it was read as and what Homeward did about it."""

    class Provider(models.TextChoices):
        TWILIO = "twilio", "Twilio"
        NOTIFY = "notify", "GOV.UK Notify"

    class Word(models.TextChoices):
        SAFE = "safe", "SAFE: left the visit safely"
        BACK = "back", "BACK: back at school"
        HOME = "home", "HOME: going straight home"
        HELP = "help", "HELP: needs help"
        FINE = "fine", "FINE: checked in, still on the visit"  # R-TRK-6
        MORE_TIME = "more_time", "Minutes: needs more time"
        NOT_UNDERSTOOD = "not_understood", "Not one of the reply words"

    class Outcome(models.TextChoices):
        APPLIED = "applied", "Done"
        NOT_UNDERSTOOD = "not_understood", "Not understood: the reply words were sent back"
        REFUSED = "refused", "Refused: the answer says why"
        CLOSED = "closed", "Tracking of the visit was already closed"
        NO_OPEN_SIGNOUT = "no_open_signout", "The sender has no visit open"
        UNKNOWN_NUMBER = "unknown_number", "From a number Homeward does not know"
        AMBIGUOUS = "ambiguous", "The sender has two visits open: refused, the office told"

    provider = models.CharField(max_length=8, choices=Provider.choices)
    provider_message_id = models.CharField(max_length=100)
    received_at = models.DateTimeField()
    signout = models.ForeignKey(
        SignOut, null=True, blank=True, on_delete=models.CASCADE, related_name="sms_replies"
    )
    visitor = models.ForeignKey(
        SignOutVisitor, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    word = models.CharField(max_length=16, choices=Word.choices)
    minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_message_id"], name="smsreply_once_per_message"
            )
        ]

    def __str__(self) -> str:
        return f"Reply {self.get_word_display()} ({self.get_outcome_display()})"


class AckLink(models.Model):
    """R-ESC-8: the one-tap link in a manager's or monitor's alert. One per person per round
    (their SMS and email share it); its token is this row's id, signed and timestamped; used
    once."""

    signout = models.ForeignKey(SignOut, on_delete=models.CASCADE, related_name="ack_links")
    ladder_round = models.PositiveIntegerField()
    recipient_key = models.CharField(max_length=270, help_text="user:<id> or the address.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    label = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["signout", "ladder_round", "recipient_key"], name="acklink_once_per_round"
            )
        ]

    def __str__(self) -> str:
        return f"Acknowledgement link for {self.label} (round {self.ladder_round})"


class CheckInPin(models.Model):
    """R-TRK-7: a visitor's check-in PIN and duress PIN, both hashed with Django's password
    hashers. Never shown, logged or sent; `failed_attempts` counts wrong PINs in a row (three
    raise help)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="checkin_pin"
    )
    pin_hash = models.CharField(max_length=255)
    duress_hash = models.CharField(max_length=255)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Check-in PINs of {self.user}"


class CheckInLocation(models.Model):
    """R-TRK-8: where the phone was when the visitor checked in, only when they ticked "share
    my location with this check-in" (the browser asks them too). Deleted with its sign-out, the
    rest of the tracking data about staff (config/management/commands/retention_review.py)."""

    signout = models.ForeignKey(SignOut, on_delete=models.CASCADE, related_name="locations")
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    latitude = models.DecimalField(max_digits=9, decimal_places=6)
    longitude = models.DecimalField(max_digits=9, decimal_places=6)
    accuracy_m = models.PositiveIntegerField(help_text="The phone's own estimate, in metres.")
    taken_at = models.DateTimeField(help_text="When the phone read its position.")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["taken_at", "id"]
        indexes = [models.Index(fields=["signout", "taken_at"], name="checkinlocation_signout")]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90)
                & Q(longitude__gte=-180, longitude__lte=180),
                name="checkinlocation_on_earth",
            )
        ]

    def __str__(self) -> str:
        return f"Location of {self.visitor} at {self.taken_at}"

    @property
    def coordinates(self) -> str:
        return f"{self.latitude:.5f}, {self.longitude:.5f}"

    @property
    def geo_uri(self) -> str:
        """Opens the phone's or computer's own map app (RFC 5870)."""
        return f"geo:{self.latitude:.6f},{self.longitude:.6f}?u={self.accuracy_m}"

    @property
    def map_url(self) -> str:
        """A link to open in a browser's map; Homeward's pages load no map tiles (CSP)."""
        lat, lon = f"{self.latitude:.6f}", f"{self.longitude:.6f}"
        return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"
