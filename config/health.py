"""Health and readiness for load balancers and monitoring. Both are public and say nothing
about any school: per-check "ok" or a one-word problem, never a host name or a count.

- /healthz: the process answers (no database): a load balancer's liveness check.
- /readyz: the database answers and is fully migrated, the broker answers, the escalation
  scan ran in the last 2 minutes and the outbox is not backed up. 200 when all pass, else 503.
  For monitoring and deploy scripts; not the load balancer's check, because a stale heartbeat
  is not cured by taking web nodes out of service (docs/deployment.md).
"""

import datetime
import logging

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from tracking.selectors import escalation_heartbeat, outbox_backed_up

logger = logging.getLogger(__name__)

OK = "ok"


@never_cache
@require_GET
def healthz(request):
    """The process is alive and serving. Touches no database: restarting a web node never cures
    a database outage."""
    return JsonResponse({"status": OK})


def _database() -> str:
    try:
        connections[DEFAULT_DB_ALIAS].ensure_connection()
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        logger.warning("readiness: the database is unreachable", exc_info=True)
        return "unreachable"
    return OK


def _migrations() -> str:
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return "unapplied" if plan else OK


def _broker() -> str:
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return OK  # the filesystem broker (development): nothing to reach
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2).ping()
    except Exception:
        logger.warning("readiness: the broker is unreachable", exc_info=True)
        return "unreachable"
    return OK


def _heartbeat() -> str:
    return "stale" if escalation_heartbeat()["stale"] else OK


def _outbox() -> str:
    minutes = settings.READYZ_OUTBOX_MINUTES
    stuck = outbox_backed_up(older_than=datetime.timedelta(minutes=minutes))
    if stuck["in_doubt"]:
        return "in_doubt"
    if stuck["pending"]:
        return "backed_up"
    return OK


@never_cache
@require_GET
def readyz(request):
    checks = {"database": _database(), "broker": _broker()}
    if checks["database"] == OK:
        for name, check in (
            ("migrations", _migrations),
            ("escalation_heartbeat", _heartbeat),
            ("outbox", _outbox),
        ):
            try:
                checks[name] = check()
            except Exception:
                logger.warning("readiness: the %s check failed", name, exc_info=True)
                checks[name] = "error"
    else:
        checks.update(migrations="unknown", escalation_heartbeat="unknown", outbox="unknown")
    ready = all(value == OK for value in checks.values())
    response = JsonResponse(
        {"status": OK if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )
    # Not an error of this request: the warnings above say what is wrong, once per check,
    # without Django's "Service Unavailable" error line on every probe.
    response._has_been_logged = True
    return response
