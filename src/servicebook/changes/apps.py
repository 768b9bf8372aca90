from django.apps import AppConfig


class ChangesConfig(AppConfig):
    name = "servicebook.changes"
    label = "changes"
    verbose_name = "Changes"
    #: (label, url name, shown to customer users) entries for the navigation bar.
    navigation: tuple[tuple[str, str, bool], ...] = (
        ("Changes", "changes:list", True),
        ("Change schedule", "changes:schedule", True),
    )

    def ready(self) -> None:
        from servicebook import ports
        from servicebook.changes import api, cli, demo, work

        ports.pages.provide(("changes/", "servicebook.changes.urls"), by=self.label)
        from servicebook.changes import search as search_part

        ports.search_sources.provide(search_part.SOURCES, by=self.label)
        ports.api_routes.provide(api.ROUTES, by=self.label)
        from servicebook.changes import attachables

        ports.attachables.provide(attachables.KIND, by=self.label)
        ports.demo_steps.provide(demo.load, by=self.label)
        ports.work_items.provide(work.work_for, by=self.label)
        from servicebook.changes.deliverables import views as deliverable_views

        ports.agreement_sections.provide(deliverable_views.agreement_section, by=self.label)
        commands = ports.Commands(register=cli.register, register_bench=cli.register_bench)
        ports.cli_commands.provide(commands, by=self.label)
