"""Billing's models: internal statements and external invoices with their lines and events,
payments (cash or in kind) and payment reminders.

Every amount is a Decimal with two places and a currency next to it (see
``servicebook.core.money``). A document posted to the ledger keeps its journal entry.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from servicebook.catalog.models import Offering, Service, rate_field
from servicebook.core.idempotency import key_model_field
from servicebook.core.models import EventModel, TimeStampedModel
from servicebook.core.money import CURRENCY_CHOICES
from servicebook.core.tenancy import ScopedQuerySet
from servicebook.finance.ledger.models import same_amount, validate_period
from servicebook.parties.models import Customer, FundingModel, money_field


def exchange_rate_field():
    return rate_field(
        default=1,
        help_text="The rate the document was posted at: 1 base currency = rate × its currency "
        "(1 when it is in the base currency; decision 0025).",
    )


class Statement(TimeStampedModel):
    """An internal customer's statement for a month: what it consumed, at cost, per service.

    Its funding model decides what is posted (R1, R2): nothing for central allocation and
    showback, a notional transfer for chargeback, the recovered share plus a subsidy for the
    uncovered share under partial recovery. Never revenue.
    """

    number = models.CharField(max_length=30, unique=True)
    period = models.CharField(max_length=7, validators=[validate_period], db_index=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="statements")
    funding_model = models.CharField(max_length=20, choices=FundingModel.choices)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    total_cost = money_field(help_text="Consumption at cost.")
    total_charge = money_field(help_text="Cost × (1 + internal margin the policy allows).")
    recovered = money_field(help_text="Charged to the customer's cost centre (posted).")
    uncovered = money_field(help_text="Covered by budget, donations or taxes (subsidy).")
    budget = money_field(null=True, blank=True, help_text="The customer's funding for the month.")
    base_currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, blank=True)
    exchange_rate = exchange_rate_field()
    rate_date = models.DateField(null=True, blank=True, help_text="The day the rate is of.")
    posted = models.BooleanField(default=False)
    entry = models.ForeignKey(
        "finance.JournalEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-period", "customer__name"]
        constraints = [
            models.UniqueConstraint(fields=["period", "customer"], name="statement_unique"),
            models.CheckConstraint(
                condition=Q(recovered__gte=0) & Q(uncovered__gte=0) & Q(total_cost__gte=0),
                name="statement_amounts_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.customer}"

    @property
    def covered_centrally(self):
        """What the central budget carries: all of it unless charged back (R4 report)."""
        return self.total_charge - self.recovered


class StatementLineQuerySet(ScopedQuerySet):
    customer_path = "statement__customer"


class StatementLine(models.Model):
    """One item of a statement: an offering consumed, its quantity, unit cost and amounts."""

    # references checked once a statement by triggers, not a row at a time by constraints: a
    # close copies a line per agreement line (decision 0031, servicebook.core.references)
    statement = models.ForeignKey(
        Statement, on_delete=models.CASCADE, related_name="lines", db_constraint=False
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    offering = models.ForeignKey(
        Offering, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    source = models.CharField(max_length=12, default="subscription")
    description = models.CharField(max_length=200)
    quantity = models.DecimalField(max_digits=22, decimal_places=6)
    unit_cost = rate_field()
    cost = money_field()
    charge = money_field()

    objects = StatementLineQuerySet.as_manager()

    class Meta:
        ordering = ["statement", "pk"]

    def __str__(self) -> str:
        return f"{self.description} × {self.quantity}"


class InvoiceStatus(models.TextChoices):
    ISSUED = "issued", "Issued"
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    PAID = "paid", "Paid"


class InvoiceQuerySet(ScopedQuerySet):
    customer_path = "customer"


class Invoice(TimeStampedModel):
    """An external customer's invoice for one contract and month: real revenue.

    Its total is split into a cash part and an in-kind part (R3): the in-kind part is the
    contracted in-kind items at their agreed unit value, the cash part the rest (service credits
    reduce the cash part). Lines never carry cost for the customer's eyes (R7).
    """

    number = models.CharField(max_length=30, unique=True)
    period = models.CharField(max_length=7, validators=[validate_period], db_index=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    agreement = models.ForeignKey(
        "agreements.Agreement", on_delete=models.PROTECT, related_name="invoices"
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    issue_date = models.DateField()
    due_date = models.DateField()
    gross = money_field(help_text="Charges before service credits.")
    credits = money_field(default=0, help_text="Service credits (positive amount deducted).")
    total = money_field()
    in_kind_amount = money_field(default=0)
    cash_amount = money_field()
    paid_cash = money_field(default=0)
    delivered_in_kind = money_field(default=0)
    status = models.CharField(
        max_length=16, choices=InvoiceStatus.choices, default=InvoiceStatus.ISSUED
    )
    cost = money_field(null=True, blank=True, help_text="Provider's cost (staff only).")
    base_currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, blank=True)
    exchange_rate = exchange_rate_field()
    rate_date = models.DateField(null=True, blank=True, help_text="The day the rate is of.")
    base_total = money_field(
        null=True, blank=True, help_text="The total in the base currency at the exchange rate."
    )
    entry = models.ForeignKey(
        "finance.JournalEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # What the law asks an invoice to carry (decision 0026), fixed when it is issued.
    series = models.CharField(max_length=10, default="INV")
    fiscal_year = models.PositiveSmallIntegerField(null=True, blank=True)
    sequence = models.PositiveIntegerField(
        null=True, blank=True, help_text="Gapless number within the series and year."
    )
    supply_start = models.DateField(null=True, blank=True)
    supply_end = models.DateField(null=True, blank=True)
    payment_terms_days = models.PositiveIntegerField(null=True, blank=True)
    tax_regime = models.CharField(max_length=16, blank=True)
    taxes = models.JSONField(
        default=list,
        blank=True,
        help_text="Tax per rate: category (UNCL 5305), kind, rate %, taxable base, tax.",
    )
    tax_amount = money_field(default=0)
    total_incl_tax = money_field(default=0, help_text="Total (after credits) plus tax.")
    legal_mentions = models.TextField(blank=True)
    issuer_legal_name = models.CharField(max_length=200, blank=True)
    issuer_address = models.TextField(blank=True)
    issuer_registration = models.CharField(max_length=60, blank=True)
    issuer_vat_number = models.CharField(max_length=20, blank=True)
    issuer_country = models.CharField(max_length=2, blank=True)
    issuer_iban = models.CharField(max_length=40, blank=True)
    issuer_bic = models.CharField(max_length=11, blank=True)
    customer_legal_name = models.CharField(max_length=200, blank=True)
    customer_address = models.TextField(blank=True)
    customer_registration = models.CharField(max_length=60, blank=True)
    customer_vat_number = models.CharField(max_length=20, blank=True)
    customer_country = models.CharField(max_length=2, blank=True)
    credited_net = money_field(default=0, help_text="Credit notes, excluding tax.")
    credited = money_field(default=0, help_text="Credit notes, tax included.")

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-period", "number"]
        constraints = [
            models.UniqueConstraint(fields=["period", "agreement"], name="invoice_unique"),
            models.CheckConstraint(
                condition=same_amount("total", F("gross") - F("credits")),
                name="invoice_total_is_gross_less",
            ),
            models.CheckConstraint(
                condition=same_amount("total_incl_tax", F("cash_amount") + F("in_kind_amount")),
                name="invoice_cash_plus_in_kind_tax",
            ),
            models.CheckConstraint(
                condition=same_amount("total_incl_tax", F("total") + F("tax_amount")),
                name="invoice_total_incl_tax",
            ),
            models.CheckConstraint(
                condition=Q(credited_net__gte=0)
                & Q(credited_net__lte=F("total"))
                & Q(credited__gte=0)
                & Q(credited__lte=F("cash_amount")),
                name="invoice_credited_within",
            ),
            models.UniqueConstraint(
                fields=["series", "fiscal_year", "sequence"],
                condition=Q(sequence__isnull=False),
                name="invoice_number_in_series_unique",
            ),
            models.CheckConstraint(
                condition=Q(credits__gte=0) & Q(in_kind_amount__gte=0) & Q(cash_amount__gte=0),
                name="invoice_parts_positive",
            ),
            models.CheckConstraint(
                condition=Q(paid_cash__lte=F("cash_amount"))
                & Q(delivered_in_kind__lte=F("in_kind_amount"))
                & Q(paid_cash__gte=0)
                & Q(delivered_in_kind__gte=0),
                name="invoice_not_overpaid",
            ),
            models.CheckConstraint(
                condition=Q(due_date__gte=F("issue_date")), name="invoice_due_after_issue"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.customer}"

    @property
    def outstanding_cash(self):
        """The cash part not yet paid nor credited (credit notes reduce what is owed)."""
        return self.cash_amount - self.paid_cash - self.credited

    @property
    def creditable(self):
        """What a credit note may still credit, excluding tax (decision 0026)."""
        return self.total - self.credited_net

    @property
    def reverse_charge(self) -> bool:
        return self.tax_regime == "reverse_charge"

    @property
    def outstanding_in_kind(self):
        return self.in_kind_amount - self.delivered_in_kind

    @property
    def outstanding(self):
        return self.outstanding_cash + self.outstanding_in_kind

    def days_overdue(self, today) -> int:
        if self.status == InvoiceStatus.PAID or today <= self.due_date:
            return 0
        return (today - self.due_date).days


class LineKind(models.TextChoices):
    SUBSCRIPTION = "subscription", "Subscription"
    USAGE = "usage", "Rated usage"
    CREDIT = "credit", "Service credit"
    IN_KIND = "in_kind", "Settled in kind"


class InvoiceLine(models.Model):
    """One line of an invoice. Subscription and usage lines add to the gross, credit lines are
    negative, in-kind lines say which part of the total is settled in goods or services."""

    # references checked once a statement (decision 0031), as on the statement's lines
    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="lines", db_constraint=False
    )
    kind = models.CharField(max_length=12, choices=LineKind.choices)
    service = models.ForeignKey(
        Service,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    offering = models.ForeignKey(
        Offering,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    description = models.CharField(max_length=200)
    quantity = models.DecimalField(max_digits=22, decimal_places=6)
    unit_price = rate_field()
    amount = money_field()
    cost = money_field(null=True, blank=True, help_text="Provider's cost (staff only).")
    reference = models.CharField(max_length=60, blank=True)
    tax_category = models.CharField(max_length=2, blank=True, help_text="UNCL 5305 code.")
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    breakdown = models.JSONField(
        default=list,
        blank=True,
        help_text="The steps of a tiered, volume, package or flat charge (label, quantity, unit "
        "price, amount), adding up to the amount: the line's arithmetic, checkable by hand.",
    )

    class QuerySet(ScopedQuerySet):
        customer_path = "invoice__customer"

    objects = QuerySet.as_manager()

    class Meta:
        ordering = ["invoice", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="credit") | Q(amount__lte=0), name="credit_line_negative"
            ),
            models.CheckConstraint(
                condition=Q(kind="credit") | Q(amount__gte=0), name="charge_line_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.description} {self.amount}"

    @property
    def breakdown_text(self) -> str:
        from servicebook.finance.billing.breakdown import steps_text

        return steps_text(self.breakdown or [])


class InvoiceEvent(EventModel):
    """One step in an invoice's life: issued, payment, in-kind delivery, reminder, suspension."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="events")

    class QuerySet(ScopedQuerySet):
        customer_path = "invoice__customer"

    objects = QuerySet.as_manager()


