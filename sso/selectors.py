"""Reads for sign-in: which providers a person may use, and whether they may use a password."""

from django.db.models import Q

from schools.models import School

from .models import SignInProvider


def providers_enabled():
    """Providers shown on the sign-in page (a school's IT lead switched them on)."""
    return SignInProvider.objects.filter(enabled=True).select_related("school", "trust")


def form_action_update(providers) -> dict:
    """The Content Security Policy a page with sign-in buttons needs (R-SEC-4): its form posts
    to Homeward, which redirects the browser to the provider, and browsers hold that redirect
    to the page's `form-action` too. Only the origins of these providers are added."""
    origins = sorted({origin for provider in providers if (origin := provider.origin())})
    return {"form-action": origins} if origins else {}


def provider_covers_user(provider: SignInProvider, user) -> bool:
    """The person belongs to the provider's school, or to a school of its trust (or leads it)."""
    if provider.school_id:
        return user.memberships.filter(school_id=provider.school_id).exists()
    return (
        user.memberships.filter(school__trust_id=provider.trust_id).exists()
        or user.trust_roles.filter(trust_id=provider.trust_id).exists()
    )


def password_sign_in_allowed(user) -> bool:
    """False only when every school the person works at turned password sign-in off.
    Administrators (is_staff) keep their password: they repair a broken provider."""
    if user.is_staff or user.is_superuser:
        return True
    schools = School.objects.filter(memberships__user=user).distinct()
    if not schools.exists():
        return True
    return schools.filter(
        Q(sign_in_settings__isnull=True) | Q(sign_in_settings__password_sign_in=True)
    ).exists()
