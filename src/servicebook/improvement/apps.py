from django.apps import AppConfig


class ImprovementConfig(AppConfig):
    name = "servicebook.improvement"
    label = "improvement"
    verbose_name = "Improvement"
    #: (label, url name, shown to customer users) entries for the navigation bar.
    navigation: tuple[tuple[str, str, bool], ...] = (
        ("Improvement register", "improvement:list", True),
        ("Relationship health", "improvement:health", False),
        ("Service reviews", "improvement:reviews", True),
        ("Provider dashboard", "improvement:dashboard", False),
    )
