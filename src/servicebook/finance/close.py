"""The period close engine: plan (read only) then write (bulk, in the caller's transaction).

For each customer with an agreement in force during the month: its subscription lines, its rated
usage (when the usage store holds the month), the credits its breached contract earned, then the
customer's policy:

- internal (charged at cost, R5): one **statement** per customer, itemized by service, at cost;
  its funding model decides the posting (none, notional transfer, or recovered share + subsidy);
- external (charged at price, R6): one **invoice** per contract with credits as negative lines
  and the total split into a cash part and an in-kind part (R3).

Planning makes no write, so ``--dry-run`` shows exactly what a close would do. Writing is done
in chunks of customers with bulk inserts; the caller's transaction makes the whole close atomic.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from importlib.util import find_spec
from typing import Any

from django.db.models import Q, prefetch_related_objects
from django.utils import timezone

from servicebook.agreements.models import Agreement, AgreementLine, AgreementStatus
from servicebook.catalog.models import Offering, PriceTier
from servicebook.catalog.pricing import charge_amount
from servicebook.core.money import round_money
from servicebook.finance.breakdown import charge_steps
from servicebook.finance.costing.models import UnitCost
from servicebook.finance.ledger import posting
from servicebook.finance.ledger.models import EntryKind
from servicebook.finance.ledger.periods import period_dates
from servicebook.finance.models import (
    Invoice,
    InvoiceEvent,
    InvoiceLine,
    LineKind,
    Statement,
    StatementLine,
)
from servicebook.parties.models import CustomerStatus, FundingModel, Provider
from servicebook.policy import Posting, policy_for

ZERO = Decimal("0.00")
#: customers written per chunk (bulk inserts); tests lower it to exercise a crash mid-way
CHUNK = 500
#: statuses of the customers billed in a close (a suspended customer still pays for the month)
BILLED_STATUSES = (CustomerStatus.ACTIVE, CustomerStatus.SUSPENDED)


def after_chunk(done: int, total: int) -> None:
    """Called after each chunk is written (a seam for crash tests and progress bars)."""


# --- the contracts with other features (guarded: they may not exist yet) ------------------------


def credits_available() -> bool:
    """Whether the service levels feature (credits for breached contracts) is installed."""
    return (
        find_spec("servicebook.levels.selectors") is not None
        and find_spec("servicebook.levels.services") is not None
    )


def pending_credits(agreement: Agreement, period: str) -> list[Any]:
    """Service credits a breached contract earned in the period (levels feature), or none."""
    if not credits_available():
        return []
    selectors = importlib.import_module("servicebook.levels.selectors")
    if not hasattr(selectors, "pending_credits"):
        return []
    return list(selectors.pending_credits(agreement, period))


def mark_credits_applied(credits: list[Any], reference: str, actor=None) -> None:
    if not credits:
        return
    services = importlib.import_module("servicebook.levels.services")
    services.mark_credits_applied(credits=credits, reference=reference, actor=actor)


def in_kind_items(agreement: Agreement) -> list[Any]:
    """The contract's in-kind consideration items (agreements feature), or none."""
    related = getattr(agreement, "consideration_items", None)
    if related is None:
        return []
    return list(related.all())


# --- the plan ------------------------------------------------------------------------------------


@dataclass
class Item:
    kind: str
    service_id: int | None
    offering_id: int | None
    description: str
    quantity: Decimal
    rate: Decimal
    amount: Decimal  # price (invoice) or charge (statement)
    cost: Decimal | None = None
    reference: str = ""
    source: str = "subscription"
    breakdown: list = field(default_factory=list)  # the steps of a tiered charge (invoices)


