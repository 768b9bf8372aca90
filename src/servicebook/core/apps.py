from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "servicebook.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate, pre_migrate

        from servicebook.core import (
            jobs,  # noqa: F401  (declares the job workflow)
            references,
        )

        # SQLite: the reference triggers are dropped around each migrate (decision 0031)
        pre_migrate.connect(references.before_migrate, sender=self)
        post_migrate.connect(references.after_migrate, sender=self)
