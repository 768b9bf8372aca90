from django.contrib import admin

from servicebook.changes.models import (
    Approval,
    ChangeEvent,
    ChangeRequest,
    CustomerImpact,
    CustomerTask,
    ScheduleFeed,
    TrainingRecord,
)


class ImpactInline(admin.TabularInline):
    model = CustomerImpact
    extra = 0
    readonly_fields = ["customer", "agreement", "authorization", "clause", "decision"]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ApprovalInline(ReadOnlyInline):
    model = Approval


class EventInline(ReadOnlyInline):
    model = ChangeEvent


@admin.register(ChangeRequest)
class ChangeRequestAdmin(admin.ModelAdmin):
    list_display = ["reference", "title", "change_type", "status", "risk", "planned_start"]
    list_filter = ["change_type", "status", "risk"]
    search_fields = ["reference", "title"]
    readonly_fields = ["status", "approved_after_the_fact"]
    inlines = [ImpactInline, ApprovalInline, EventInline]


admin.site.register(CustomerTask)
admin.site.register(TrainingRecord)


@admin.register(ScheduleFeed)
class ScheduleFeedAdmin(admin.ModelAdmin):
    list_display = ["customer", "rotated_at"]
    exclude = ["token"]
