from django.apps import AppConfig


class PartiesConfig(AppConfig):
    name = "servicebook.parties"
    label = "parties"
    verbose_name = "Customers and parties"
    #: (label, url name, shown to customer users) entries for the navigation bar.
    navigation: tuple[tuple[str, str, bool], ...] = (
        ("Customers", "parties:list", False),
        ("My customers", "parties:mine", False),
        ("Provider settings", "parties:provider-settings", False),
    )

    def ready(self) -> None:
        from servicebook import ports
        from servicebook.parties import api, demo

        ports.pages.provide(("customers/", "servicebook.parties.urls"), by=self.label)
        from servicebook.parties import search as search_part

        ports.search_sources.provide(search_part.SOURCES, by=self.label)
        ports.api_routes.provide(api.ROUTES, by=self.label)
        from servicebook.parties import attachables

        ports.attachables.provide(attachables.KIND, by=self.label)
        ports.demo_steps.provide(demo.load, by=self.label)
