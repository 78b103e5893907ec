"""The people admin gains the two-factor enrolment action here: enrolment codes belong to
sign-in (config), which sits above the directory (schools) and extends its admin."""

from django.contrib import admin

from schools.admin import HomewardUserAdmin
from schools.models import User

from .enrolment import enrolment_code_email


class UserAdminWithEnrolment(HomewardUserAdmin):
    actions = (*HomewardUserAdmin.actions, "email_enrolment_code")

    @admin.action(
        description="Email a two-factor enrolment code to each selected person",
        permissions=["change"],
    )
    def email_enrolment_code(self, request, queryset):
        sent = [user for user in queryset if enrolment_code_email(actor=request.user, user=user)]
        self.message_user(request, f"Enrolment codes emailed to {len(sent)} people.")


admin.site.unregister(User)
admin.site.register(User, UserAdminWithEnrolment)
