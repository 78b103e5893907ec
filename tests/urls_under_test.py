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
    "tracking:checkin": "an overdue visitor's check-in link from an SMS: its signed, one-hour, "
    "single-use token is the key; it can only say I'm safe or 15 more minutes; rate-limited and "
    "audited (tests/tracking/test_checkin_link.py)",
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
    # Sign-out and escalation (tracking/): the office's board and calls, the visitor's own
    # actions from their phone, the manager's emergency page and decision.
    "tracking:mine": Page(allowed=("sam", "tess", "olive"), forbidden=()),
    "tracking:signout": Page(
        allowed=("olive", "dana", "max"),
        forbidden=("sam", "tess"),
        kwargs=lambda world: {"visit_pk": world["authorised_visit"].pk},
        scoped=True,
    ),
    **{
        name: Page(
            allowed=("sam", "tess", "olive", "dana", "max"),
            forbidden=(),
            kwargs=lambda world: {"pk": world["signout"].pk},
            scoped=True,
        )
        for name in (
            "tracking:phone_in",
            "tracking:extend",
            "tracking:going_home",
            "tracking:returned",
            "tracking:help",
        )
    },
    "tracking:call": Page(
        allowed=("olive", "dana", "max"),
        forbidden=("sam", "tess"),
        kwargs=lambda world: {"pk": world["signout"].pk},
        scoped=True,
    ),
    "tracking:emergency": Page(
        allowed=("olive", "dana", "hugh", "max"),
        forbidden=("sam", "tess"),
        kwargs=lambda world: {"pk": world["signout"].pk},
        scoped=True,
    ),
    "tracking:briefing_pdf": Page(
        allowed=("olive", "max"),
        forbidden=("sam", "tess"),
        kwargs=lambda world: {"pk": world["signout"].pk},
        scoped=True,
    ),
    "tracking:decision": Page(
        allowed=("max", "dana", "hugh"),
        forbidden=("olive", "sam", "tess"),
        kwargs=lambda world: {"pk": world["signout"].pk},
        scoped=True,
    ),
    "tracking:resend": Page(
        allowed=("olive", "dana", "max"),
        forbidden=("sam", "tess"),
        kwargs=lambda world: {"pk": world["notification"].pk},
        scoped=True,
    ),
}
