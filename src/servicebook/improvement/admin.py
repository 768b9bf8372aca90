from django.contrib import admin

from servicebook.improvement.models import Improvement, ImprovementEvent


class ImprovementEventInline(admin.TabularInline):
    model = ImprovementEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor", "action", "from_state", "to_state", "reason", "note"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Improvement)
class ImprovementAdmin(admin.ModelAdmin):
    list_display = ["title", "customer", "source", "status", "period", "created_at"]
    list_filter = ["source", "status"]
    search_fields = ["title", "customer__name"]
    inlines = [ImprovementEventInline]