class PaymentKind(models.TextChoices):
    CASH = "cash", "Cash"
    IN_KIND = "in_kind", "In kind (goods or services received)"


class Payment(TimeStampedModel):
    """Money or goods received against an invoice: a bank transfer, or delivered tickets."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(max_length=10, choices=PaymentKind.choices)
    amount = money_field()
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    date = models.DateField()
    reference = models.CharField(max_length=100, blank=True)
    entry = models.ForeignKey("finance.JournalEntry", on_delete=models.PROTECT, related_name="+")
    request_key = key_model_field("payment")

    class QuerySet(ScopedQuerySet):
        customer_path = "invoice__customer"

    objects = QuerySet.as_manager()

    class Meta:
        ordering = ["date", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.currency} {self.amount} for {self.invoice_id}"


class Reminder(models.Model):
    """A payment reminder for an overdue invoice: level 1, 2, 3 at 30, 60, 90 days overdue."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="reminders")
    level = models.PositiveSmallIntegerField()
    days_overdue = models.PositiveIntegerField()
    outstanding = money_field()
    sent_on = models.DateField()

    class QuerySet(ScopedQuerySet):
        customer_path = "invoice__customer"

    objects = QuerySet.as_manager()

    class Meta:
        ordering = ["invoice", "level"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "level"], name="reminder_once_per_level"),
            models.CheckConstraint(
                condition=Q(level__gte=1) & Q(level__lte=3), name="reminder_level_range"
            ),
        ]

    def __str__(self) -> str:
        return f"reminder {self.level} for {self.invoice_id}"


# --- usage at scale: imports into the usage store, cloud cost allocation (FOCUS) ----------------
