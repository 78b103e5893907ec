"""The directory in Django's admin. Writes go through schools.services so they are audited;
a non-superuser sees only the schools where they may read records (need-to-know, R-SEC-1)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from . import services
from .models import (
    Carer,
    ContactNumber,
    EscalationChainMember,
    Household,
    HouseholdRiskFlag,
    Membership,
    Professional,
    Pupil,
    School,
    StaffProfile,
    Trust,
    TrustRole,
    User,
)
from .selectors import schools_with_permission


def _before(obj) -> dict:
    if obj.pk is None:
        return {}
    fresh = type(obj).objects.filter(pk=obj.pk).values().first() or {}
    return fresh


class SchoolScopedAdmin(admin.ModelAdmin):
    school_path = "school"

    def _schools(self, request):
        return schools_with_permission(request.user, "view_records")

    def _school_of(self, obj):
        school = obj
        for part in self.school_path.split("__"):
            school = getattr(school, part)
        return school

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.school_path}__in": self._schools(request)})

    def save_model(self, request, obj, form, change):
        services.directory_object_save(
            actor=request.user, instance=obj, school=self._school_of(obj), before=_before(obj)
        )

    def delete_model(self, request, obj):
        services.directory_object_delete(
            actor=request.user, instance=obj, school=self._school_of(obj)
        )

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(User)
class HomewardUserAdmin(UserAdmin):
    search_fields = ("username", "first_name", "last_name", "email")


@admin.register(Trust)
class TrustAdmin(admin.ModelAdmin):
    search_fields = ("name",)


class EscalationChainInline(admin.TabularInline):
    """R-ESC-9: the school's escalation chain after the manager, in order."""

    model = EscalationChainMember
    extra = 1
    ordering = ["position"]
    autocomplete_fields = ["user"]


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    inlines = [EscalationChainInline]

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            services.directory_object_delete(actor=request.user, instance=obj, school=form.instance)
        for obj in instances:
            services.directory_object_save(
                actor=request.user, instance=obj, school=form.instance, before=_before(obj)
            )

    list_display = ("name", "urn", "trust", "closure_mode")
    list_filter = ("closure_mode", "trust")
    search_fields = ("name", "urn")
    fieldsets = (
        (None, {"fields": ("name", "urn", "trust")}),
        (
            "Visits",
            {"fields": ("minimum_visitors", "morning_starts_at", "evening_starts_at")},
        ),
        (
            "Escalation ladder",
            {
                "fields": (
                    "overdue_grace_minutes",
                    "retry_interval_minutes",
                    "retries",
                    "designated_manager",
                    "chain_step_minutes",
                    "chain_reminder_minutes",
                    "office_email",
                    "monitor_phone",
                )
            },
        ),
        (
            "Records and data",
            {
                "fields": (
                    "record_deadline_hours",
                    "assessment_max_age_days",
                    "contact_numbers_minimum",
                )
            },
        ),
        (
            "Closure mode",
            {
                "fields": (
                    "closure_mode",
                    "missing_contact_school_days",
                    "inform_local_authority_days",
                )
            },
        ),
        ("Security", {"fields": ("require_two_factor_for_all",)}),
    )

    def save_model(self, request, obj, form, change):
        if change:
            services.directory_object_save(
                actor=request.user, instance=obj, school=obj, before=_before(obj)
            )
        else:
            fields = {f: form.cleaned_data[f] for f in form.cleaned_data}
            created = services.school_create(
                actor=request.user,
                name=fields.pop("name"),
                urn=fields.pop("urn"),
                trust=fields.pop("trust"),
                **fields,
            )
            obj.pk = created.pk


@admin.register(Membership)
class MembershipAdmin(SchoolScopedAdmin):
    list_display = ("user", "school", "role")
    list_filter = ("role", "school")
    search_fields = ("user__username", "user__first_name", "user__last_name", "school__name")
    autocomplete_fields = ("user",)

    def save_model(self, request, obj, form, change):
        if change:
            old = Membership.objects.get(pk=obj.pk)
            services.membership_remove(actor=request.user, membership=old)
        created = services.membership_add(
            actor=request.user, user=obj.user, school=obj.school, role=obj.role
        )
        obj.pk = created.pk

    def delete_model(self, request, obj):
        services.membership_remove(actor=request.user, membership=obj)


@admin.register(TrustRole)
class TrustRoleAdmin(admin.ModelAdmin):
    list_display = ("user", "trust")
    search_fields = ("user__username", "user__last_name", "trust__name")

    def save_model(self, request, obj, form, change):
        created = services.trust_role_add(actor=request.user, user=obj.user, trust=obj.trust)
        obj.pk = created.pk

    def delete_model(self, request, obj):
        services.trust_role_remove(actor=request.user, trust_role=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "job_title", "clinically_vulnerable")
    search_fields = ("user__username", "user__first_name", "user__last_name", "job_title")


@admin.register(Professional)
class ProfessionalAdmin(SchoolScopedAdmin):
    list_display = ("name", "role", "agency", "school")
    list_filter = ("role",)
    search_fields = ("name", "agency", "email")


class CarerInline(admin.TabularInline):
    model = Carer
    extra = 0


class ContactNumberInline(admin.TabularInline):
    model = ContactNumber
    extra = 0


class RiskFlagInline(admin.TabularInline):
    model = HouseholdRiskFlag
    extra = 0
    readonly_fields = ("recorded_by", "recorded_at")


@admin.register(Household)
class HouseholdAdmin(SchoolScopedAdmin):
    list_display = ("address_line_1", "town", "postcode", "self_isolating", "school")
    list_filter = ("self_isolating", "school")
    search_fields = ("address_line_1", "town", "postcode")
    inlines = (CarerInline, ContactNumberInline, RiskFlagInline)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            services.directory_object_delete(
                actor=request.user, instance=obj, school=form.instance.school
            )
        for obj in instances:
            if isinstance(obj, HouseholdRiskFlag) and obj.pk is None:
                services.household_risk_flag_add(
                    actor=request.user, household=form.instance, kind=obj.kind, notes=obj.notes
                )
                continue
            services.directory_object_save(
                actor=request.user, instance=obj, school=form.instance.school, before=_before(obj)
            )


@admin.register(Pupil)
class PupilAdmin(SchoolScopedAdmin):
    list_display = ("last_name", "first_name", "year_group", "school")
    list_filter = ("year_group", "school", "child_protection", "looked_after")
    search_fields = ("first_name", "last_name", "upn", "household__postcode")
    autocomplete_fields = ("household", "professionals")
