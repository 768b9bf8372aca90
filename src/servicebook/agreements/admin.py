from django.contrib import admin

from servicebook.agreements.models import (
    Agreement,
    AgreementEvent,
    AgreementLine,
    AgreementSignature,
    Calendar,
    ChangeClause,
    ConsiderationItem,
    CreditTier,
    JurisdictionAcknowledgement,
    Outcome,
    ServiceLevelTarget,
)


class AgreementLineInline(admin.TabularInline):
    model = AgreementLine
    extra = 0


class AgreementEventInline(admin.TabularInline):
    model = AgreementEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor", "action", "from_state", "to_state", "note"]

    def has_add_permission(self, request, obj=None):
        return False


class ConsiderationInline(admin.TabularInline):
    model = ConsiderationItem
    extra = 0


class SignatureInline(admin.TabularInline):
    model = AgreementSignature
    extra = 0
    readonly_fields = ["contact", "yearly_value", "signed_at", "recorded_by"]


class OutcomeInline(admin.TabularInline):
    model = Outcome
    extra = 0


class ClauseInline(admin.TabularInline):
    model = ChangeClause
    extra = 0


class AcknowledgementInline(admin.TabularInline):
    model = JurisdictionAcknowledgement
    extra = 0
    readonly_fields = ["service", "contact", "statement", "recorded_at", "recorded_by"]


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    list_display = ["reference", "title", "customer", "kind", "status", "start_date"]
    list_filter = ["kind", "status"]
    search_fields = ["reference", "title", "customer__name"]
    readonly_fields = ["kind", "status"]
    inlines = [
        AgreementLineInline,
        ConsiderationInline,
        SignatureInline,
        OutcomeInline,
        ClauseInline,
        AcknowledgementInline,
        AgreementEventInline,
    ]


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "holiday_country", "holiday_subdivision"]


class CreditTierInline(admin.TabularInline):
    model = CreditTier
    extra = 0


@admin.register(ServiceLevelTarget)
class ServiceLevelTargetAdmin(admin.ModelAdmin):
    list_display = ["agreement", "metric", "priority", "threshold_minutes", "attainment_percent"]
    list_filter = ["metric", "priority"]
    inlines = [CreditTierInline]
