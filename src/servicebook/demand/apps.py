from django.apps import AppConfig


class DemandConfig(AppConfig):
    name = "servicebook.demand"
    label = "demand"
    verbose_name = "Demand"
    #: (label, url name, shown to customer users) entries for the navigation bar.
    navigation: tuple[tuple[str, str, bool], ...] = (
        ("Demand", "demand:list", True),
        ("Capacity", "demand:capacity", False),
    )
