from celery import current_app
from django.conf import settings

from tracking.selectors import escalation_heartbeat
from tracking.tasks import escalation_scan


def test_celery_is_configured_for_at_least_once_delivery_of_json_tasks():
    conf = current_app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit


def test_beat_schedules_the_escalation_scan_with_an_expiry():
    entry = settings.CELERY_BEAT_SCHEDULE["escalation-scan"]
    assert entry["task"] == "tracking.tasks.escalation_scan"
    assert entry["options"]["expires"] <= 30
    assert "tracking.tasks.escalation_scan" in current_app.tasks


def test_the_scan_writes_the_heartbeat_the_board_shows(db, time_machine):
    time_machine.move_to("2026-11-25 10:00:00+00:00", tick=False)
    assert escalation_heartbeat()["stale"] is True
    escalation_scan.apply()
    time_machine.move_to("2026-11-25 10:00:30+00:00", tick=False)
    beat = escalation_heartbeat()
    assert beat["seconds_ago"] == 30 and beat["stale"] is False
    time_machine.move_to("2026-11-25 10:03:00+00:00", tick=False)
    assert escalation_heartbeat()["stale"] is True


def test_the_board_shows_a_red_banner_when_escalation_has_not_run(signed_in, olive):
    from django.urls import reverse

    response = signed_in(olive).get(reverse("tracking:board"))
    assert "Automatic escalation is not running" in response.content.decode()


def test_the_escalation_scan_has_a_queue_of_its_own_so_sends_never_delay_it(settings):
    """Issue #18 item 5: beat's scan goes to CELERY_SCAN_QUEUE, consumed by a dedicated worker
    (deploy/homeward-scan.service); the sends stay on the default queue."""
    from config.celery_app import app

    route = app.amqp.router.route({}, "tracking.tasks.escalation_scan")
    assert route["queue"].name == settings.CELERY_SCAN_QUEUE
    assert f"{settings.CELERY_TASK_DEFAULT_QUEUE}-scan" == settings.CELERY_SCAN_QUEUE
    send = app.amqp.router.route({}, "tracking.tasks.notification_send")
    assert send["queue"].name == settings.CELERY_TASK_DEFAULT_QUEUE
    beat = settings.CELERY_BEAT_SCHEDULE["escalation-scan"]["options"]
    assert beat["queue"] == settings.CELERY_SCAN_QUEUE
    # A worker started without -Q (development) consumes both.
    assert {q.name for q in app.conf.task_queues} == {
        settings.CELERY_TASK_DEFAULT_QUEUE,
        settings.CELERY_SCAN_QUEUE,
    }
