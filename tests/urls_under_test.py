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
    method: str = "get"  # "post" for an action URL (require_POST): the checks POST, empty


# URLs anybody may open, and why.
PUBLIC = {
    "login": "the sign-in page",
    "logout": "signing out",
    "password_reset": "asking for a reset link",
    "password_reset_done": "the 'check your email' page",
    "password_reset_confirm": "the link from the email carries its own token",
    "password_reset_complete": "the 'password changed' page",
    "healthz": "the load balancer's health check; says nothing about any school",
    "admin_login": "sends the admin's own sign-in to Homeward's two-factor sign-in",
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
    # Everyone's own account (issue #7): no role needed, but signed in.
    "password_change": Page(allowed=("sam", "dana", "olive", "max"), forbidden=()),
    "password_change_done": Page(allowed=("sam", "dana", "olive", "max"), forbidden=()),
    "two_factor:profile": Page(allowed=("sam", "dana", "olive", "max"), forbidden=()),
    "two_factor:setup": Page(allowed=("sam", "dana", "olive", "max"), forbidden=()),
    "two_factor:setup_complete": Page(allowed=("sam", "dana", "olive", "max"), forbidden=()),
    "two_factor:backup_tokens": Page(allowed=("sam", "dana", "olive", "max"), forbidden=()),
    # The QR code exists only while a set-up is in progress: tests/test_security_two_factor.py.
    "two_factor:qr": Page(allowed=(), forbidden=()),
    # The audit search (R-SEC-2): DSLs, Heads and trust leads, never staff, office or managers.
    "audit:search": Page(allowed=("dana", "hugh"), forbidden=("sam", "olive", "max")),
}
