"""Usage on a close's documents: the month's metered usage, priced for each customer (its
policy's rate at cost, its contract prices, else list prices) and rated by the usage kernel; and
the cloud cost allocated from FOCUS bills, as cost lines on statements (R4, R5, R6 at scale)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import numpy as np
import pyarrow as pa
from django.db.models import Q

from servicebook.agreements.models import AgreementLine
from servicebook.core.money import round_money
from servicebook.core.periods import period_bounds
from servicebook.finance.billing.breakdown import charge_steps
from servicebook.finance.billing.documents import ZERO, Catalog, Item, Plan
from servicebook.finance.billing.models import LineKind
from servicebook.finance.usage.backends import rating_backend, usage_glob, usage_store
from servicebook.finance.usage.models import CloudCharge
from servicebook.policy import policy_for

TIERED_MODELS = ("graduated", "volume")


def add_rated_usage(plan: Plan, statements: dict, invoice_of_customer: dict, catalog: Catalog):
    """The month's metered usage (when the usage store holds it) as usage lines."""
    store = usage_store()
    if plan.period not in store.periods():
        return
    from servicebook.finance.usage import rating  # Ibis: loaded when there is usage to rate

    start, _ = period_bounds(plan.period)
    prices = _price_rows(plan, start, statements, invoice_of_customer, catalog)
    tiers = pa.Table.from_pylist(_tier_rows(catalog), schema=rating.TIER_SCHEMA)
    # a chunk of the close rates its own customers' usage only; the first (or the whole close)
    # also reports the usage of customers billed in no document, so it reads everybody's
    lines = rating.rate(
        rating_backend(),
        usage_glob(store, plan.period),
        prices,
        tiers,
        plan.period,
        customers=None if plan.orphans else plan.customers,
    )
    for line in lines.to_pylist():
        if not plan.takes(line["customer_id"]):
            continue  # another chunk's customer
        plan.usage_lines += 1
        _add_usage_line(plan, line, statements, invoice_of_customer, catalog)


def _price_rows(plan: Plan, start, statements, invoice_of_customer, catalog: Catalog) -> pa.Table:
    """The price rows rating reads, in force from ``start``: every offering's list price, each
    statement customer's rate at cost (its policy's), each invoice customer's contract prices
    (tiered: its tier set); numbered in that order.

    A statement customer has a row for every offering: 600,000 rows for a chunk of 2,000
    internal customers at 300 offerings. The rows of one policy and currency are the same for
    every customer but for the customer, so they are computed once and repeated as Arrow
    columns."""
    from servicebook.finance.usage import rating

    offers = catalog.offers
    customer_at = rating.PRICE_SCHEMA.get_field_index("customer_id")
    lists = [
        _price(None, offer, offer.model, offer.list_price, offer.currency)
        for offer in offers.values()
    ]
    parts = [pa.Table.from_pylist(lists, schema=rating.PRICE_SCHEMA)]
    at_cost: dict[tuple[str, str], pa.Table] = {}
    for doc in statements.values():
        policy = policy_for(doc.customer)
        key = (policy.kind, doc.currency)
        if key not in at_cost:
            rows = []
            for offer in offers.values():
                rate = policy.charge_rate(
                    unit_cost=catalog.unit_cost(offer.id, doc.currency),
                    unit_price=ZERO,
                    provider=plan.provider,
                )
                if rate is not None:
                    rows.append(_price(None, offer, "per_unit", rate, doc.currency, tiered=False))
            at_cost[key] = pa.Table.from_pylist(rows, schema=rating.PRICE_SCHEMA)
        template = at_cost[key]
        if template.num_rows:
            customer = pa.array(np.full(template.num_rows, doc.customer.pk), pa.int64())
            parts.append(template.set_column(customer_at, "customer_id", customer))
    contract_lines = AgreementLine.objects.filter(
        agreement_id__in=[doc.agreement.pk for doc in invoice_of_customer.values()]
    ).values_list("agreement_id", "offering_id", "unit_price")
    by_agreement = defaultdict(list)
    for agreement_id, offering_id, unit_price in contract_lines.order_by("agreement_id", "pk"):
        by_agreement[agreement_id].append((offering_id, unit_price))
    contracts = [
        _price(
            doc.customer.pk,
            offers[offering_id],
            offers[offering_id].model,
            unit_price,
            doc.currency,
        )
        for doc in invoice_of_customer.values()
        for offering_id, unit_price in by_agreement[doc.agreement.pk]
    ]
    parts.append(pa.Table.from_pylist(contracts, schema=rating.PRICE_SCHEMA))
    prices = pa.concat_tables(parts).combine_chunks()
    n = prices.num_rows
    prices = prices.set_column(0, "price_id", pa.array(np.arange(1, n + 1), pa.int64()))
    since = pa.repeat(pa.scalar(start, prices.schema.field("valid_from").type), n)
    return prices.set_column(prices.schema.get_field_index("valid_from"), "valid_from", since)


