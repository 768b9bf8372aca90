from django.apps import AppConfig


class PartiesConfig(AppConfig):
    name = "servicebook.parties"
    label = "parties"
    verbose_name = "Customers and parties"