@dataclass
class Document:
    kind: str  # "statement" | "invoice"
    customer: Any
    currency: str
    agreement: Any = None
    items: list[Item] = field(default_factory=list)
    credits: list[Any] = field(default_factory=list)
    number: str = ""
    # statement
    funding_model: str = ""
    total_cost: Decimal = ZERO
    total_charge: Decimal = ZERO
    recovered: Decimal = ZERO
    uncovered: Decimal = ZERO
    # invoice
    gross: Decimal = ZERO
    credit_total: Decimal = ZERO
    total: Decimal = ZERO
    in_kind: Decimal = ZERO
    cash: Decimal = ZERO
    issue_date: dt.date | None = None
    due_date: dt.date | None = None

    def entry_spec(self, period: str, date: dt.date, accounts, centres) -> posting.EntrySpec | None:
        """The entry posting this document, on the accounts the customer's policy names (R2);
        ``posting.post`` checks them against the policy like any other entry."""
        cur = self.currency
        cid = self.customer.pk
        postings = policy_for(self.customer).posting_accounts

        def account(part: Posting):
            purpose = postings[part]
            if purpose == posting.COST_CENTRE_PURPOSE:
                return centres[self.customer.cost_centre]
            return accounts[purpose]

        if self.kind == "statement":
            if self.funding_model not in (
                FundingModel.CHARGEBACK,
                FundingModel.PARTIAL_RECOVERY,
            ):
                return None
            debits = ((Posting.CHARGE, self.recovered), (Posting.UNCOVERED, self.uncovered))
            income = self.recovered + self.uncovered
            memo = f"Statement {self.number} ({self.funding_model})"
        else:
            debits = (
                (Posting.CHARGE, self.cash),
                (Posting.IN_KIND, self.in_kind),
                (Posting.CREDITS, self.credit_total),
            )
            income = self.gross
            memo = f"Invoice {self.number}"
        lines = [
            posting.LineSpec(account(part), cur, debit=amount, customer_id=cid)
            for part, amount in debits
            if amount
        ]
        if income:
            lines.append(
                posting.LineSpec(account(Posting.INCOME), cur, credit=income, customer_id=cid)
            )
        if not lines:
            return None
        return posting.EntrySpec(
            period=period,
            date=date,
            kind=EntryKind.CLOSE,
            memo=memo,
            lines=lines,
            customer_id=cid,
            customer=self.customer,
        )


@dataclass
class Plan:
    period: str
    provider: Any
    documents: list[Document] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    usage_lines: int = 0

    def summary(self) -> dict:
        totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for doc in self.documents:
            t = totals[doc.currency]
            if doc.kind == "statement":
                t["internal_cost"] += doc.total_cost
                t["internal_charge"] += doc.total_charge
                t["recovered"] += doc.recovered
                t["uncovered"] += doc.uncovered
            else:
                t["revenue_gross"] += doc.gross
                t["service_credits"] += doc.credit_total
                t["invoiced"] += doc.total
                t["in_kind"] += doc.in_kind
                t["cash"] += doc.cash
        return {
            "period": self.period,
            "statements": sum(1 for d in self.documents if d.kind == "statement"),
            "invoices": sum(1 for d in self.documents if d.kind == "invoice"),
            "lines": sum(len(d.items) for d in self.documents),
            "usage_lines": self.usage_lines,
            "totals": {cur: {k: str(v) for k, v in t.items()} for cur, t in totals.items()},
            "warnings": self.warnings[:50],
            "problems": self.problems[:50],
        }


class _Offer:
    __slots__ = (
        "currency",
        "id",
        "label",
        "list_price",
        "model",
        "package",
        "service_id",
        "standard",
        "tiers",
        "unit",
    )

    def __init__(self, row, tiers):
        self.id = row["id"]
        self.service_id = row["service_id"]
        self.label = f"{row['service__name']} — {row['name']}"
        self.model = row["charge_model"]
        self.package = row["package_size"]
        self.standard = row["standard_unit_cost"]
        self.currency = row["currency"]
        self.list_price = row["list_price"]
        self.unit = row["unit"]
        self.tiers = tiers


