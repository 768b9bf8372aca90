from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "servicebook.agreements"
    label = "agreements"
    verbose_name = "Agreements and contracts"
    #: (label, url name, shown to customer users) entries for the navigation bar.
    navigation: tuple[tuple[str, str, bool], ...] = (("Agreements", "agreements:list", True),)
