"""What a period close plans: the items and documents it would issue, the plan's summary, and
the catalogue it prices from (offerings with their tiers, the period's unit costs)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from servicebook.catalog.models import Offering, PriceTier
from servicebook.finance.costing.models import UnitCost
from servicebook.finance.fx.selectors import Rate
from servicebook.finance.ledger import posting
from servicebook.finance.ledger.models import EntryKind
from servicebook.parties.models import FundingModel
from servicebook.policy import Posting, policy_for

ZERO = Decimal("0.00")


@dataclass(slots=True)  # a close makes one a document line (2,000,000 at 100,000 customers)
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
    tax_category: str = ""  # UNCL 5305 (invoices; finance.billing.tax)
    tax_rate: Decimal | None = None


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
    # invoice: its number in the series, its supply and its tax (decision 0026)
    sequence: int = 0
    supply_start: dt.date | None = None
    supply_end: dt.date | None = None
    tax_regime: str = ""
    taxes: list[dict] = field(default_factory=list)
    tax: Decimal = ZERO
    mentions: list[str] = field(default_factory=list)
    #: the rate bringing the document's currency into the base currency (decision 0025)
    rate: Rate | None = None

    @property
    def base_total(self) -> Decimal:
        total = self.total if self.kind == "invoice" else self.total_charge
        return self.rate.to_base(total) if self.rate else total

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
        tax = self.tax if self.kind == "invoice" else ZERO
        lines = [
            posting.LineSpec(account(part), cur, debit=amount, customer_id=cid)
            for part, amount in debits
            if amount
        ]
        if income:
            lines.append(
                posting.LineSpec(account(Posting.INCOME), cur, credit=income, customer_id=cid)
            )
        if tax:  # output VAT: owed to the tax authority, never revenue
            lines.append(posting.LineSpec(account(Posting.TAX), cur, credit=tax, customer_id=cid))
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
            rates={cur: self.rate.value} if self.rate else {},
        )


@dataclass
class Plan:
    period: str
    provider: Any
    documents: list[Document] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    usage_lines: int = 0
    #: the customers planned (a chunk of the close; None: all) and whether this plan also
    #: reports usage and cloud cost of customers billed in no document (the first chunk does)
    customers: Any = None
    orphans: bool = True
    billed: Any = None
    billed_query: Any = None  # the same, as a subquery

    def takes(self, customer_id: int | None) -> bool:
        """Whether usage or cost of ``customer_id`` belongs to this plan (its chunk)."""
        if self.customers is None or customer_id in self.customers:
            return True
        return self.orphans and (self.billed is None or customer_id not in self.billed)

    def documents_summary(self, limit: int = 500) -> list[dict]:
        """What a close would issue, document by document (the dry run's table; the first
        ``limit``, by customer): number, customer, kind, currency, total, issue and due dates."""
        rows = []
        for doc in sorted(self.documents, key=lambda d: (d.customer.name, d.number))[:limit]:
            invoice = doc.kind == "invoice"
            rows.append(
                {
                    "number": doc.number,
                    "kind": doc.kind,
                    "customer": doc.customer.name,
                    "currency": doc.currency,
                    "total": str(doc.total if invoice else doc.total_charge),
                    "lines": len(doc.items),
                    "issue_date": doc.issue_date.isoformat() if doc.issue_date else None,
                    "due_date": doc.due_date.isoformat() if doc.due_date else None,
                }
            )
        return rows

    def summary(self) -> dict:
        return Summary(self.period).add(self).as_dict()


class Summary:
    """A close's figures, added up plan by plan (the close plans and writes chunk by chunk)."""

    def __init__(self, period: str) -> None:
        self.period = period
        self.statements = self.invoices = self.lines = self.usage_lines = 0
        self.totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        self.warnings: list[str] = []
        self.problems: list[str] = []

    def add(self, plan: Plan) -> Summary:
        for doc in plan.documents:
            t = self.totals[doc.currency]
            self.lines += len(doc.items)
            if doc.kind == "statement":
                self.statements += 1
                t["internal_cost"] += doc.total_cost
                t["internal_charge"] += doc.total_charge
                t["recovered"] += doc.recovered
                t["uncovered"] += doc.uncovered
            else:
                self.invoices += 1
                t["revenue_gross"] += doc.gross
                t["service_credits"] += doc.credit_total
                t["invoiced"] += doc.total
                t["tax"] += doc.tax
                t["in_kind"] += doc.in_kind
                t["cash"] += doc.cash
        self.usage_lines += plan.usage_lines
        self.warnings.extend(plan.warnings[: 50 - len(self.warnings)])
        self.problems.extend(plan.problems[: 50 - len(self.problems)])
        return self

    def as_dict(self) -> dict:
        return {
            "period": self.period,
            "statements": self.statements,
            "invoices": self.invoices,
            "lines": self.lines,
            "usage_lines": self.usage_lines,
            "totals": {cur: {k: str(v) for k, v in t.items()} for cur, t in self.totals.items()},
            "warnings": self.warnings[:50],
            "problems": self.problems[:50],
        }


class Offer:
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


@dataclass
class Catalog:
    """The offerings a close prices from (with their tiers) and the period's unit costs."""

    offers: dict[int, Offer]
    unit_costs: dict[int, tuple[Decimal | None, str]]
    #: the rates of the close's documents (currency → rate into the base currency)
    rates: dict[str, Rate] = field(default_factory=dict)

    @classmethod
    def load(cls, period: str) -> Catalog:
        tiers: dict[int, list[tuple[Decimal, Decimal]]] = defaultdict(list)
        for t in PriceTier.objects.order_by("offering_id", "lower_bound").values_list(
            "offering_id", "lower_bound", "unit_price"
        ):
            tiers[t[0]].append((t[1], t[2]))
        offers = {
            row["id"]: Offer(row, tiers.get(row["id"], []))
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
        return cls(offers, unit_costs)

    def cost_and_currency(self, offering_id: int) -> tuple[Decimal | None, str]:
        """The period's unit cost, else the offering's standard unit cost (and its currency)."""
        offer = self.offers[offering_id]
        return self.unit_costs.get(offering_id, (offer.standard, offer.currency))

    def unit_cost(self, offering_id: int, currency: str | None = None) -> Decimal | None:
        """The unit cost in ``currency``: converted at the document's rate when the cost is in
        the base currency (or the other way round), None when unknown or when no rate links
        the two currencies (R6: never used across currencies without an exchange rate)."""
        cost, cost_currency = self.cost_and_currency(offering_id)
        if currency is None or cost is None or cost_currency == currency:
            return cost
        into_document = self.rates.get(currency)
        if into_document is not None and into_document.base == cost_currency:
            return cost * into_document.value
        from_cost = self.rates.get(cost_currency)
        if from_cost is not None and from_cost.base == currency:
            return cost / from_cost.value
        return None

    def currency_refusal(self, offering_id: int, currency: str, where: str) -> str | None:
        """Why the offering's cost cannot be used on a document in ``currency`` (None: it can)."""
        cost, cost_currency = self.cost_and_currency(offering_id)
        if cost is None or cost_currency == currency:
            return None
        if self.unit_cost(offering_id, currency) is not None:
            return None
        return (
            f"{where}: the cost of {self.offers[offering_id].label} is in {cost_currency}, the "
            f"document in {currency}: cost and price are not compared or added without an "
            "exchange rate (none is recorded)"
        )
