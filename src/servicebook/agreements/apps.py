from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "servicebook.agreements"
    label = "agreements"
    verbose_name = "Agreements and contracts"
    #: (label, url name, shown to customer users) entries for the navigation bar.
    navigation: tuple[tuple[str, str, bool], ...] = (
        ("Agreements", "agreements:list", True),
        ("Orders", "agreements:orders", True),
    )

    def ready(self) -> None:
        from servicebook import ports
        from servicebook.agreements import api, demo, jurisdiction, services, work
        from servicebook.agreements.orders import workflows  # noqa: F401 (the order workflow)

        ports.pages.provide(("agreements/", "servicebook.agreements.urls"), by=self.label)
        from servicebook.agreements import search as search_part

        ports.search_sources.provide(search_part.SOURCES, by=self.label)
        ports.api_routes.provide(api.ROUTES, by=self.label)
        from servicebook.agreements import attachables

        ports.attachables.provide(attachables.KIND, by=self.label)
        ports.demo_steps.provide(demo.load, by=self.label)
        ports.work_items.provide(work.work_for, by=self.label)
        ports.jurisdiction_law.provide(jurisdiction, by=self.label)
        ports.customer_ended.provide(services.end_agreements_of, by=self.label)
        from servicebook.agreements import cli

        ports.cli_commands.provide(ports.Commands(register=cli.register), by=self.label)
