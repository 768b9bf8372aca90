from django.contrib import admin

from servicebook.parties.models import (
    Commitment,
    CommitmentBreach,
    Contact,
    Customer,
    CustomerEvent,
    DueDiligence,
    DueDiligenceCheck,
    ExternalSupplier,
    Feedback,
    JurisdictionRule,
    Objective,
    Provider,
)


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    """Read-only here: the settings change on the Provider settings page (or the API), which
    validates them and keeps who changed what and when."""

    list_display = ["name", "sector", "base_currency", "internal_margin", "recovery_share"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


class CustomerEventInline(admin.TabularInline):
    model = CustomerEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor", "action", "from_state", "to_state", "reason", "note"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "status", "funding_model", "jurisdiction"]
    list_filter = ["kind", "status", "funding_model"]
    search_fields = ["name", "code", "legal_name"]
    readonly_fields = ["status", "status_reason"]
    inlines = [ContactInline, CustomerEventInline]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "customer", "email", "is_approver", "authority_limit"]
    list_filter = ["is_approver", "is_requester"]
    search_fields = ["name", "email", "customer__name"]


class DueDiligenceCheckInline(admin.TabularInline):
    model = DueDiligenceCheck
    extra = 0


@admin.register(DueDiligence)
class DueDiligenceAdmin(admin.ModelAdmin):
    list_display = ["customer", "status", "waiver_reason", "concluded_at"]
    list_filter = ["status", "waiver_reason"]
    inlines = [DueDiligenceCheckInline]


class CommitmentBreachInline(admin.TabularInline):
    model = CommitmentBreach
    extra = 0
    readonly_fields = ["recorded_at", "recorded_by", "detection_key"]


@admin.register(Commitment)
class CommitmentAdmin(admin.ModelAdmin):
    list_display = ["customer", "kind", "amount_per_period", "starts", "ends"]
    list_filter = ["kind"]
    inlines = [CommitmentBreachInline]


@admin.register(ExternalSupplier)
class ExternalSupplierAdmin(admin.ModelAdmin):
    list_display = ["customer", "supplier", "service", "since"]


@admin.register(Objective)
class ObjectiveAdmin(admin.ModelAdmin):
    list_display = ["title"]
    filter_horizontal = ["customers"]


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["customer", "service", "period", "topic", "score"]
    list_filter = ["topic", "period"]


@admin.register(JurisdictionRule)
class JurisdictionRuleAdmin(admin.ModelAdmin):
    list_display = ["jurisdiction", "allowed_locations", "note"]
