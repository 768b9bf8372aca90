"""Every write of usage: imports into the usage store (metered usage, or a FOCUS cloud bill
allocated to customers by the cloud mappings) and the cloud mappings themselves (R4, R5, R6 at
scale)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
from django.conf import settings
from django.db import transaction

from servicebook.catalog.models import Offering
from servicebook.core.errors import DomainError
from servicebook.core.models import User
from servicebook.core.money import round_money, to_decimal
from servicebook.core.periods import period_dates
from servicebook.core.roles import Role
from servicebook.core.services import require_role, save_validated
from servicebook.finance.fx.selectors import MissingRate, rate_on
from servicebook.finance.ledger.periods import check_period, closed_periods
from servicebook.finance.usage import focus
from servicebook.finance.usage.backends import usage_store
from servicebook.finance.usage.models import (
    CloudCharge,
    CloudMapping,
    CostBasis,
    SharedCostMode,
    UsageFormat,
    UsageImport,
    UsageImportEvent,
)
from servicebook.finance.usage.selectors import cloud_rules, import_summary, store_keys
from servicebook.parties.models import Customer, Provider

#: who may import usage and edit the cloud allocation rules
USAGE_EDITORS = (Role.FINANCE, Role.PROVIDER_ADMIN)
#: the offering cloud cost appears under on statements, unless an import names another
DEFAULT_FOCUS_OFFERING = "public-cloud"
#: what reading a usage file may raise: the file is refused with the reason
UNREADABLE = (ValueError, pa.ArrowInvalid, OSError, UnicodeDecodeError)
#: a conversion factor derived from a reference rate keeps the places the import's rate has
RATE_PLACES = Decimal("0.0000000001")


def focus_offering_code() -> str:
    """Setting ``SERVICEBOOK_FOCUS_OFFERING`` (or the environment), default ``public-cloud``."""
    return (
        getattr(settings, "SERVICEBOOK_FOCUS_OFFERING", None)
        or os.environ.get("SERVICEBOOK_FOCUS_OFFERING")
        or DEFAULT_FOCUS_OFFERING
    )


@transaction.atomic
def set_cloud_mapping(
    *,
    actor: User | None,
    key: str,
    value: str,
    customer: Customer | None,
    tag_key: str = "",
    note: str = "",
    mapping=None,
):
    """Record the rule sending the cloud cost of a resource, tag value or sub-account to a
    customer (``None``: the shared pool); the same key again replaces its customer. Given a
    ``mapping``, change that rule instead."""
    require_role(actor, *USAGE_EDITORS, action="Changing cloud cost allocation")
    value, tag_key = (value or "").strip(), (tag_key or "").strip()
    if mapping is None:
        mapping = CloudMapping.objects.filter(key=key, tag_key=tag_key, value=value).first()
    if mapping is None:
        mapping = CloudMapping()
    mapping.key, mapping.tag_key, mapping.value = key, tag_key, value
    mapping.customer = customer
    mapping.note = note
    save_validated(mapping)
    return mapping


@transaction.atomic
def delete_cloud_mapping(*, actor: User | None, mapping) -> None:
    require_role(actor, *USAGE_EDITORS, action="Changing cloud cost allocation")
    mapping.delete()


@transaction.atomic
def import_usage(
    *,
    actor: User | None,
    path,
    format: str,
    filename: str = "",
    period: str | None = None,
    source: str = "",
    cost_basis: str = "EffectiveCost",
    shared_mode: str = "separate",
    exchange_rate: Decimal | str | None = None,
    offering: Offering | None = None,
) -> tuple[UsageImport, dict]:
    """Import a usage file into the usage store and record it (R4, R5, R6 at scale).

    ``format`` ``csv``: metered usage records (CSV or Parquet; see docs/usage.md for the
    columns), validated row by row against the customers and offerings; a bad row goes to the
    rejects file with its reason and nothing else stops. ``focus``: a FOCUS cloud bill, each row
    allocated by the cloud mappings, its ``cost_basis`` column charged to the customers' statements
    of the bill's month (converted at ``exchange_rate`` when the bill is not in the provider's
    currency); the untagged pool is reported separately or spread (``shared_mode``).
    The same file imported again changes nothing. Returns the import row and a summary.
    """
    require_role(actor, *USAGE_EDITORS, action="Importing usage")
    if format not in UsageFormat.values:
        raise DomainError(f"format must be csv or focus, not {format!r}", field="format")
    if period:
        check_period(period)
    path = Path(path)
    if not path.is_file():
        raise DomainError(f"{path}: no such file", field="file")
    filename = filename or path.name
    if format == UsageFormat.FOCUS:
        terms = _cloud_bill_terms(path, filename, cost_basis, shared_mode, exchange_rate, offering)
        return _import_cloud_bill(actor, path, filename, period, source, terms)
    return _import_metered_usage(actor, path, filename, period, source)


def _import_metered_usage(actor, path: Path, filename: str, period, source: str):
    """Metered usage (CSV or Parquet) into the store, validated against the catalogue."""
    customers, currencies, offerings = store_keys()
    summary = _into_store(
        filename,
        lambda store: store.import_file(
            path,
            source=source or "csv",
            customers=customers,
            offerings=offerings,
            period=period or None,
            customer_currencies=currencies,
            closed_periods=closed_periods(),
        ),
    )
    return _record_import(actor, summary, UsageFormat.CSV, filename, period)


@dataclass(frozen=True)
class CloudBillTerms:
    """How a FOCUS bill is charged: the cost column, the shared pool's mode, the offering the cost
    appears under, and the exchange rate from the bill's currency to the statements' (the one
    given, else one per month from the stored reference rates)."""

    cost_basis: str
    shared_mode: str
    offering: Offering
    billing_currency: str
    statement_currency: str
    rate: Decimal | None
    #: no rate given: each month's factor, from the reference rate of the month's last day
    rates: dict[str, Decimal]


def _import_cloud_bill(actor, path: Path, filename: str, period, source: str, terms):
    """A FOCUS bill into the store, allocated by the cloud mappings; each customer's share of the
    charged column becomes a cloud charge of the bill's month."""
    summary = _into_store(
        filename,
        lambda store: focus.import_focus(
            store,
            path,
            rules=cloud_rules(),
            spread_shared=terms.shared_mode == SharedCostMode.SPREAD,
            billing_currency=terms.billing_currency or None,
            period=period or None,
            closed_periods=closed_periods(),
            source=source or "focus",
        ),
    )
    return _record_import(actor, summary, UsageFormat.FOCUS, filename, period, terms)


