from django.contrib import admin

from servicebook.catalog.models import DesignSpecification, Offering, PriceTier, Service


class OfferingInline(admin.TabularInline):
    model = Offering
    extra = 0


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "status", "offered_to"]
    list_filter = ["status", "offered_to"]
    search_fields = ["name", "code"]
    inlines = [OfferingInline]


class PriceTierInline(admin.TabularInline):
    model = PriceTier
    extra = 0


@admin.register(Offering)
class OfferingAdmin(admin.ModelAdmin):
    list_display = ["name", "service", "unit", "charge_model", "list_price", "currency"]
    list_filter = ["charge_model", "unit", "currency"]
    inlines = [PriceTierInline]


@admin.register(DesignSpecification)
class DesignSpecificationAdmin(admin.ModelAdmin):
    list_display = ["service", "version", "customer", "positioning", "status", "signed_off_at"]
    list_filter = ["status", "positioning"]
