"""How much the Home Visits form PDF costs against a minimal one-page WeasyPrint document.

Both are rendered in the same run on the same machine, so the ratio does not depend on how fast
the machine is. Target: the form costs at most 1.5x the minimal page (median of 10 warm renders).

Standalone: builds its own data in an in-memory SQLite database (nothing else is touched),
renders, and writes bench/results/pdf.md. Run it with `make bench` (bench/run.py) or directly:
`.venv/bin/python bench/pdf.py`.
"""

import datetime
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "bench" / "results" / "pdf.md"
RUNS = 10
WARM_UP = 3
TARGET = 1.5

sys.path.insert(0, str(ROOT))
# Its own database in memory, tasks run in process, email kept in memory: touches nothing else.
os.environ["DATABASE_URL"] = "sqlite://:memory:"
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
os.environ["EMAIL_URL"] = "memorymail://"
os.environ["REDIS_URL"] = ""
os.environ["CELERY_BROKER_URL"] = "memory://"
os.environ["LOG_LEVEL"] = "WARNING"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("HOMEWARD_DEV", "true")  # a benchmark runs on a developer machine

import django  # noqa: E402

django.setup()

import weasyprint  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from pypdf import PdfReader  # noqa: E402
from weasyprint import HTML  # noqa: E402

MINIMAL = "<!doctype html><html><body><p>Minimal</p></body></html>"


def build_visit():
    """A recorded two-visitor visit, as the form is usually printed: one pupil, every field
    filled, one action, one concern."""
    from records import services as records
    from schools import services as schools
    from schools.models import ContactNumber, Household, Pupil, User
    from visits import authorisation, progress, requests

    school = schools.school_create(actor=None, name="Oakfield Primary School", urn="100001")
    people = {}
    for username, role in (("sam", "staff"), ("tess", "staff"), ("dana", "dsl")):
        user = User.objects.create(
            username=username,
            first_name=username.capitalize(),
            last_name="Example",
            email=f"{username}@school.example",
        )
        schools.membership_add(actor=None, user=user, school=school, role=role)
        schools.staff_profile_save(
            actor=None, user=user, job_title="Family support worker", work_mobile="+447700900101"
        )
        people[username] = user
    household = Household.objects.create(
        school=school, address_line_1="12 Elm Grove", town="Leeds", postcode="LS6 2BD"
    )
    for number in ("+447700900301", "+441134960601"):
        ContactNumber.objects.create(household=household, number=number, label="Mother")
    pupil = Pupil.objects.create(
        school=school,
        household=household,
        first_name="Aisha",
        last_name="Ahmed",
        date_of_birth=datetime.date(2017, 3, 14),
        year_group="4",
    )
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    start = timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time(10, 0)))
    visit = requests.visit_draft_save(
        actor=people["sam"],
        school=school,
        data={
            "reason": "attendance",
            "purpose": "Check on welfare after ten days' absence.",
            "planned_start": start,
            "planned_end": start + datetime.timedelta(hours=1),
            "planned_return": start + datetime.timedelta(hours=2),
        },
        pupils=[pupil],
        visitors=[(people["sam"], "lead"), (people["tess"], "second")],
    )
    # A whole assessment through riskassess.services, as the tests make one (R-RA-1..4).
    from tests.factories import assessment_for

    assessment_for(visit, people["sam"])
    requests.visit_submit(actor=people["sam"], visit=visit, warnings_confirmed=True)
    authorisation.visit_authorise(actor=people["dana"], visit=visit)
    progress.visit_mark_out(actor=None, visit=visit, at=timezone.now())
    progress.visit_mark_returned(actor=None, visit=visit, at=timezone.now())
    records.record_save(
        actor=people["sam"],
        visit=visit,
        fields={
            "others_present": "Mother and a younger sibling.",
            "adults_presentation": "Mother calm and welcoming; tired.",
            "home_conditions": "Tidy front room, food in the kitchen.",
            "family_wanted_help": "wanted",
            "help_offered": "Signposted to the food bank; uniform grant form left.",
            "acknowledgement": "signed",
            "acknowledged_by_name": "Sarah Ahmed",
            "comments": "Mother says Aisha has had a cough for a week.",
            "outcome": "seen_no_concerns",
            "outcome_details": "Aisha seen and spoken to; returning to school on Monday.",
            "action_required": "Attendance officer to call on Monday at 09:30.",
        },
        pupils={
            pupil.pk: {
                "seen": True,
                "spoken_to": True,
                "seen_alone": False,
                "why_not": "Aisha wanted her mother to stay in the room.",
                "child_said": "“I’ve been poorly but I want to come back.”",
                "physical_presentation": "Clean, dressed for the weather, slight cough.",
                "emotional_presentation": "Smiling, chatty, made eye contact.",
                "clothing": "no_concern",
                "hunger": "no_concern",
                "cleanliness": "no_concern",
            }
        },
    )
    records.action_create(
        actor=people["sam"],
        visit=visit,
        description="Attendance officer to ring on Monday.",
        owner=people["tess"],
        due_on=timezone.localdate() + datetime.timedelta(days=5),
    )
    records.concern_raise(
        actor=people["sam"], visit=visit, level="concern", details="A cough for a week."
    )
    records.record_submit(actor=people["sam"], visit=visit)
    return visit, people["dana"]