def _cloud_bill_terms(path, filename, cost_basis, shared_mode, exchange_rate, offering):
    """The charging terms of a FOCUS bill, checked: the bill's currency needs a rate to the
    provider's currency when they differ, and no other rate than 1 when they do not."""
    if cost_basis not in CostBasis.values:
        raise DomainError(
            f"cost basis must be EffectiveCost or BilledCost, not {cost_basis!r}",
            field="cost_basis",
        )
    if shared_mode not in SharedCostMode.values:
        raise DomainError(
            f"shared mode must be separate or spread, not {shared_mode!r}", field="shared_mode"
        )
    if offering is None:
        code = focus_offering_code()
        offering = Offering.objects.filter(code=code).first()
        if offering is None:
            raise DomainError(
                f"no offering {code!r} to charge cloud cost under: create it in the catalog"
                " or choose an offering",
                field="offering",
            )
    try:
        billing_currency = focus.bill_currency(path) or ""
    except UNREADABLE as error:
        raise DomainError(f"{filename}: {error}", field="file") from None
    statement_currency = Provider.current().base_currency
    rate = None
    if exchange_rate not in (None, ""):
        rate = to_decimal(exchange_rate, field="exchange_rate")
        if rate <= 0:
            raise DomainError("the exchange rate must be positive", field="exchange_rate")
    rates: dict[str, Decimal] = {}
    if billing_currency and billing_currency != statement_currency and rate is None:
        rates = _period_rates(path, filename, billing_currency, statement_currency)
    if (not billing_currency or billing_currency == statement_currency) and rate not in (None, 1):
        raise DomainError(
            f"the bill is already in {statement_currency}: no exchange rate applies",
            field="exchange_rate",
        )
    return CloudBillTerms(
        cost_basis, shared_mode, offering, billing_currency, statement_currency, rate, rates
    )


def _period_rates(path, filename, billing_currency, statement_currency) -> dict[str, Decimal]:
    """No rate given for a bill in another currency: each month it charges converts at the
    reference rate of its last day (the latest known on or before it), read before anything
    is stored; a month without one is refused, naming the pair and the day."""
    try:
        months = focus.bill_months(path)
    except UNREADABLE as error:
        raise DomainError(f"{filename}: {error}", field="file") from None
    if not months:
        raise DomainError(
            f"the bill is in {billing_currency} and names no billing period: give the exchange "
            f"rate ({billing_currency} → {statement_currency})",
            field="exchange_rate",
            code="exchange_rate_needed",
        )
    rates = {}
    for month in months:
        day = period_dates(month)[1]
        try:
            found = rate_on(statement_currency, billing_currency, day)
        except MissingRate as missing:
            raise DomainError(
                f"{missing}, or give the exchange rate ({billing_currency} → {statement_currency})",
                field="exchange_rate",
                code=MissingRate.code,
            ) from None
        rates[month] = (Decimal(1) / found.value).quantize(RATE_PLACES)
    return rates


