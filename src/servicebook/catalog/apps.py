from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "servicebook.catalog"
    label = "catalog"
    verbose_name = "Service catalog"
    #: (label, url name, shown to customer users) entries for the navigation bar.
    navigation: tuple[tuple[str, str, bool], ...] = (("Service catalog", "catalog:list", True),)

    def ready(self) -> None:
        from servicebook import ports
        from servicebook.catalog import api, demo

        ports.pages.provide(("catalog/", "servicebook.catalog.urls"), by=self.label)
        ports.api_routes.provide(api.ROUTES, by=self.label)
        from servicebook.catalog import attachables

        ports.attachables.provide(attachables.KIND, by=self.label)
        ports.demo_steps.provide(demo.load, by=self.label)
        from servicebook.catalog import revisions

        ports.feedback_follow_up.provide(revisions.propose_revision, by=self.label)