def build_plan(period: str, *, provider: Provider | None = None) -> Plan:
    """Everything a close of ``period`` would issue and post, computed without writing."""
    provider = provider or Provider.current()
    plan = Plan(period=period, provider=provider)
    first, last = period_dates(period)
    agreements = list(
        Agreement.objects.filter(
            status=AgreementStatus.ACTIVE,
            start_date__lte=last,
            customer__status__in=BILLED_STATUSES,
        )
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=first))
        .select_related("customer__provider")
        .order_by("customer__code", "reference")
    )
    if hasattr(Agreement, "consideration_items"):
        prefetch_related_objects(agreements, "consideration_items")
    by_agreement: dict[int, list[dict]] = defaultdict(list)
    lines = AgreementLine.objects.filter(
        agreement__status=AgreementStatus.ACTIVE,
        agreement__start_date__lte=last,
        agreement__customer__status__in=BILLED_STATUSES,
    ).values("agreement_id", "offering_id", "quantity", "unit_price", "description")
    for row in lines.order_by("agreement_id", "pk").iterator(chunk_size=5000):
        by_agreement[row["agreement_id"]].append(row)
    tiers: dict[int, list[tuple[Decimal, Decimal]]] = defaultdict(list)
    for t in PriceTier.objects.order_by("offering_id", "lower_bound").values_list(
        "offering_id", "lower_bound", "unit_price"
    ):
        tiers[t[0]].append((t[1], t[2]))
    offers = {
        row["id"]: _Offer(row, tiers.get(row["id"], []))
        for row in Offering.objects.values(
            "id",
            "service_id",
            "service__name",
            "name",
            "charge_model",
            "package_size",
            "standard_unit_cost",
            "currency",
            "list_price",
            "unit",
        )
    }
    unit_costs = {
        offering_id: (cost, currency)
        for offering_id, cost, currency in UnitCost.objects.filter(period=period).values_list(
            "offering_id", "unit_cost", "currency"
        )
    }

    def cost_and_currency(offering_id: int) -> tuple[Decimal | None, str]:
        offer = offers[offering_id]
        return unit_costs.get(offering_id, (offer.standard, offer.currency))

    def unit_cost(offering_id: int, currency: str | None = None) -> Decimal | None:
        """The unit cost, or None when unknown -- or in another currency than ``currency``
        (R6: never used across currencies without an exchange rate)."""
        cost, cost_currency = cost_and_currency(offering_id)
        if currency is not None and cost is not None and cost_currency != currency:
            return None
        return cost

    def currency_refusal(offering_id: int, currency: str, where: str) -> str | None:
        cost, cost_currency = cost_and_currency(offering_id)
        if cost is None or cost_currency == currency:
            return None
        return (
            f"{where}: the cost of {offers[offering_id].label} is in {cost_currency}, the "
            f"document in {currency}: cost and price are not compared or added without an "
            "exchange rate (none is recorded)"
        )

    statements: dict[int, Document] = {}
    invoices: list[Document] = []
    invoice_of_customer: dict[int, Document] = {}
    for agreement in agreements:
        customer = agreement.customer
        policy = policy_for(customer)
        if policy.charge_is_revenue:
            doc = Document(
                kind="invoice", customer=customer, currency=agreement.currency, agreement=agreement
            )
            invoices.append(doc)
            invoice_of_customer.setdefault(customer.pk, doc)
        else:
            doc = statements.get(customer.pk)
            if doc is None:
                doc = statements[customer.pk] = Document(
                    kind="statement",
                    customer=customer,
                    currency=policy.billing_currency(customer),
                    funding_model=customer.funding_model,
                )
        for row in by_agreement.get(agreement.pk, ()):
            offer = offers[row["offering_id"]]
            quantity = row["quantity"]
            cost_rate = unit_cost(offer.id, doc.currency)
            description = row["description"] or offer.label
            refusal = currency_refusal(offer.id, doc.currency, agreement.reference)
            if refusal and policy.charge_basis == "cost":
                plan.problems.append(refusal)  # charged at cost: nothing to charge at
                continue
            if refusal:
                plan.warnings.append(f"{refusal}; the line's cost (and margin) is left unknown")
            if policy.charge_basis == "cost":
                rate = policy.charge_rate(
                    unit_cost=cost_rate, unit_price=row["unit_price"], provider=provider
                )
                if rate is None:
                    plan.problems.append(
                        f"{agreement.reference}: {offer.label} has no unit cost to charge at"
                    )
                    continue
                doc.items.append(
                    Item(
                        kind=LineKind.SUBSCRIPTION,
                        service_id=offer.service_id,
                        offering_id=offer.id,
                        description=description,
                        quantity=quantity,
                        rate=cost_rate,
                        amount=round_money(quantity * rate, doc.currency),
                        cost=round_money(quantity * cost_rate, doc.currency),
                    )
                )
            else:
                try:
                    amount = charge_amount(
                        offer.model,
                        quantity,
                        row["unit_price"],
                        package_size=offer.package,
                        tiers=offer.tiers,
                    )
                except ValueError as error:
                    plan.problems.append(f"{agreement.reference}: {offer.label}: {error}")
                    continue
                doc.items.append(
                    Item(
                        kind=LineKind.SUBSCRIPTION,
                        service_id=offer.service_id,
                        offering_id=offer.id,
                        description=description,
                        quantity=quantity,
                        rate=row["unit_price"],
                        breakdown=charge_steps(
                            offer.model,
                            quantity,
                            row["unit_price"],
                            package_size=offer.package,
                            tiers=offer.tiers,
                        ),
                        amount=round_money(amount, doc.currency),
                        cost=None
                        if cost_rate is None
                        else round_money(quantity * cost_rate, doc.currency),
                    )
                )
    _add_rated_usage(plan, statements, invoice_of_customer, offers, unit_cost, currency_refusal)
    _add_cloud_charges(plan, statements, offers)
    with_schedule = _agreements_with_credit_schedules(invoices)
    for doc in invoices:
        if doc.agreement.pk in with_schedule and policy_for(doc.customer).penalties_apply:
            _add_credits(plan, doc)
    documents = sorted(statements.values(), key=lambda d: d.customer.code)
    for seq, doc in enumerate(documents, start=1):
        doc.number = f"ST-{period}-{seq:05d}"
        _finish_statement(doc, provider)
    next_day = last + dt.timedelta(days=1)
    for seq, doc in enumerate(invoices, start=1):
        doc.number = f"INV-{period}-{seq:05d}"
        _finish_invoice(plan, doc, next_day)
    plan.documents = documents + [d for d in invoices if d.items]
    return plan


