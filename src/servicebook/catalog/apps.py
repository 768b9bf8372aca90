from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "servicebook.catalog"
    label = "catalog"
    verbose_name = "Service catalog"
    #: (label, url name, shown to customer users) entries for the navigation bar.
    navigation: tuple[tuple[str, str, bool], ...] = (("Service catalog", "catalog:list", True),)
