from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "servicebook.web"
    label = "web"
    verbose_name = "Web"

    def ready(self) -> None:
        # The web app is installed last: every domain app has plugged into its ports by now, so
        # a missing or renamed provider stops the start-up here (servicebook.core.registry).
        from servicebook.core import registry

        registry.verify()
