"""Every URL of the application, with who may use it. tests/test_every_url.py fails when a URL
pattern is added without an entry here, so nobody can add an unprotected page.

Each entry: how to build the URL's arguments from the test world, who gets 200, and who gets 403.
Object URLs (`scoped=True`) also prove Oscar, from another school, gets 404.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Page:
    allowed: tuple[str, ...]
    forbidden: tuple[str, ...]
    kwargs: Callable[[dict], dict] = field(default=lambda world: {})
    scoped: bool = False  # an object of Oakfield's: Oscar gets 404


# URLs anybody may open, and why.
PUBLIC = {
    "login": "the sign-in page",
    "logout": "signing out",
    "password_reset": "asking for a reset link",
    "password_reset_done": "the 'check your email' page",
    "password_reset_confirm": "the link from the email carries its own token",
    "password_reset_complete": "the 'password changed' page",
    "healthz": "the load balancer's health check; says nothing about any school",
}

# Django's admin checks is_staff itself and sends everyone else to its own sign-in.
ADMIN_NAMESPACE = "admin"

PAGES: dict[str, Page] = {
    "home": Page(allowed=("sam", "dana", "olive", "max"), forbidden=()),
    "visits:mine": Page(allowed=("sam", "dana", "hugh"), forbidden=("olive", "max")),
    "visits:queue": Page(allowed=("dana", "hugh"), forbidden=("sam", "olive", "max")),
    "visits:detail": Page(
        allowed=("sam", "tess", "dana", "hugh"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"pk": world["visit"].pk},
        scoped=True,
    ),
    "tracking:board": Page(allowed=("olive", "dana", "max"), forbidden=("sam",)),
    "tracking:escalations": Page(allowed=("max", "dana"), forbidden=("sam", "olive")),
    "schools:pupil_list": Page(allowed=("sam", "dana"), forbidden=("olive", "max")),
    "schools:pupil_detail": Page(
        allowed=("sam", "dana", "hugh"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"pk": world["pupil"].pk},
        scoped=True,
    ),
    "schools:household_detail": Page(
        allowed=("sam", "dana"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"pk": world["household"].pk},
        scoped=True,
    ),
    # records/: R-SEC-1 — the visitors, DSLs and the Headteacher read records; the office never.
    "records:dashboard": Page(allowed=("dana", "hugh"), forbidden=("sam", "olive", "max")),
    "records:overdue_records": Page(allowed=("dana", "hugh"), forbidden=("sam", "olive", "max")),
    "records:concerns": Page(allowed=("dana", "hugh"), forbidden=("sam", "olive", "max")),
    "records:overdue_actions": Page(allowed=("dana", "hugh"), forbidden=("sam", "olive", "max")),
    "records:export": Page(allowed=("dana", "hugh"), forbidden=("sam", "olive", "max")),
    "records:my_actions": Page(allowed=("sam", "tess", "dana", "hugh"), forbidden=("olive", "max")),
    "records:concern_acknowledge": Page(
        allowed=("dana", "hugh"),
        forbidden=("sam", "tess", "olive", "max"),
        kwargs=lambda world: {"pk": world["concern"].pk},
        scoped=True,
    ),
    "records:action": Page(
        allowed=("tess", "dana", "hugh"),
        forbidden=("sam", "olive", "max"),
        kwargs=lambda world: {"pk": world["action"].pk},
        scoped=True,
    ),
    "records:action_reassign": Page(
        allowed=("dana", "hugh"),
        forbidden=("sam", "tess", "olive", "max"),
        kwargs=lambda world: {"pk": world["action"].pk},
        scoped=True,
    ),
    "records:record": Page(
        allowed=("sam", "tess", "dana", "hugh"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"visit_pk": world["returned_visit"].pk},
        scoped=True,
    ),
    "records:record_edit": Page(
        allowed=("sam", "tess"),
        forbidden=("dana", "hugh", "olive", "max"),
        kwargs=lambda world: {"visit_pk": world["returned_visit"].pk},
        scoped=True,
    ),
    "records:concern_raise": Page(
        allowed=("sam", "tess", "dana", "hugh"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"visit_pk": world["returned_visit"].pk},
        scoped=True,
    ),
    "records:action_add": Page(
        allowed=("sam", "tess", "dana", "hugh"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"visit_pk": world["returned_visit"].pk},
        scoped=True,
    ),
    "records:record_pdf": Page(
        allowed=("sam", "tess", "dana", "hugh"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"visit_pk": world["returned_visit"].pk},
        scoped=True,
    ),
    "records:assessment_pdf": Page(
        allowed=("sam", "tess", "dana", "hugh"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"visit_pk": world["returned_visit"].pk},
        scoped=True,
    ),
    "records:chronology": Page(
        allowed=("sam", "tess", "dana", "hugh"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"pk": world["pupil"].pk},
        scoped=True,
    ),
    "records:chronology_pdf": Page(
        allowed=("sam", "tess", "dana", "hugh"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"pk": world["pupil"].pk},
        scoped=True,
    ),
    "records:pupil_file_pdf": Page(
        allowed=("dana", "hugh"),
        forbidden=("sam", "tess", "olive", "max"),
        kwargs=lambda world: {"pk": world["pupil"].pk},
        scoped=True,
    ),
    "records:blank_pdf": Page(
        allowed=("sam", "dana", "hugh"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"school_pk": world["pupil"].school_id, "form": "home-visit-form"},
        scoped=True,
    ),
}
