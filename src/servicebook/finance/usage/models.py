"""Usage's models: imports into the usage store (metered usage or a FOCUS cloud bill), the rules
sending cloud cost to customers, and the cloud cost allocated to each customer per month."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from servicebook.catalog.models import Offering
from servicebook.core.models import EventModel, TimeStampedModel
from servicebook.core.money import CURRENCY_CHOICES
from servicebook.core.tenancy import ScopedQuerySet
from servicebook.finance.ledger.models import ProviderWideQuerySet, validate_period
from servicebook.parties.models import Customer, money_field


class UsageFormat(models.TextChoices):
    CSV = "csv", "Metered usage (CSV or Parquet)"
    FOCUS = "focus", "Cloud bill (FOCUS, CSV or Parquet)"


class AllocationKey(models.TextChoices):
    RESOURCE = "resource", "Resource id"
    TAG = "tag", "Tag"
    SUB_ACCOUNT = "sub_account", "Sub-account"


class SharedCostMode(models.TextChoices):
    SEPARATE = "separate", "Report separately"
    SPREAD = "spread", "Spread in proportion to allocated cost"


class CostBasis(models.TextChoices):
    EFFECTIVE = "EffectiveCost", "EffectiveCost (amortized, after discounts)"
    BILLED = "BilledCost", "BilledCost (as invoiced)"


class CloudMapping(TimeStampedModel):
    """One rule that sends cloud cost (rows of a FOCUS bill) to a customer.

    A rule matches a resource id, a tag value (``business_unit = PeoriaData``) or a sub-account;
    the most specific wins (resource, then tag, then sub-account). Without a customer the rule
    sends the matched cost to the shared pool on purpose. Cloud cost is passed on at cost, so only
    a customer its policy charges at cost may receive it.
    """

    key = models.CharField(max_length=12, choices=AllocationKey.choices)
    tag_key = models.CharField(
        max_length=100, blank=True, help_text="For tag rules: the tag name, e.g. business_unit."
    )
    value = models.CharField(max_length=300, help_text="Resource id, tag value or sub-account.")
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty: the cost goes to the shared pool.",
    )
    note = models.CharField(max_length=200, blank=True)

    objects = ProviderWideQuerySet.as_manager()

    class Meta:
        ordering = ["key", "tag_key", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["key", "tag_key", "value"], name="cloud_mapping_unique"
            ),
            models.CheckConstraint(
                condition=(Q(key="tag") & ~Q(tag_key="")) | (~Q(key="tag") & Q(tag_key="")),
                name="cloud_mapping_tag_key_for_tags",
            ),
            models.CheckConstraint(condition=~Q(value=""), name="cloud_mapping_has_value"),
        ]

    def __str__(self) -> str:
        what = f"{self.tag_key}={self.value}" if self.key == AllocationKey.TAG else self.value
        return f"{self.get_key_display()} {what} → {self.customer or 'shared pool'}"

    def clean(self) -> None:
        from servicebook.policy import policy_for

        errors = {}
        if self.key == AllocationKey.TAG and not self.tag_key:
            errors["tag_key"] = "a tag rule needs the tag name, e.g. business_unit"
        if self.key != AllocationKey.TAG and self.tag_key:
            errors["tag_key"] = "only tag rules have a tag name"
        if self.customer_id and not policy_for(self.customer).charged_at_cost:
            errors["customer"] = (
                "cloud cost is passed on at cost: only a customer charged at cost can receive it"
            )
        if errors:
            raise ValidationError(errors)


class UsageImport(TimeStampedModel):
    """One file imported into the usage store: metered usage (CSV/Parquet) or a FOCUS cloud bill.

    The database copy of the store's manifest entry (the file's SHA-256 is its identity: the same
    file imported again changes nothing), with who imported it and the counts, which always add
    up: ``rows_read = rows_imported + rows_skipped_duplicate + rows_rejected``. For a FOCUS bill
    it also records how its cost was charged: the cost column, the shared-pool mode, the exchange
    rate to the statement currency, and the exact allocation report.
    """

    file_hash = models.CharField(max_length=64, unique=True)
    format = models.CharField(max_length=5, choices=UsageFormat.choices)
    filename = models.CharField(max_length=255)
    source = models.CharField(max_length=100, blank=True)
    period = models.CharField(
        max_length=7, blank=True, help_text="Only records of this month were accepted."
    )
    periods = models.JSONField(default=list, blank=True)
    rows_read = models.PositiveIntegerField()
    rows_imported = models.PositiveIntegerField()
    rows_skipped_duplicate = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField()
    quantity_totals = models.JSONField(default=dict, blank=True)
    cost_totals = models.JSONField(default=dict, blank=True, help_text="Exact, per currency.")
    rejects_path = models.CharField(max_length=500, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # FOCUS bills
    cost_basis = models.CharField(max_length=14, choices=CostBasis.choices, blank=True)
    shared_mode = models.CharField(max_length=10, choices=SharedCostMode.choices, blank=True)
    billing_currency = models.CharField(max_length=3, blank=True)
    statement_currency = models.CharField(max_length=3, blank=True)
    exchange_rate = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True)
    offering = models.ForeignKey(
        Offering, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    report = models.JSONField(default=dict, blank=True, help_text="Exact allocation report.")

    objects = ProviderWideQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    rows_read=F("rows_imported") + F("rows_skipped_duplicate") + F("rows_rejected")
                ),
                name="usage_import_rows_add_up",
            ),
            models.CheckConstraint(
                condition=Q(format="csv")
                | (~Q(cost_basis="") & ~Q(shared_mode="") & Q(offering__isnull=False)),
                name="usage_import_focus_settings",
            ),
            models.CheckConstraint(
                condition=Q(exchange_rate__isnull=True) | Q(exchange_rate__gt=0),
                name="usage_import_rate_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_format_display()}: {self.filename} ({self.file_hash[:12]})"

    def clean(self) -> None:
        if self.period:
            validate_period(self.period)


class UsageImportEvent(EventModel):
    """One step in an import's life: imported (counts in the note)."""

    usage_import = models.ForeignKey(UsageImport, on_delete=models.PROTECT, related_name="events")

    objects = ProviderWideQuerySet.as_manager()


class CloudChargeQuerySet(ScopedQuerySet):
    customer_path = "customer"


class CloudCharge(models.Model):
    """The cloud cost of one FOCUS bill allocated to one customer for one month.

    ``exact`` is the allocated cost in the bill's currency to the bill's last digit (direct plus
    its share of a spread pool); ``amount`` is that cost in the statement currency, rounded once
    to the cent. The period close puts it on the customer's statement as a cost line (R4, R5).
    """

    usage_import = models.ForeignKey(UsageImport, on_delete=models.CASCADE, related_name="charges")
    period = models.CharField(max_length=7, validators=[validate_period], db_index=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    rows = models.PositiveIntegerField()
    billing_currency = models.CharField(max_length=3)
    exact = models.CharField(max_length=60, help_text="Allocated cost, exact, bill currency.")
    direct = models.CharField(max_length=60, help_text="Cost the rules mapped, exact.")
    spread = models.CharField(max_length=60, default="0", help_text="Share of the pool, exact.")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    amount = money_field(help_text="In the statement currency, rounded to the cent.")

    objects = CloudChargeQuerySet.as_manager()

    class Meta:
        ordering = ["period", "customer__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["usage_import", "period", "customer"], name="cloud_charge_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.customer}: {self.currency} {self.amount}"
