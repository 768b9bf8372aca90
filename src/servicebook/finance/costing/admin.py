"""Admin of costing (read only: rows are written by services)."""

from django.contrib import admin

from servicebook.finance.costing.models import (
    AllocationRule,
    AllocationShare,
    CostPool,
    PriceFloorOverride,
    ServiceCost,
    UnitCost,
)
from servicebook.finance.ledger.admin import ReadOnlyAdmin, ReadOnlyInline


@admin.register(CostPool)
class CostPoolAdmin(ReadOnlyAdmin):
    list_display = ["period", "category", "name", "amount", "currency", "source"]
    list_filter = ["period", "category"]


class AllocationShareInline(ReadOnlyInline):
    model = AllocationShare


@admin.register(AllocationRule)
class AllocationRuleAdmin(ReadOnlyAdmin):
    list_display = ["category", "driver", "note"]
    inlines = [AllocationShareInline]


@admin.register(ServiceCost)
class ServiceCostAdmin(ReadOnlyAdmin):
    list_display = ["period", "service", "allocated", "idle", "total", "currency"]


@admin.register(UnitCost)
class UnitCostAdmin(ReadOnlyAdmin):
    list_display = ["period", "offering", "quantity", "cost", "unit_cost", "currency"]


@admin.register(PriceFloorOverride)
class PriceFloorOverrideAdmin(ReadOnlyAdmin):
    list_display = ["agreement", "offering", "reason", "recorded_by", "recorded_at"]
