"""Two processes at once, on PostgreSQL: two scans (two beats, or a scan and a slow one), and a
return racing a step. Each is decided once, by the database (R-ESC-5)."""

import datetime
import threading

import pytest
from django.db import connection

from tracking import ladder, signouts
from tracking.models import EscalationStep, Notification

from .conftest import authorised_visit, sign_out

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL's row locks (DATABASE_URL)"
    ),
    pytest.mark.django_db(transaction=True),
]


def in_threads(*functions):
    """Run each function in its own thread with its own database connection; re-raise errors."""
    results, errors = [None] * len(functions), []

    def run(index, function):
        try:
            results[index] = function()
        except BaseException as error:  # noqa: BLE001 - reported to the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def rendezvous_after_loading(monkeypatch, barrier):
    """Both threads read the same sign-out (the same stage) before either claims it."""
    load = ladder._load_for_messages

    def load_then_wait(signout_id):
        signout = load(signout_id)
        barrier.wait(timeout=10)
        return signout

    monkeypatch.setattr(ladder, "_load_for_messages", load_then_wait)


def test_two_scans_at_the_same_moment_fire_each_step_once(
    monkeypatch, sam, tess, dana, olive, max, pupil, oakfield
):
    oakfield.designated_manager = max
    oakfield.monitor_phone = "+447700900500"
    oakfield.save()
    signouts = [sign_out(authorised_visit(sam, pupil, [sam, tess], dana), olive) for _ in range(8)]
    late = signouts[-1].expected_return_at + datetime.timedelta(minutes=31)
    rendezvous_after_loading(monkeypatch, threading.Barrier(2))

    def scan():
        return ladder.escalation_scan(now=late, enqueue=lambda ids: None)

    first, second = in_threads(scan, scan)
    # Both scans saw all eight due, read each at the same stage, and raced to claim it.
    assert first.due == second.due == 8
    assert first.errors == second.errors == 0
    assert first.steps_fired + second.steps_fired == 8 * 4
    assert first.claimed_by_others + second.claimed_by_others == 8  # one loser per sign-out
    fired = list(EscalationStep.objects.values_list("signout_id", "ladder_round", "number"))
    assert len(fired) == len(set(fired)) == 8 * 4
    keys = list(Notification.objects.values_list("idempotency_key", flat=True))
    assert len(keys) == len(set(keys))
    # Per sign-out: overdue (office email + monitor + 2 visitors), 2 retries, manager (email + SMS).
    assert len(keys) == 8 * (4 + 1 + 1 + 2)


def test_a_return_racing_a_step_is_decided_once_by_the_database(
    monkeypatch, sam, tess, dana, olive, pupil
):
    for _ in range(4):
        signout = sign_out(authorised_visit(sam, pupil, [sam, tess], dana), olive)
        due = signout.expected_return_at + datetime.timedelta(minutes=15)
        barrier = threading.Barrier(2)
        rendezvous_after_loading(monkeypatch, barrier)

        def scan(signout=signout, due=due):
            return ladder.signout_escalate(signout_id=signout.pk, now=due, enqueue=lambda ids: None)

        def come_back(signout=signout, barrier=barrier):
            barrier.wait(timeout=10)  # the scan has read the sign-out at stage 0
            return signouts.signout_return(
                actor=olive, signout=signout, went_home=False, via="board"
            )

        fired, _ = in_threads(scan, come_back)
        signout.refresh_from_db()
        # Whoever won, the visitors are back, the ladder is closed, and a step fired at most once.
        assert signout.state == "returned" and signout.next_escalation_at is None
        steps = EscalationStep.objects.filter(signout=signout).count()
        assert steps == len(fired) <= 1
        monkeypatch.undo()
