from django.contrib import admin

from servicebook.improvement.models import (
    Action,
    Improvement,
    ImprovementEvent,
    Participant,
    PlanApproval,
    ServiceReview,
    ServiceReviewEvent,
)


class ImprovementEventInline(admin.TabularInline):
    model = ImprovementEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor", "action", "from_state", "to_state", "reason", "note"]

    def has_add_permission(self, request, obj=None):
        return False


class ActionInline(admin.TabularInline):
    model = Action
    extra = 0
    fields = ["description", "owner_user", "owner_contact", "due", "done", "done_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class ParticipantInline(admin.TabularInline):
    model = Participant
    extra = 0
    readonly_fields = ["contact", "invited", "note", "added_by", "added_at"]

    def has_add_permission(self, request, obj=None):
        return False


class PlanApprovalInline(admin.TabularInline):
    model = PlanApproval
    extra = 0
    readonly_fields = ["customer", "contact", "actor", "note", "at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Improvement)
class ImprovementAdmin(admin.ModelAdmin):
    """Read mostly: the workflow steps go through the pages and the API (services)."""

    list_display = ["title", "customer", "source", "driver", "status", "period", "created_at"]
    list_filter = ["source", "status", "driver"]
    search_fields = ["title", "customer__name"]
    filter_horizontal = ["customers", "services"]
    inlines = [ActionInline, ParticipantInline, PlanApprovalInline, ImprovementEventInline]


class ServiceReviewEventInline(admin.TabularInline):
    model = ServiceReviewEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor", "action", "from_state", "to_state", "note"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ServiceReview)
class ServiceReviewAdmin(admin.ModelAdmin):
    list_display = ["customer", "period", "status", "meeting_on"]
    list_filter = ["status", "period"]
    inlines = [ServiceReviewEventInline]