def _agreements_with_credit_schedules(invoices: list[Document]) -> set[int]:
    """Contracts with a service credit schedule (only they can earn credits): one query."""
    from servicebook.agreements.models import CreditTier

    if not invoices or not credits_available():
        return set()
    return set(
        CreditTier.objects.filter(target__agreement__status=AgreementStatus.ACTIVE)
        .values_list("target__agreement_id", flat=True)
        .distinct()
    )


def _finish_statement(doc: Document, provider) -> None:
    doc.total_cost = sum((i.cost for i in doc.items), ZERO)
    doc.total_charge = sum((i.amount for i in doc.items), ZERO)
    if doc.funding_model == FundingModel.CHARGEBACK:
        doc.recovered = doc.total_charge
    elif doc.funding_model == FundingModel.PARTIAL_RECOVERY:
        doc.recovered = round_money(doc.total_charge * provider.recovery_share, doc.currency)
        doc.uncovered = doc.total_charge - doc.recovered


def _add_credits(plan: Plan, doc: Document) -> None:
    credits = pending_credits(doc.agreement, plan.period)
    for credit in credits:
        if credit.currency != doc.currency:
            plan.problems.append(
                f"{doc.agreement.reference}: a credit in {credit.currency} on a "
                f"{doc.currency} contract"
            )
            continue
        doc.credits.append(credit)
        target = getattr(credit, "target", None)
        doc.items.append(
            Item(
                kind=LineKind.CREDIT,
                service_id=getattr(target, "service_id", None),
                offering_id=None,
                description=f"Service credit: {target} "
                f"({credit.attainment_percent}% attained, {credit.credit_percent}% credit)",
                quantity=Decimal(1),
                rate=-credit.amount,
                amount=-round_money(credit.amount, doc.currency),
                reference=f"credit-{credit.pk}",
                source="credit",
            )
        )


def _finish_invoice(plan: Plan, doc: Document, issue_date: dt.date) -> None:
    charges = [i for i in doc.items if i.kind in (LineKind.SUBSCRIPTION, LineKind.USAGE)]
    credit_items = [i for i in doc.items if i.kind == LineKind.CREDIT]
    doc.gross = sum((i.amount for i in charges), ZERO)
    credit_total = -sum((i.amount for i in credit_items), ZERO)
    if credit_total > doc.gross:
        # credits never turn an invoice into a payment to the customer: cap at the gross
        excess = credit_total - doc.gross
        for item in reversed(credit_items):
            cut = min(excess, -item.amount)
            item.amount += cut
            excess -= cut
        plan.warnings.append(f"{doc.number}: service credits capped at the month's charges")
        credit_total = doc.gross
    doc.credit_total = credit_total
    doc.total = doc.gross - credit_total
    if policy_for(doc.customer).accepts_in_kind and doc.agreement is not None:
        remaining = doc.total
        for item in in_kind_items(doc.agreement):
            value = round_money(item.unit_value * item.quantity, doc.currency)
            amount = min(value, remaining)
            if amount != value:
                plan.warnings.append(
                    f"{doc.number}: in-kind part limited to the invoice total ({item.description})"
                )
            remaining -= amount
            doc.items.append(
                Item(
                    kind=LineKind.IN_KIND,
                    service_id=None,
                    offering_id=None,
                    description=item.description,
                    quantity=item.quantity,
                    rate=item.unit_value,
                    amount=amount,
                    source="in_kind",
                )
            )
        doc.in_kind = doc.total - remaining
    doc.cash = doc.total - doc.in_kind
    doc.issue_date = issue_date
    terms = doc.agreement.payment_terms_days or doc.customer.payment_terms_days or 30
    doc.due_date = issue_date + dt.timedelta(days=terms)


