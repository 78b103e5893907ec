"""Administrators set up providers, link people to their identity, or send an invitation.

allauth's own admin pages are replaced: its SocialApp keeps secrets in the database (Homeward
reads them from the environment) and its account page would link without an audit event."""

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse

from . import services
from .models import Invitation, SignInProvider, SignInSettings

for model in (SocialApp, SocialToken, SocialAccount, EmailAddress):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(SignInProvider)
class SignInProviderAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "school", "trust", "enabled", "secret_is_set")
    list_filter = ("kind", "enabled")
    readonly_fields = ("secret_variable", "secret_is_set", "redirect_uri")

    @admin.display(boolean=True, description="Client secret set")
    def secret_is_set(self, obj):
        return bool(obj.pk and obj.client_secret())

    @admin.display(description="Redirect URI to register")
    def redirect_uri(self, obj):
        if not obj.pk:
            return "Saved first."
        path = reverse("openid_connect_callback", kwargs={"provider_id": obj.provider_id})
        return settings.SITE_URL + path


admin.site.register(SignInSettings)


class LinkForm(forms.ModelForm):
    provider = forms.ModelChoiceField(queryset=SignInProvider.objects.all())

    class Meta:
        model = SocialAccount
        fields = ("user", "uid")
        labels = {"uid": "Identity ID (Entra: Object ID; Google: the account's subject ID)"}

    def clean(self):
        data = super().clean()
        provider, user, uid = data.get("provider"), data.get("user"), data.get("uid", "")
        if provider and uid:
            linked = SocialAccount.objects.filter(provider=provider.provider_id)
            if linked.filter(uid=uid.strip()).exists():
                raise ValidationError("That identity is already linked to a Homeward account.")
            if user and linked.filter(user=user).exists():
                raise ValidationError(f"{user} is already linked to an identity at {provider}.")
        return data


@admin.register(SocialAccount)
class LinkedIdentityAdmin(admin.ModelAdmin):
    list_display = ("user", "provider", "uid", "last_login")
    search_fields = ("user__username", "user__first_name", "user__last_name", "uid")
    form = LinkForm

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        linked = services.identity_link(
            actor=request.user,
            user=form.cleaned_data["user"],
            provider=form.cleaned_data["provider"],
            uid=form.cleaned_data["uid"],
        )
        obj.pk = linked.pk

    def delete_model(self, request, obj):
        services.identity_unlink(actor=request.user, account=obj)

    def delete_queryset(self, request, queryset):
        for account in queryset:
            services.identity_unlink(actor=request.user, account=account)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("user", "provider", "created_at", "expires_at", "used_at")
    fields = ("user", "provider")

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        invitation, token = services.invitation_create(
            actor=request.user, user=obj.user, provider=obj.provider
        )
        obj.pk = invitation.pk
        link = settings.SITE_URL + reverse("sso:invitation", kwargs={"token": token})
        messages.warning(
            request,
            f"Send this link to {obj.user} (it is shown only now, works once, for "
            f"{services.INVITATION_DAYS} days): {link}",
        )
