from django.apps import AppConfig


class LevelsConfig(AppConfig):
    name = "servicebook.levels"
    label = "levels"
    verbose_name = "Service levels"
    #: (label, url name, shown to customer users) entries for the navigation bar.
    navigation: tuple[tuple[str, str, bool], ...] = (
        ("Service levels", "levels:list", True),
        ("My tickets", "levels:my-tickets", True),
    )

    def ready(self) -> None:
        from servicebook import ports
        from servicebook.levels import api, cli, demo, jobs, notices, selectors, services, work

        ports.pages.provide(("service-levels/", "servicebook.levels.urls"), by=self.label)
        from servicebook.levels import search as search_part

        ports.search_sources.provide(search_part.SOURCES, by=self.label)
        ports.api_routes.provide(api.ROUTES, by=self.label)
        ports.demo_steps.provide(demo.load, by=self.label)
        ports.work_items.provide(work.work_for, by=self.label)
        ports.daily_notices.provide(notices.tell_targets_at_risk, by=self.label)
        credits = ports.ServiceCredits(
            pending=selectors.pending_credits, mark_applied=services.mark_credits_applied
        )
        ports.service_credits.provide(credits, by=self.label)
        commands = ports.Commands(
            register=cli.register,
            register_import=cli.register_import,
            register_bench=cli.register_bench,
        )
        ports.cli_commands.provide(commands, by=self.label)
        ports.job_kinds.provide(jobs.KINDS, by=self.label)
        ports.measurement_changed.provide(jobs.recompute_later, by=self.label)
