"""Which identity providers a school (or a whole trust) accepts, and single-use invitations that
link a person to their provider identity.

The link itself is django-allauth's SocialAccount (provider = SignInProvider.provider_id, uid =
the token's stable subject). Client secrets are never stored here: they are read from an
environment variable named after the provider (SignInProvider.secret_variable).
"""

import os
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from schools.models import School, Trust


class SignInProvider(models.Model):
    class Kind(models.TextChoices):
        ENTRA = "entra", "Microsoft Entra ID (Microsoft 365)"
        GOOGLE = "google", "Google Workspace"
        OIDC = "oidc", "Another OpenID Connect provider"

    school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.CASCADE, related_name="sign_in_providers"
    )
    trust = models.ForeignKey(
        Trust,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sign_in_providers",
        help_text="For a trust-wide tenant: accepted for staff of every school in the trust.",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    provider_id = models.SlugField(
        max_length=40,
        unique=True,
        help_text="Short name in the redirect URI, e.g. oakfield-microsoft. Never change it "
        "once registered with the provider.",
    )
    name = models.CharField(max_length=100, help_text="On the button: 'Sign in with …'.")
    enabled = models.BooleanField(default=True)
    client_id = models.CharField(
        max_length=200, help_text="Application (client) ID from Entra ID or Google."
    )
    tenant_id = models.CharField(
        max_length=64,
        blank=True,
        help_text="Microsoft Entra: the Directory (tenant) ID. Tokens from any other tenant "
        "are refused.",
    )
    hosted_domain = models.CharField(
        max_length=253,
        blank=True,
        help_text="Google Workspace: the school's domain (the token's hd claim), e.g. "
        "oakfield.sch.uk. Tokens from any other domain or a personal Google account are refused.",
    )
    server_url = models.URLField(
        blank=True,
        help_text="Another OpenID Connect provider: its issuer URL. Leave empty for Microsoft "
        "and Google (Homeward knows their addresses).",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(school__isnull=False, trust__isnull=True)
                | Q(school__isnull=True, trust__isnull=False),
                name="sso_provider_school_or_trust",
            ),
            models.CheckConstraint(
                condition=~Q(kind="entra") | ~Q(tenant_id=""), name="sso_entra_needs_tenant"
            ),
            models.CheckConstraint(
                condition=~Q(kind="google") | ~Q(hosted_domain=""),
                name="sso_google_needs_domain",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def secret_variable(self) -> str:
        """The environment variable holding this provider's client secret."""
        return "SSO_CLIENT_SECRET_" + self.provider_id.upper().replace("-", "_")

    def client_secret(self) -> str:
        return os.environ.get(self.secret_variable, "")

    def issuer_url(self) -> str:
        if self.server_url:
            return self.server_url.rstrip("/")
        if self.kind == self.Kind.ENTRA:
            return f"https://login.microsoftonline.com/{self.tenant_id}/v2.0"
        if self.kind == self.Kind.GOOGLE:
            return "https://accounts.google.com"
        return ""

    def origin(self) -> str:
        """The provider's web origin (scheme, host and port), where its sign-in page is."""
        parts = urlsplit(self.issuer_url())
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""

    @property
    def uid_claim(self) -> str:
        # Entra's `sub` differs per application; `oid` is the person's object ID in the tenant,
        # the one an administrator can read in the Entra admin centre. Never the email address.
        return "oid" if self.kind == self.Kind.ENTRA else "sub"

    def schools(self):
        if self.school_id:
            return School.objects.filter(pk=self.school_id)
        return School.objects.filter(trust_id=self.trust_id)


class SignInSettings(models.Model):
    """Per school: whether staff may still sign in with a Homeward password."""

    school = models.OneToOneField(School, on_delete=models.CASCADE, related_name="sign_in_settings")
    password_sign_in = models.BooleanField(
        default=True,
        help_text="Off: staff of this school sign in only through the school's identity "
        "provider (administrators keep their password).",
    )

    class Meta:
        verbose_name_plural = "sign-in settings"

    def __str__(self) -> str:
        return f"Sign-in settings of {self.school}"


class Invitation(models.Model):
    """A single-use link that lets one person link their provider identity to their account."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_invitations"
    )
    provider = models.ForeignKey(SignInProvider, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.user} to link {self.provider}"

    @property
    def usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()
