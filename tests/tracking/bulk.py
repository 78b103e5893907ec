"""Many visitors out at once, written straight to the database, for the board's query-count
test: the rows are what the services would have written, in every state the board shows."""

import datetime
import itertools

from django.utils import timezone

from schools.models import User
from tracking.models import CallAttempt, Notification, SignOut, SignOutVisitor
from visits.models import Visit, Visitor

_batch = itertools.count(1)


def visitors_out(*, school, household, requester, visitors: int) -> list[SignOut]:
    """`visitors` people out in pairs: some on time, some due, some overdue with calls made,
    some with a message in doubt, some back today; and as many authorised visits waiting."""
    now = timezone.now()
    batch = next(_batch)
    users = User.objects.bulk_create(
        User(
            username=f"visitor{batch}-{n}", first_name=f"Visitor{n}", last_name="Out", password="!"
        )
        for n in range(visitors)
    )
    pairs = [users[i : i + 2] for i in range(0, visitors, 2)]
    visits = Visit.objects.bulk_create(
        Visit(
            school=school,
            household=household,
            requested_by=requester,
            status="out" if n % 5 else "authorised",
            reason="attendance",
            purpose="Bulk",
            planned_start=now + datetime.timedelta(minutes=5),
            planned_end=now + datetime.timedelta(minutes=35),
            planned_return=now + datetime.timedelta(minutes=65),
            signed_out_at=now if n % 5 else None,
        )
        for n in range(len(pairs))
    )
    Visitor.objects.bulk_create(
        Visitor(visit=visit, user=user)
        for visit, pair in zip(visits, pairs, strict=True)
        for user in pair
    )
    out = [(v, p) for v, p in zip(visits, pairs, strict=True) if v.status == "out"]
    signouts = SignOut.objects.bulk_create(
        SignOut(
            visit=visit,
            school=school,
            signed_out_by=requester,
            signed_out_at=now - datetime.timedelta(hours=1),
            vehicle="Bulk car",
            # From 40 minutes late to 50 minutes to go: every state of the ladder.
            expected_return_at=now + datetime.timedelta(minutes=(n % 10) * 10 - 40),
            grace_seconds=900,
            retry_interval_seconds=300,
            retries=2,
            state="returned" if n % 7 == 1 else "out",
            closed_at=now if n % 7 == 1 else None,
            escalation_stage=min(4, max(0, 4 - n % 10)) if n % 7 != 3 else 0,
            next_escalation_at=None if n % 7 == 1 else now + datetime.timedelta(minutes=5),
            manager_alerted_at=now if n % 10 == 0 else None,
        )
        for n, (visit, _) in enumerate(out)
    )
    SignOutVisitor.objects.bulk_create(
        SignOutVisitor(signout=signout, user=user, mobile="+447700900101")
        for signout, (_, pair) in zip(signouts, out, strict=True)
        for user in pair
    )
    CallAttempt.objects.bulk_create(
        CallAttempt(
            signout=signout,
            ladder_round=1,
            number_called="+447700900101",
            called_at=now,
            outcome="no_answer",
            recorded_by=requester,
            recorded_at=now,
        )
        for signout in signouts[::3]
    )
    Notification.objects.bulk_create(
        Notification(
            signout=signout,
            idempotency_key=f"bulk:{signout.pk}",
            channel="sms",
            template="overdue_office",
            recipient_label="the designated monitor",
            address="+447700900500",
            body="Bulk",
            status="unknown",
            due_at=now,
            created_at=now,
        )
        for signout in signouts[::4]
    )
    return signouts
