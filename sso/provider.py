"""allauth finds providers in `<app>.provider.provider_classes`."""

from .oidc import HomewardOIDCProvider

provider_classes = [HomewardOIDCProvider]
