"""Create the role groups (provider_admin, service_manager, finance, change_manager, customers)."""

from django.db import migrations

ROLES = [
    "provider_admin",
    "service_manager",
    "finance",
    "change_manager",
    "internal_customer",
    "external_customer",
]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0002_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_groups, remove_groups)]
