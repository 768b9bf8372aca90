from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "servicebook.agreements"
    label = "agreements"
    verbose_name = "Agreements and contracts"
