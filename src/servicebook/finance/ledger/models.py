"""The ledger's models: accounts, journal entries and their lines, and the months of the books.

Ledger lines are positive debits or credits; an entry balances per currency and never changes once
posted (corrections are new entries in an open period). A period is a month of the books: once it
is closed it is locked, and a correction goes into a later, open period.

The helpers every finance package builds on live here too (the ledger is the bottom of finance):
``validate_period``, ``same_amount`` (a cent-exact CHECK), and ``ProviderWideQuerySet`` for rows
that provider staff see and customer users never do.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, Value

from servicebook.catalog.models import rate_field
from servicebook.core.idempotency import key_model_field
from servicebook.core.models import EventModel, TimeStampedModel
from servicebook.core.money import CURRENCY_CHOICES
from servicebook.core.periods import PeriodError, check_period
from servicebook.core.tenancy import ScopedQuerySet
from servicebook.parties.models import Customer, money_field


def same_amount(field: str, expression) -> Q:
    """``field == expression`` to the cent, as a CHECK constraint that also holds on SQLite
    (where a sum of NUMERIC values is compared in floating point)."""
    half_cent = Value(Decimal("0.005"))
    return Q(**{f"{field}__gte": expression - half_cent}) & Q(
        **{f"{field}__lte": expression + half_cent}
    )


def validate_period(value: str) -> None:
    """:func:`servicebook.core.periods.check_period` as a field validator."""
    try:
        check_period(value)
    except PeriodError as error:
        raise ValidationError(str(error)) from None


class ImmutableError(Exception):
    """Raised when code tries to change or delete a posted ledger row."""


class ProviderWideQuerySet(ScopedQuerySet):
    """Provider-internal rows (ledger, costs): staff see them, customer users never do."""

    customer_path = None


class LedgerQuerySet(ProviderWideQuerySet):
    """The ledger's rows: finance and the provider admin see them, nobody else (issue 12)."""

    def visible_to(self, user):
        from servicebook.finance.ledger.access import may_read_ledger

        return self if may_read_ledger(user) else self.none()


class PeriodStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Period(TimeStampedModel):
    """A month of the books. Closing it issues statements and invoices, posts them, and locks it:
    later corrections are adjustment entries in an open period."""

    period = models.CharField(max_length=7, unique=True, validators=[validate_period])
    status = models.CharField(
        max_length=10, choices=PeriodStatus.choices, default=PeriodStatus.OPEN
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    summary = models.JSONField(default=dict, blank=True)

    objects = ProviderWideQuerySet.as_manager()

    class Meta:
        ordering = ["-period"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | Q(closed_at__isnull=False),
                name="period_closed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.period

    @property
    def is_closed(self) -> bool:
        return self.status == PeriodStatus.CLOSED


class PeriodEvent(EventModel):
    """One step in a period's life: costs computed, closed, adjustment posted."""

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="events")

    objects = ProviderWideQuerySet.as_manager()


class AccountType(models.TextChoices):
    ASSET = "asset", "Asset"
    LIABILITY = "liability", "Liability"
    INCOME = "income", "Income"
    CONTRA_INCOME = "contra_income", "Contra-income"
    EXPENSE = "expense", "Expense"
    CONTRA_EXPENSE = "contra_expense", "Contra-expense (cost recovery)"
    EQUITY = "equity", "Equity / funding"


class Account(models.Model):
    """An account of the ledger: receivables, revenue, internal cost recovery, a cost centre's
    internal IT charges, subsidy… ``purpose`` names the role an account plays in postings."""

    code = models.CharField(max_length=30, unique=True)
    name = models.CharField(max_length=120)
    type = models.CharField(max_length=16, choices=AccountType.choices)
    purpose = models.CharField(max_length=30, db_index=True)
    cost_centre = models.CharField(max_length=40, blank=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["purpose", "cost_centre"], name="account_purpose_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class EntryKind(models.TextChoices):
    CLOSE = "close", "Period close"
    ADJUSTMENT = "adjustment", "Adjustment"
    PAYMENT = "payment", "Payment"
    CREDIT_NOTE = "credit_note", "Credit note"


class ImmutableQuerySet(LedgerQuerySet):
    def update(self, **kwargs):
        raise ImmutableError("posted ledger rows cannot be changed; post an adjustment")

    def delete(self):
        raise ImmutableError("posted ledger rows cannot be deleted; post an adjustment")


class JournalEntry(models.Model):
    """A posted journal entry: debit and credit lines that balance per currency. Immutable once
    posted; a correction is a new adjustment entry in an open period."""

    period = models.CharField(max_length=7, validators=[validate_period], db_index=True)
    date = models.DateField()
    kind = models.CharField(max_length=12, choices=EntryKind.choices)
    memo = models.CharField(max_length=200)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    posted_at = models.DateTimeField(auto_now_add=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    base_currency = models.CharField(
        max_length=3,
        choices=CURRENCY_CHOICES,
        blank=True,
        help_text="The provider's base currency the lines' base amounts are in (decision 0025).",
    )
    #: an adjustment's submission (its form's key or the API's header): posted once
    request_key = key_model_field("adjustment", did="posted", doing="posting")

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        verbose_name_plural = "journal entries"

    def __str__(self) -> str:
        return f"JE-{self.pk:06d} {self.memo}" if self.pk else self.memo

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableError("a posted journal entry cannot be changed; post an adjustment")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("a posted journal entry cannot be deleted; post an adjustment")

    @property
    def number(self) -> str:
        return f"JE-{self.pk:06d}"


class JournalLine(models.Model):
    """One side of an entry: a positive debit or a positive credit on an account, in a currency,
    and the same amount in the provider's base currency at the ``rate`` used (1 base =
    ``rate`` currency; 1 when the line is in the base currency). Lines posted before exchange
    rates existed have no base amount (decision 0025)."""

    # references checked once a statement by triggers, not a row at a time by constraints: a
    # close posts an entry a document (decision 0031, servicebook.core.references)
    entry = models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, related_name="lines", db_constraint=False
    )
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="lines", db_constraint=False
    )
    debit = money_field(default=0)
    credit = money_field(default=0)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    memo = models.CharField(max_length=200, blank=True)
    rate = rate_field(
        null=True, blank=True, help_text="1 base currency = rate × the line's currency."
    )
    base_debit = money_field(null=True, blank=True)
    base_credit = money_field(null=True, blank=True)

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        ordering = ["entry", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(debit__gt=0) & Q(credit=0)) | (Q(debit=0) & Q(credit__gt=0)),
                name="journal_line_one_positive_side",
            ),
        ]
        # the ledger page's balances read this index alone, never the lines (issue 14)
        indexes = [
            models.Index(
                fields=["account", "currency", "debit", "credit"], name="journal_line_balance"
            )
        ]

    def __str__(self) -> str:
        side = f"Dr {self.debit}" if self.debit else f"Cr {self.credit}"
        return f"{self.account_id} {side} {self.currency}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableError("a posted journal line cannot be changed; post an adjustment")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("a posted journal line cannot be deleted; post an adjustment")