def _into_store(filename: str, run):
    """``run(store)`` on the usage store; a file it cannot read is refused with the reason."""
    try:
        return run(usage_store())
    except UNREADABLE as error:
        raise DomainError(f"{filename}: {error}", field="file") from None


def _record_import(actor, summary, format: str, filename: str, period, terms=None):
    """The import's row (the store's manifest entry, with who imported it), its event and, for a
    cloud bill, its cloud charges. A file imported before answers its first import."""
    already = summary.already_imported
    record = UsageImport.objects.filter(file_hash=summary.file_hash).first()
    if record is not None:
        return record, import_summary(record, already=True)
    entry = usage_store().find(summary.file_hash) if already else summary.to_dict()
    if entry.get("format", "csv") != format:
        raise DomainError(
            f"{filename} was imported before as {entry.get('format', 'csv')}", field="format"
        )
    record = UsageImport(
        file_hash=summary.file_hash,
        format=format,
        filename=filename[:255],
        source=entry["source"][:100],
        period=period or "",
        periods=entry["periods"],
        rows_read=entry["rows_read"],
        rows_imported=entry["rows_imported"],
        rows_skipped_duplicate=entry["rows_skipped_duplicate"],
        rows_rejected=entry["rows_rejected"],
        quantity_totals=entry.get("quantity_totals", {}),
        cost_totals=entry.get("cost_totals", {}),
        rejects_path=entry.get("rejects_path") or "",
        imported_by=actor,
    )
    if terms is not None:
        _apply_terms(record, terms, entry.get("extra", {}))
    save_validated(record)
    UsageImportEvent.objects.create(
        usage_import=record,
        actor=actor,
        action="imported",
        to_state="imported",
        note=(
            f"{record.rows_read} read, {record.rows_imported} imported, "
            f"{record.rows_skipped_duplicate} duplicate, {record.rows_rejected} rejected"
        ),
    )
    if terms is not None:
        CloudCharge.objects.bulk_create(_cloud_charges(record, terms.rate, terms.rates))
    return record, import_summary(record, already=already)


def _apply_terms(record: UsageImport, terms: CloudBillTerms, extra: dict) -> None:
    record.cost_basis = terms.cost_basis
    record.shared_mode = terms.shared_mode
    record.billing_currency = extra.get("billing_currency", terms.billing_currency)
    record.statement_currency = terms.statement_currency
    one_rate = set(terms.rates.values())
    record.exchange_rate = terms.rate or (one_rate.pop() if len(one_rate) == 1 else None)
    record.offering = terms.offering
    record.report = {
        "effective_totals": extra.get("effective_totals", {}),
        "allocation": extra.get("allocation", {}),
        "exchange_rates": {month: str(rate) for month, rate in terms.rates.items()},
    }


def _cloud_charges(record: UsageImport, rate: Decimal | None, rates=None) -> list[CloudCharge]:
    """Each customer's allocated share of the charged column, per month, in the statement
    currency (converted at ``rate``, else at the month's rate in ``rates``, rounded once to the
    cent)."""
    allocation = record.report["allocation"]
    customers_by_pk = Customer.objects.in_bulk(
        {
            int(k)
            for columns in allocation.values()
            for k in columns.get(record.cost_basis, {}).get("allocated", {})
        }
    )
    charges = []
    for month, columns in allocation.items():
        report = columns.get(record.cost_basis, {})
        for key, exact in report.get("allocated", {}).items():
            customer = customers_by_pk.get(int(key))
            if customer is None:
                continue
            currency = record.statement_currency
            charges.append(
                CloudCharge(
                    usage_import=record,
                    period=month,
                    customer=customer,
                    rows=report.get("rows", {}).get(key, 0),
                    billing_currency=record.billing_currency,
                    exact=exact,
                    direct=report.get("direct", {}).get(key, "0"),
                    spread=report.get("spread", {}).get(key, "0"),
                    currency=currency,
                    amount=round_money(
                        Decimal(exact) * (rate or (rates or {}).get(month) or Decimal(1)), currency
                    ),
                )
            )
    return charges


def import_uploaded(actor, upload, **data):
    """Save an uploaded file to a temporary place and import it (the name is kept)."""
    suffix = Path(upload.name).suffix.lower() if upload.name else ".csv"
    with tempfile.TemporaryDirectory(prefix="servicebook-upload-") as tmp:
        path = Path(tmp) / f"upload{suffix if suffix in ('.csv', '.parquet') else '.csv'}"
        with path.open("wb") as fh:
            for chunk in upload.chunks():
                fh.write(chunk)
        return import_usage(
            actor=actor,
            path=path,
            filename=Path(upload.name or "upload.csv").name,
            period=data.pop("period", "") or None,
            **data,
        )
