from django.contrib import admin

from servicebook.levels.models import (
    AssignmentGroup,
    Attainment,
    Credit,
    CreditEvent,
    ImportBatch,
    Outage,
    PriorityMatrixSetting,
    Ticket,
    TicketStateChange,
)


class TicketStateChangeInline(admin.TabularInline):
    model = TicketStateChange
    extra = 0
    readonly_fields = ["sequence", "at", "state"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["number", "source", "agreement", "priority", "state", "opened_at"]
    list_filter = ["source", "priority", "state", "kind"]
    search_fields = ["number", "short_description"]
    readonly_fields = ["source", "number", "agreement"]
    inlines = [TicketStateChangeInline]


@admin.register(Outage)
class OutageAdmin(admin.ModelAdmin):
    list_display = ["reference", "service", "agreement", "start", "end", "planned"]
    list_filter = ["planned", "service"]


@admin.register(Attainment)
class AttainmentAdmin(admin.ModelAdmin):
    list_display = ["agreement", "target", "period", "measured_percent", "met"]
    list_filter = ["met", "metric", "period"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CreditEventInline(admin.TabularInline):
    model = CreditEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor", "action", "from_state", "to_state", "reason", "note"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Credit)
class CreditAdmin(admin.ModelAdmin):
    list_display = ["agreement", "period", "target", "credit_percent", "amount", "status"]
    list_filter = ["status", "period"]
    readonly_fields = [
        "agreement",
        "target",
        "period",
        "attainment_percent",
        "credit_percent",
        "amount",
        "currency",
        "capped",
        "status",
        "applied_reference",
    ]
    inlines = [CreditEventInline]


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ["at", "what", "format", "source", "rows_read", "created", "updated"]


@admin.register(PriorityMatrixSetting)
class PriorityMatrixSettingAdmin(admin.ModelAdmin):
    """Saving goes through the service, so the agreement's tickets follow the new matrix."""

    list_display = ["agreement", "updated_at"]

    def save_model(self, request, obj, form, change):
        from servicebook.levels.services import set_priority_matrix

        saved = set_priority_matrix(actor=request.user, agreement=obj.agreement, cells=obj.cells)
        obj.pk = saved.pk


@admin.register(AssignmentGroup)
class AssignmentGroupAdmin(admin.ModelAdmin):
    """The teams tickets are assigned to, by the helpdesk's name, and who answers for each: the
    owner is warned when a ticket nears its SLA target (``servicebook levels alerts``)."""

    list_display = ["name", "owner"]
    search_fields = ["name"]
    autocomplete_fields = ["owner"]