def _add_rated_usage(
    plan, statements, invoice_of_customer, offers, unit_cost, currency_refusal
) -> None:
    from servicebook.finance.usage.backends import rating_backend, usage_glob, usage_store

    store = usage_store()
    if plan.period not in store.periods():
        return
    import pyarrow as pa

    from servicebook.finance.usage import rating

    start, _ = rating.period_bounds(plan.period)
    provider = plan.provider
    rows: list[dict] = []
    tier_rows: list[dict] = []

    def price(customer_id, offer, model, unit_price, currency, tiered):
        rows.append(
            {
                "price_id": len(rows) + 1,
                "customer_id": customer_id,
                "offering_id": offer.id,
                "valid_from": start,
                "valid_to": None,
                "charge_model": model,
                "unit_price": None if tiered else unit_price,
                "package_size": offer.package if model == "package" else None,
                "currency": currency,
                "tier_set_id": offer.id if tiered else None,
                "unit": offer.unit,
            }
        )

    tiered_models = ("graduated", "volume")
    for offer in offers.values():
        price(None, offer, offer.model, offer.list_price, offer.currency, False)
    for doc in statements.values():
        policy = policy_for(doc.customer)
        for offer in offers.values():
            rate = policy.charge_rate(
                unit_cost=unit_cost(offer.id, doc.currency), unit_price=ZERO, provider=provider
            )
            if rate is not None:
                price(doc.customer.pk, offer, "per_unit", rate, doc.currency, False)
    for doc in invoice_of_customer.values():
        for line in doc.agreement.lines.all():
            offer = offers[line.offering_id]
            price(
                doc.customer.pk,
                offer,
                offer.model,
                line.unit_price,
                doc.currency,
                offer.model in tiered_models,
            )
    # list prices of tiered offerings use their tier sets too
    for row in rows:
        if row["customer_id"] is None and row["charge_model"] in tiered_models:
            row["unit_price"] = None
            row["tier_set_id"] = row["offering_id"]
    for offer in offers.values():
        if offer.model in tiered_models and offer.tiers:
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
    prices = pa.Table.from_pylist(rows, schema=rating.PRICE_SCHEMA)
    tiers = pa.Table.from_pylist(tier_rows, schema=rating.TIER_SCHEMA)
    lines = rating.rate(
        rating_backend(), usage_glob(store, plan.period), prices, tiers, plan.period
    )
    for line in lines.to_pylist():
        plan.usage_lines += 1
        customer_id, offer = line["customer_id"], offers.get(line["offering_id"])
        if line["status"] != "rated" or offer is None:
            plan.warnings.append(
                f"usage of customer {customer_id}, offering {line['offering_id']} not rated: "
                f"{line['reason']}"
            )
            continue
        doc = statements.get(customer_id) or invoice_of_customer.get(customer_id)
        if doc is None:
            plan.warnings.append(
                f"usage of customer {customer_id} has no agreement in force: not billed"
            )
            continue
        if line["currency"] != doc.currency:
            plan.problems.append(
                f"usage of {offer.label} by {doc.customer.code} is priced in {line['currency']} "
                f"but charged in {doc.currency}"
            )
            continue
        quantity = line["quantity"]
        amount = round_money(line["amount"], doc.currency)
        cost_rate = unit_cost(offer.id, doc.currency)
        cost = None if cost_rate is None else round_money(quantity * cost_rate, doc.currency)
        refusal = currency_refusal(offer.id, doc.currency, f"usage of {doc.customer.code}")
        if doc.kind == "statement" and cost is None:
            plan.problems.append(refusal or f"usage of {offer.label} has no unit cost to charge at")
            continue
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
                amount=amount,
                cost=cost,
                source="usage",
            )
        )


def _add_cloud_charges(plan, statements, offers) -> None:
    """Cloud cost allocated from FOCUS bills: one cost line per bill on the statement (R4, R5).

    The allocated cost is the provider's cost; the customer's policy decides the charge (cost x
    (1 + the internal margin the enterprise policy allows)). Only customers charged at cost can
    receive cloud cost (see ``CloudMapping``), so these lines go on statements only.
    """
    from servicebook.finance.usage.models import CloudCharge

    charges = CloudCharge.objects.filter(period=plan.period).select_related(
        "usage_import", "customer"
    )
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


