from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "servicebook.notifications"
    label = "notifications"
    verbose_name = "My work"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from servicebook import ports
        from servicebook.notifications import api, cli, demo, jobs

        ports.pages.provide(("my-work/", "servicebook.notifications.urls"), by=self.label)
        ports.api_routes.provide(api.ROUTES, by=self.label)
        ports.demo_steps.provide(demo.load, by=self.label)
        ports.job_finished.provide(jobs.tell_owner, by=self.label)
        ports.cli_commands.provide(ports.Commands(register=cli.register), by=self.label)