def timed(render) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one render."""
    wall, cpu = time.perf_counter(), time.process_time()
    render()
    return time.perf_counter() - wall, time.process_time() - cpu


def page_count(content: bytes) -> int:
    return len(PdfReader(io.BytesIO(content)).pages)


def main() -> int:
    call_command("migrate", verbosity=0, interactive=False)
    from records import pdf, selectors

    visit, dana = build_visit()
    visit = selectors.record_visit_get(user=dana, pk=visit.pk)
    documents = {
        "minimal": lambda: HTML(string=MINIMAL).write_pdf(),
        # The same page furniture as every Homeward PDF (stylesheet, fonts, margin boxes) around
        # one paragraph: the floor any Homeward document starts from.
        "furniture": lambda: pdf.pdf_render(
            template="records/pdf/minimal.html",
            context={"title": "Minimal"},
            school=visit.school,
            printed_by=dana,
        ),
        "form": lambda: pdf.home_visit_form_pdf(visit=visit, printed_by=dana),
    }
    pages = {name: page_count(render()) for name, render in documents.items()}
    for _ in range(WARM_UP):
        for render in documents.values():
            render()
    wall = {name: [] for name in documents}
    cpu = {name: [] for name in documents}
    for _ in range(RUNS):  # interleaved, so a busy moment on the machine hits each alike
        for name, render in documents.items():
            seconds, cpu_seconds = timed(render)
            wall[name].append(seconds * 1000)
            cpu[name].append(cpu_seconds * 1000)
    median = {name: statistics.median(values) for name, values in wall.items()}
    median_cpu = {name: statistics.median(values) for name, values in cpu.items()}
    ratio = median["form"] / median["minimal"]
    ratio_cpu = median_cpu["form"] / median_cpu["minimal"]
    verdict = "met" if ratio <= TARGET else "NOT met"
    labels = {
        "minimal": "minimal one-page WeasyPrint document (`<p>Minimal</p>`, default styles)",
        "furniture": "one paragraph with Homeward's page furniture (`records/pdf/minimal.html`)",
        "form": "Home Visits form of a recorded visit (`records.pdf.home_visit_form_pdf`: its "
        "queries, the template and WeasyPrint)",
    }
    rows = "".join(
        f"| {labels[name]} | {median[name]:.1f} ms | {min(wall[name]):.1f}–{max(wall[name]):.1f}"
        f" ms | {median_cpu[name]:.1f} ms | {pages[name]} |\n"
        for name in documents
    )
    RESULT.parent.mkdir(exist_ok=True)
    RESULT.write_text(
        "## pdf — the Home Visits form against a minimal WeasyPrint page\n\n"
        f"`bench/pdf.py`, {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, "
        f"WeasyPrint {weasyprint.__version__}, {connection.vendor} in memory. Median of {RUNS} "
        f"warm renders of each (after {WARM_UP} warm-ups), interleaved; CPU time is this "
        "process's own, less disturbed by other work on the machine.\n\n"
        "| document | median (wall) | range (wall) | median (CPU) | pages |\n"
        "|---|---|---|---|---|\n"
        f"{rows}\n"
        f"**The form costs {ratio:.1f}× the minimal page (CPU time: {ratio_cpu:.1f}×); "
        f"target ≤ {TARGET}×: {verdict}.** The page furniture every Homeward PDF must carry "
        f"(school, marking, page x of y, printed by; two embedded font faces) costs "
        f"{median['furniture'] / median['minimal']:.1f}× the minimal page on its own.\n"
    )
    print(RESULT.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
