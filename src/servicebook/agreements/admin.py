from django.contrib import admin

from servicebook.agreements.models import Agreement, AgreementEvent, AgreementLine


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


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    list_display = ["reference", "title", "customer", "kind", "status", "start_date"]
    list_filter = ["kind", "status"]
    search_fields = ["reference", "title", "customer__name"]
    readonly_fields = ["kind", "status"]
    inlines = [AgreementLineInline, AgreementEventInline]
