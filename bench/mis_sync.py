"""How long the MIS sync through Wonde (R-SEC-5) takes, and how many queries it makes: a full
sync of a 1,500-pupil school (3,000 contacts, 150 staff) from the fake Wonde on 127.0.0.1
(tests/mis/fake_wonde.py, pages of 200 as Wonde sends them), then a delta of 20 changes.
Targets: full sync <= 60 s, delta <= 2 s.

Runs against a throwaway SQLite database (or DATABASE_URL if set); writes
bench/results/mis_sync.md."""

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
TMP = tempfile.mkdtemp(prefix="homeward-bench-")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{TMP}/bench.sqlite3")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from mis.models import WondeConnection  # noqa: E402
from mis.services import mis_sync_run  # noqa: E402
from schools import services  # noqa: E402
from schools.models import Carer, Pupil  # noqa: E402
from tests.mis.fake_wonde import (  # noqa: E402
    SCHOOL_ID,
    TOKEN,
    FakeWonde,
    contact,
    employee,
    student,
)

PUPILS, STAFF, CHANGES = 1500, 150, 20


def measure(school):
    count = [0]

    def counter(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        run = mis_sync_run(school=school)
    elapsed = time.perf_counter() - started
    if run.status != "completed":
        raise SystemExit(f"the run failed: {run.error}")
    return elapsed, count[0], run


def main():
    call_command("migrate", verbosity=0)
    os.environ[f"WONDE_TOKEN_{SCHOOL_ID}"] = TOKEN
    fake = FakeWonde().start()
    for n in range(PUPILS):  # two contacts each, none shared: 3,000 contacts
        fake.students[f"S{n:05d}"] = student(
            n,
            contacts=[
                contact(2 * n, relationship="Mother", priority=1),
                contact(2 * n + 1, relationship="Father", priority=2),
            ],
        )
    for n in range(STAFF):
        fake.employees[f"E{n:04d}"] = employee(n)
    school = services.school_create(actor=None, name="Bench Academy", urn="999001")
    WondeConnection.objects.create(school=school, wonde_school_id=SCHOOL_ID, base_url=fake.base_url)

    full, full_queries, full_run = measure(school)
    assert Pupil.objects.filter(school=school).count() == PUPILS
    assert Carer.objects.filter(household__school=school).count() == 2 * PUPILS

    for n in range(CHANGES):
        changed = student(
            n,
            contacts=fake.students[f"S{n:05d}"]["contacts"]["data"],
            updated="2099-01-01",
        )
        changed["surname"] = f"Changed{n}"
        fake.students[f"S{n:05d}"] = changed
    delta, delta_queries, delta_run = measure(school)
    fake.stop()
    assert delta_run.changed == CHANGES, delta_run.changed

    engine = connection.vendor
    result = f"""## MIS sync through Wonde (bench/mis_sync.py)

R-SEC-5, from the fake Wonde on 127.0.0.1 (pages of 200), on {engine}.

| run | records | wall time | queries | target |
| --- | --- | ---: | ---: | --- |
| full sync | {PUPILS} pupils, {2 * PUPILS} contacts, {STAFF} staff ({full_run.added} rows added) \
| {full:.1f} s | {full_queries} | <= 60 s |
| delta | {CHANGES} changed pupils | {delta:.2f} s | {delta_queries} | <= 2 s |

Every added or changed row is one audit event, written in the run's transaction.
"""
    (ROOT / "bench" / "results" / "mis_sync.md").write_text(result)
    print(result)
    if full > 60 or delta > 2:
        print("target missed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
