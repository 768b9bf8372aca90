"""The models the law of invoicing adds to billing (decision 0026): VAT rates per jurisdiction,
kind of service and validity; the gapless number series of invoices and credit notes; credit
notes, which reverse all or part of an invoice without changing it."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from servicebook.catalog.models import TaxKind
from servicebook.core.idempotency import key_model_field
from servicebook.core.models import TimeStampedModel
from servicebook.core.money import CURRENCY_CHOICES
from servicebook.core.tenancy import ScopedQuerySet
from servicebook.finance.ledger.models import ProviderWideQuerySet, same_amount
from servicebook.parties.models import Customer, country_code, money_field


class TaxRate(TimeStampedModel):
    """A VAT rate of one jurisdiction for one kind of service, valid from a date (to a date).

    A close looks the rate up for the invoice's jurisdiction, the service's kind and the last day
    of the supply; when none is valid it refuses to close, never taxing at a silent 0."""

    jurisdiction = models.CharField(max_length=2, validators=[country_code])
    kind = models.CharField(max_length=10, choices=TaxKind.choices)
    rate = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Percent, e.g. 20.00.",
    )
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True, help_text="Last day it applies (open).")
    mention = models.CharField(
        max_length=300,
        blank=True,
        help_text="Printed on invoices taxed at this rate, e.g. the exemption's legal basis.",
    )

    objects = ProviderWideQuerySet.as_manager()

    EDITABLE_FIELDS = ("jurisdiction", "kind", "rate", "valid_from", "valid_to", "mention")

    class Meta:
        ordering = ["jurisdiction", "kind", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "kind", "valid_from"], name="tax_rate_unique_start"
            ),
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lte=100), name="tax_rate_range"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="tax_rate_valid_to_after_from",
            ),
            models.CheckConstraint(
                condition=~Q(kind="exempt") | Q(rate=0), name="tax_rate_exempt_is_zero"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.jurisdiction} {self.kind} {self.rate}% from {self.valid_from}"

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.kind == TaxKind.EXEMPT and self.rate not in (None, 0):
            errors["rate"] = ["an exempt supply is taxed at 0"]
        if self.kind == TaxKind.EXEMPT and not self.mention:
            errors["mention"] = ["an exemption is printed with its legal basis"]
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            errors["valid_to"] = ["ends before it starts"]
        if not errors and self.valid_from and self.jurisdiction and self.kind:
            overlapping = TaxRate.objects.filter(
                jurisdiction=self.jurisdiction, kind=self.kind
            ).exclude(pk=self.pk)
            if self.valid_to:
                overlapping = overlapping.filter(valid_from__lte=self.valid_to)
            overlapping = overlapping.filter(
                Q(valid_to__isnull=True) | Q(valid_to__gte=self.valid_from)
            ).first()
            if overlapping is not None:
                errors["valid_from"] = [
                    f"overlaps {overlapping}: end that rate first (valid to) so one rate "
                    "applies on each day"
                ]
        if errors:
            raise ValidationError(errors)


class DocumentSequence(models.Model):
    """The last number given in one series (INV, CN) and year: the next document takes the
    next, under a row lock, inside the transaction that issues it, so numbers never repeat or
    skip (a rolled-back close gives its numbers back)."""

    series = models.CharField(max_length=10)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    objects = ProviderWideQuerySet.as_manager()

    class Meta:
        ordering = ["series", "year"]
        constraints = [
            models.UniqueConstraint(fields=["series", "year"], name="document_sequence_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.series}-{self.year}: {self.last}"


class CreditNoteQuerySet(ScopedQuerySet):
    customer_path = "customer"


class CreditNote(TimeStampedModel):
    """A credit note: all or part of an invoice cancelled, with its reason, its own gapless
    number (CN-2026-00001) and its reversal posted to the ledger. The invoice never changes but
    for what remains to pay; a credit note never exceeds what remains creditable on it."""

    number = models.CharField(max_length=30, unique=True)
    series = models.CharField(max_length=10, default="CN")
    fiscal_year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    invoice = models.ForeignKey(
        "finance.Invoice", on_delete=models.PROTECT, related_name="credit_notes"
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credit_notes")
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    issue_date = models.DateField()
    reason = models.TextField()
    net_amount = money_field(help_text="Credited, excluding tax.")
    tax_amount = money_field(default=0)
    total = money_field(help_text="Credited, tax included.")
    taxes = models.JSONField(default=list, blank=True)
    entry = models.ForeignKey("finance.JournalEntry", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    request_key = key_model_field("credit note", "issued", "issuing")

    objects = CreditNoteQuerySet.as_manager()

    class Meta:
        ordering = ["-issue_date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "fiscal_year", "sequence"], name="credit_note_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(net_amount__gt=0) & Q(tax_amount__gte=0),
                name="credit_note_amounts_positive",
            ),
            models.CheckConstraint(
                condition=same_amount("total", F("net_amount") + F("tax_amount")),
                name="credit_note_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} for {self.invoice_id}"
