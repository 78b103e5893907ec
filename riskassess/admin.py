"""The school calendar closure-mode monitoring counts with (R-CLO-2). Assessments themselves are
changed only on their page, through riskassess.services, never in the admin."""

from django.contrib import admin

from schools.admin import SchoolScopedAdmin

from .models import ClosurePeriod, SchoolHoliday


@admin.register(SchoolHoliday)
class SchoolHolidayAdmin(SchoolScopedAdmin):
    list_display = ("name", "starts_on", "ends_on", "school")
    list_filter = ("school",)
    date_hierarchy = "starts_on"


@admin.register(ClosurePeriod)
class ClosurePeriodAdmin(SchoolScopedAdmin):
    list_display = ("school", "starts_on", "ends_on")
    list_filter = ("school",)
