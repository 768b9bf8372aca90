from django.contrib import admin

from servicebook.strategy.models import Measure, Reading


@admin.register(Measure)
class MeasureAdmin(admin.ModelAdmin):
    list_display = ["indicator", "objective", "outcome", "target", "unit", "frequency", "source"]
    list_filter = ["source", "frequency"]


@admin.register(Reading)
class ReadingAdmin(admin.ModelAdmin):
    list_display = ["measure", "period", "value", "source", "recorded_by"]
    list_filter = ["source"]
