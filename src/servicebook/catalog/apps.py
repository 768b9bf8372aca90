from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "servicebook.catalog"
    label = "catalog"
    verbose_name = "Service catalog"
