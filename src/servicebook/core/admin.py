from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from servicebook.core.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "customer", "is_staff", "is_active"]
    list_filter = ["groups", "is_staff", "is_active"]
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), ("Customer", {"fields": ["customer"]}))
