from django.apps import AppConfig


class StrategyConfig(AppConfig):
    name = "servicebook.strategy"
    label = "strategy"
    verbose_name = "Strategy"
    #: (label, url name, shown to customer users) entries for the navigation bar.
    navigation: tuple[tuple[str, str, bool], ...] = (("Strategy", "strategy:list", True),)

    def ready(self) -> None:
        from servicebook import ports
        from servicebook.strategy import api, cli, demo

        ports.pages.provide(("strategy/", "servicebook.strategy.urls"), by=self.label)
        ports.api_routes.provide(api.ROUTES, by=self.label)
        ports.demo_steps.provide(demo.load, by=self.label)
        ports.cli_commands.provide(
            ports.Commands(register=cli.register, register_import=cli.register_import),
            by=self.label,
        )
