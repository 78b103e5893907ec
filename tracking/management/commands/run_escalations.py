"""`manage.py run_escalations [--loop]`: the escalation scan without Celery.

Once: one scan, its messages sent from this process. With --loop: a scan every
ESCALATION_SCAN_SECONDS until interrupted — for a school running without Redis, or while the
worker is down (R-ESC-5: the ladder never depends on one process).
"""

import signal

from django.conf import settings
from django.core.management.base import BaseCommand

from tracking.ladder import escalation_scan, scan_loop
from tracking.outbox import notifications_send_here


class Command(BaseCommand):
    help = "Run the escalation scan (fire due steps, send their messages) without Celery."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Scan again and again.")
        parser.add_argument(
            "--interval",
            type=float,
            default=settings.ESCALATION_SCAN_SECONDS,
            help="Seconds between scans with --loop (default ESCALATION_SCAN_SECONDS).",
        )
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Hand messages to the Celery workers instead of sending them from here.",
        )

    def handle(self, *args, loop: bool, interval: float, enqueue: bool, **options):
        if not loop:
            report = escalation_scan(enqueue=None if enqueue else notifications_send_here)
            self.stdout.write(
                f"Escalation scan: {report.due} due, {report.steps_fired} steps fired, "
                f"{report.requeued} messages re-sent to the queue, "
                f"{report.marked_in_doubt} marked in doubt, {report.errors} errors."
            )
            return
        stopping = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopping.append(True))
        self.stdout.write(f"Scanning every {interval:g} s; Ctrl-C stops.")
        scan_loop(interval=interval, send_here=not enqueue, stop=lambda: bool(stopping))
