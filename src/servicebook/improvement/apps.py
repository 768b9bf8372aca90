from django.apps import AppConfig


class ImprovementConfig(AppConfig):
    name = "servicebook.improvement"
    label = "improvement"
    verbose_name = "Improvement"
    #: (label, url name, shown to customer users) entries for the navigation bar.
    navigation: tuple[tuple[str, str, bool], ...] = (
        ("Improvement register", "improvement:list", True),
        ("Relationship health", "improvement:health", False),
        ("Customer-service parity", "improvement:parity", False),
        ("Service reviews", "improvement:reviews", True),
        ("Provider dashboard", "improvement:dashboard", False),
    )

    def ready(self) -> None:
        from servicebook import ports
        from servicebook.improvement import api, cli, demo, services, work

        ports.pages.provide(("improvement/", "servicebook.improvement.urls"), by=self.label)
        from servicebook.improvement import search as search_part

        ports.search_sources.provide(search_part.SOURCES, by=self.label)
        ports.api_routes.provide(api.ROUTES, by=self.label)
        ports.demo_steps.provide(demo.load, by=self.label)
        ports.work_items.provide(work.work_for, by=self.label)
        ports.breach_improvement.provide(services.propose_from_breaches, by=self.label)
        from servicebook.improvement import follow_up

        ports.feedback_follow_up.provide(follow_up.propose_from_feedback, by=self.label)
        commands = ports.Commands(register=cli.register)
        ports.cli_commands.provide(commands, by=self.label)
        from servicebook.improvement import ranking

        ranking.connect_receivers()
        ports.job_kinds.provide(ranking.KINDS, by=self.label)
