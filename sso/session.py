"""What a session remembers of an SSO sign-in (written by sso.receivers after login)."""

SSO_SESSION_KEY = "homeward_sso"


def signed_in_with_sso(request) -> bool:
    return bool(getattr(request, "session", {}).get(SSO_SESSION_KEY))


def provider_mfa_verified(request) -> bool:
    """The identity provider's ID token said it used more than one factor (sso.adapter)."""
    return bool((getattr(request, "session", {}).get(SSO_SESSION_KEY) or {}).get("mfa"))