def _price(customer_id, offer, model, unit_price, currency, tiered: bool | None = None) -> dict:
    """One price row (its number and start given when all are gathered)."""
    if tiered is None:
        tiered = offer.model in TIERED_MODELS  # list prices of tiered offerings: their tier sets
    return {
        "price_id": 0,
        "customer_id": customer_id,
        "offering_id": offer.id,
        "valid_from": None,
        "valid_to": None,
        "charge_model": model,
        "unit_price": None if tiered else unit_price,
        "package_size": offer.package if model == "package" else None,
        "currency": currency,
        "tier_set_id": offer.id if tiered else None,
        "unit": offer.unit,
    }


def _tier_rows(catalog: Catalog) -> list[dict]:
    """The tier sets of tiered offerings (one per offering, keyed by its id)."""
    tier_rows: list[dict] = []
    for offer in catalog.offers.values():
        if offer.model in TIERED_MODELS and offer.tiers:
            bounds = [t[0] for t in offer.tiers]
            for index, (lower, unit_price) in enumerate(offer.tiers):
                tier_rows.append(
                    {
                        "tier_set_id": offer.id,
                        "lower_bound": lower,
                        "upper_bound": bounds[index + 1] if index + 1 < len(bounds) else None,
                        "unit_price": unit_price,
                    }
                )
    return tier_rows


def _add_usage_line(plan: Plan, line: dict, statements, invoice_of_customer, catalog) -> None:
    """One rated line on its customer's document (a warning or a problem when it cannot be)."""
    customer_id, offer = line["customer_id"], catalog.offers.get(line["offering_id"])
    if line["status"] != "rated" or offer is None:
        plan.warnings.append(
            f"usage of customer {customer_id}, offering {line['offering_id']} not rated: "
            f"{line['reason']}"
        )
        return
    doc = statements.get(customer_id) or invoice_of_customer.get(customer_id)
    if doc is None:
        plan.warnings.append(
            f"usage of customer {customer_id} has no agreement in force: not billed"
        )
        return
    if line["currency"] != doc.currency:
        plan.problems.append(
            f"usage of {offer.label} by {doc.customer.code} is priced in {line['currency']} "
            f"but charged in {doc.currency}"
        )
        return
    quantity = line["quantity"]
    cost_rate = catalog.unit_cost(offer.id, doc.currency)
    cost = None if cost_rate is None else round_money(quantity * cost_rate, doc.currency)
    refusal = catalog.currency_refusal(offer.id, doc.currency, f"usage of {doc.customer.code}")
    if doc.kind == "statement" and cost is None:
        plan.problems.append(refusal or f"usage of {offer.label} has no unit cost to charge at")
        return
    if refusal:
        plan.warnings.append(f"{refusal}; the line's cost (and margin) is left unknown")
    doc.items.append(
        Item(
            kind=LineKind.USAGE,
            service_id=offer.service_id,
            offering_id=offer.id,
            description=f"{offer.label} (metered)",
            quantity=quantity,
            rate=cost_rate if doc.kind == "statement" else (line["unit_price"] or ZERO),
            breakdown=[]
            if doc.kind == "statement"
            else charge_steps(
                line.get("charge_model") or offer.model,
                quantity,
                line["unit_price"] or ZERO,
                package_size=offer.package,
                tiers=offer.tiers,
            ),
            amount=round_money(line["amount"], doc.currency),
            cost=cost,
            source="usage",
        )
    )


def add_cloud_charges(plan: Plan, statements: dict, offers: dict) -> None:
    """Cloud cost allocated from FOCUS bills: one cost line per bill on the statement (R4, R5).

    The allocated cost is the provider's cost; the customer's policy decides the charge (cost x
    (1 + the internal margin the enterprise policy allows)). Only customers charged at cost can
    receive cloud cost (see ``CloudMapping``), so these lines go on statements only.
    """
    charges = CloudCharge.objects.filter(period=plan.period).select_related(
        "usage_import", "customer"
    )
    if plan.customers is not None:  # a chunk: its customers' (and the unbilled, once)
        mine = Q(customer_id__in=plan.customers)
        if plan.orphans:
            mine |= ~Q(customer_id__in=plan.billed_query)
        charges = charges.filter(mine)
    for charge in charges.order_by("customer__code", "usage_import_id"):
        doc = statements.get(charge.customer_id)
        offer = offers.get(charge.usage_import.offering_id)
        if doc is None or offer is None:
            plan.warnings.append(
                f"cloud cost of {charge.customer.code} ({charge.currency} {charge.amount}) has no "
                "statement this month: not charged"
            )
            continue
        if charge.currency != doc.currency:
            plan.problems.append(
                f"cloud cost of {charge.customer.code} is in {charge.currency}, its statement in "
                f"{doc.currency}"
            )
            continue
        policy = policy_for(doc.customer)
        rate = policy.charge_rate(unit_cost=charge.amount, unit_price=ZERO, provider=plan.provider)
        source = charge.usage_import
        doc.items.append(
            Item(
                kind=LineKind.USAGE,
                service_id=offer.service_id,
                offering_id=offer.id,
                description=f"{offer.label}: {source.filename} ({source.cost_basis}, "
                f"{charge.rows} rows)",
                quantity=Decimal(1),
                rate=charge.amount,
                amount=round_money(rate, doc.currency),
                cost=charge.amount,
                reference=f"focus-{source.pk}",
                source="focus",
            )
        )
