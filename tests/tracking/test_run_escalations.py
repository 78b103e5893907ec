"""`manage.py run_escalations [--loop]`: the same scan without Celery (R-ESC-5)."""

import datetime
import io
import threading

from django.core.management import call_command

from tracking import sms
from tracking.ladder import scan_loop
from tracking.models import EscalationStep, Heartbeat, Notification

from .conftest import NOON

R = NOON + datetime.timedelta(hours=1)


def test_run_escalations_fires_due_steps_and_sends_from_its_own_process(
    clock, signout, django_capture_on_commit_callbacks
):
    clock.move_to(R + datetime.timedelta(minutes=31))
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_escalations", stdout=out)
    assert "4 steps fired" in out.getvalue()
    assert EscalationStep.objects.filter(signout=signout).count() == 4
    # Sent here, on commit, without a worker.
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    assert len(sms.outbox) == 6
    assert Heartbeat.objects.filter(name="escalation-scan").exists()
    out = io.StringIO()
    call_command("run_escalations", stdout=out)
    assert "0 steps fired" in out.getvalue()


def test_the_loop_scans_until_it_is_told_to_stop(
    clock, signout, django_capture_on_commit_callbacks
):
    clock.move_to(R + datetime.timedelta(minutes=16))
    scans = []
    stop = threading.Event()

    def stop_after_two():
        scans.append(1)
        if len(scans) > 2:
            stop.set()
        return stop.is_set()

    with django_capture_on_commit_callbacks(execute=True):
        scan_loop(interval=0, send_here=True, stop=stop_after_two)
    assert EscalationStep.objects.filter(signout=signout).count() == 1
    assert len(sms.outbox) == 3
