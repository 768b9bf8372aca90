from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "servicebook.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from servicebook.core import jobs  # noqa: F401  (declares the job workflow)