# --- writing -------------------------------------------------------------------------------------


def write_plan(plan: Plan, *, actor=None) -> dict:
    """Issue the documents and post the entries of a plan (inside the caller's transaction)."""
    accounts = posting.accounts()
    centres = posting.cost_centre_accounts(
        {d.customer.cost_centre for d in plan.documents if d.kind == "statement"}
    )
    _, last = period_dates(plan.period)
    docs = plan.documents
    entries = 0
    for start in range(0, len(docs), CHUNK):
        chunk = docs[start : start + CHUNK]
        specs = [(doc, doc.entry_spec(plan.period, last, accounts, centres)) for doc in chunk]
        posted = posting.post([spec for _, spec in specs if spec is not None], actor=actor)
        entries += len(posted)
        entry_of = iter(posted)
        entry_ids = {id(doc): next(entry_of).pk for doc, spec in specs if spec is not None}
        statements = [d for d in chunk if d.kind == "statement"]
        invoices = [d for d in chunk if d.kind == "invoice"]
        created_st = Statement.objects.bulk_create(
            [
                Statement(
                    number=d.number,
                    period=plan.period,
                    customer=d.customer,
                    funding_model=d.funding_model,
                    currency=d.currency,
                    total_cost=d.total_cost,
                    total_charge=d.total_charge,
                    recovered=d.recovered,
                    uncovered=d.uncovered,
                    budget=d.customer.budget_per_period,
                    posted=id(d) in entry_ids,
                    entry_id=entry_ids.get(id(d)),
                )
                for d in statements
            ]
        )
        posting.fast_insert(
            StatementLine,
            [
                "statement",
                "service",
                "offering",
                "source",
                "description",
                "quantity",
                "unit_cost",
                "cost",
                "charge",
            ],
            [
                (
                    st.pk,
                    i.service_id,
                    i.offering_id,
                    i.source,
                    i.description[:200],
                    i.quantity,
                    i.rate,
                    i.cost,
                    i.amount,
                )
                for st, d in zip(created_st, statements, strict=True)
                for i in d.items
            ],
        )
        created_inv = Invoice.objects.bulk_create(
            [
                Invoice(
                    number=d.number,
                    period=plan.period,
                    customer=d.customer,
                    agreement=d.agreement,
                    currency=d.currency,
                    issue_date=d.issue_date,
                    due_date=d.due_date,
                    gross=d.gross,
                    credits=d.credit_total,
                    total=d.total,
                    in_kind_amount=d.in_kind,
                    cash_amount=d.cash,
                    cost=_sum_cost(d),
                    entry_id=entry_ids.get(id(d)),
                    status="paid" if d.total == 0 else "issued",
                )
                for d in invoices
            ]
        )
        posting.fast_insert(
            InvoiceLine,
            [
                "invoice",
                "kind",
                "service",
                "offering",
                "description",
                "quantity",
                "unit_price",
                "amount",
                "cost",
                "reference",
                "breakdown",
            ],
            [
                (
                    inv.pk,
                    i.kind,
                    i.service_id,
                    i.offering_id,
                    i.description[:200],
                    i.quantity,
                    i.rate,
                    i.amount,
                    i.cost,
                    i.reference,
                    json.dumps(i.breakdown),
                )
                for inv, d in zip(created_inv, invoices, strict=True)
                for i in d.items
            ],
        )
        now = timezone.now()
        posting.fast_insert(
            InvoiceEvent,
            ["invoice", "at", "actor", "action", "from_state", "to_state", "reason", "note"],
            [
                (
                    inv.pk,
                    now,
                    actor.pk if actor else None,
                    "issued",
                    "",
                    inv.status,
                    "",
                    f"period close {plan.period}",
                )
                for inv in created_inv
            ],
        )
        for inv, d in zip(created_inv, invoices, strict=True):
            mark_credits_applied(d.credits, inv.number, actor)
        after_chunk(start + len(chunk), len(docs))
    return {"entries": entries}


def _sum_cost(doc: Document) -> Decimal | None:
    costs = [i.cost for i in doc.items if i.kind in (LineKind.SUBSCRIPTION, LineKind.USAGE)]
    if any(c is None for c in costs):
        return None
    return sum(costs, ZERO)
