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

    def ready(self) -> None:
        from servicebook import ports
        from servicebook.demand import api, cli, demo, work

        ports.pages.provide(("demand/", "servicebook.demand.urls"), by=self.label)
        from servicebook.demand import search as search_part

        ports.search_sources.provide(search_part.SOURCES, by=self.label)
        ports.api_routes.provide(api.ROUTES, by=self.label)
        ports.demo_steps.provide(demo.load, by=self.label)
        ports.work_items.provide(work.work_for, by=self.label)
        commands = ports.Commands(register=cli.register)
        ports.cli_commands.provide(commands, by=self.label)
