"""The directory in Django's admin. Writes go through schools.services so they are audited;
a non-superuser sees only the schools where they may read records (need-to-know, R-SEC-1).

A non-superuser with admin access (a "school administrator": is_staff and model permissions)
works only inside her schools: every list is filtered, every choice of a school or of something
belonging to a school (household, pupil, professional, person) offers only hers, and every save
and delete checks it again on the server, so a forged form fails. The access model itself (people's
flags, permissions and passwords, trusts, trust leads, schools, groups, second factors, lockouts)
is for superusers only: `restrict_to_superusers` hides every admin not marked `school_scoped`."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Q

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


PERMISSION_METHODS = (
    "has_module_permission",
    "has_view_permission",
    "has_add_permission",
    "has_change_permission",
    "has_delete_permission",
)


def administered_schools(user):
    """The schools a non-superuser administers in the admin: where her role reads records."""
    return schools_with_permission(user, "view_records")


def administered_users(user):
    """The people a school administrator may see and choose: those with a role at her schools, and
    people not yet given any role (so she can give a new colleague a role at her school)."""
    return (
        User.objects.filter(
            Q(memberships__school__in=administered_schools(user))
            | Q(memberships__isnull=True, trust_roles__isnull=True, is_superuser=False)
        )
        .distinct()
        .order_by("username")
    )


# For each model a school administrator may choose in a form: how to keep it within her schools.
SCOPED_CHOICES = {
    School: lambda queryset, user: queryset.filter(pk__in=administered_schools(user)),
    Household: lambda queryset, user: queryset.filter(school__in=administered_schools(user)),
    Carer: lambda queryset, user: queryset.filter(household__school__in=administered_schools(user)),
    Pupil: lambda queryset, user: queryset.filter(school__in=administered_schools(user)),
    Professional: lambda queryset, user: queryset.filter(school__in=administered_schools(user)),
    User: lambda queryset, user: queryset.filter(pk__in=administered_users(user)),
}


def scope_choices(queryset, user):
    """`queryset` cut to what `user` administers; nothing for a model with no school rule."""
    if user.is_superuser:
        return queryset
    rule = SCOPED_CHOICES.get(queryset.model)
    return rule(queryset, user) if rule else queryset.none()


def require_within_scope(user, obj, *, school=None, related=()) -> None:
    """Refuse (403) to save or delete `obj` unless its school, and every school-owned object it
    points to (its foreign keys and `related`), are within what `user` administers."""
    if user.is_superuser:
        return
    if school is not None and not administered_schools(user).filter(pk=school.pk).exists():
        raise PermissionDenied("That belongs to a school you do not administer.")
    targets = list(related)
    for field in obj._meta.concrete_fields:
        if field.is_relation and field.related_model in SCOPED_CHOICES:
            target = getattr(obj, field.name)
            if target is not None:
                targets.append(target)
    for target in targets:
        model = type(target)
        if not scope_choices(model.objects.filter(pk=target.pk), user).exists():
            raise PermissionDenied("That belongs to a school you do not administer.")


def restrict_to_superusers(site) -> None:
    """Every admin not marked `school_scoped` (third-party ones included) opens for superusers
    only. Called once the admin modules are loaded (config.apps)."""
    for model_admin in site._registry.values():
        if getattr(model_admin, "school_scoped", False):
            continue
        for name in PERMISSION_METHODS:
            original = getattr(model_admin, name)

            def check(request, *args, _original=original, **kwargs):
                return request.user.is_superuser and _original(request, *args, **kwargs)

            setattr(model_admin, name, check)


class ScopedChoicesMixin:
    """Form choices (select, autocomplete, many-to-many) limited to the user's schools."""

    def get_field_queryset(self, db, db_field, request):
        queryset = super().get_field_queryset(db, db_field, request)
        if request.user.is_superuser:
            return queryset
        if queryset is None:
            queryset = db_field.remote_field.model._default_manager.using(db).all()
        return scope_choices(queryset, request.user)


class SchoolScopedAdmin(ScopedChoicesMixin, admin.ModelAdmin):
    school_path = "school"
    school_scoped = True

    def _schools(self, request):
        return administered_schools(request.user)

    def _require_within_scope(self, request, obj, form=None):
        related = []
        if form is not None:
            for field in obj._meta.many_to_many:
                if field.name in getattr(form, "cleaned_data", {}):
                    related.extend(form.cleaned_data[field.name])
        require_within_scope(request.user, obj, school=self._school_of(obj), related=related)

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
        self._require_within_scope(request, obj, form)
        services.directory_object_save(
            actor=request.user, instance=obj, school=self._school_of(obj), before=_before(obj)
        )

    def save_related(self, request, form, formsets, change):
        self._require_within_scope(request, form.instance, form)
        super().save_related(request, form, formsets, change)

    def delete_model(self, request, obj):
        self._require_within_scope(request, obj)
        services.directory_object_delete(
            actor=request.user, instance=obj, school=self._school_of(obj)
        )

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(User)
class HomewardUserAdmin(UserAdmin):
    """Superusers manage people. A school administrator only reads her schools' people (and people
    with no role yet, to give them one); she never sees or sets flags, groups or permissions,
    and cannot add people or change anyone's password here."""

    search_fields = ("username", "first_name", "last_name", "email")
    school_scoped = True

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk__in=administered_users(request.user))

    def get_fieldsets(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        return ((None, {"fields": ("username", "first_name", "last_name", "email", "is_active")}),)

    def get_list_filter(self, request):
        return super().get_list_filter(request) if request.user.is_superuser else ()

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


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
    """Superusers add and change schools; a school administrator reads her own schools' settings."""

    school_scoped = True

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk__in=administered_schools(request.user))

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

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
            "Checking in from the phone",
            {"fields": ("reply_extension_max_minutes", "checkin_interval_minutes")},
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
        self._require_within_scope(request, obj, form)
        if change:
            old = Membership.objects.get(pk=obj.pk)
            self._require_within_scope(request, old)
            services.membership_remove(actor=request.user, membership=old)
        created = services.membership_add(
            actor=request.user, user=obj.user, school=obj.school, role=obj.role
        )
        obj.pk = created.pk

    def delete_model(self, request, obj):
        self._require_within_scope(request, obj)
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
class StaffProfileAdmin(ScopedChoicesMixin, admin.ModelAdmin):
    """A school administrator sees and changes the profiles of her schools' people only."""

    list_display = ("user", "job_title", "clinically_vulnerable")
    search_fields = ("user__username", "user__first_name", "user__last_name", "job_title")
    school_scoped = True

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(user__in=administered_users(request.user))

    def save_model(self, request, obj, form, change):
        require_within_scope(request.user, obj)
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        require_within_scope(request.user, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(Professional)
class ProfessionalAdmin(SchoolScopedAdmin):
    list_display = ("name", "role", "agency", "school")
    list_filter = ("role",)
    search_fields = ("name", "agency", "email")


class CarerInline(ScopedChoicesMixin, admin.TabularInline):
    model = Carer
    extra = 0


class ContactNumberInline(ScopedChoicesMixin, admin.TabularInline):
    model = ContactNumber
    extra = 0


class RiskFlagInline(ScopedChoicesMixin, admin.TabularInline):
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
