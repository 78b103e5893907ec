"""The alarm's races on PostgreSQL: two scans at a chain step (R-ESC-9), two people
acknowledging at the same moment (R-ESC-8), an acknowledgement racing the next chain step, and
a phone-in racing a return (each stands down once, R-ESC-10). Each is decided once, by the
database."""

import contextlib
import datetime
import threading

import pytest
from django.db import connection

from schools.models import EscalationChainMember
from tracking import ladder, signouts
from tracking.acknowledgements import signout_acknowledge
from tracking.models import Acknowledgement, EscalationStep, Notification

from .conftest import authorised_visit, sign_out
from .test_concurrency import in_threads, rendezvous_after_loading

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL's row locks (DATABASE_URL)"
    ),
    pytest.mark.django_db(transaction=True),
]

NO_SEND = lambda ids: None  # noqa: E731 - the sends are not what is measured here


@pytest.fixture
def school(oakfield, max, hugh):
    oakfield.designated_manager = max
    oakfield.monitor_phone = "+447700900500"
    oakfield.office_email = "office@oakfield.example"
    oakfield.save()
    EscalationChainMember.objects.create(school=oakfield, position=1, user=hugh)
    return oakfield


def test_two_scans_at_the_same_moment_fire_each_chain_step_once(
    monkeypatch, school, sam, tess, dana, olive, pupil
):
    # R-ESC-9: one winner per chain step.
    signouts_ = [sign_out(authorised_visit(sam, pupil, [sam, tess], dana), olive) for _ in range(6)]
    late = signouts_[-1].expected_return_at + datetime.timedelta(minutes=41)
    rendezvous_after_loading(monkeypatch, threading.Barrier(2))

    def scan():
        return ladder.escalation_scan(now=late, enqueue=NO_SEND)

    first, second = in_threads(scan, scan)
    assert first.errors == second.errors == 0
    # overdue, 2 retries, manager, the chain's Hugh, everyone: six steps each, once.
    assert first.steps_fired + second.steps_fired == 6 * 6
    fired = list(EscalationStep.objects.values_list("signout_id", "ladder_round", "number"))
    assert len(fired) == len(set(fired)) == 6 * 6
    keys = list(Notification.objects.values_list("idempotency_key", flat=True))
    assert len(keys) == len(set(keys))


def test_two_people_acknowledging_at_the_same_moment_make_one_owner(
    school, sam, tess, dana, olive, max, hugh, pupil
):
    # R-ESC-8: the first wins; the other is told who owns it.
    for _ in range(4):
        signout = sign_out(authorised_visit(sam, pupil, [sam, tess], dana), olive)
        ladder.escalation_scan(
            now=signout.expected_return_at + datetime.timedelta(minutes=36), enqueue=NO_SEND
        )
        barrier = threading.Barrier(2)

        def ack(user, signout=signout, barrier=barrier):
            barrier.wait(timeout=10)
            return signout_acknowledge(
                signout=signout, ladder_round=1, user=user, label=str(user), via="page"
            )

        (ack_max, won_max), (ack_hugh, won_hugh) = in_threads(lambda: ack(max), lambda: ack(hugh))
        assert [won_max, won_hugh].count(True) == 1
        (only,) = Acknowledgement.objects.filter(signout=signout)
        signout.refresh_from_db()
        assert signout.acknowledged_label == only.label
        assert signout.next_escalation_at is None
        keys = list(
            Notification.objects.filter(signout=signout).values_list("idempotency_key", flat=True)
        )
        assert len(keys) == len(set(keys))


def test_an_acknowledgement_racing_the_next_chain_step_is_decided_once(
    monkeypatch, school, sam, tess, dana, olive, max, pupil
):
    # R-ESC-8, R-ESC-9: either the step fired first and the acknowledgement stops what follows,
    # or the acknowledgement came first and the step never fires; never both, never lost.
    for _ in range(4):
        signout = sign_out(authorised_visit(sam, pupil, [sam, tess], dana), olive)
        r = signout.expected_return_at
        ladder.escalation_scan(now=r + datetime.timedelta(minutes=31), enqueue=NO_SEND)
        barrier = threading.Barrier(2)
        rendezvous_after_loading(monkeypatch, barrier)

        def scan(signout=signout, r=r):
            return ladder.signout_escalate(
                signout_id=signout.pk, now=r + datetime.timedelta(minutes=35), enqueue=NO_SEND
            )

        def ack(signout=signout, barrier=barrier):
            barrier.wait(timeout=10)  # the scan has read the sign-out at the manager step
            return signout_acknowledge(
                signout=signout, ladder_round=1, user=max, label="Max", via="page"
            )

        fired, (_, won) = in_threads(scan, ack)
        assert won
        signout.refresh_from_db()
        assert signout.next_escalation_at is None
        chain_steps = EscalationStep.objects.filter(signout=signout, kind="chain").count()
        assert chain_steps == len(fired) <= 1
        monkeypatch.undo()


def test_a_phone_in_racing_a_return_stands_everyone_down_once(
    school, sam, tess, dana, olive, pupil
):
    # R-ESC-10: exactly once per round, recipient and channel.
    for _ in range(4):
        signout = sign_out(authorised_visit(sam, pupil, [sam, tess], dana), olive)
        ladder.escalation_scan(
            now=signout.expected_return_at + datetime.timedelta(minutes=31), enqueue=NO_SEND
        )
        barrier = threading.Barrier(2)

        def phone_in(signout=signout, barrier=barrier):
            barrier.wait(timeout=10)
            return signouts.signout_phone_in(actor=olive, signout=signout, via="board")

        def come_back(signout=signout, barrier=barrier):
            barrier.wait(timeout=10)
            return signouts.signout_return(
                actor=olive, signout=signout, went_home=False, via="board"
            )

        # The phone-in may find tracking closed already: refused, which is right.
        with contextlib.suppress(AssertionError):
            in_threads(phone_in, come_back)
        rows = list(
            Notification.objects.filter(
                signout=signout, template__in=["standdown", "escalation_standdown"]
            ).values_list("channel", "address")
        )
        assert rows and len(rows) == len(set(rows))
