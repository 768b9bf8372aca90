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
        from servicebook.finance.consumption import consumption_at_cost
        from servicebook.parties.billing import provide_consumption

        provide_consumption(consumption_at_cost)  # parties reads it without importing finance
