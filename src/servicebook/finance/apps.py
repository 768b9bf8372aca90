from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "servicebook.finance"
    label = "finance"
    verbose_name = "Finance"
    #: (label, url name, shown to customer users) entries for the navigation bar.
    navigation: tuple[tuple[str, str, bool], ...] = (
        ("Finance", "finance:home", False),
        ("Statements & invoices", "finance:documents", True),
        ("Finance reports", "finance:reports", False),
        ("Usage & cloud cost", "finance:usage", False),
    )

    def ready(self) -> None:
        from servicebook import ports
        from servicebook.finance import api, cli, demo, jobs
        from servicebook.finance.billing import customer_documents, notices, work
        from servicebook.finance.billing.consumption import consumption_at_cost
        from servicebook.finance.billing.verify import CHECKS
        from servicebook.finance.costing.charged import charged_unit_cost
        from servicebook.finance.costing.selectors import check_price_floor
        from servicebook.finance.ledger.verify import add_check

        ports.pages.provide(("finance/", "servicebook.finance.urls"), by=self.label)
        from servicebook.finance.billing import search as search_part

        ports.search_sources.provide(search_part.SOURCES, by=self.label)
        ports.api_routes.provide(api.ROUTES, by=self.label)
        ports.demo_steps.provide(demo.load, by=self.label)
        ports.work_items.provide(work.work_for, by=self.label)
        ports.daily_notices.provide(notices.tell_overdue, by=self.label)
        commands = ports.Commands(
            register=cli.register,
            register_import=cli.register_import,
            register_bench=cli.register_bench,
        )
        ports.cli_commands.provide(commands, by=self.label)
        ports.job_kinds.provide(jobs.KINDS, by=self.label)
        documents = ports.BillingDocuments(
            overdue_documents=customer_documents.overdue_documents,
            invoice_currencies=customer_documents.invoice_currencies,
        )
        ports.billing_documents.provide(documents, by=self.label)
        ports.consumption_at_cost.provide(consumption_at_cost, by=self.label)
        ports.price_floor.provide(check_price_floor, by=self.label)
        ports.charged_unit_cost.provide(charged_unit_cost, by=self.label)
        for name, check in CHECKS.items():  # ledger verify checks the documents posted to it
            add_check(name, check)
