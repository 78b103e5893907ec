"""What each role may do at its school: its per-school group's permissions (DESIGN "Access")."""

from .models import Role

AUTHORISER_PERMISSIONS = (
    "request_visits",
    "view_all_visits",
    "authorise_visits",
    "sign_off_risk",
    "view_board",
    "receive_escalations",
    "view_records",
    "view_directory",
)

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.STAFF: ("request_visits", "view_directory"),
    # R-SEC-1: the office sees the sign-out board, never narratives, concerns or records.
    Role.OFFICE: ("view_board",),
    Role.DSL: AUTHORISER_PERMISSIONS,
    Role.DEPUTY_DSL: AUTHORISER_PERMISSIONS,
    Role.HEAD: AUTHORISER_PERMISSIONS,
    Role.MANAGER: ("view_board", "receive_escalations"),
}

# Trust safeguarding leads act as a DSL in every school of their trust.
TRUST_LEAD = "trust_lead"
ROLE_PERMISSIONS[TRUST_LEAD] = AUTHORISER_PERMISSIONS

# R-AUTH-1: the roles that authorise visits (closure mode narrows this to the Headteacher).
AUTHORISING_ROLES = (Role.DSL, Role.DEPUTY_DSL, Role.HEAD)


def group_name(school_id: int, role: str) -> str:
    return f"school:{school_id}:{role}"
