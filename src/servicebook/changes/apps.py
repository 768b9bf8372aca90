from django.apps import AppConfig


class ChangesConfig(AppConfig):
    name = "servicebook.changes"
    label = "changes"
    verbose_name = "Changes"
    #: (label, url name, shown to customer users) entries for the navigation bar.
    navigation: tuple[tuple[str, str, bool], ...] = (
        ("Changes", "changes:list", True),
        ("Change schedule", "changes:schedule", True),
    )
