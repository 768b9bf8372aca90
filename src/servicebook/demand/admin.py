from django.contrib import admin

from servicebook.demand.models import (
    Alternative,
    CapacityNeed,
    CapacityPool,
    DemandEvent,
    DemandRequest,
    Requirement,
)


class RequirementInline(admin.TabularInline):
    model = Requirement
    extra = 0


class AlternativeInline(admin.TabularInline):
    model = Alternative
    extra = 0


class EventInline(admin.TabularInline):
    model = DemandEvent
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DemandRequest)
class DemandAdmin(admin.ModelAdmin):
    list_display = ["reference", "title", "customer", "status", "required_investment"]
    list_filter = ["status", "kind"]
    search_fields = ["reference", "title", "customer__name"]
    readonly_fields = ["status", "justified_by", "justified_at"]
    inlines = [RequirementInline, AlternativeInline, EventInline]


class NeedInline(admin.TabularInline):
    model = CapacityNeed
    extra = 0


@admin.register(CapacityPool)
class CapacityPoolAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "period_start", "period_end", "capacity", "unit_cost"]
    inlines = [NeedInline]
