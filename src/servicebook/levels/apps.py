from django.apps import AppConfig


class LevelsConfig(AppConfig):
    name = "servicebook.levels"
    label = "levels"
    verbose_name = "Service levels"
    #: (label, url name, shown to customer users) entries for the navigation bar.
    navigation: tuple[tuple[str, str, bool], ...] = (("Service levels", "levels:list", True),)
